-- The value range behind every score of the latest as_of_date, so analysts can see the bin edges
-- (ties can make neighbouring bins share a value).
with latest as (
    select * from {{ ref('rfm_segments') }}
    where as_of_date = (select max(as_of_date) from {{ ref('rfm_segments') }})
)
select as_of_date, 'recency_days' as measure, r_score as score, min(recency_days) as min_value, max(recency_days) as max_value, count(*) as customers from latest group by all
union all
select as_of_date, 'frequency', f_score, min(frequency), max(frequency), count(*) from latest group by all
union all
select as_of_date, 'monetary', m_score, min(monetary), max(monetary), count(*) from latest group by all
