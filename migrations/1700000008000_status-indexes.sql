-- Up Migration
-- What `npm run status` reads, as index lookups (loader/status/): the newest complete load, failed loads
-- since then, running loads, the last (and the last failed) transform run. meta.loads has one row per
-- file and meta.transform_runs one per run; these keep the answers cheap however long the history grows.
-- (Running loads are found through loads_sha256_running, whose predicate is status = 'running'.)
create index loads_complete_finished_at on meta.loads (finished_at) where status = 'complete';
create index loads_failed_finished_at on meta.loads (finished_at) where status = 'failed';
create index transform_runs_failed on meta.transform_runs (run_id) where status = 'failed';
create index transform_runs_complete on meta.transform_runs (run_id) where status = 'complete';

-- Down Migration
drop index if exists meta.transform_runs_complete;
drop index if exists meta.transform_runs_failed;
drop index if exists meta.loads_failed_finished_at;
drop index if exists meta.loads_complete_finished_at;
