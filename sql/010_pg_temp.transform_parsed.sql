-- pg_temp.transform_parsed: every staged row of the batch, trimmed, typed through the lookups (002-005),
-- checked (the first quarantine reason that applies, data contract §3) and classified (line_kind), with its
-- line_amount and the dedup hash of its eight parsed values. Read by every later step of the run.
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
        checked.invoice_no as invoice_no,
        checked.stock_code as stock_code,
        checked.description as description,
        checked.quantity,
        checked.invoice_date,
        checked.unit_price,
        checked.customer_id,
        checked.country as country,
        case
            when checked.reason is not null then null
            when upper(left(checked.invoice_no, 1)) = 'C' then 'cancellation'
            when upper(left(checked.invoice_no, 1)) = 'A' or checked.quantity <= 0 or checked.unit_price <= 0
                then 'adjustment'
            when upper(checked.stock_code) in ('POST', 'DOT', 'C2', 'M', 'D', 'S', 'B', 'BANK CHARGES', 'AMAZONFEE', 'CRUK')
                or upper(checked.stock_code) like 'GIFT\_%'
                then 'fee'
            else 'sale'
        end as line_kind,
        checked.quantity * checked.unit_price as line_amount,
        -- the dedup hash (migrations/1700000004000): equal parsed values hash alike (numeric hashing ignores
        -- trailing zeros, so 1.5 and 1.50 do too); a null value counts as 0
        case when checked.reason is null then
            coalesce(hashtextextended(checked.invoice_no, 1), 0)
            # coalesce(hashtextextended(checked.stock_code, 2), 0)
            # coalesce(hashtextextended(checked.description, 3), 0)
            # coalesce(hashint4extended(checked.quantity, 4), 0)
            # coalesce(timestamp_hash_extended(checked.invoice_date, 5), 0)
            # coalesce(hash_numeric_extended(checked.unit_price, 6), 0)
            # coalesce(hashint4extended(checked.customer_id, 7), 0)
            # coalesce(hashtextextended(checked.country, 8), 0)
        end as row_hash
    from checked
)

select * from final;

analyze pg_temp.transform_parsed;
