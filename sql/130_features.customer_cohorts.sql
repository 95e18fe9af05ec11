-- features.customer_cohorts: customers (with a sale line) grouped by the month of their first sale and
-- the months since it (0 = the first month): active customers, revenue, retention (data contract §4).
-- Published from core.customer_months (025) and each customer's first purchase (core.customers, 030).
create materialized view features.customer_cohorts as
with

first_months as (
    select
        customers.customer_id,
        date_trunc('month', customers.first_purchase_at)::date as cohort_month
    from core.customers as customers
),

cohort_sizes as (
    select
        first_months.cohort_month,
        count(*) as cohort_size
    from first_months
    group by first_months.cohort_month
),

cells as (
    select
        first_months.cohort_month,
        (extract(year from customer_months.activity_month) - extract(year from first_months.cohort_month)) * 12
            + extract(month from customer_months.activity_month) - extract(month from first_months.cohort_month) as month_number,
        count(*) as active_customers,
        sum(customer_months.amount) as revenue
    from core.customer_months as customer_months
    inner join first_months on first_months.customer_id = customer_months.customer_id
    group by 1, 2
),

final as (
    select
        cells.cohort_month,
        cells.month_number::integer as month_number,
        cohort_sizes.cohort_size,
        cells.active_customers,
        round(cells.revenue, 2) as revenue,
        round(cells.active_customers::numeric / cohort_sizes.cohort_size, 4) as retention
    from cells
    inner join cohort_sizes on cohort_sizes.cohort_month = cells.cohort_month
)

select * from final
with no data;

create unique index customer_cohorts_cohort_month_month_number on features.customer_cohorts (cohort_month, month_number);

grant select on features.customer_cohorts to analyst;

-- the meaning of each column, where BI tools and the report's data dictionary read it (data contract §4)
comment on materialized view features.customer_cohorts is 'Customers grouped by the month of their first sale (cohort_month) and the months since it (month_number): how many were active, what they spent, and the share of the cohort retained.';
comment on column features.customer_cohorts.cohort_month is 'First day of the month of the customers'' first sale line.';
comment on column features.customer_cohorts.month_number is 'Months from cohort_month to the month of activity (0 = the first month).';
comment on column features.customer_cohorts.cohort_size is 'Number of customers whose first sale line is in cohort_month.';
comment on column features.customer_cohorts.active_customers is 'Customers of the cohort with at least one sale line in that month.';
comment on column features.customer_cohorts.revenue is 'Sum of the line amounts of the cohort''s sale lines in that month, 2 decimals.';
comment on column features.customer_cohorts.retention is 'active_customers divided by cohort_size, 4 decimals (1 in month 0).';
