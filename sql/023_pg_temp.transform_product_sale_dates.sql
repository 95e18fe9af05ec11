-- pg_temp.transform_product_sale_dates: the first and last sale dates, taken again in core, of each product
-- whose first or last sale line may have left in this run (a line of that date among the run's changes
-- with sign -1). Every other product's dates only widen by the sale lines that came, which 031 does without
-- reading core. The rows are found through the partial index transactions_sale_stock_code_invoice; on
-- Citus the join goes to the workers, each over its own shards (a table of its own, so that 031's MERGE
-- reads no distributed table). Empty in a full rebuild (core.products is empty then) and on most days.
create temp table transform_product_sale_dates on commit drop as
with

left_dates as (
    select
        changes.stock_code,
        min(changes.invoice_date)::date as left_first,
        max(changes.invoice_date)::date as left_last
    from pg_temp.transform_changes as changes
    where changes.line_kind = 'sale' and changes.sign < 0
    group by changes.stock_code
),

probes as (
    select left_dates.stock_code
    from left_dates
    inner join core.products as products on products.stock_code = left_dates.stock_code
    where left_dates.left_first <= products.first_sale_date or left_dates.left_last >= products.last_sale_date
),

found as (
    select
        transactions.stock_code,
        min(transactions.invoice_date)::date as first_sale_date,
        max(transactions.invoice_date)::date as last_sale_date
    from core.transactions as transactions
    inner join probes on probes.stock_code = transactions.stock_code
    where transactions.line_kind = 'sale'
    group by transactions.stock_code
),

-- a probed product left with no sale line has no dates
final as (
    select probes.stock_code, found.first_sale_date, found.last_sale_date
    from probes
    left join found on found.stock_code = probes.stock_code
)

select * from final;
