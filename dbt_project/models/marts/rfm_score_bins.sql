-- Bin edges of every RFM snapshot: for each as_of_date, measure and score 1-5, the range of values
-- behind the score, how many customers have it and their share of the scored customers. Every
-- score is listed, also an empty one (customers = 0, no edges): ties collapse quintiles (e.g. all
-- one-time buyers share f_score 1), and the empty scores show where. Scoring rule: rfm_score macro.
with s as (select * from {{ ref('rfm_segments') }}),
scored as (
    select as_of_date, 'recency_days' as measure, r_score as score, recency_days::decimal(18, 2) as value from s
    union all
    select as_of_date, 'frequency', f_score, frequency::decimal(18, 2) from s
    union all
    select as_of_date, 'monetary', m_score, monetary from s
),
grid as (
    select d.as_of_date, m.measure, sc.score
    from (select distinct as_of_date from s) d,
         (values ('recency_days'), ('frequency'), ('monetary')) m(measure),
         range(1, 6) sc(score)
),
bins as (
    select as_of_date, measure, score, min(value) as min_value, max(value) as max_value, count(*) as customers
    from scored
    group by all
)
select
    g.as_of_date::date as as_of_date,
    g.measure::varchar as measure,
    g.score::integer as score,
    b.min_value::decimal(18, 2) as min_value,
    b.max_value::decimal(18, 2) as max_value,
    coalesce(b.customers, 0)::integer as customers,
    round(coalesce(b.customers, 0) / sum(coalesce(b.customers, 0)) over (partition by g.as_of_date, g.measure), 4)::decimal(6, 4) as customer_share
from grid g
left join bins b using (as_of_date, measure, score)
