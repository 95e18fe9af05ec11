-- core.days: one row per calendar day with a line of any kind: the count of its lines (the latest day
-- gives as_of_date) and its sales figures (data contract §4, features.daily_sales), taken again for the
-- touched days from their rows in core.invoices (020). A day left with no line leaves.
with

change as (
    select
        changes.invoice_date::date as day,
        sum(changes.sign) as lines
    from pg_temp.transform_changes as changes
    group by changes.invoice_date::date
),

invoices as (
    select change.day, invoices.*
    from change
    inner join core.invoices as invoices
        on invoices.invoice_date >= change.day and invoices.invoice_date < change.day + 1
),

figures as (
    select
        invoices.day,
        sum(invoices.lines) as sale_cancellation_lines,
        count(distinct invoices.invoice_no) filter (where invoices.line_kind = 'sale') as orders,
        coalesce(sum(invoices.units) filter (where invoices.line_kind = 'sale'), 0) as units,
        coalesce(sum(invoices.amount) filter (where invoices.line_kind = 'sale'), 0) as gross_revenue,
        coalesce(-sum(invoices.amount) filter (where invoices.line_kind = 'cancellation'), 0) as returns_value,
        count(distinct invoices.customer_id) filter (where invoices.line_kind = 'sale') as customers
    from invoices
    group by invoices.day
),

final as (
    select
        change.day,
        change.lines,
        coalesce(figures.sale_cancellation_lines, 0) as sale_cancellation_lines,
        coalesce(figures.orders, 0) as orders,
        coalesce(figures.units, 0) as units,
        coalesce(figures.gross_revenue, 0) as gross_revenue,
        coalesce(figures.returns_value, 0) as returns_value,
        coalesce(figures.customers, 0) as customers
    from change
    left join figures on figures.day = change.day
)

merge into core.days as days
using final
on days.day = final.day
when matched and days.lines + final.lines = 0 then delete
when matched then update set
    lines = days.lines + final.lines,
    sale_cancellation_lines = final.sale_cancellation_lines,
    orders = final.orders,
    units = final.units,
    gross_revenue = final.gross_revenue,
    returns_value = final.returns_value,
    customers = final.customers
when not matched and final.lines > 0 then insert (
    day, lines, sale_cancellation_lines, orders, units, gross_revenue, returns_value, customers
) values (
    final.day, final.lines, final.sale_cancellation_lines, final.orders, final.units,
    final.gross_revenue, final.returns_value, final.customers
);
