-- pg_temp.transform_staged: the staged rows of the loads in this run's batch (transform.batch_load_ids, set
-- by the runner; every load in it is complete, read in the run's snapshot), copied once and analyzed, so
-- that the lookups and joins of the next steps are planned on real row counts (staging may never have been
-- analyzed). Dropped at commit, like every pg_temp step.
create temp table transform_staged on commit drop as
select staged.*
from staging.transactions as staged
-- the batch as an array (not a join with a table of load ids): the BRIN index on load_id then finds the
-- batch's blocks, whatever the size of the history. The setting is read once per statement (a scalar
-- subquery, cast so that `any` takes it as an array: an InitPlan parameter), never once per row: the lossy BRIN bitmap rechecks
-- every row of its blocks, and a per-row read parsed the whole array again for each (rows × loads).
where staged.load_id = any((select current_setting('transform.batch_load_ids')::bigint[])::bigint[]);

analyze pg_temp.transform_staged;
