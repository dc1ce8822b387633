-- Calendar from 1 January of the earliest order or event year to 31 December of the last loaded year.
with bounds as (
    select
        least(
            (select min(order_date) from {{ ref('stg_crm__orders') }}),
            (select min(_partition) from {{ source('raw', 'crm_orders') }}),
            (select min(_partition) from {{ source('raw', 'clickstream_events') }})
        ) as first_day,
        greatest(
            (select max(_partition) from {{ source('raw', 'crm_orders') }}),
            (select max(_partition) from {{ source('raw', 'clickstream_events') }}),
            (select max(order_date) from {{ ref('stg_crm__orders') }})
        ) as last_day
),
days as (
    select cast(d as date) as date_day
    from bounds,
         generate_series(
             cast(date_trunc('year', coalesce(first_day, current_date)) as timestamp),
             cast(date_trunc('year', coalesce(last_day, current_date)) + interval 1 year - interval 1 day as timestamp),
             interval 1 day
         ) t(d)
)
select
    date_day::date as date_day,
    year(date_day)::integer as year,
    quarter(date_day)::integer as quarter,
    month(date_day)::integer as month,
    monthname(date_day)::varchar as month_name,
    weekofyear(date_day)::integer as iso_week,
    isodow(date_day)::integer as iso_day_of_week,
    dayname(date_day)::varchar as day_name,
    (isodow(date_day) >= 6)::boolean as is_weekend,
    cast(date_trunc('week', date_day) as date) as week_start,
    cast(date_trunc('month', date_day) as date) as month_start
from days
