-- pg_temp.transform_staged: the staged rows of the loads in this run's batch (pg_temp.transform_batch, filled
-- by the runner), copied once and analyzed, so that the lookups and joins of the next steps are planned on
-- real row counts (staging may never have been analyzed). Dropped at commit, like every pg_temp step.
create temp table transform_staged on commit drop as
select staged.*
from staging.transactions as staged
inner join pg_temp.transform_batch as transform_batch on transform_batch.load_id = staged.load_id
inner join meta.loads as loads on loads.load_id = staged.load_id
where loads.status = 'complete';

analyze pg_temp.transform_staged;
