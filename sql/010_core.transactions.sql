-- core.transactions (with core.quarantine and meta.transform_loads): the staged rows of the loads in this
-- run's batch (pg_temp.transform_batch, filled by the runner) are trimmed, checked, typed and split
-- (data contract §3). One statement, so each staged row is parsed once:
--   - a row with a quarantine reason goes to core.quarantine with the first reason that applies;
--   - a clean row goes to core.transactions unless its eight parsed values are already there
--     (transactions_dedup_key, nulls equal): rows are offered in (load_id, line_no) order, so the first
--     loaded is kept and the others are duplicates;
--   - each load's accounting goes to meta.transform_loads (rows_staged = clean + quarantined + duplicates).
with

batch as (
    select transform_batch.load_id
    from pg_temp.transform_batch as transform_batch
    inner join meta.loads as loads on loads.load_id = transform_batch.load_id
    where loads.status = 'complete'
),

-- text fields trimmed (spaces, tabs, line ends), an empty string is null; the date rewritten once
-- to 'YYYY-MM-DD HH:MM:SS'. `offset 0` here and below keeps the planner from inlining a computed
-- column into every place that uses it (each is computed once per row).
trimmed as (
    select
        trimmed.*,
        case
            when trimmed.invoice_date_text like '____-__-__ __:__'
                or trimmed.invoice_date_text like '____-__-__ __:__:__'
                then rpad(trimmed.invoice_date_text, 19, ':00')
            when trimmed.invoice_date_text ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4} [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$'
                then rpad(regexp_replace(
                    regexp_replace(trimmed.invoice_date_text, '(^|[/ ])([0-9])(?=[/:])', '\10\2', 'g'),
                    '^([0-9]{2})/([0-9]{2})/([0-9]{4}) ([0-9]{2}:[0-9]{2}(:[0-9]{2})?)$',
                    '\3-\1-\2 \4'
                ), 19, ':00')
        end as iso_date
    from (
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
            nullif(btrim(staged.invoice_no, e' \t\r\n'), '') as invoice_no_text,
            nullif(btrim(staged.stock_code, e' \t\r\n'), '') as stock_code_text,
            nullif(btrim(staged.description, e' \t\r\n'), '') as description_text,
            nullif(btrim(staged.quantity, e' \t\r\n'), '') as quantity_text,
            nullif(btrim(staged.invoice_date, e' \t\r\n'), '') as invoice_date_text,
            nullif(btrim(staged.unit_price, e' \t\r\n'), '') as unit_price_text,
            nullif(btrim(staged.customer_id, e' \t\r\n'), '') as customer_id_text,
            nullif(btrim(staged.country, e' \t\r\n'), '') as country_text
        from staging.transactions as staged
        inner join batch on batch.load_id = staged.load_id
    ) as trimmed
    offset 0
),

date_checked as (
    select
        trimmed.*,
        left(trimmed.iso_date, 4) || substr(trimmed.iso_date, 6, 2) || substr(trimmed.iso_date, 9, 2)
            || substr(trimmed.iso_date, 12, 2) || substr(trimmed.iso_date, 15, 2) || substr(trimmed.iso_date, 18, 2)
            ~ '^[0-9]+$' as is_date_digits
    from trimmed
    offset 0
),

date_parts as (
    select
        date_checked.*,
        case when date_checked.is_date_digits then left(date_checked.iso_date, 4)::integer end as year_part,
        case when date_checked.is_date_digits then substr(date_checked.iso_date, 6, 2)::integer end as month_part,
        case when date_checked.is_date_digits then substr(date_checked.iso_date, 9, 2)::integer end as day_part
    from date_checked
),

checked as (
    select
        date_parts.*,
        case
            when date_parts.invoice_no_text is null then 'missing_invoice_no'
            when date_parts.stock_code_text is null then 'missing_stock_code'
            when date_parts.quantity_text is null or date_parts.quantity_text !~ '^[+-]?[0-9]+$' then 'bad_quantity'
            when length(date_parts.quantity_text) > 9
                and date_parts.quantity_text::numeric not between -2147483648 and 2147483647
                then 'bad_quantity'
            when date_parts.unit_price_text is null
                or date_parts.unit_price_text !~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$'
                or length(date_parts.unit_price_text) > 1000
                then 'bad_unit_price'
            when date_parts.is_date_digits is not true
                or date_parts.year_part < 1
                or date_parts.month_part not between 1 and 12
                or date_parts.day_part < 1
                or date_parts.day_part > case
                    when date_parts.month_part in (4, 6, 9, 11) then 30
                    when date_parts.month_part <> 2 then 31
                    when date_parts.year_part % 4 = 0
                        and (date_parts.year_part % 100 <> 0 or date_parts.year_part % 400 = 0) then 29
                    else 28
                end
                or substr(date_parts.iso_date, 12, 2) > '23'
                or substr(date_parts.iso_date, 15, 2) > '59'
                or substr(date_parts.iso_date, 18, 2) > '59'
                then 'bad_invoice_date'
            when date_parts.customer_id_text !~ '^[0-9]+(\.0+)?$' then 'bad_customer_id'
            when length(date_parts.customer_id_text) > 9
                and split_part(date_parts.customer_id_text, '.', 1)::numeric > 2147483647
                then 'bad_customer_id'
        end as reason
    from date_parts
    offset 0
),

parsed as (
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
        checked.invoice_no_text,
        checked.stock_code_text,
        checked.description_text,
        checked.country_text,
        case when checked.reason is null then checked.quantity_text::integer end as quantity,
        case when checked.reason is null then checked.iso_date::timestamp end as invoice_date,
        case when checked.reason is null then checked.unit_price_text::numeric end as unit_price,
        case when checked.reason is null then split_part(checked.customer_id_text, '.', 1)::integer end as customer_id
    from checked
),

quarantined as (
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
    from parsed
    where parsed.reason is not null
    returning load_id
),

inserted as (
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
        case
            when upper(left(parsed.invoice_no_text, 1)) = 'C' then 'cancellation'
            when upper(left(parsed.invoice_no_text, 1)) = 'A' or parsed.quantity <= 0 or parsed.unit_price <= 0
                then 'adjustment'
            when upper(parsed.stock_code_text) in ('POST', 'DOT', 'C2', 'M', 'D', 'S', 'B', 'BANK CHARGES', 'AMAZONFEE', 'CRUK')
                or upper(parsed.stock_code_text) like 'GIFT\_%'
                then 'fee'
            else 'sale'
        end
    from parsed
    where parsed.reason is null
    order by parsed.load_id, parsed.line_no
    on conflict (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country)
        do nothing
    returning load_id
),

staged_counts as (
    select
        parsed.load_id,
        count(*) as rows_staged,
        count(*) filter (where parsed.reason is null) as rows_parsed,
        count(*) filter (where parsed.reason is not null) as rows_quarantined
    from parsed
    group by parsed.load_id
),

inserted_counts as (
    select inserted.load_id, count(*) as rows_clean
    from inserted
    group by inserted.load_id
),

quarantined_counts as (
    select quarantined.load_id, count(*) as rows_quarantined
    from quarantined
    group by quarantined.load_id
),

final as (
    select
        batch.load_id,
        current_setting('transform.run_id')::bigint as run_id,
        coalesce(staged_counts.rows_staged, 0) as rows_staged,
        coalesce(inserted_counts.rows_clean, 0) as rows_clean,
        coalesce(quarantined_counts.rows_quarantined, 0) as rows_quarantined,
        coalesce(staged_counts.rows_parsed, 0) - coalesce(inserted_counts.rows_clean, 0) as rows_duplicate
    from batch
    left join staged_counts on staged_counts.load_id = batch.load_id
    left join inserted_counts on inserted_counts.load_id = batch.load_id
    left join quarantined_counts on quarantined_counts.load_id = batch.load_id
)

insert into meta.transform_loads (load_id, run_id, rows_staged, rows_clean, rows_quarantined, rows_duplicate)
select final.load_id, final.run_id, final.rows_staged, final.rows_clean, final.rows_quarantined, final.rows_duplicate
from final
