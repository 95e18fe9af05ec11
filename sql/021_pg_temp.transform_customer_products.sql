-- pg_temp.transform_customer_products: each (customer, product) pair of sale lines that the run's changes
-- touch, and whether it appeared (+1) or left (-1): a customer's distinct_products (030) and a product's
-- customers (031) change by these. The pair's lines in core after the run are counted through the partial
-- index transactions_sale_customer_id_stock_code; before the run they were that count less the change.
-- In a full rebuild every pair is new (the changes are every row that came in): nothing is counted in core,
-- and the table holds the sums instead of the pairs (the last statement).

-- pg_temp.transform_customer_product_lines: the sale lines in core after the run of each pair the changes
-- touch. The pairs are a table of their own, joined to core rather than probed by a subquery per pair: on
-- Citus the pairs go to the workers, each counting over its own shards, and the insert below reads no
-- distributed table. Not made in a full rebuild.
-- when: incremental
create temp table transform_customer_product_probes on commit drop as
select distinct changes.customer_id, changes.stock_code
from pg_temp.transform_changes as changes
where changes.line_kind = 'sale' and changes.customer_id is not null;

-- when: incremental
create temp table transform_customer_product_lines on commit drop as
select transactions.customer_id, transactions.stock_code, count(*) as lines
from core.transactions as transactions
inner join pg_temp.transform_customer_product_probes as probes
    on probes.customer_id = transactions.customer_id and probes.stock_code = transactions.stock_code
where transactions.line_kind = 'sale' and transactions.customer_id is not null
group by transactions.customer_id, transactions.stock_code;

create temp table transform_customer_products (customer_id integer, stock_code text, pair_change integer not null) on commit drop;

-- when: incremental
insert into pg_temp.transform_customer_products
with

change as (
    select
        changes.customer_id,
        changes.stock_code,
        sum(changes.sign) as lines
    from pg_temp.transform_changes as changes
    where changes.line_kind = 'sale' and changes.customer_id is not null
    group by changes.customer_id, changes.stock_code
),

counted as (
    select
        change.*,
        coalesce(after.lines, 0) as lines_after
    from change
    left join pg_temp.transform_customer_product_lines as after on after.customer_id = change.customer_id and after.stock_code = change.stock_code
),

final as (
    select
        counted.customer_id,
        counted.stock_code,
        sign(counted.lines_after)::integer - sign(counted.lines_after - counted.lines)::integer as pair_change
    from counted
)

select * from final
where final.pair_change <> 0;

-- when: full
-- Every pair is new: the pairs are counted per customer and per product at once, a row per customer
-- (stock_code null: its distinct products, for 030) and one per product (customer_id null: its customers,
-- for 031), rather than listed one row per pair (~300,000 at 1M lines) for 030 and 031 to add up.
insert into pg_temp.transform_customer_products (customer_id, stock_code, pair_change)
with

pairs as (
    select changes.customer_id, changes.stock_code
    from pg_temp.transform_changes as changes
    where changes.line_kind = 'sale' and changes.customer_id is not null
    group by changes.customer_id, changes.stock_code
)

select pairs.customer_id, null, count(*)
from pairs
group by pairs.customer_id
union all
select null, pairs.stock_code, count(*)
from pairs
group by pairs.stock_code;
