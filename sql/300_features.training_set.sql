-- features.training_set(cutoff, horizon_days): a point-in-time training set (data contract §4b).
-- One row per customer with at least one sale line before `cutoff`: the columns of
-- features.customer_features computed from the lines with invoice_date < cutoff only (as_of_date = cutoff)
-- by the very definitions that view reads, features.customer_features_as_of (sql/090), given here the
-- totals of those lines; then the labels from the lines with cutoff <= invoice_date < cutoff + horizon_days.
-- A window that runs past the data's as_of_date (the day after the latest invoice_date in core) gives NULL
-- labels, never partial ones.
-- Reads core.transactions by named columns (core may gain columns). security definer: analyst may run it
-- without reading core, and sees only what it returns.
create function features.training_set(cutoff date, horizon_days integer)
returns table (
    cutoff_date date,
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
    m_score integer,
    label_purchased boolean,
    label_frequency bigint,
    label_monetary numeric,
    label_returns_value numeric
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    data_as_of_date date;
    first_sale_at timestamp;
    is_window_observed boolean;
    window_end date;
    -- every customer's totals before the cutoff, and its totals in the label window: one array per column,
    -- element i of each the same customer
    each_customer_id integer[];
    each_country text[];
    each_first_purchase_at timestamp[];
    each_last_purchase_at timestamp[];
    each_frequency bigint[];
    each_monetary numeric[];
    each_units bigint[];
    each_distinct_products bigint[];
    each_returns_value numeric[];
    window_customer_id integer[];
    window_frequency bigint[];
    window_monetary numeric[];
    window_returns_value numeric[];
begin
    if cutoff is null or horizon_days is null then
        raise exception 'training_set: cutoff and horizon_days are required (got %, %)', cutoff, horizon_days
            using errcode = 'null_value_not_allowed';
    end if;
    if horizon_days < 1 then
        raise exception 'training_set: horizon_days must be a whole number of days >= 1 (got %)', horizon_days
            using errcode = 'invalid_parameter_value';
    end if;

    select
        max(lines.invoice_date)::date + 1,
        min(lines.invoice_date) filter (where lines.line_kind = 'sale' and lines.customer_id is not null)
    into data_as_of_date, first_sale_at
    from core.transactions as lines;

    if first_sale_at is null or first_sale_at >= cutoff then
        raise exception 'training_set: no customer sale line before cutoff % (%)', cutoff,
            coalesce('the first is on ' || first_sale_at::date, 'core.transactions holds none')
            using errcode = 'invalid_parameter_value';
    end if;
    if cutoff > data_as_of_date then
        raise exception 'training_set: cutoff % is after the data''s as_of_date % (the days between are not observed)',
            cutoff, data_as_of_date
            using errcode = 'invalid_parameter_value';
    end if;

    -- compared as day counts: cutoff + horizon_days could overflow the date range
    is_window_observed := horizon_days <= data_as_of_date - cutoff;
    window_end := case when is_window_observed then cutoff + horizon_days else cutoff end;

    -- Two statements: the first reads core.transactions (distributed on a Citus coordinator) and gives one
    -- array per column; the second applies the one definition of the features (sql/090) to those arrays
    -- and reads no distributed table (Citus cannot plan a SQL function's call beside a distributed table in
    -- one query).
    with

    -- the customer lines the set reads (features: before cutoff; labels: the window, when observed)
    lines as materialized (
        select
            transactions.invoice_no,
            transactions.stock_code,
            transactions.quantity,
            transactions.invoice_date,
            transactions.customer_id,
            transactions.country,
            transactions.line_amount,
            transactions.line_kind
        from core.transactions as transactions
        where transactions.customer_id is not null
            and transactions.line_kind in ('sale', 'cancellation')
            and transactions.invoice_date < window_end
    ),

    sales as not materialized (
        select * from lines where lines.line_kind = 'sale' and lines.invoice_date < cutoff
    ),

    returns as (
        select
            lines.customer_id,
            -sum(lines.line_amount) as returns_value
        from lines
        where lines.line_kind = 'cancellation' and lines.invoice_date < cutoff
        group by lines.customer_id
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

    window_totals as (
        select
            lines.customer_id,
            count(distinct lines.invoice_no) filter (where lines.line_kind = 'sale') as label_frequency,
            sum(lines.line_amount) filter (where lines.line_kind = 'sale') as label_monetary,
            -sum(lines.line_amount) filter (where lines.line_kind = 'cancellation') as label_returns_value
        from lines
        where lines.invoice_date >= cutoff
        group by lines.customer_id
    ),

    -- every customer's totals before the cutoff, one array per column: one aggregate pass feeds every
    -- array the rows in the same order, so element i of each is the same customer (never a NULL array of
    -- ids, which would mean "the totals of core.customers")
    totals as (
        select
            coalesce(array_agg(sale_totals.customer_id), '{}') as each_customer_id,
            array_agg(latest_country.country) as each_country,
            array_agg(sale_totals.first_purchase_at) as each_first_purchase_at,
            array_agg(sale_totals.last_purchase_at) as each_last_purchase_at,
            array_agg(sale_totals.frequency) as each_frequency,
            array_agg(sale_totals.monetary) as each_monetary,
            array_agg(sale_totals.units) as each_units,
            array_agg(sale_totals.distinct_products) as each_distinct_products,
            array_agg(returns.returns_value) as each_returns_value
        from sale_totals
        inner join latest_country on latest_country.customer_id = sale_totals.customer_id
        left join returns on returns.customer_id = sale_totals.customer_id
    ),

    -- every customer's totals in the label window, one array per column likewise
    windows as (
        select
            coalesce(array_agg(window_totals.customer_id), '{}') as window_customer_id,
            array_agg(window_totals.label_frequency) as window_frequency,
            array_agg(window_totals.label_monetary) as window_monetary,
            array_agg(window_totals.label_returns_value) as window_returns_value
        from window_totals
    )

    select
        totals.each_customer_id, totals.each_country, totals.each_first_purchase_at, totals.each_last_purchase_at,
        totals.each_frequency, totals.each_monetary, totals.each_units, totals.each_distinct_products,
        totals.each_returns_value, windows.window_customer_id, windows.window_frequency, windows.window_monetary,
        windows.window_returns_value
    into each_customer_id, each_country, each_first_purchase_at, each_last_purchase_at, each_frequency,
        each_monetary, each_units, each_distinct_products, each_returns_value, window_customer_id,
        window_frequency, window_monetary, window_returns_value
    from totals
    cross join windows;

    return query
    with

    -- the features as of the cutoff, by the definitions of features.customer_features (sql/090)
    customers as (
        select scored.*
        from features.customer_features_as_of(
            cutoff,
            each_customer_id,
            each_country,
            each_first_purchase_at,
            each_last_purchase_at,
            each_frequency,
            each_monetary,
            each_units,
            each_distinct_products,
            each_returns_value
        ) as scored
    ),

    window_totals as (
        select *
        from unnest(window_customer_id, window_frequency, window_monetary, window_returns_value)
            as windowed (customer_id, label_frequency, label_monetary, label_returns_value)
    ),

    final as (
        select
            cutoff as cutoff_date,
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
            customers.m_score,
            case when is_window_observed then coalesce(window_totals.label_frequency, 0) > 0 end as label_purchased,
            case when is_window_observed then coalesce(window_totals.label_frequency, 0) end as label_frequency,
            case when is_window_observed then round(coalesce(window_totals.label_monetary, 0), 2) end as label_monetary,
            case when is_window_observed then round(coalesce(window_totals.label_returns_value, 0), 2) end as label_returns_value
        from customers
        left join window_totals on window_totals.customer_id = customers.customer_id
    )

    select
        final.cutoff_date,
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
        final.m_score,
        final.label_purchased,
        final.label_frequency,
        final.label_monetary,
        final.label_returns_value
    from final
    order by final.customer_id;
end
$function$;

comment on function features.training_set(date, integer) is
$comment$Point-in-time training set (data contract 4b): one row per customer with a sale line before cutoff, ordered by customer_id.
Arguments: cutoff (date), horizon_days (integer >= 1). Errors (SQLSTATE 22023): horizon_days < 1; no customer sale line before cutoff; cutoff after the data's as_of_date (day after the latest invoice_date in core). NULL arguments: 22004.
Features, from the lines with invoice_date < cutoff only, as_of_date = cutoff, by the definitions of features.customer_features (the function both read, features.customer_features_as_of):
cutoff_date: the cutoff (date).
customer_id: the customer.
country: country of the customer's latest sale line before cutoff (ties: greatest invoice_no, then smallest country, byte order).
first_purchase_at, last_purchase_at: min / max invoice_date of the sale lines before cutoff.
recency_days: cutoff - date(last_purchase_at). tenure_days: cutoff - date(first_purchase_at).
frequency: distinct invoice_no among the sale lines before cutoff.
monetary: sum of their line_amount, 2 decimals (half away from zero).
avg_order_value: unrounded sum / frequency, 2 decimals.
units: sum of their quantity. distinct_products: distinct stock_code among them.
returns_value: -sum of line_amount of the cancellation lines before cutoff, 2 decimals, 0 when none.
return_rate: unrounded returns / unrounded monetary, 4 decimals.
r_score, f_score, m_score: ntile(5) over this cutoff's rows, ordered by (recency_days desc, customer_id), (frequency, customer_id), (monetary, customer_id); 5 is best.
Labels, from the lines with cutoff <= invoice_date < cutoff + horizon_days; all NULL when that window runs past the data's as_of_date (not wholly observed):
label_purchased: the customer has a sale line in the window.
label_frequency: distinct invoice_no among those sale lines (0 when none).
label_monetary: sum of their line_amount, 2 decimals (0 when none).
label_returns_value: -sum of line_amount of the customer's cancellation lines in the window, 2 decimals (0 when none).$comment$;

revoke all on function features.training_set(date, integer) from public;

grant execute on function features.training_set(date, integer) to analyst;
