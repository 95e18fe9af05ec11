-- pg_temp.transform_staged: the staged rows of the loads in this run's batch (transform.batch_load_ids, set
-- by the runner; every load in it is complete, read in the run's snapshot), copied once and analyzed, so
-- that the lookups and joins of the next steps are planned on real row counts (staging may never have been
-- analyzed). Not analyzed in a full rebuild: its plans are the same without (every lookup of 002-005 is
-- small and analyzed, and the batch's rows are the probe side of each join of 010), and analyzing took
-- 0.4 s at 1M rows. Dropped at commit, like every pg_temp step.
create temp table transform_staged on commit drop as
with

-- the batch's load ids, read from the setting once per statement (an InitPlan parameter)
batch as not materialized (
    select batch_load_ids.load_id
    from unnest((select current_setting('transform.batch_load_ids')::bigint[])) as batch_load_ids (load_id)
)

select staged.*
from staging.transactions as staged
-- The range of the batch's ids finds its blocks through the BRIN index on load_id (a daily run reads one
-- day's blocks, whatever the size of the history); membership is a hashed semi-join, so each row costs one
-- hash probe. Not `load_id = any(array)`: PostgreSQL searches a non-constant array from its start for
-- every row of the lossy bitmap, so a full rebuild over daily files cost rows × loads (1M rows in 583
-- loads: 7.1 s against 1.1 s, as measured in docs/benchmarks.md).
where staged.load_id between (select min(batch.load_id) from batch) and (select max(batch.load_id) from batch)
    and staged.load_id in (select batch.load_id from batch);

-- when: incremental
analyze pg_temp.transform_staged;
