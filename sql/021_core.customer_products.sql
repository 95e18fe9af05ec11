-- core.customer_products: sale lines per (customer, product). A customer's distinct_products (030) counts
-- its keys; a product's customers (031) change by the keys that appear or leave in this run, kept in
-- pg_temp.transform_customer_product_changes (pair_change +1, -1 or 0).
create temp table transform_customer_product_changes on commit drop as
with

change as (
    select
        changes.customer_id,
        changes.stock_code,
        sum(changes.sign) as lines
    from pg_temp.transform_changes as changes
    where changes.line_kind = 'sale' and changes.customer_id is not null
    group by changes.customer_id, changes.stock_code
),

final as (
    select
        change.customer_id,
        change.stock_code,
        change.lines,
        case
            when customer_products.customer_id is null and change.lines > 0 then 1
            when customer_products.lines + change.lines = 0 then -1
            else 0
        end as pair_change
    from change
    left join core.customer_products as customer_products
        on customer_products.customer_id = change.customer_id
        and customer_products.stock_code = change.stock_code
)

select * from final;

merge into core.customer_products as customer_products
using pg_temp.transform_customer_product_changes as change
on customer_products.customer_id = change.customer_id and customer_products.stock_code = change.stock_code
when matched and customer_products.lines + change.lines = 0 then delete
when matched then update set lines = customer_products.lines + change.lines
when not matched and change.lines > 0 then insert (customer_id, stock_code, lines)
    values (change.customer_id, change.stock_code, change.lines);
