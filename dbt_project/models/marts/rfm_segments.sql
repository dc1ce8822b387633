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
--   monetary     = net revenue of the customer's orders in the window: completed orders minus
--                  returns (credit notes are negative, returned/cancelled orders count 0)
-- Scores 1-5 (5 = most recent / most frequent / highest spend) by the rfm_score macro: equal
-- values share a score; the best value scores 5 and the worst 1 however many share them; other
-- values take the fifth in which the middle of their tie group falls (mid-rank percentile); a
-- measure with one value for everybody scores 3. No tie-breaker on customer_id: two customers
-- with the same recency always have the same r_score. Without ties these are exact quintiles;
-- ties can leave a score empty (rfm_score_bins shows the edges and counts).
-- segment comes from the rfm_segment_map seed on (r_score, f_score).
with params as (
    select {{ as_of_date() }} as as_of_date
),
in_window as (
    select o.customer_id, o.order_id, o.order_date, o.net_amount, o.status = 'completed' as is_completed
    from {{ ref('int_orders_as_of') }} o, params p
    where (o.status = 'completed' or o.is_credit_note)
    {% if var('rfm_window_days') %}
      and o.order_date > p.as_of_date - {{ var('rfm_window_days') | int }}
    {% endif %}
),
base as (
    select
        c.customer_id,
        p.as_of_date,
        min(c.order_date) filter (where c.is_completed) as first_order_date,
        max(c.order_date) filter (where c.is_completed) as last_order_date,
        p.as_of_date - max(c.order_date) filter (where c.is_completed) as recency_days,
        count(distinct c.order_id) filter (where c.is_completed) as frequency,
        sum(c.net_amount) as monetary
    from in_window c, params p
    group by c.customer_id, p.as_of_date
    having count(*) filter (where c.is_completed) > 0
),
scored as (
    select
        *,
        {{ rfm_score('recency_days', 'low') }} as r_score,
        {{ rfm_score('frequency', 'high') }} as f_score,
        {{ rfm_score('monetary', 'high') }} as m_score
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
