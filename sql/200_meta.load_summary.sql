-- meta.load_summary: one row per load (data contract §4): what the loader read, staged and rejected, and
-- what the transform made of it. A plain view, always current; the transform columns are null for a
-- load the transform has not processed (running, failed, or complete since the last transform).
-- meta.load_quarantine_reasons(): the quarantined rows of each load, by reason. A SECURITY DEFINER function
-- of the owner (transformer), so that a reader of this view needs no right on core: on Citus the shards of
-- core.quarantine are read on the workers as the current role, which a view's owner does not change.
create or replace function meta.load_quarantine_reasons()
returns table (
    load_id bigint, missing_invoice_no bigint, missing_stock_code bigint, bad_quantity bigint,
    bad_unit_price bigint, bad_invoice_date bigint, bad_customer_id bigint
)
language sql stable security definer set search_path = pg_catalog, pg_temp
as $$
    select
        quarantine.load_id,
        count(*) filter (where quarantine.reason = 'missing_invoice_no'),
        count(*) filter (where quarantine.reason = 'missing_stock_code'),
        count(*) filter (where quarantine.reason = 'bad_quantity'),
        count(*) filter (where quarantine.reason = 'bad_unit_price'),
        count(*) filter (where quarantine.reason = 'bad_invoice_date'),
        count(*) filter (where quarantine.reason = 'bad_customer_id')
    from core.quarantine as quarantine
    group by quarantine.load_id
$$;

create view meta.load_summary as
with

loads as (
    select * from meta.loads
),

transformed as (
    select * from meta.transform_loads
),

quarantine_reasons as (
    select * from meta.load_quarantine_reasons()
),

final as (
    select
        loads.load_id,
        loads.source,
        loads.status,
        loads.rows_read,
        loads.rows_rejected,
        loads.rows_staged,
        transformed.rows_quarantined,
        case when transformed.load_id is not null then coalesce(quarantine_reasons.missing_invoice_no, 0) end as quarantined_missing_invoice_no,
        case when transformed.load_id is not null then coalesce(quarantine_reasons.missing_stock_code, 0) end as quarantined_missing_stock_code,
        case when transformed.load_id is not null then coalesce(quarantine_reasons.bad_quantity, 0) end as quarantined_bad_quantity,
        case when transformed.load_id is not null then coalesce(quarantine_reasons.bad_unit_price, 0) end as quarantined_bad_unit_price,
        case when transformed.load_id is not null then coalesce(quarantine_reasons.bad_invoice_date, 0) end as quarantined_bad_invoice_date,
        case when transformed.load_id is not null then coalesce(quarantine_reasons.bad_customer_id, 0) end as quarantined_bad_customer_id,
        transformed.rows_duplicate as duplicates,
        transformed.rows_clean,
        loads.started_at,
        loads.finished_at
    from loads
    left join transformed on transformed.load_id = loads.load_id
    left join quarantine_reasons on quarantine_reasons.load_id = loads.load_id
)

select * from final;

grant select on meta.load_summary to analyst;

comment on view meta.load_summary is 'One row per load: what the loader read, staged and rejected, and what the transform made of it (quarantined by reason, duplicates, clean). Transform columns are null until the transform has processed the load. For a processed load rows_staged = rows_clean + rows_quarantined + duplicates.';
comment on column meta.load_summary.load_id is 'The load (meta.loads).';
comment on column meta.load_summary.source is 'What was loaded, as given: the file path, the URL, or - for standard input.';
comment on column meta.load_summary.status is 'running, complete (visible downstream) or failed.';
comment on column meta.load_summary.rows_read is 'Records read (rows_staged + rows_rejected for a complete load).';
comment on column meta.load_summary.rows_rejected is 'Records the loader could not stage (staging.load_rejects: bad field count, quote, UTF-8, NUL byte, size, JSON).';
comment on column meta.load_summary.rows_staged is 'Records staged verbatim in staging.transactions.';
comment on column meta.load_summary.rows_quarantined is 'Staged rows the transform could not parse (core.quarantine); null until transformed.';
comment on column meta.load_summary.quarantined_missing_invoice_no is 'Quarantined because invoice_no is empty.';
comment on column meta.load_summary.quarantined_missing_stock_code is 'Quarantined because stock_code is empty.';
comment on column meta.load_summary.quarantined_bad_quantity is 'Quarantined because quantity is not an integer that fits int4.';
comment on column meta.load_summary.quarantined_bad_unit_price is 'Quarantined because unit_price is not a decimal number.';
comment on column meta.load_summary.quarantined_bad_invoice_date is 'Quarantined because invoice_date is not a valid date in an accepted format.';
comment on column meta.load_summary.quarantined_bad_customer_id is 'Quarantined because customer_id is neither empty nor digits (optionally followed by .0).';
comment on column meta.load_summary.duplicates is 'Clean rows equal in all eight values to a row loaded before (in this or an earlier load): counted, not kept.';
comment on column meta.load_summary.rows_clean is 'Rows of this load kept in core.transactions.';
comment on column meta.load_summary.started_at is 'When the load started.';
comment on column meta.load_summary.finished_at is 'When the load became complete or failed.';
