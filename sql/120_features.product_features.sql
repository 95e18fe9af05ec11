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
