-- Customers whose web activity dropped against their own history, as of as_of_date: sessions in
-- the last alert_recent_days (recent) against the alert_baseline_days before them (baseline),
-- compared as daily rates. Alert when baseline_sessions >= alert_min_baseline_sessions and
-- recent_daily_rate < alert_drop_ratio x baseline_daily_rate. One row per alerted customer.
with params as (
    select {{ as_of_date() }} as as_of_date
),
activity as (
    select
        s.customer_id, p.as_of_date,
        count(*) filter (where s.session_date > p.as_of_date - {{ var('alert_recent_days') | int }}
                           and s.session_date <= p.as_of_date) as recent_sessions,
        count(*) filter (where s.session_date <= p.as_of_date - {{ var('alert_recent_days') | int }}
                           and s.session_date > p.as_of_date - {{ var('alert_recent_days') | int + var('alert_baseline_days') | int }}) as baseline_sessions,
        max(s.session_start_ts) filter (where s.session_date <= p.as_of_date) as last_visit_at
    from {{ ref('fct_sessions') }} s, params p
    where s.customer_id is not null
    group by s.customer_id, p.as_of_date
),
rates as (
    select *,
        recent_sessions / {{ var('alert_recent_days') | int }} as recent_daily_rate,
        baseline_sessions / {{ var('alert_baseline_days') | int }} as baseline_daily_rate
    from activity
)
select
    customer_id::varchar as customer_id,
    as_of_date::date as as_of_date,
    baseline_sessions::integer as baseline_sessions,
    recent_sessions::integer as recent_sessions,
    round(baseline_daily_rate, 4)::decimal(10, 4) as baseline_daily_rate,
    round(recent_daily_rate, 4)::decimal(10, 4) as recent_daily_rate,
    round(recent_daily_rate / baseline_daily_rate, 4)::decimal(10, 4) as activity_ratio,
    last_visit_at::timestamptz as last_visit_at,
    'web_activity_drop'::varchar as alert_type
from rates
where baseline_sessions >= {{ var('alert_min_baseline_sessions') | int }}
  and recent_daily_rate < {{ var('alert_drop_ratio') }} * baseline_daily_rate
