-- features.customer_features: one row per customer with at least one sale line (data contract §4),
-- published from core.customers (030) by features.customer_features_as_of (sql/090), the one definition
-- of its columns, which the training set (sql/300) reads too. Given the data's as_of_date and no totals,
-- the function reads core.customers; what depends on every customer (recency and tenure, the ntile
-- scores) is computed at each refresh. as_of_date is the day after the latest day with a line of any kind
-- (core.days, 032).
create materialized view features.customer_features as
with

as_of as (
    select max(days.day) + 1 as as_of_date
    from core.days as days
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
        customers.monetary,
        customers.avg_order_value,
        customers.units,
        customers.distinct_products,
        customers.returns_value,
        customers.return_rate,
        customers.r_score,
        customers.f_score,
        customers.m_score
    from as_of
    cross join lateral features.customer_features_as_of(as_of.as_of_date) as customers
)

select * from final
with no data;

create unique index customer_features_customer_id on features.customer_features (customer_id);

grant select on features.customer_features to analyst;

-- the meaning of each column, where BI tools and the report's data dictionary read it (data contract §4)
comment on materialized view features.customer_features is 'One row per customer with at least one sale line: RFM (recency, frequency, monetary) and behaviour features as of as_of_date, the day after the latest invoice_date in core.transactions.';
comment on column features.customer_features.customer_id is 'The customer''s number (guests, with no number, are not in this view).';
comment on column features.customer_features.country is 'Country of the customer''s most recent sale line (latest invoice_date; ties: greatest invoice_no).';
comment on column features.customer_features.first_purchase_at is 'Date and time of the customer''s first sale line.';
comment on column features.customer_features.last_purchase_at is 'Date and time of the customer''s latest sale line.';
comment on column features.customer_features.recency_days is 'Days from the date of the latest sale line to as_of_date (1 = bought on the last day of the data).';
comment on column features.customer_features.tenure_days is 'Days from the date of the first sale line to as_of_date.';
comment on column features.customer_features.frequency is 'Number of distinct invoices with a sale line.';
comment on column features.customer_features.monetary is 'Sum of the line amounts of the sale lines, rounded half away from zero to 2 decimals after summing.';
comment on column features.customer_features.avg_order_value is 'Unrounded monetary divided by frequency, rounded to 2 decimals.';
comment on column features.customer_features.units is 'Sum of the quantities of the sale lines.';
comment on column features.customer_features.distinct_products is 'Number of distinct stock codes among the sale lines.';
comment on column features.customer_features.returns_value is 'Value of the customer''s cancellation lines, as a positive amount (minus their summed line amounts), 2 decimals; 0 when none.';
comment on column features.customer_features.return_rate is 'returns_value divided by monetary (both unrounded), 4 decimals.';
comment on column features.customer_features.r_score is 'Recency score 1-5, 5 = most recent: ntile(5) over every customer ordered by recency_days descending, then customer_id.';
comment on column features.customer_features.f_score is 'Frequency score 1-5, 5 = most invoices: ntile(5) ordered by frequency, then customer_id.';
comment on column features.customer_features.m_score is 'Monetary score 1-5, 5 = most spent: ntile(5) ordered by monetary, then customer_id.';
