-- core.product_days: sale lines per (product, day). A product's first and last sale dates (031) are the
-- first and last of its keys, found by two index probes each.
with

change as (
    select
        changes.stock_code,
        changes.invoice_date::date as day,
        sum(changes.sign) as lines
    from pg_temp.transform_changes as changes
    where changes.line_kind = 'sale'
    group by changes.stock_code, changes.invoice_date::date
)

merge into core.product_days as product_days
using change
on product_days.stock_code = change.stock_code and product_days.day = change.day
when matched and product_days.lines + change.lines = 0 then delete
when matched then update set lines = product_days.lines + change.lines
when not matched and change.lines > 0 then insert (stock_code, day, lines)
    values (change.stock_code, change.day, change.lines);
