-- pg_temp.transform_product_invoices: each (product, invoice) pair of sale lines that the run's changes
-- touch, and whether it appeared (+1) or left (-1): a product's orders (031) change by these. The pair's
-- lines in core after the run are counted through the partial index transactions_sale_stock_code_invoice_no;
-- before the run they were that count less the change.
-- In a full rebuild every pair is new (the changes are core whole), so nothing is counted.
create temp table transform_product_invoices on commit drop as
with

change as (
    select
        changes.stock_code,
        changes.invoice_no,
        sum(changes.sign) as lines
    from pg_temp.transform_changes as changes
    where changes.line_kind = 'sale'
    group by changes.stock_code, changes.invoice_no
),

counted as (
    select
        change.*,
        case
            when (select current_setting('transform.is_full')::boolean) then change.lines
            else (
                select count(*) from core.transactions as transactions
                where transactions.line_kind = 'sale'
                    and transactions.stock_code = change.stock_code
                    and transactions.invoice_no = change.invoice_no
            )
        end as lines_after
    from change
),

final as (
    select
        counted.stock_code,
        counted.invoice_no,
        sign(counted.lines_after)::integer - sign(counted.lines_after - counted.lines)::integer as pair_change
    from counted
)

select * from final
where final.pair_change <> 0;
