-- pg_temp.transform_product_invoices: each (product, invoice) pair of sale lines that the run's changes
-- touch, and whether it appeared (+1) or left (-1): a product's orders (031) change by these. The pair's
-- lines in core after the run are counted through the partial index transactions_sale_stock_code_invoice_no;
-- before the run they were that count less the change.
-- In a full rebuild every pair is new (the changes are every row that came in), so nothing is counted.

-- pg_temp.transform_product_invoice_lines: the sale lines in core after the run of each pair the changes touch. None in a full
-- rebuild (every pair is new). The pairs are a table of their own (empty in a full rebuild), joined to core
-- rather than probed by a subquery per pair: on Citus the pairs go to the workers, each counting over its own
-- shards, and the last statement reads no distributed table.
create temp table transform_product_invoice_probes on commit drop as
select distinct changes.stock_code, changes.invoice_no
from pg_temp.transform_changes as changes
where changes.line_kind = 'sale'
    and not (select current_setting('transform.is_full')::boolean);

create temp table transform_product_invoice_lines on commit drop as
select transactions.stock_code, transactions.invoice_no, count(*) as lines
from core.transactions as transactions
inner join pg_temp.transform_product_invoice_probes as probes
    on probes.stock_code = transactions.stock_code and probes.invoice_no = transactions.invoice_no
where transactions.line_kind = 'sale'
group by transactions.stock_code, transactions.invoice_no;

create temp table transform_product_invoices on commit drop as
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
        case
            when (select current_setting('transform.is_full')::boolean) then change.lines
            else coalesce(after.lines, 0)
        end as lines_after
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
