-- pg_temp.transform_promoted: the copies of each kept row that left (012), taken out of core.duplicates.
-- They are placed again with the batch's rows (014): the first of them takes the kept row's place.
create temp table transform_promoted (like core.transactions) on commit drop;

with

promoted as (
    delete from core.duplicates as duplicates
    using pg_temp.transform_removed as removed
    where removed.is_kept
        and duplicates.row_hash = removed.row_hash
        and duplicates.invoice_no = removed.invoice_no
        and duplicates.stock_code = removed.stock_code
        and duplicates.description is not distinct from removed.description
        and duplicates.quantity = removed.quantity
        and duplicates.invoice_date = removed.invoice_date
        and duplicates.unit_price = removed.unit_price
        and duplicates.customer_id is not distinct from removed.customer_id
        and duplicates.country is not distinct from removed.country
    returning duplicates.*
)

insert into pg_temp.transform_promoted
select * from promoted;
