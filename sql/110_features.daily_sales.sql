-- features.daily_sales: one row per calendar day with a sale or a cancellation line (data contract §4),
-- published from core.days (032).
create materialized view features.daily_sales as
with

days as (
    select * from core.days as days
    where days.sale_cancellation_lines > 0
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
