-- Up Migration
-- A run that is not full may still rebuild the part of core downstream of a changed step file
-- (loader/transform/deps.ts): why, and which tables it emptied and filled again from core.
alter table meta.transform_runs add column rebuild_reason text;
alter table meta.transform_runs add column rebuilt text[];

-- Down Migration
-- cascade: the views of sql/ that select * from meta.transform_runs (meta.transform_history and what reads
-- it) took these columns when they were created; the next transform finds them missing and creates them again
alter table meta.transform_runs drop column if exists rebuilt cascade;
alter table meta.transform_runs drop column if exists rebuild_reason cascade;
