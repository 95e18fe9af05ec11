-- Up Migration
-- A run that is not full may still rebuild the part of core downstream of a changed step file
-- (loader/transform/deps.ts): why, and which tables it emptied and filled again from core.
alter table meta.transform_runs add column rebuild_reason text;
alter table meta.transform_runs add column rebuilt text[];

-- Down Migration
alter table meta.transform_runs drop column if exists rebuilt;
alter table meta.transform_runs drop column if exists rebuild_reason;
