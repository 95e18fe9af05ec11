-- pg_temp.transform_removed: the clean rows of the loads that left since the last run (replaced by
-- `load --force`, or no longer complete: transform.removed_load_ids), taken out of core.transactions
-- (is_kept) and core.duplicates. A kept row that leaves makes way for its next copy (013), and its figures
-- leave the summaries (through the delta, 014).
create temp table transform_removed (like core.transactions, is_kept boolean not null) on commit drop;

with

removed_kept as (
    delete from core.transactions as transactions
    where transactions.load_id = any((select current_setting('transform.removed_load_ids')::bigint[])::bigint[])
    returning transactions.*
),

removed_duplicates as (
    delete from core.duplicates as duplicates
    where duplicates.load_id = any((select current_setting('transform.removed_load_ids')::bigint[])::bigint[])
    returning duplicates.*
),

final as (
    select removed_kept.*, true as is_kept from removed_kept
    union all
    select removed_duplicates.*, false as is_kept from removed_duplicates
)

insert into pg_temp.transform_removed
select * from final;

analyze pg_temp.transform_removed;
