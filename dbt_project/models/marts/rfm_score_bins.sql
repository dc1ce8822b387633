-- Bin edges of every RFM snapshot: the value range behind each score of each measure, per
-- as_of_date. Ties split by ntile can make neighbouring bins share an edge value.
with s as (select * from {{ ref('rfm_segments') }})
select as_of_date::date as as_of_date, measure::varchar as measure, score::integer as score,
       min_value::decimal(18, 2) as min_value, max_value::decimal(18, 2) as max_value,
       customers::integer as customers
from (
    select as_of_date, 'recency_days' as measure, r_score as score, min(recency_days) as min_value,
           max(recency_days) as max_value, count(*) as customers
    from s group by all
    union all
    select as_of_date, 'frequency', f_score, min(frequency), max(frequency), count(*) from s group by all
    union all
    select as_of_date, 'monetary', m_score, min(monetary), max(monetary), count(*) from s group by all
)
