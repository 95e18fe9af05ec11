-- pg_temp.transform_staged: the staged rows of the loads in this run's batch (transform.batch_load_ids, set
-- by the runner), copied once and analyzed, so that the lookups and joins of the next steps are planned on
-- real row counts (staging may never have been analyzed). Dropped at commit, like every pg_temp step.
create temp table transform_staged on commit drop as
select staged.*
from staging.transactions as staged
inner join meta.loads as loads on loads.load_id = staged.load_id
-- the batch as an array (not a join with a table of load ids): the BRIN index on load_id then finds the
-- batch's blocks, whatever the size of the history
where staged.load_id = any(current_setting('transform.batch_load_ids')::bigint[])
    and loads.status = 'complete';

analyze pg_temp.transform_staged;
