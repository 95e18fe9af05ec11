-- features.product_features: one row per stock_code with a sale line (data contract §4).
-- description: the most frequent non-null description among its sale lines (ties: smallest, byte order).
create materialized view features.product_features as
with

transactions as not materialized (
    select * from core.transactions
),

sales as not materialized (
    select * from transactions where transactions.line_kind = 'sale'
),

descriptions as (
    select distinct on (sales.stock_code)
        sales.stock_code,
        sales.description
    from sales
    where sales.description is not null
    group by sales.stock_code, sales.description
    order by sales.stock_code, count(*) desc, sales.description collate "C"
),

returned as (
    select
        transactions.stock_code,
        -sum(transactions.quantity) as returned_units
    from transactions
    where transactions.line_kind = 'cancellation'
    group by transactions.stock_code
),

sale_totals as (
    select
        sales.stock_code,
        sum(sales.quantity) as units,
        sum(sales.line_amount) as revenue,
        count(distinct sales.invoice_no) as orders,
        count(distinct sales.customer_id) as customers,
        min(sales.invoice_date)::date as first_sale_date,
        max(sales.invoice_date)::date as last_sale_date
    from sales
    group by sales.stock_code
),

final as (
    select
        sale_totals.stock_code,
        descriptions.description,
        sale_totals.units,
        round(sale_totals.revenue, 2) as revenue,
        sale_totals.orders,
        sale_totals.customers,
        coalesce(returned.returned_units, 0) as returned_units,
        sale_totals.first_sale_date,
        sale_totals.last_sale_date
    from sale_totals
    left join descriptions on descriptions.stock_code = sale_totals.stock_code
    left join returned on returned.stock_code = sale_totals.stock_code
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
