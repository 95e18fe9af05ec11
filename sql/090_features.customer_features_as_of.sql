-- features.customer_features_as_of(as_of_date [, each customer's totals]): the one definition of the columns
-- of features.customer_features (data contract §4) from per-customer totals before rounding and ranking.
-- Both readers call it: the published view (sql/100) with the data's as_of_date and no totals, which reads
-- every customer's totals in core.customers (030); the training set (sql/300) with as_of_date = cutoff and
-- the totals of the lines before it. Recency and tenure, the rounding of money and ratios, "0 when none",
-- the ntile scores and their tie-breaks are written here only, so serving and training cannot drift apart.
-- Given totals come as one array per column, element i of every array being the same customer (a SQL
-- function cannot take a set of rows; a composite type would be one more kind of object, which Citus would
-- have to create on its workers). The view passes none, so it pays for no array.
-- language sql, stable, not strict, no security definer, no SET: the planner inlines it into its caller (the
-- scan or the unnest and the windows become part of the caller's plan; with no totals given, the unnest
-- branch is folded away), so it costs what the same SQL written in place did. It reads one table,
-- core.customers, local to a Citus coordinator, and calls only built-in functions and operators: it is
-- inlined under the caller's search_path (pg_catalog, pg_temp in a refresh and in training_set).
create function features.customer_features_as_of(
    as_of_date date,
    each_customer_id integer[] default null,
    each_country text[] default null,
    each_first_purchase_at timestamp[] default null,
    each_last_purchase_at timestamp[] default null,
    each_frequency bigint[] default null,
    each_monetary numeric[] default null,
    each_units bigint[] default null,
    each_distinct_products bigint[] default null,
    each_returns_value numeric[] default null
)
returns table (
    customer_id integer,
    country text,
    first_purchase_at timestamp,
    last_purchase_at timestamp,
    recency_days integer,
    tenure_days integer,
    frequency bigint,
    monetary numeric,
    avg_order_value numeric,
    units bigint,
    distinct_products bigint,
    returns_value numeric,
    return_rate numeric,
    r_score integer,
    f_score integer,
    m_score integer
)
language sql
stable
parallel safe
as $function$
with

-- the totals: every customer's in core.customers when none are given (the published view), else the
-- arrays given (the training set); one branch is folded away once the arguments are known
totals as (
    select
        stored.customer_id,
        stored.country,
        stored.first_purchase_at,
        stored.last_purchase_at,
        stored.frequency,
        stored.monetary,
        stored.units,
        stored.distinct_products,
        stored.returns_value
    from core.customers as stored
    where each_customer_id is null

    union all

    select
        given.customer_id,
        given.country,
        given.first_purchase_at,
        given.last_purchase_at,
        given.frequency,
        given.monetary,
        given.units,
        given.distinct_products,
        given.returns_value
    from unnest(
        each_customer_id, each_country, each_first_purchase_at, each_last_purchase_at, each_frequency,
        each_monetary, each_units, each_distinct_products, each_returns_value
    ) as given (
        customer_id, country, first_purchase_at, last_purchase_at, frequency,
        monetary, units, distinct_products, returns_value
    )
    where each_customer_id is not null
),

customers as (
    select
        totals.customer_id,
        totals.country,
        totals.first_purchase_at,
        totals.last_purchase_at,
        as_of_date - totals.last_purchase_at::date as recency_days,
        as_of_date - totals.first_purchase_at::date as tenure_days,
        totals.frequency,
        totals.monetary,
        totals.units,
        totals.distinct_products,
        coalesce(totals.returns_value, 0) as returns_value
    from totals
),

-- money: sums of unrounded line amounts, rounded half away from zero (round(numeric, n)) at the end;
-- scores rank the published (rounded) columns, ties broken by customer_id, so they are deterministic
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

select
    final.customer_id,
    final.country,
    final.first_purchase_at,
    final.last_purchase_at,
    final.recency_days,
    final.tenure_days,
    final.frequency,
    final.monetary,
    final.avg_order_value,
    final.units,
    final.distinct_products,
    final.returns_value,
    final.return_rate,
    final.r_score,
    final.f_score,
    final.m_score
from final
$function$;

comment on function features.customer_features_as_of(date, integer[], text[], timestamp[], timestamp[], bigint[], numeric[], bigint[], bigint[], numeric[]) is
$comment$The one definition of the columns of features.customer_features (data contract 4), read by that view and by features.training_set.
Arguments: as_of_date; then, optionally, each customer's totals as one array per column, element i of every array being the same customer: each_customer_id, each_country (of the latest sale line), each_first_purchase_at, each_last_purchase_at (min / max invoice_date of the sale lines), each_frequency (distinct invoices), each_monetary (unrounded sum of the sale lines' line_amount), each_units, each_distinct_products, each_returns_value (unrounded, positive; NULL = none).
Without totals (each_customer_id NULL), every customer's totals in core.customers (all the data): features.customer_features is customer_features_as_of(the data's as_of_date). features.training_set(cutoff, h) passes the totals of the lines before cutoff, as_of_date = cutoff.
Returns one row per customer, the columns of features.customer_features:
customer_id, country, first_purchase_at, last_purchase_at, frequency, units, distinct_products: as in the totals.
recency_days: as_of_date - date(last_purchase_at). tenure_days: as_of_date - date(first_purchase_at).
monetary: rounded half away from zero to 2 decimals. avg_order_value: unrounded monetary / frequency, 2 decimals.
returns_value: 2 decimals, 0 when none. return_rate: unrounded returns_value / unrounded monetary, 4 decimals.
r_score, f_score, m_score: ntile(5) over the rows returned, ordered by (recency_days desc, customer_id), (frequency, customer_id), (rounded monetary, customer_id); 5 is best.$comment$;

-- its owner (transformer: the view's refresh and the security-definer training set run as it) alone may call
-- it; an analyst reads its results through those two, and could not read core.customers through it anyway
revoke all on function features.customer_features_as_of(date, integer[], text[], timestamp[], timestamp[], bigint[], numeric[], bigint[], bigint[], numeric[]) from public;
