-- meta.transform_file_timings: one row per (transform run, sql/ file), from the run's files list in
-- meta.transform_runs; readable by analyst (the report's per-file timings of the latest run).
create view meta.transform_file_timings as
with

runs as (
    select * from meta.transform_runs
),

files as (
    select
        runs.run_id,
        file_entry.ordinality as position,
        file_entry.value ->> 'file' as file,
        file_entry.value ->> 'action' as action,
        (file_entry.value ->> 'ms')::bigint as duration_ms,
        (file_entry.value ->> 'rows')::bigint as rows
    from runs
    cross join lateral jsonb_array_elements(runs.files) with ordinality as file_entry (value, ordinality)
),

final as (
    select
        files.run_id,
        files.position::integer as position,
        files.file,
        files.action,
        files.duration_ms,
        files.rows
    from files
)

select * from final;

grant select on meta.transform_file_timings to analyst;

comment on view meta.transform_file_timings is 'One row per transform run and sql/ file it applied, in the order applied: what was done with the file and how long it took.';
comment on column meta.transform_file_timings.run_id is 'The run (meta.transform_history).';
comment on column meta.transform_file_timings.position is 'Order in which the run applied the file (1 = first; files run in path order).';
comment on column meta.transform_file_timings.file is 'The SQL file, relative to the project (sql/...).';
comment on column meta.transform_file_timings.action is 'run (a step that fills a table), create (new or changed definition: dropped and re-created), refresh (materialized view refreshed with new data) or skip (nothing to do).';
comment on column meta.transform_file_timings.duration_ms is 'Time spent on the file, in milliseconds.';
comment on column meta.transform_file_timings.rows is 'Rows a step file wrote, or rows in a created or refreshed materialized view; null otherwise.';
