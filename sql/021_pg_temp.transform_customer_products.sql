-- pg_temp.transform_customer_products: each (customer, product) pair of sale lines that the run's changes
-- touch, and whether it appeared (+1) or left (-1): a customer's distinct_products (030) and a product's
-- customers (031) change by these. The pair's lines in core after the run are counted through the partial
-- index transactions_sale_customer_id_stock_code; before the run they were that count less the change.
-- In a full rebuild every pair is new (the changes are core whole), so nothing is counted.
create temp table transform_customer_products on commit drop as
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
        case
            when (select current_setting('transform.is_full')::boolean) then change.lines
            else (
                select count(*) from core.transactions as transactions
                where transactions.line_kind = 'sale'
                    and transactions.customer_id = change.customer_id
                    and transactions.stock_code = change.stock_code
            )
        end as lines_after
    from change
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
