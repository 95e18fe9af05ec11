-- features.daily_sales: one row per calendar day with a sale or a cancellation line (data contract §4).
create materialized view features.daily_sales as
with

transactions as not materialized (
    select * from core.transactions
),

days as (
    select
        transactions.invoice_date::date as day,
        count(distinct transactions.invoice_no) filter (where transactions.line_kind = 'sale') as orders,
        coalesce(sum(transactions.quantity) filter (where transactions.line_kind = 'sale'), 0) as units,
        coalesce(sum(transactions.line_amount) filter (where transactions.line_kind = 'sale'), 0) as gross_revenue,
        coalesce(-sum(transactions.line_amount) filter (where transactions.line_kind = 'cancellation'), 0) as returns_value,
        count(distinct transactions.customer_id) filter (where transactions.line_kind = 'sale') as customers
    from transactions
    where transactions.line_kind in ('sale', 'cancellation')
    group by transactions.invoice_date::date
),

final as (
    select
        days.day,
        days.orders,
        days.units,
        round(days.gross_revenue, 2) as gross_revenue,
        round(days.returns_value, 2) as returns_value,
        days.customers
    from days
)

select * from final
with no data;

create unique index daily_sales_day on features.daily_sales (day);

grant select on features.daily_sales to analyst;
