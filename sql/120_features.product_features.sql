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

-- the meaning of each column, where BI tools and the report's data dictionary read it (data contract §4)
comment on materialized view features.product_features is 'One row per product (stock_code) with at least one sale line: what it sold, to how many, what came back, and when.';
comment on column features.product_features.stock_code is 'The product code.';
comment on column features.product_features.description is 'The product''s most frequent non-empty description among its sale lines (ties: the smallest, byte order).';
comment on column features.product_features.units is 'Sum of the quantities of the product''s sale lines.';
comment on column features.product_features.revenue is 'Sum of the line amounts of the product''s sale lines, 2 decimals (rounded after summing).';
comment on column features.product_features.orders is 'Number of distinct invoices with a sale line of the product.';
comment on column features.product_features.customers is 'Number of distinct customers (guests not counted) who bought the product.';
comment on column features.product_features.returned_units is 'Units of the product on cancellation lines, as a positive number; 0 when none.';
comment on column features.product_features.first_sale_date is 'Date of the product''s first sale line.';
comment on column features.product_features.last_sale_date is 'Date of the product''s latest sale line.';
