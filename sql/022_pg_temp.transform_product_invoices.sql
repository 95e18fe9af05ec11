-- pg_temp.transform_product_invoices: each (product, invoice) pair of sale lines that the run's changes
-- touch, and whether it appeared (+1) or left (-1): a product's orders (031) change by these. The pair's
-- lines in core after the run are counted through the partial index transactions_sale_stock_code_invoice (its
-- first two columns); before the run they were that count less the change.
-- In a full rebuild every pair is new (the changes are every row that came in): nothing is counted in core,
-- and the table holds the sums instead of the pairs (the last statement).

-- pg_temp.transform_product_invoice_lines: the sale lines in core after the run of each pair the changes
-- touch. The pairs are a table of their own, joined to core rather than probed by a subquery per pair: on
-- Citus the pairs go to the workers, each counting over its own shards, and the insert below reads no
-- distributed table. Not made in a full rebuild.
-- when: incremental
create temp table transform_product_invoice_probes on commit drop as
select distinct changes.stock_code, changes.invoice_no
from pg_temp.transform_changes as changes
where changes.line_kind = 'sale';

-- when: incremental
create temp table transform_product_invoice_lines on commit drop as
select transactions.stock_code, transactions.invoice_no, count(*) as lines
from core.transactions as transactions
inner join pg_temp.transform_product_invoice_probes as probes
    on probes.stock_code = transactions.stock_code and probes.invoice_no = transactions.invoice_no
where transactions.line_kind = 'sale'
group by transactions.stock_code, transactions.invoice_no;

create temp table transform_product_invoices (stock_code text, invoice_no text, pair_change integer not null) on commit drop;

-- when: incremental
insert into pg_temp.transform_product_invoices
with

change as (
    select
        changes.stock_code,
        changes.invoice_no,
        sum(changes.sign) as lines
    from pg_temp.transform_changes as changes
    where changes.line_kind = 'sale'
    group by changes.stock_code, changes.invoice_no
),

counted as (
    select
        change.*,
        coalesce(after.lines, 0) as lines_after
    from change
    left join pg_temp.transform_product_invoice_lines as after on after.stock_code = change.stock_code and after.invoice_no = change.invoice_no
),

final as (
    select
        counted.stock_code,
        counted.invoice_no,
        sign(counted.lines_after)::integer - sign(counted.lines_after - counted.lines)::integer as pair_change
    from counted
)

select * from final
where final.pair_change <> 0;

-- when: full
-- Every pair is new: the pairs are counted per product (invoice_no null: its orders, for 031), rather than
-- listed one row per pair (nearly one per sale line) for 031 to add up.
insert into pg_temp.transform_product_invoices (stock_code, invoice_no, pair_change)
with

pairs as (
    select changes.stock_code, changes.invoice_no
    from pg_temp.transform_changes as changes
    where changes.line_kind = 'sale'
    group by changes.stock_code, changes.invoice_no
)

select pairs.stock_code, null, count(*)
from pairs
group by pairs.stock_code;
