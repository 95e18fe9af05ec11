-- features.customer_features: one row per customer with at least one sale line (data contract §4),
-- published from core.customers (030): what depends on every customer is computed here, at each refresh
-- (as_of_date, recency and tenure, and the ntile scores). as_of_date is the day after the latest day
-- with a line of any kind (core.days, 032).
-- Money: sums of unrounded line amounts, rounded half away from zero (round(numeric, n)) at the end.
-- Scores rank the published (rounded) columns, ties broken by customer_id, so they are deterministic.
create materialized view features.customer_features as
with

as_of as (
    select max(days.day) + 1 as as_of_date
    from core.days as days
),

customers as (
    select
        customers.customer_id,
        customers.country,
        customers.first_purchase_at,
        customers.last_purchase_at,
        as_of.as_of_date - customers.last_purchase_at::date as recency_days,
        as_of.as_of_date - customers.first_purchase_at::date as tenure_days,
        customers.frequency,
        customers.monetary,
        customers.units,
        customers.distinct_products,
        customers.returns_value
    from core.customers as customers
    cross join as_of
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
