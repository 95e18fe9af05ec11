-- features.product_features: one row per stock_code with a sale line (data contract §4), published from
-- core.products (031). description: the most frequent non-null description among its sale lines (ties:
-- smallest, byte order).
create materialized view features.product_features as
with

products as (
    select * from core.products as products
    where products.sale_lines > 0
),

final as (
    select
        products.stock_code,
        products.description,
        products.units,
        round(products.revenue, 2) as revenue,
        products.orders,
        products.customers,
        products.returned_units,
        products.first_sale_date,
        products.last_sale_date
    from products
)

select * from final
with no data;

create unique index product_features_stock_code on features.product_features (stock_code);

grant select on features.product_features to analyst;
