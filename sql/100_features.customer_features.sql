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
