-- core.products: one row per product with a sale or a cancellation line, its figures (data contract §4).
-- Lines, units, revenue and returned units change by the run's changes; orders and customers by the
-- (product, invoice) and (customer, product) pairs that appeared or left (022, 021); the description (most
-- frequent, ties: smallest in byte order) is taken again for the touched products from
-- core.product_descriptions (024). The first and last sale dates widen by the sale lines that came; only a
-- product whose first or last sale line left takes them again from core (023), which a daily run rarely has.
with

change as (
    select
        changes.stock_code,
        sum(changes.sign) filter (where changes.line_kind = 'sale') as sale_lines,
        sum(changes.sign) filter (where changes.line_kind = 'cancellation') as cancellation_lines,
        sum(changes.sign * changes.quantity) filter (where changes.line_kind = 'sale') as units,
        sum(changes.sign * changes.line_amount) filter (where changes.line_kind = 'sale') as revenue,
        -sum(changes.sign * changes.quantity) filter (where changes.line_kind = 'cancellation') as returned_units,
        min(changes.invoice_date) filter (where changes.line_kind = 'sale' and changes.sign > 0)::date as came_first,
        max(changes.invoice_date) filter (where changes.line_kind = 'sale' and changes.sign > 0)::date as came_last
    from pg_temp.transform_changes as changes
    where changes.line_kind in ('sale', 'cancellation')
    group by changes.stock_code
),

order_changes as (
    select product_invoices.stock_code, sum(product_invoices.pair_change) as orders
    from pg_temp.transform_product_invoices as product_invoices
    group by product_invoices.stock_code
),

customer_changes as (
    select customer_products.stock_code, sum(customer_products.pair_change) as customers
    from pg_temp.transform_customer_products as customer_products
    group by customer_products.stock_code
),

descriptions as (
    select distinct on (product_descriptions.stock_code)
        product_descriptions.stock_code,
        product_descriptions.description
    from core.product_descriptions as product_descriptions
    inner join change on change.stock_code = product_descriptions.stock_code
    order by product_descriptions.stock_code, product_descriptions.lines desc,
        product_descriptions.description collate "C"
),

final as (
    select
        change.stock_code,
        coalesce(change.sale_lines, 0) as sale_lines,
        coalesce(change.cancellation_lines, 0) as cancellation_lines,
        coalesce(change.units, 0) as units,
        coalesce(change.revenue, 0) as revenue,
        coalesce(order_changes.orders, 0) as orders,
        coalesce(customer_changes.customers, 0) as customers,
        coalesce(change.returned_units, 0) as returned_units,
        descriptions.description,
        case
            when probed.stock_code is not null then probed.first_sale_date
            else least(products.first_sale_date, change.came_first)
        end as first_sale_date,
        case
            when probed.stock_code is not null then probed.last_sale_date
            else greatest(products.last_sale_date, change.came_last)
        end as last_sale_date
    from change
    left join core.products as products on products.stock_code = change.stock_code
    left join pg_temp.transform_product_sale_dates as probed on probed.stock_code = change.stock_code
    left join order_changes on order_changes.stock_code = change.stock_code
    left join customer_changes on customer_changes.stock_code = change.stock_code
    left join descriptions on descriptions.stock_code = change.stock_code
)

merge into core.products as products
using final
on products.stock_code = final.stock_code
when matched and products.sale_lines + final.sale_lines = 0
    and products.cancellation_lines + final.cancellation_lines = 0 then delete
when matched then update set
    sale_lines = products.sale_lines + final.sale_lines,
    cancellation_lines = products.cancellation_lines + final.cancellation_lines,
    description = final.description,
    units = products.units + final.units,
    revenue = products.revenue + final.revenue,
    orders = products.orders + final.orders,
    customers = products.customers + final.customers,
    returned_units = products.returned_units + final.returned_units,
    first_sale_date = final.first_sale_date,
    last_sale_date = final.last_sale_date
when not matched and (final.sale_lines > 0 or final.cancellation_lines > 0) then insert (
    stock_code, sale_lines, cancellation_lines, description, units, revenue, orders, customers,
    returned_units, first_sale_date, last_sale_date
) values (
    final.stock_code, final.sale_lines, final.cancellation_lines, final.description, final.units,
    final.revenue, final.orders, final.customers, final.returned_units, final.first_sale_date,
    final.last_sale_date
);
