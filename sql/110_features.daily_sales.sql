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

-- the meaning of each column, where BI tools and the report's data dictionary read it (data contract §4)
comment on materialized view features.daily_sales is 'One row per calendar day with a sale or a cancellation line: orders, units, gross revenue, returns and customers of the day.';
comment on column features.daily_sales.day is 'The calendar day of invoice_date.';
comment on column features.daily_sales.orders is 'Number of distinct invoices with a sale line that day.';
comment on column features.daily_sales.units is 'Sum of the quantities of the day''s sale lines.';
comment on column features.daily_sales.gross_revenue is 'Sum of the line amounts of the day''s sale lines, 2 decimals (rounded after summing).';
comment on column features.daily_sales.returns_value is 'Value of the day''s cancellation lines as a positive amount (minus their summed line amounts), 2 decimals.';
comment on column features.daily_sales.customers is 'Number of distinct customers (guests not counted) with a sale line that day.';
