-- pg_temp.transform_unit_prices: each distinct staged unit_price of the batch, checked and typed once
-- (data contract §3: a decimal number, optional sign, '.' as the decimal point; exponents are not accepted).
create temp table transform_unit_prices on commit drop as
select
    raw.unit_price as raw_unit_price,
    case
        when raw.unit_price_text !~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$' then null
        when length(raw.unit_price_text) > 1000 then null
        else raw.unit_price_text::numeric
    end as unit_price
from (
    select distinct_values.unit_price, nullif(btrim(distinct_values.unit_price), '') as unit_price_text
    from (select distinct staged.unit_price from pg_temp.transform_staged as staged) as distinct_values
    offset 0
) as raw;

analyze pg_temp.transform_unit_prices;
