-- meta.load_summary: one row per load (data contract §4): what the loader read, staged and rejected, and
-- what the transform made of it. A plain view, always current; the transform columns are null for a
-- load the transform has not processed (running, failed, or complete since the last transform).
create view meta.load_summary as
with

loads as (
    select * from meta.loads
),

transformed as (
    select * from meta.transform_loads
),

quarantine_reasons as (
    select
        quarantine.load_id,
        count(*) filter (where quarantine.reason = 'missing_invoice_no') as missing_invoice_no,
        count(*) filter (where quarantine.reason = 'missing_stock_code') as missing_stock_code,
        count(*) filter (where quarantine.reason = 'bad_quantity') as bad_quantity,
        count(*) filter (where quarantine.reason = 'bad_unit_price') as bad_unit_price,
        count(*) filter (where quarantine.reason = 'bad_invoice_date') as bad_invoice_date,
        count(*) filter (where quarantine.reason = 'bad_customer_id') as bad_customer_id
    from core.quarantine as quarantine
    group by quarantine.load_id
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
