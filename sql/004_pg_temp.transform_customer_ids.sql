-- pg_temp.transform_customer_ids: each distinct staged customer_id of the batch, checked and typed once
-- (data contract §3: empty, or digits optionally followed by '.0…'; 17850.0 means 17850; fits int4).
create temp table transform_customer_ids on commit drop as
select
    raw.customer_id as raw_customer_id,
    raw.customer_id_text is null
        or (raw.customer_id_text ~ '^[0-9]+(\.0+)?$'
            and split_part(raw.customer_id_text, '.', 1)::numeric <= 2147483647) as is_valid,
    case
        when raw.customer_id_text !~ '^[0-9]+(\.0+)?$' then null
        when split_part(raw.customer_id_text, '.', 1)::numeric > 2147483647 then null
        else split_part(raw.customer_id_text, '.', 1)::integer
    end as customer_id
from (
    select distinct_values.customer_id, nullif(btrim(distinct_values.customer_id), '') as customer_id_text
    from (select distinct staged.customer_id from pg_temp.transform_staged as staged) as distinct_values
    offset 0
) as raw;

analyze pg_temp.transform_customer_ids;
