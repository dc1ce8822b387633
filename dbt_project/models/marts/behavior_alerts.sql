-- Customers whose behaviour broke sharply from their own history, as of as_of_date: one row per
-- (customer, alert_type), with a human-readable reason. Two rules (thresholds are vars):
--
-- web_activity_drop: tracker sessions in the last alert_recent_days (recent) against the
--   alert_baseline_days before them (baseline), compared as daily rates. Alert when
--   baseline_sessions >= alert_min_baseline_sessions and
--   recent_daily_rate < alert_drop_ratio x baseline_daily_rate.
-- purchase_gap: the days since the last completed order against the customer's own usual gap
--   (median of the gaps between consecutive purchase days, i.e. days with a completed order, as
--   known on as_of_date). Alert when the customer has at least alert_gap_min_purchase_days
--   purchase days, days_since_last_order > alert_gap_ratio x typical_gap_days and
--   days_since_last_order >= alert_gap_min_days, and is not yet lost
--   (days_since_last_order <= lifecycle_lost_days: beyond, lifecycle_stage says 'lost').
{%- set recent_days = var('alert_recent_days') | int %}
{%- set baseline_days = var('alert_baseline_days') | int %}
with params as (
    select {{ as_of_date() }} as as_of_date
),
activity as (
    select
        s.customer_id, p.as_of_date,
        count(*) filter (where s.session_date > p.as_of_date - {{ recent_days }}
                           and s.session_date <= p.as_of_date) as recent_sessions,
        count(*) filter (where s.session_date <= p.as_of_date - {{ recent_days }}
                           and s.session_date > p.as_of_date - {{ recent_days + baseline_days }}) as baseline_sessions,
        max(s.session_start_ts) filter (where s.session_date <= p.as_of_date) as last_visit_at
    from {{ ref('fct_sessions') }} s, params p
    where s.customer_id is not null
    group by s.customer_id, p.as_of_date
),
rates as (
    select *,
        recent_sessions / {{ recent_days }} as recent_daily_rate,
        baseline_sessions / {{ baseline_days }} as baseline_daily_rate
    from activity
),
web_alerts as (
    select
        customer_id, as_of_date, 'web_activity_drop' as alert_type,
        printf('%d sessions in the last %d days against %d in the %d days before: %.0f%% of the usual daily rate',
               recent_sessions, {{ recent_days }}, baseline_sessions, {{ baseline_days }},
               100 * recent_daily_rate / baseline_daily_rate) as reason,
        baseline_sessions, recent_sessions, baseline_daily_rate, recent_daily_rate,
        recent_daily_rate / baseline_daily_rate as activity_ratio, last_visit_at,
        null::integer as purchase_days, null::double as typical_gap_days,
        null::integer as days_since_last_order, null::double as gap_ratio, null::date as last_order_date
    from rates
    where baseline_sessions >= {{ var('alert_min_baseline_sessions') | int }}
      and recent_daily_rate < {{ var('alert_drop_ratio') }} * baseline_daily_rate
),
purchase_days as (
    select distinct o.customer_id, o.order_date
    from {{ ref('int_orders_as_of') }} o
    where o.status = 'completed'
),
gaps as (
    select customer_id, order_date,
           order_date - lag(order_date) over (partition by customer_id order by order_date) as gap_days
    from purchase_days
),
gap_stats as (
    select
        g.customer_id, p.as_of_date,
        count(*) as purchase_days,
        count(g.gap_days) as gaps,
        quantile_cont(g.gap_days, 0.5) as typical_gap_days,
        max(g.order_date) as last_order_date,
        p.as_of_date - max(g.order_date) as days_since_last_order
    from gaps g, params p
    group by g.customer_id, p.as_of_date
),
gap_alerts as (
    select
        customer_id, as_of_date, 'purchase_gap' as alert_type,
        printf('no completed order for %d days: %.1fx the usual gap of %.1f days (median of %d gaps between %d purchase days)',
               days_since_last_order, days_since_last_order / typical_gap_days, typical_gap_days, gaps,
               purchase_days) as reason,
        null::integer as baseline_sessions, null::integer as recent_sessions, null::double as baseline_daily_rate,
        null::double as recent_daily_rate, null::double as activity_ratio, null::timestamptz as last_visit_at,
        purchase_days, typical_gap_days, days_since_last_order,
        days_since_last_order / typical_gap_days as gap_ratio, last_order_date
    from gap_stats
    where purchase_days >= {{ var('alert_gap_min_purchase_days') | int }}
      and days_since_last_order > {{ var('alert_gap_ratio') }} * typical_gap_days
      and days_since_last_order >= {{ var('alert_gap_min_days') | int }}
      and days_since_last_order <= {{ var('lifecycle_lost_days') | int }}
)
select
    customer_id::varchar as customer_id,
    as_of_date::date as as_of_date,
    alert_type::varchar as alert_type,
    reason::varchar as reason,
    baseline_sessions::integer as baseline_sessions,
    recent_sessions::integer as recent_sessions,
    round(baseline_daily_rate, 4)::decimal(10, 4) as baseline_daily_rate,
    round(recent_daily_rate, 4)::decimal(10, 4) as recent_daily_rate,
    round(activity_ratio, 4)::decimal(10, 4) as activity_ratio,
    last_visit_at::timestamptz as last_visit_at,
    purchase_days::integer as purchase_days,
    typical_gap_days::decimal(10, 1) as typical_gap_days,
    days_since_last_order::integer as days_since_last_order,
    round(gap_ratio, 2)::decimal(10, 2) as gap_ratio,
    last_order_date::date as last_order_date
from (select * from web_alerts union all by name select * from gap_alerts)
