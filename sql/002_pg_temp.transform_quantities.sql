-- pg_temp.transform_quantities: each distinct staged quantity of the batch, checked and typed once
-- (data contract §3: an optionally signed integer that fits int4; trimmed; empty is null).

-- Each distinct staged text of quantity, unit_price, invoice_date and customer_id is checked and
-- typed once, in a small lookup table joined back to the rows: real data repeats these values (541,909
-- bundled rows hold 722 quantities, 1,630 prices, 23,260 dates, 4,372 customer ids), so the regular
-- expressions (and the trims) run once per distinct value rather than once per row. Trimming: leading and trailing spaces
-- (SQL's trim); an empty string is null.
-- The lookups are temporary tables, analyzed: the planner then knows they are small and unique and
-- hashes them (probing with the batch's rows) instead of hashing the batch's rows, which spilled to
-- disk in many batches (null customer ids all hash alike).
create temp table transform_quantities on commit drop as
select
    raw.quantity as raw_quantity,
    case
        when raw.quantity_text !~ '^[+-]?[0-9]+$' then null
        when length(raw.quantity_text) > 9
            and raw.quantity_text::numeric not between -2147483648 and 2147483647 then null
        else raw.quantity_text::integer
    end as quantity
from (
    select distinct_values.quantity, nullif(btrim(distinct_values.quantity), '') as quantity_text
    from (select distinct staged.quantity from pg_temp.transform_staged as staged) as distinct_values
    offset 0
) as raw;

analyze pg_temp.transform_quantities;
