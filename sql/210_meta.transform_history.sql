-- meta.transform_history: one row per transform run (meta.transform_runs without the per-file detail),
-- with its duration; readable by analyst (the report's "Transform runs" section and headline).
create view meta.transform_history as
with

runs as (
    select * from meta.transform_runs
),

final as (
    select
        runs.run_id,
        runs.started_at,
        runs.finished_at,
        runs.status,
        runs.is_full,
        runs.full_reason,
        runs.loads_processed,
        runs.rows_processed,
        round(extract(epoch from runs.finished_at - runs.started_at) * 1000)::bigint as duration_ms,
        jsonb_array_length(runs.files) as files_applied,
        runs.error
    from runs
)

select * from final;

grant select on meta.transform_history to analyst;

comment on view meta.transform_history is 'One row per transform run: when, incremental or full (and why), what it processed, how long it took, how it ended. Per-file timings: meta.transform_file_timings.';
comment on column meta.transform_history.run_id is 'The run, increasing in the order runs started.';
comment on column meta.transform_history.started_at is 'When the run started (before waiting for the transform lock).';
comment on column meta.transform_history.finished_at is 'When the run completed or failed; null while running.';
comment on column meta.transform_history.status is 'running, complete or failed (a failed run changed nothing: it is one transaction).';
comment on column meta.transform_history.is_full is 'true: core was rebuilt from every complete load; false: incremental, only the loads completed since the last run.';
comment on column meta.transform_history.full_reason is 'Why the run was full (requested, first transform, a changed step file, a load replaced or completed late); null when incremental.';
comment on column meta.transform_history.loads_processed is 'Complete loads the run turned into core rows.';
comment on column meta.transform_history.rows_processed is 'Staged rows of those loads.';
comment on column meta.transform_history.duration_ms is 'finished_at - started_at, in milliseconds; null while running.';
comment on column meta.transform_history.files_applied is 'Number of sql/ files the run applied (run, created, refreshed or skipped).';
comment on column meta.transform_history.error is 'Why the run failed (null unless failed).';
