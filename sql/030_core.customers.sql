-- core.customers: one row per customer with a sale line, its figures before rounding and ranking (data
-- contract §4). Taken again, for the customers the run's changes touch only, from their rows in
-- core.invoices (020); distinct_products changes by the (customer, product) pairs that appeared or left
-- (021). A customer left with no sale line leaves.
with

-- the customers of the changes; in a full rebuild every customer with a sale or cancellation line, read
-- from core.invoices (one row per invoice) rather than from every changed line (a one-time filter: the
-- other branch is not read at all)
touched as (
    select changes.customer_id
    from pg_temp.transform_changes as changes
    where not (select current_setting('transform.is_full')::boolean)
        and changes.customer_id is not null and changes.line_kind in ('sale', 'cancellation')
    union
    select invoices.customer_id
    from core.invoices as invoices
    where (select current_setting('transform.is_full')::boolean) and invoices.customer_id is not null
),

invoices as (
    select invoices.*
    from core.invoices as invoices
    inner join touched on touched.customer_id = invoices.customer_id
),

-- the country of the latest sale line (ties: greatest invoice_no, then smallest country, byte order)
latest_country as (
    select distinct on (invoices.customer_id)
        invoices.customer_id,
        invoices.country
    from invoices
    where invoices.line_kind = 'sale'
    order by invoices.customer_id, invoices.invoice_date desc, invoices.invoice_no collate "C" desc,
        invoices.country collate "C"
),

sale_totals as (
    select
        invoices.customer_id,
        min(invoices.invoice_date) as first_purchase_at,
        max(invoices.invoice_date) as last_purchase_at,
        count(distinct invoices.invoice_no) as frequency,
        sum(invoices.amount) as monetary,
        sum(invoices.units) as units
    from invoices
    where invoices.line_kind = 'sale'
    group by invoices.customer_id
),

returns as (
    select
        invoices.customer_id,
        -sum(invoices.amount) as returns_value
    from invoices
    where invoices.line_kind = 'cancellation'
    group by invoices.customer_id
),

product_changes as (
    select
        customer_products.customer_id,
        sum(customer_products.pair_change) as distinct_products
    from pg_temp.transform_customer_products as customer_products
    group by customer_products.customer_id
),

final as (
    select
        touched.customer_id,
        sale_totals.customer_id is not null as has_sales,
        latest_country.country,
        sale_totals.first_purchase_at,
        sale_totals.last_purchase_at,
        sale_totals.frequency,
        sale_totals.monetary,
        sale_totals.units,
        coalesce(customers.distinct_products, 0) + coalesce(product_changes.distinct_products, 0) as distinct_products,
        coalesce(returns.returns_value, 0) as returns_value
    from touched
    left join sale_totals on sale_totals.customer_id = touched.customer_id
    left join latest_country on latest_country.customer_id = touched.customer_id
    left join returns on returns.customer_id = touched.customer_id
    left join product_changes on product_changes.customer_id = touched.customer_id
    left join core.customers as customers on customers.customer_id = touched.customer_id
)

merge into core.customers as customers
using final
on customers.customer_id = final.customer_id
when matched and not final.has_sales then delete
when matched then update set
    country = final.country,
    first_purchase_at = final.first_purchase_at,
    last_purchase_at = final.last_purchase_at,
    frequency = final.frequency,
    monetary = final.monetary,
    units = final.units,
    distinct_products = final.distinct_products,
    returns_value = final.returns_value
when not matched and final.has_sales then insert (
    customer_id, country, first_purchase_at, last_purchase_at, frequency, monetary, units,
    distinct_products, returns_value
) values (
    final.customer_id, final.country, final.first_purchase_at, final.last_purchase_at, final.frequency,
    final.monetary, final.units, final.distinct_products, final.returns_value
);
