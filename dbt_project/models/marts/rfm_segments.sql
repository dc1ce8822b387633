{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='as_of_date') }}
-- RFM as of one day, kept per as_of_date so segment migration can be queried.
-- Scores: quintiles (ntile 5) among customers with at least one completed order up to the
-- as-of day; 5 = most recent / most frequent / highest spend. Ties are broken by customer_id,
-- so equal values can fall into adjacent scores; rfm_score_bins shows the resulting edges.
with params as (
    select {{ as_of_date() }} as as_of_date
),
completed as (
    select o.customer_id, o.order_id, o.order_date, o.net_amount
    from {{ ref('fct_orders') }} o, params p
    where o.status = 'completed' and o.order_date <= p.as_of_date
    {% if var('rfm_window_days') %}
      and o.order_date > p.as_of_date - {{ var('rfm_window_days') | int }}
    {% endif %}
),
base as (
    select
        c.customer_id,
        p.as_of_date,
        p.as_of_date - max(c.order_date) as recency_days,
        count(distinct c.order_id) as frequency,
        sum(c.net_amount) as monetary
    from completed c, params p
    group by c.customer_id, p.as_of_date
),
scored as (
    select
        *,
        ntile(5) over (order by recency_days desc, customer_id) as r_score,
        ntile(5) over (order by frequency, customer_id) as f_score,
        ntile(5) over (order by monetary, customer_id) as m_score
    from base
)
select
    s.customer_id, s.as_of_date, s.recency_days, s.frequency, s.monetary,
    s.r_score, s.f_score, s.m_score,
    cast(s.r_score as varchar) || cast(s.f_score as varchar) || cast(s.m_score as varchar) as rfm_cell,
    m.segment
from scored s
join {{ ref('rfm_segment_map') }} m on m.r_score = s.r_score and m.f_score = s.f_score
