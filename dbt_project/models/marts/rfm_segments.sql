{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='as_of_date',
    on_schema_change='append_new_columns'
) }}
-- RFM as of one day, one row per (customer, as_of_date); earlier as_of_dates stay in the table
-- (delete+insert on as_of_date) so segment migration can be queried (rfm_migration).
--
-- Orders are taken as they were known on as_of_date (int_orders_as_of: latest version exported
-- on or before as_of_date, order_date <= as_of_date), within rfm_window_days when set.
-- Population: customers with at least one such completed order.
--   recency_days = as_of_date - last completed order date (0 = bought on as_of_date)
--   frequency    = number of completed orders
--   monetary     = sum of their total_amount (net revenue: returned/cancelled count 0)
-- Scores 1-5 by quintile: ntile(5) over a total, deterministic order (5 = best):
--   r_score: recency_days descending (older first), ties by customer_id descending
--   f_score: frequency ascending, ties by monetary ascending, then customer_id descending
--   m_score: monetary ascending, ties by frequency ascending, then customer_id descending
-- ntile gives bins whose sizes differ by at most one; equal values can land in neighbouring
-- scores (ties are split by the tie-breakers above), rfm_score_bins shows the resulting edges.
-- segment comes from the rfm_segment_map seed on (r_score, f_score).
with params as (
    select {{ as_of_date() }} as as_of_date
),
completed as (
    select o.customer_id, o.order_id, o.order_date, o.net_amount
    from {{ ref('int_orders_as_of') }} o, params p
    where o.status = 'completed'
    {% if var('rfm_window_days') %}
      and o.order_date > p.as_of_date - {{ var('rfm_window_days') | int }}
    {% endif %}
),
base as (
    select
        c.customer_id,
        p.as_of_date,
        min(c.order_date) as first_order_date,
        max(c.order_date) as last_order_date,
        p.as_of_date - max(c.order_date) as recency_days,
        count(distinct c.order_id) as frequency,
        sum(c.net_amount) as monetary
    from completed c, params p
    group by c.customer_id, p.as_of_date
),
scored as (
    select
        *,
        ntile(5) over (order by recency_days desc, customer_id desc) as r_score,
        ntile(5) over (order by frequency, monetary, customer_id desc) as f_score,
        ntile(5) over (order by monetary, frequency, customer_id desc) as m_score
    from base
)
select
    s.customer_id::varchar as customer_id,
    s.as_of_date::date as as_of_date,
    s.first_order_date::date as first_order_date,
    s.last_order_date::date as last_order_date,
    s.recency_days::integer as recency_days,
    s.frequency::integer as frequency,
    s.monetary::decimal(18, 2) as monetary,
    s.r_score::integer as r_score,
    s.f_score::integer as f_score,
    s.m_score::integer as m_score,
    (cast(s.r_score as varchar) || cast(s.f_score as varchar) || cast(s.m_score as varchar))::varchar as rfm_cell,
    m.segment::varchar as segment
from scored s
join {{ ref('rfm_segment_map') }} m on m.r_score = s.r_score and m.f_score = s.f_score
