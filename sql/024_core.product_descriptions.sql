-- core.product_descriptions: sale lines with a description per (product, description). A product's
-- description (031) is its most frequent one, taken again for the touched products only.
with

change as (
    select
        changes.stock_code,
        changes.description,
        sum(changes.sign) as lines
    from pg_temp.transform_changes as changes
    where changes.line_kind = 'sale' and changes.description is not null
    group by changes.stock_code, changes.description
)

merge into core.product_descriptions as product_descriptions
using change
on product_descriptions.stock_code = change.stock_code and product_descriptions.description = change.description
when matched and product_descriptions.lines + change.lines = 0 then delete
when matched then update set lines = product_descriptions.lines + change.lines
when not matched and change.lines > 0 then insert (stock_code, description, lines)
    values (change.stock_code, change.description, change.lines);
