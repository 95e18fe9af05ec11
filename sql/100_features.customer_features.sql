-- features.customer_features: one row per customer with at least one sale line (data contract §4).
-- Money: sums of unrounded line amounts, rounded half away from zero (round(numeric, n)) at the end.
-- Scores rank the published (rounded) columns, ties broken by customer_id, so they are deterministic.
create materialized view features.customer_features as
with

transactions as not materialized (
    select * from core.transactions
),

as_of as (
    select (max(transactions.invoice_date)::date + 1) as as_of_date
    from transactions
),

sales as not materialized (
    select * from transactions where transactions.line_kind = 'sale' and transactions.customer_id is not null
),

returns as (
    select
        transactions.customer_id,
        -sum(transactions.line_amount) as returns_value
    from transactions
    where transactions.line_kind = 'cancellation' and transactions.customer_id is not null
    group by transactions.customer_id
),

-- the country of the latest sale line (ties: greatest invoice_no, then smallest country, byte order)
latest_country as (
    select distinct on (sales.customer_id)
        sales.customer_id,
        sales.country
    from sales
    order by sales.customer_id, sales.invoice_date desc, sales.invoice_no collate "C" desc, sales.country collate "C"
),

sale_totals as (
    select
        sales.customer_id,
        min(sales.invoice_date) as first_purchase_at,
        max(sales.invoice_date) as last_purchase_at,
        count(distinct sales.invoice_no) as frequency,
        sum(sales.line_amount) as monetary,
        sum(sales.quantity) as units,
        count(distinct sales.stock_code) as distinct_products
    from sales
    group by sales.customer_id
),

customers as (
    select
        sale_totals.customer_id,
        latest_country.country,
        sale_totals.first_purchase_at,
        sale_totals.last_purchase_at,
        as_of.as_of_date - sale_totals.last_purchase_at::date as recency_days,
        as_of.as_of_date - sale_totals.first_purchase_at::date as tenure_days,
        sale_totals.frequency,
        sale_totals.monetary,
        sale_totals.units,
        sale_totals.distinct_products,
        coalesce(returns.returns_value, 0) as returns_value
    from sale_totals
    cross join as_of
    inner join latest_country on latest_country.customer_id = sale_totals.customer_id
    left join returns on returns.customer_id = sale_totals.customer_id
),

final as (
    select
        customers.customer_id,
        customers.country,
        customers.first_purchase_at,
        customers.last_purchase_at,
        customers.recency_days,
        customers.tenure_days,
        customers.frequency,
        round(customers.monetary, 2) as monetary,
        round(customers.monetary / customers.frequency, 2) as avg_order_value,
        customers.units,
        customers.distinct_products,
        round(customers.returns_value, 2) as returns_value,
        round(customers.returns_value / nullif(customers.monetary, 0), 4) as return_rate,
        ntile(5) over (order by customers.recency_days desc, customers.customer_id) as r_score,
        ntile(5) over (order by customers.frequency, customers.customer_id) as f_score,
        ntile(5) over (order by round(customers.monetary, 2), customers.customer_id) as m_score
    from customers
)

select * from final
with no data;

create unique index customer_features_customer_id on features.customer_features (customer_id);

grant select on features.customer_features to analyst;
