-- meta.transform_loads: each transformed load's accounting (data contract §3: rows_staged = clean +
-- quarantined + duplicates). The loads that left go; the batch's loads come; a load whose rows moved
-- between core.transactions and core.duplicates in this run (a late load took over from it, or its copy
-- took over from a load that left) has its clean and duplicate counts taken again.
delete from meta.transform_loads as transform_loads
where transform_loads.load_id = any(current_setting('transform.removed_load_ids')::bigint[]);

insert into meta.transform_loads (load_id, run_id, rows_staged, rows_clean, rows_quarantined, rows_duplicate)
with

batch as (
    select transform_batch.load_id
    from pg_temp.transform_batch as transform_batch
),

moved as (
    select distinct delta.load_id
    from pg_temp.transform_delta as delta
    where delta.load_id <> all(current_setting('transform.removed_load_ids')::bigint[])
        and delta.load_id not in (select batch.load_id from batch)
),

staged_counts as (
    select
        parsed.load_id,
        count(*) as rows_staged,
        count(*) filter (where parsed.reason is not null) as rows_quarantined
    from pg_temp.transform_parsed as parsed
    group by parsed.load_id
),

affected as (
    select
        batch.load_id,
        coalesce(staged_counts.rows_staged, 0) as rows_staged,
        coalesce(staged_counts.rows_quarantined, 0) as rows_quarantined
    from batch
    left join staged_counts on staged_counts.load_id = batch.load_id
    union all
    select transform_loads.load_id, transform_loads.rows_staged, transform_loads.rows_quarantined
    from meta.transform_loads as transform_loads
    inner join moved on moved.load_id = transform_loads.load_id
),

clean_counts as (
    select transactions.load_id, count(*) as rows_clean
    from core.transactions as transactions
    where transactions.load_id = any(array(select affected.load_id from affected))
    group by transactions.load_id
),

duplicate_counts as (
    select duplicates.load_id, count(*) as rows_duplicate
    from core.duplicates as duplicates
    where duplicates.load_id = any(array(select affected.load_id from affected))
    group by duplicates.load_id
),

final as (
    select
        affected.load_id,
        current_setting('transform.run_id')::bigint as run_id,
        affected.rows_staged,
        coalesce(clean_counts.rows_clean, 0) as rows_clean,
        affected.rows_quarantined,
        coalesce(duplicate_counts.rows_duplicate, 0) as rows_duplicate
    from affected
    left join clean_counts on clean_counts.load_id = affected.load_id
    left join duplicate_counts on duplicate_counts.load_id = affected.load_id
)

select
    final.load_id, final.run_id, final.rows_staged, final.rows_clean, final.rows_quarantined, final.rows_duplicate
from final
on conflict (load_id) do update set
    rows_clean = excluded.rows_clean,
    rows_duplicate = excluded.rows_duplicate;
