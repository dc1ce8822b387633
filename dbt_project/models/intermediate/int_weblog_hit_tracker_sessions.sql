-- depends_on: {{ ref('int_web_rebuild_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where='log_session_start_ts >= __REBUILD_FROM_TS__',
    on_schema_change='sync_all_columns'
) }}
-- The tracker session of each human access-log page hit that has one (rule ip_ua_window): the
-- session of the same ip + user agent whose [start, end], widened by session_timeout_minutes on
-- both sides, contains the hit - nearest window first, then the earliest, then by id - with its
-- visitor (session_key) and the smallest and largest visitor among all such sessions.
-- Why a model of its own: macros/web_hit_matching.sql.
{% set incremental = is_incremental() %}
with
pages as (
    {{ weblog_match_pages(incremental) }}
),
tracker_events as (
    {{ weblog_match_tracker_events(incremental) }}
),
-- each tracker session under every ip + user agent it used, on every UTC day its widened window
-- touches (an equality join on visitor and day instead of comparing every hit with every session)
tracker_windows as (
    select t.session_id, t.session_key, t.window_start, t.window_end, v.visitor_key, cast(d.day as date) as day
    from (
        select session_id, any_value(session_key) as session_key,
               min(session_start_ts) as window_start, max(event_ts) as window_end,
               list(distinct visitor_key) as visitor_keys
        from tracker_events group by session_id
    ) t,
    unnest(t.visitor_keys) as v(visitor_key),
    unnest(generate_series(
        cast(timezone('UTC', t.window_start - {{ session_timeout() }}) as date)::timestamp,
        cast(timezone('UTC', t.window_end + {{ session_timeout() }}) as date)::timestamp,
        interval 1 day)) as d(day)
)
select
    p.hit_id::varchar as hit_id,
    any_value(p.log_session_start_ts)::timestamptz as log_session_start_ts,
    arg_min(w.session_id, (
        case when p.request_ts < w.window_start then epoch(w.window_start - p.request_ts)
             when p.request_ts > w.window_end then epoch(p.request_ts - w.window_end)
             else 0 end,
        w.window_start, w.session_id))::varchar as matched_session_id,
    min(w.session_key)::varchar as min_session_key,
    max(w.session_key)::varchar as max_session_key
from pages p
join tracker_windows w on w.visitor_key = p.visitor_key and w.day = p.request_date
where p.request_ts between w.window_start - {{ session_timeout() }} and w.window_end + {{ session_timeout() }}
group by p.hit_id
