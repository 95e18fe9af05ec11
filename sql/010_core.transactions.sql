-- core.transactions (with core.quarantine and meta.transform_loads): the staged rows of the loads in this
-- run's batch (pg_temp.transform_batch, filled by the runner) are trimmed, checked, typed and split
-- (data contract §3):
--   - each staged row is parsed once, into the run's temporary table transform_parsed;
--   - a row with a quarantine reason goes to core.quarantine with the first reason that applies;
--   - a clean row goes to core.transactions unless its eight parsed values are already there (nulls
--     equal): the first loaded, by (load_id, line_no), is kept and the others are duplicates;
--   - each load's accounting goes to meta.transform_loads (rows_staged = clean + quarantined + duplicates).
-- A statement marked `-- when: full` runs only in a full rebuild (core was emptied by the runner), one
-- marked `-- when: incremental` only otherwise.

-- the batch's staged rows, copied once and analyzed: the lookups and joins below are then planned
-- on real row counts (staging may never have been analyzed; estimated at one row, its joins would be
-- nested loops that re-run a lookup for every row)
create temp table transform_staged on commit drop as
select staged.*
from staging.transactions as staged
inner join pg_temp.transform_batch as transform_batch on transform_batch.load_id = staged.load_id
inner join meta.loads as loads on loads.load_id = staged.load_id
where loads.status = 'complete';

analyze pg_temp.transform_staged;

-- Each distinct staged text of quantity, unit_price, invoice_date and customer_id is checked and
-- typed once, in a small lookup table joined back to the rows: real data repeats these values (541,909
-- bundled rows hold 722 quantities, 1,630 prices, 23,260 dates, 4,372 customer ids), so the regular
-- expressions (and the trims) run once per distinct value rather than once per row. Trimming: leading and trailing spaces
-- (SQL's trim); an empty string is null.
-- The lookups are temporary tables, analyzed: the planner then knows they are small and unique and
-- hashes them (probing with the batch's rows) instead of hashing the batch's rows, which spilled to
-- disk in many batches (null customer ids all hash alike).
create temp table transform_quantities on commit drop as
select
    raw.quantity as raw_quantity,
    case
        when raw.quantity_text !~ '^[+-]?[0-9]+$' then null
        when length(raw.quantity_text) > 9
            and raw.quantity_text::numeric not between -2147483648 and 2147483647 then null
        else raw.quantity_text::integer
    end as quantity
from (
    select distinct_values.quantity, nullif(btrim(distinct_values.quantity), '') as quantity_text
    from (select distinct staged.quantity from pg_temp.transform_staged as staged) as distinct_values
    offset 0
) as raw;

analyze pg_temp.transform_quantities;

create temp table transform_unit_prices on commit drop as
select
    raw.unit_price as raw_unit_price,
    case
        when raw.unit_price_text !~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$' then null
        when length(raw.unit_price_text) > 1000 then null
        else raw.unit_price_text::numeric
    end as unit_price
from (
    select distinct_values.unit_price, nullif(btrim(distinct_values.unit_price), '') as unit_price_text
    from (select distinct staged.unit_price from pg_temp.transform_staged as staged) as distinct_values
    offset 0
) as raw;

analyze pg_temp.transform_unit_prices;

create temp table transform_customer_ids on commit drop as
select
    raw.customer_id as raw_customer_id,
    raw.customer_id_text is null
        or (raw.customer_id_text ~ '^[0-9]+(\.0+)?$'
            and split_part(raw.customer_id_text, '.', 1)::numeric <= 2147483647) as is_valid,
    case
        when raw.customer_id_text !~ '^[0-9]+(\.0+)?$' then null
        when split_part(raw.customer_id_text, '.', 1)::numeric > 2147483647 then null
        else split_part(raw.customer_id_text, '.', 1)::integer
    end as customer_id
from (
    select distinct_values.customer_id, nullif(btrim(distinct_values.customer_id), '') as customer_id_text
    from (select distinct staged.customer_id from pg_temp.transform_staged as staged) as distinct_values
    offset 0
) as raw;

analyze pg_temp.transform_customer_ids;

create temp table transform_invoice_dates on commit drop as
with

-- 'YYYY-MM-DD HH:MM[:SS]' or 'M/D/YYYY H:MM[:SS]', rewritten to 'YYYY-MM-DD HH:MM:SS'
date_texts as (
    select
        raw.invoice_date,
        case
            when raw.invoice_date_text ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(:[0-9]{2})?$'
                then rpad(raw.invoice_date_text, 19, ':00')
            when raw.invoice_date_text ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4} [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$'
                then rpad(regexp_replace(
                    regexp_replace(raw.invoice_date_text, '(^|[/ ])([0-9])(?=[/:])', '\10\2', 'g'),
                    '^([0-9]{2})/([0-9]{2})/([0-9]{4}) ([0-9]{2}:[0-9]{2}(:[0-9]{2})?)$',
                    '\3-\1-\2 \4'
                ), 19, ':00')
        end as iso_date
    from (
        select distinct_values.invoice_date, nullif(btrim(distinct_values.invoice_date), '') as invoice_date_text
        from (select distinct staged.invoice_date from pg_temp.transform_staged as staged) as distinct_values
        offset 0
    ) as raw
    offset 0
),

date_parts as (
    select
        date_texts.invoice_date,
        date_texts.iso_date,
        left(date_texts.iso_date, 4)::integer as year_part,
        substr(date_texts.iso_date, 6, 2)::integer as month_part,
        substr(date_texts.iso_date, 9, 2)::integer as day_part,
        substr(date_texts.iso_date, 12, 2)::integer as hour_part,
        substr(date_texts.iso_date, 15, 2)::integer as minute_part,
        substr(date_texts.iso_date, 18, 2)::integer as second_part
    from date_texts
),

-- (validity as a column, not a filter: the lookup keeps one row per distinct staged text)
final as (
    select
        date_parts.invoice_date as raw_invoice_date,
        case
            when date_parts.year_part >= 1
                and date_parts.month_part between 1 and 12
                and date_parts.day_part between 1 and case
                    when date_parts.month_part in (4, 6, 9, 11) then 30
                    when date_parts.month_part <> 2 then 31
                    when date_parts.year_part % 4 = 0
                        and (date_parts.year_part % 100 <> 0 or date_parts.year_part % 400 = 0) then 29
                    else 28
                end
                and date_parts.hour_part <= 23
                and date_parts.minute_part <= 59
                and date_parts.second_part <= 59
                then date_parts.iso_date::timestamp
        end as invoice_date
    from date_parts
)

select * from final;

analyze pg_temp.transform_invoice_dates;

create temp table transform_parsed on commit drop as
with

staged as not materialized (
    select * from pg_temp.transform_staged
),

quantities as not materialized (
    select * from pg_temp.transform_quantities
),

unit_prices as not materialized (
    select * from pg_temp.transform_unit_prices
),

customer_ids as not materialized (
    select * from pg_temp.transform_customer_ids
),

invoice_dates as not materialized (
    select * from pg_temp.transform_invoice_dates
),

rows as (
    select
        staged.load_id,
        staged.line_no,
        staged.invoice_no as raw_invoice_no,
        staged.stock_code as raw_stock_code,
        staged.description as raw_description,
        staged.quantity as raw_quantity,
        staged.invoice_date as raw_invoice_date,
        staged.unit_price as raw_unit_price,
        staged.customer_id as raw_customer_id,
        staged.country as raw_country,
        nullif(btrim(staged.invoice_no), '') as invoice_no,
        nullif(btrim(staged.stock_code), '') as stock_code,
        nullif(btrim(staged.description), '') as description,
        quantities.quantity,
        invoice_dates.invoice_date,
        unit_prices.unit_price,
        customer_ids.customer_id,
        coalesce(customer_ids.is_valid, staged.customer_id is null) as is_customer_id_valid,
        nullif(btrim(staged.country), '') as country
    from staged
    left join quantities on quantities.raw_quantity = staged.quantity
    left join unit_prices on unit_prices.raw_unit_price = staged.unit_price
    left join invoice_dates on invoice_dates.raw_invoice_date = staged.invoice_date
    left join customer_ids on customer_ids.raw_customer_id = staged.customer_id
),

checked as (
    select
        rows.*,
        case
            when rows.invoice_no is null then 'missing_invoice_no'
            when rows.stock_code is null then 'missing_stock_code'
            when rows.quantity is null then 'bad_quantity'
            when rows.unit_price is null then 'bad_unit_price'
            when rows.invoice_date is null then 'bad_invoice_date'
            when rows.is_customer_id_valid is not true then 'bad_customer_id'
        end as reason
    from rows
    -- computed once per row (without offset 0 the planner would repeat the trims and this case
    -- in every column of final that uses them)
    offset 0
),

final as (
    select
        checked.load_id,
        checked.line_no,
        checked.reason,
        -- quarantined rows keep their staged values verbatim (untrimmed), to be inspected as loaded
        case when checked.reason is not null then checked.raw_invoice_no end as raw_invoice_no,
        case when checked.reason is not null then checked.raw_stock_code end as raw_stock_code,
        case when checked.reason is not null then checked.raw_description end as raw_description,
        case when checked.reason is not null then checked.raw_quantity end as raw_quantity,
        case when checked.reason is not null then checked.raw_invoice_date end as raw_invoice_date,
        case when checked.reason is not null then checked.raw_unit_price end as raw_unit_price,
        case when checked.reason is not null then checked.raw_customer_id end as raw_customer_id,
        case when checked.reason is not null then checked.raw_country end as raw_country,
        checked.invoice_no as invoice_no_text,
        checked.stock_code as stock_code_text,
        checked.description as description_text,
        checked.quantity,
        checked.invoice_date,
        checked.unit_price,
        checked.customer_id,
        checked.country as country_text,
        case
            when checked.reason is not null then null
            when upper(left(checked.invoice_no, 1)) = 'C' then 'cancellation'
            when upper(left(checked.invoice_no, 1)) = 'A' or checked.quantity <= 0 or checked.unit_price <= 0
                then 'adjustment'
            when upper(checked.stock_code) in ('POST', 'DOT', 'C2', 'M', 'D', 'S', 'B', 'BANK CHARGES', 'AMAZONFEE', 'CRUK')
                or upper(checked.stock_code) like 'GIFT\_%'
                then 'fee'
            else 'sale'
        end as line_kind
    from checked
)

select * from final;

analyze pg_temp.transform_parsed;

insert into core.quarantine (
    load_id, line_no, invoice_no, stock_code, description, quantity,
    invoice_date, unit_price, customer_id, country, reason
)
select
    parsed.load_id,
    parsed.line_no,
    parsed.raw_invoice_no,
    parsed.raw_stock_code,
    parsed.raw_description,
    parsed.raw_quantity,
    parsed.raw_invoice_date,
    parsed.raw_unit_price,
    parsed.raw_customer_id,
    parsed.raw_country,
    parsed.reason
from pg_temp.transform_parsed as parsed
where parsed.reason is not null;

-- when: full
-- A bulk insert into an empty table is many times faster without its indexes: they are dropped here
-- and built again below, as migrations/1700000000000 (primary key) and 1700000002000 (dedup key) define
-- them. Only the table's owner may do so; another role (e.g. transformer, when it does not own core)
-- keeps the indexes and inserts through them, slower but the same.
do $$
begin
    if pg_has_role(current_user, (select relowner from pg_class where oid = 'core.transactions'::regclass), 'usage') then
        alter table core.transactions drop constraint transactions_pkey;
        drop index core.transactions_dedup_key;
    end if;
end
$$;

-- when: full
-- every row is new: keep the first loaded copy of each (distinct on, by load_id then line_no)
insert into core.transactions (
    load_id, line_no, invoice_no, stock_code, description, quantity,
    invoice_date, unit_price, customer_id, country, line_amount, line_kind
)
select distinct on (
    parsed.invoice_no_text, parsed.stock_code_text, parsed.description_text, parsed.quantity,
    parsed.invoice_date, parsed.unit_price, parsed.customer_id, parsed.country_text
)
    parsed.load_id,
    parsed.line_no,
    parsed.invoice_no_text,
    parsed.stock_code_text,
    parsed.description_text,
    parsed.quantity,
    parsed.invoice_date,
    parsed.unit_price,
    parsed.customer_id,
    parsed.country_text,
    parsed.quantity * parsed.unit_price,
    parsed.line_kind
from pg_temp.transform_parsed as parsed
where parsed.reason is null
order by
    parsed.invoice_no_text, parsed.stock_code_text, parsed.description_text, parsed.quantity,
    parsed.invoice_date, parsed.unit_price, parsed.customer_id, parsed.country_text,
    parsed.load_id, parsed.line_no;

-- when: full
do $$
begin
    if to_regclass('core.transactions_pkey') is null then
        alter table core.transactions add constraint transactions_pkey primary key (load_id, line_no);
    end if;
    if to_regclass('core.transactions_dedup_key') is null then
        create unique index transactions_dedup_key on core.transactions
            (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country) nulls not distinct;
    end if;
end
$$;

-- when: full
-- fresh statistics for the feature views' plans (a role that does not own core gets a warning, no error)
analyze core.transactions;

-- when: incremental
-- rows offered in (load_id, line_no) order: of equal rows the first loaded is inserted, later ones
-- (and copies already in core, which come from earlier loads) hit the dedup key and are skipped
insert into core.transactions (
    load_id, line_no, invoice_no, stock_code, description, quantity,
    invoice_date, unit_price, customer_id, country, line_amount, line_kind
)
select
    parsed.load_id,
    parsed.line_no,
    parsed.invoice_no_text,
    parsed.stock_code_text,
    parsed.description_text,
    parsed.quantity,
    parsed.invoice_date,
    parsed.unit_price,
    parsed.customer_id,
    parsed.country_text,
    parsed.quantity * parsed.unit_price,
    parsed.line_kind
from pg_temp.transform_parsed as parsed
where parsed.reason is null
order by parsed.load_id, parsed.line_no
on conflict (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country)
    do nothing;

insert into meta.transform_loads (load_id, run_id, rows_staged, rows_clean, rows_quarantined, rows_duplicate)
with

batch as (
    select transform_batch.load_id
    from pg_temp.transform_batch as transform_batch
),

staged_counts as (
    select
        parsed.load_id,
        count(*) as rows_staged,
        count(*) filter (where parsed.reason is null) as rows_parsed,
        count(*) filter (where parsed.reason is not null) as rows_quarantined
    from pg_temp.transform_parsed as parsed
    group by parsed.load_id
),

clean_counts as (
    select transactions.load_id, count(*) as rows_clean
    from core.transactions as transactions
    inner join batch on batch.load_id = transactions.load_id
    group by transactions.load_id
),

final as (
    select
        batch.load_id,
        current_setting('transform.run_id')::bigint as run_id,
        coalesce(staged_counts.rows_staged, 0) as rows_staged,
        coalesce(clean_counts.rows_clean, 0) as rows_clean,
        coalesce(staged_counts.rows_quarantined, 0) as rows_quarantined,
        coalesce(staged_counts.rows_parsed, 0) - coalesce(clean_counts.rows_clean, 0) as rows_duplicate
    from batch
    left join staged_counts on staged_counts.load_id = batch.load_id
    left join clean_counts on clean_counts.load_id = batch.load_id
)

select final.load_id, final.run_id, final.rows_staged, final.rows_clean, final.rows_quarantined, final.rows_duplicate
from final
