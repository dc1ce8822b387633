-- depends_on: {{ ref('int_web_rebuild_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where='log_session_start_ts >= __REBUILD_FROM_TS__',
    on_schema_change='sync_all_columns'
) }}
-- Every page hit of a human access-log session, matched to the tracker, hit by hit (keys only; the
-- log-session verdict is int_weblog_page_views). Separate from it so that each query stays small:
-- at tier M the matching of 1.5 M hits against 5 M events must not spill (a DuckDB run that spills
-- cannot open another cursor under dbt-duckdb).
--   tracker_event_id   the tracker page_view/product_view of the same visitor (ip + user agent) and
--                      path within weblog_tracker_twin_seconds, nearest first: the same page load;
--   matched_session_id the tracker session of the same ip + user agent whose [start, end], widened by
--                      session_timeout_minutes on both sides, contains the hit (rule ip_ua_window;
--                      nearest window first, then the earliest, then by id), with its visitor
--                      (session_key) and the smallest and largest visitor among all such sessions.
-- Incremental: hits of log sessions starting at or after the watermark are rewritten; tracker
-- sessions are read only near them.
-- `matched` and `twins` are materialized CTEs: computed one after the other, not side by side
-- with the final joins. Inlined, the query ran out of memory at tier L (9.4M page hits against
-- 30M events at memory_limit 3GB) although each part alone passes (BENCHMARKS.md, Tier L).
{% set incremental = is_incremental() %}
with
{% if incremental %}
w as (
    select rebuild_from_ts from {{ ref('int_web_rebuild_window') }}
),
{% endif %}
pages as not materialized (
    select h.hit_id, h.log_session_id, h.log_session_start_ts, h.request_ts, h.request_date,
           h.visitor_key, h.path_clean
    from {{ ref('int_weblog_hits_sessionized') }} h
    join {{ ref('int_weblog_sessions') }} s on s.session_id = h.log_session_id
    where h.is_page and not s.is_bot
    {% if incremental %}and h.log_session_start_ts >= (select rebuild_from_ts from w){% endif %}
),
tracker_events as not materialized (
    select session_id, session_key, session_start_ts, event_id, event_type, event_ts, visitor_key, page_path
    from {{ ref('int_events_sessionized') }}
    {% if incremental %}
    -- tracker sessions whose widened window (or twin tolerance) can reach a rewritten hit, whole
    where session_id in (
        select session_id from {{ ref('int_events_sessionized') }}
        where event_ts >= (select rebuild_from_ts from w) - {{ session_timeout() }}
                          - interval '{{ var("weblog_tracker_twin_seconds") | int }} seconds'
    )
    {% endif %}
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
),
matched as materialized (
    select p.hit_id,
           arg_min(w.session_id, (
               case when p.request_ts < w.window_start then epoch(w.window_start - p.request_ts)
                    when p.request_ts > w.window_end then epoch(p.request_ts - w.window_end)
                    else 0 end,
               w.window_start, w.session_id)) as matched_session_id,
           min(w.session_key) as min_session_key,
           max(w.session_key) as max_session_key
    from pages p
    join tracker_windows w on w.visitor_key = p.visitor_key and w.day = p.request_date
    where p.request_ts between w.window_start - {{ session_timeout() }} and w.window_end + {{ session_timeout() }}
    group by p.hit_id
),
-- twins: same visitor and path within the tolerance; bucketed by the tolerance so that only the
-- three neighbouring buckets are compared (exact: |dt| <= tolerance lies in them)
twins as materialized (
    select p.hit_id,
           arg_min(e.event_id, (abs(epoch(e.event_ts - p.request_ts)), e.event_id)) as tracker_event_id
    from (
        select hit_id, visitor_key, path_clean, request_ts, unnest([b - 1, b, b + 1]) as bucket
        from (
            select *, floor(epoch(request_ts) / {{ var("weblog_tracker_twin_seconds") | int }})::bigint as b
            from pages
        )
    ) p
    join (
        select visitor_key, page_path, event_ts, event_id,
               floor(epoch(event_ts) / {{ var("weblog_tracker_twin_seconds") | int }})::bigint as bucket
        from tracker_events
        where event_type in ('page_view', 'product_view')
    ) e on e.visitor_key = p.visitor_key and e.page_path = p.path_clean and e.bucket = p.bucket
    where abs(epoch(e.event_ts - p.request_ts)) <= {{ var("weblog_tracker_twin_seconds") | int }}
    group by p.hit_id
)
select
    p.hit_id::varchar as hit_id,
    p.log_session_id::varchar as log_session_id,
    p.log_session_start_ts::timestamptz as log_session_start_ts,
    p.request_ts::timestamptz as request_ts,
    p.request_date::date as request_date,
    p.path_clean::varchar as path_clean,
    t.tracker_event_id::varchar as tracker_event_id,
    m.matched_session_id::varchar as matched_session_id,
    m.min_session_key::varchar as min_session_key,
    m.max_session_key::varchar as max_session_key
from pages p
left join twins t on t.hit_id = p.hit_id
left join matched m on m.hit_id = p.hit_id
