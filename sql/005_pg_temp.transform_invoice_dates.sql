-- pg_temp.transform_invoice_dates: each distinct staged invoice_date of the batch, checked and typed once
-- (data contract §3: a valid 'YYYY-MM-DD HH:MM[:SS]' or 'M/D/YYYY H:MM[:SS]').
create temp table transform_invoice_dates on commit drop as
with

-- 'YYYY-MM-DD HH:MM[:SS]' or 'M/D/YYYY H:MM[:SS]', rewritten to 'YYYY-MM-DD HH:MM:SS'
date_texts as (
    select
        raw.invoice_date,
        case
            when raw.invoice_date_text ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(:[0-9]{2})?$'
                then rpad(raw.invoice_date_text, 19, ':00')
            when raw.invoice_date_text ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4} [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$'
                then rpad(regexp_replace(
                    regexp_replace(raw.invoice_date_text, '(^|[/ ])([0-9])(?=[/:])', '\10\2', 'g'),
                    '^([0-9]{2})/([0-9]{2})/([0-9]{4}) ([0-9]{2}:[0-9]{2}(:[0-9]{2})?)$',
                    '\3-\1-\2 \4'
                ), 19, ':00')
        end as iso_date
    from (
        select distinct_values.invoice_date, nullif(btrim(distinct_values.invoice_date), '') as invoice_date_text
        from (select distinct staged.invoice_date from pg_temp.transform_staged as staged) as distinct_values
        offset 0
    ) as raw
    offset 0
),

date_parts as (
    select
        date_texts.invoice_date,
        date_texts.iso_date,
        left(date_texts.iso_date, 4)::integer as year_part,
        substr(date_texts.iso_date, 6, 2)::integer as month_part,
        substr(date_texts.iso_date, 9, 2)::integer as day_part,
        substr(date_texts.iso_date, 12, 2)::integer as hour_part,
        substr(date_texts.iso_date, 15, 2)::integer as minute_part,
        substr(date_texts.iso_date, 18, 2)::integer as second_part
    from date_texts
),

-- (validity as a column, not a filter: the lookup keeps one row per distinct staged text)
final as (
    select
        date_parts.invoice_date as raw_invoice_date,
        case
            when date_parts.year_part >= 1
                and date_parts.month_part between 1 and 12
                and date_parts.day_part between 1 and case
                    when date_parts.month_part in (4, 6, 9, 11) then 30
                    when date_parts.month_part <> 2 then 31
                    when date_parts.year_part % 4 = 0
                        and (date_parts.year_part % 100 <> 0 or date_parts.year_part % 400 = 0) then 29
                    else 28
                end
                and date_parts.hour_part <= 23
                and date_parts.minute_part <= 59
                and date_parts.second_part <= 59
                then date_parts.iso_date::timestamp
        end as invoice_date
    from date_parts
)

select * from final;

analyze pg_temp.transform_invoice_dates;
