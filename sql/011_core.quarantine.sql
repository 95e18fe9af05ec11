-- core.quarantine: the staged rows that could not be parsed, with the first reason that applies and their
-- staged values verbatim (data contract §3). The rows of loads that left since the last run (replaced by
-- `load --force`, or no longer complete: transform.removed_load_ids) go; the batch's quarantined rows come.
delete from core.quarantine as quarantine
where quarantine.load_id = any((select current_setting('transform.removed_load_ids')::bigint[])::bigint[]);

insert into core.quarantine (
    load_id, line_no, invoice_no, stock_code, description, quantity,
    invoice_date, unit_price, customer_id, country, reason
)
select
    parsed.load_id,
    parsed.line_no,
    parsed.raw_invoice_no,
    parsed.raw_stock_code,
    parsed.raw_description,
    parsed.raw_quantity,
    parsed.raw_invoice_date,
    parsed.raw_unit_price,
    parsed.raw_customer_id,
    parsed.raw_country,
    parsed.reason
from pg_temp.transform_parsed as parsed
where parsed.reason is not null;
