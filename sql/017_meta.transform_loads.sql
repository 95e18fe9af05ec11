-- meta.transform_loads: each transformed load's accounting (data contract §3: rows_staged = clean +
-- quarantined + duplicates), from this run's own rows only, whatever the size of the history:
--   - the loads that left go;
--   - each load of the batch comes: staged and quarantined from its parsed rows, duplicates from its
--     placed rows (014), clean = the rest;
--   - a load whose rows moved between core.transactions and core.duplicates in this run (a late, earlier
--     load took over from it, or its copy took over from a load that left) changes by those moves: its
--     kept rows that came or went (the delta, 015), its rows placed or displaced into duplicates or
--     promoted out of them.
delete from meta.transform_loads as transform_loads
where transform_loads.load_id = any((select current_setting('transform.removed_load_ids')::bigint[])::bigint[]);

insert into meta.transform_loads (load_id, run_id, rows_staged, rows_clean, rows_quarantined, rows_duplicate)
with

batch as (
    select batch_load_ids.load_id
    from unnest((select current_setting('transform.batch_load_ids')::bigint[])) as batch_load_ids (load_id)
),

staged_counts as (
    select
        parsed.load_id,
        count(*) as rows_staged,
        count(*) filter (where parsed.reason is not null) as rows_quarantined
    from pg_temp.transform_parsed as parsed
    group by parsed.load_id
),

duplicate_counts as (
    select placed.load_id, count(*) as rows_duplicate
    from pg_temp.transform_placed as placed
    where placed.fate = 'duplicate'
    group by placed.load_id
),

final as (
    select
        batch.load_id,
        (select current_setting('transform.run_id')::bigint) as run_id,
        coalesce(staged_counts.rows_staged, 0) as rows_staged,
        coalesce(staged_counts.rows_staged, 0) - coalesce(staged_counts.rows_quarantined, 0)
            - coalesce(duplicate_counts.rows_duplicate, 0) as rows_clean,
        coalesce(staged_counts.rows_quarantined, 0) as rows_quarantined,
        coalesce(duplicate_counts.rows_duplicate, 0) as rows_duplicate
    from batch
    left join staged_counts on staged_counts.load_id = batch.load_id
    left join duplicate_counts on duplicate_counts.load_id = batch.load_id
)

select
    final.load_id, final.run_id, final.rows_staged, final.rows_clean, final.rows_quarantined, final.rows_duplicate
from final;

-- when: incremental
with

moves as (
    select delta.load_id, delta.sign as clean_change, 0 as duplicate_change
    from pg_temp.transform_changes as delta
    union all
    select placed.load_id, 0, 1
    from pg_temp.transform_placed as placed
    where placed.fate = 'duplicate'
    union all
    select displaced.load_id, 0, 1
    from pg_temp.transform_displaced as displaced
    union all
    select promoted.load_id, 0, -1
    from pg_temp.transform_promoted as promoted
),

changes as (
    select
        moves.load_id,
        sum(moves.clean_change) as rows_clean,
        sum(moves.duplicate_change) as rows_duplicate
    from moves
    -- a hashed subplan: one probe per row, never a search of the batch's array per row (rows × loads)
    where moves.load_id not in (select unnest((select current_setting('transform.batch_load_ids')::bigint[])))
    group by moves.load_id
)

update meta.transform_loads as transform_loads
set
    rows_clean = transform_loads.rows_clean + changes.rows_clean,
    rows_duplicate = transform_loads.rows_duplicate + changes.rows_duplicate
from changes
where changes.load_id = transform_loads.load_id
    and (changes.rows_clean <> 0 or changes.rows_duplicate <> 0);
