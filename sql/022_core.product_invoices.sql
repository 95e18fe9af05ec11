-- core.product_invoices: sale lines per (product, invoice). A product's orders (031) change by the keys
-- that appear or leave in this run, kept in pg_temp.transform_product_invoice_changes (pair_change +1, -1
-- or 0).
create temp table transform_product_invoice_changes on commit drop as
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

final as (
    select
        change.stock_code,
        change.invoice_no,
        change.lines,
        case
            when product_invoices.stock_code is null and change.lines > 0 then 1
            when product_invoices.lines + change.lines = 0 then -1
            else 0
        end as pair_change
    from change
    left join core.product_invoices as product_invoices
        on product_invoices.stock_code = change.stock_code
        and product_invoices.invoice_no = change.invoice_no
)

select * from final;

merge into core.product_invoices as product_invoices
using pg_temp.transform_product_invoice_changes as change
on product_invoices.stock_code = change.stock_code and product_invoices.invoice_no = change.invoice_no
when matched and product_invoices.lines + change.lines = 0 then delete
when matched then update set lines = product_invoices.lines + change.lines
when not matched and change.lines > 0 then insert (stock_code, invoice_no, lines)
    values (change.stock_code, change.invoice_no, change.lines);
