-- depends_on: {{ ref('int_web_rebuild_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where='log_session_start_ts >= __REBUILD_FROM_TS__',
    on_schema_change='sync_all_columns'
) }}
-- Page views of the access logs (is_page hits of human log sessions), each matched to the tracker:
--   tracker_event_id  the tracker page_view/product_view of the same visitor (ip + user agent) and
--                     path within weblog_tracker_twin_seconds: the same page load seen twice. Such a
--                     hit is is_tracked and never counted again (the tracker row stands);
--   matched_session_id the tracker session of the same ip + user agent whose [start, end], widened
--                     by session_timeout_minutes on both sides, contains the hit (rule
--                     ip_ua_window; the nearest one when several do, then the earliest, then by id);
--   stitch_status     per log session: 'stitched' when its page hits matched tracker sessions of
--                     exactly one tracker visitor (cookie), 'ambiguous' when of several (a shared
--                     IP and browser: never attributed), 'unmatched' when of none;
--   session_id        where the page view is counted: stitched => its matched tracker session (else
--                     the log session's most matched one), a visit the tracker saw; otherwise the
--                     log session itself (a log-only visit, fct_sessions source 'weblogs').
-- Incremental: log sessions starting at or after the watermark are rewritten (whole sessions, so
-- session-level status is always complete); tracker sessions are read only near them.
{% set incremental = is_incremental() %}
with
{% if incremental %}
w as (
    select rebuild_from_ts from {{ ref('int_web_rebuild_window') }}
),
{% endif %}
pages as (
    select
        h.hit_id, h.log_session_id, h.log_session_start_ts, h.request_ts, h.request_date, h.delivered_on,
        h.visitor_key, h.user_agent, h.path, h.path_clean, h.referrer,
        h.utm_source, h.utm_medium, h.utm_campaign, h._source_file, h._line_number
    from {{ ref('int_weblog_hits_sessionized') }} h
    join {{ ref('int_weblog_sessions') }} s on s.session_id = h.log_session_id
    where h.is_page and not s.is_bot
    {% if incremental %}and h.log_session_start_ts >= (select rebuild_from_ts from w){% endif %}
),
tracker_events as (
    select session_id, session_key, anonymous_id, session_start_ts, event_id, event_type, event_ts,
           event_date, visitor_key, page_path
    from {{ ref('int_events_sessionized') }}
    {% if incremental %}
    -- tracker sessions whose widened window can reach a rewritten hit (all their events)
    where session_id in (
        select session_id from {{ ref('int_events_sessionized') }}
        where event_ts >= (select rebuild_from_ts from w) - {{ session_timeout() }} - interval '{{ var("weblog_tracker_twin_seconds") | int }} seconds'
    )
    {% endif %}
),
tracker_sessions as (
    select session_id, any_value(session_key) as session_key, any_value(anonymous_id) as anonymous_id,
           min(session_start_ts) as window_start, max(event_ts) as window_end
    from tracker_events group by session_id
),
-- each tracker session under every ip + user agent it used, on every UTC day its widened window
-- touches (an equality join on visitor and day instead of comparing every hit with every session)
tracker_windows as (
    select t.session_id, t.session_key, t.anonymous_id, t.window_start, t.window_end, v.visitor_key,
           cast(d.day as date) as day
    from tracker_sessions t
    join (select distinct session_id, visitor_key from tracker_events) v using (session_id),
    unnest(generate_series(
        cast(timezone('UTC', t.window_start - {{ session_timeout() }}) as date)::timestamp,
        cast(timezone('UTC', t.window_end + {{ session_timeout() }}) as date)::timestamp,
        interval 1 day)) as d(day)
),
candidates as (
    select p.hit_id, p.log_session_id, w.session_id, w.session_key, w.anonymous_id, w.window_start,
           case when p.request_ts < w.window_start then p.request_ts - w.window_start
                when p.request_ts > w.window_end then p.request_ts - w.window_end
                else interval 0 second end as offset_from_window
    from pages p
    join tracker_windows w on w.visitor_key = p.visitor_key and w.day = p.request_date
    where p.request_ts between w.window_start - {{ session_timeout() }} and w.window_end + {{ session_timeout() }}
),
matched as (
    select hit_id,
           arg_min(session_id, (abs(epoch(offset_from_window)), window_start, session_id)) as matched_session_id
    from candidates group by hit_id
),
per_log_session as (
    select log_session_id, count(distinct session_key) as matched_visitors
    from candidates group by log_session_id
),
votes as (
    select p.log_session_id, m.matched_session_id, count(*) as hits, min(p.request_ts) as first_hit_at
    from pages p join matched m using (hit_id)
    group by all
),
chosen as (
    select log_session_id, matched_session_id as chosen_session_id
    from votes
    qualify row_number() over (partition by log_session_id order by hits desc, first_hit_at, matched_session_id) = 1
),
twins as (
    select p.hit_id,
           arg_min(e.event_id, (abs(epoch(e.event_ts - p.request_ts)), e.event_id)) as tracker_event_id
    from pages p
    join tracker_events e
      on e.visitor_key = p.visitor_key and e.page_path = p.path_clean
     and e.event_type in ('page_view', 'product_view')
     and e.event_ts between p.request_ts - interval '{{ var("weblog_tracker_twin_seconds") | int }} seconds'
                        and p.request_ts + interval '{{ var("weblog_tracker_twin_seconds") | int }} seconds'
    group by p.hit_id
),
resolved as (
    select
        p.*,
        t.tracker_event_id,
        m.matched_session_id,
        case when coalesce(s.matched_visitors, 0) = 0 then 'unmatched'
             when s.matched_visitors = 1 then 'stitched'
             else 'ambiguous' end as stitch_status,
        c.chosen_session_id
    from pages p
    left join twins t using (hit_id)
    left join matched m using (hit_id)
    left join per_log_session s using (log_session_id)
    left join chosen c using (log_session_id)
)
select
    r.hit_id::varchar as hit_id,
    r.log_session_id::varchar as log_session_id,
    r.log_session_start_ts::timestamptz as log_session_start_ts,
    r.request_ts::timestamptz as request_ts,
    r.request_date::date as request_date,
    r.delivered_on::date as delivered_on,
    r.visitor_key::varchar as visitor_key,
    r.path::varchar as path,
    r.path_clean::varchar as path_clean,
    r.referrer::varchar as referrer,
    r.utm_source::varchar as utm_source,
    r.utm_medium::varchar as utm_medium,
    r.utm_campaign::varchar as utm_campaign,
    {{ device_type('r.user_agent') }}::varchar as device_type,
    r.tracker_event_id::varchar as tracker_event_id,
    (r.tracker_event_id is not null) as is_tracked,
    r.matched_session_id::varchar as matched_session_id,
    r.stitch_status::varchar as stitch_status,
    case when r.stitch_status = 'stitched' then coalesce(r.matched_session_id, r.chosen_session_id)
         else r.log_session_id end::varchar as session_id,
    case when r.stitch_status = 'stitched' then ts.anonymous_id end::varchar as anonymous_id,
    r._source_file::varchar as _source_file,
    r._line_number::bigint as _line_number
from resolved r
left join tracker_sessions ts
       on ts.session_id = coalesce(r.matched_session_id, r.chosen_session_id) and r.stitch_status = 'stitched'
