-- depends_on: {{ ref('int_web_rebuild_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where='log_session_start_ts >= __REBUILD_FROM_TS__',
    on_schema_change='sync_all_columns'
) }}
-- Page views of the access logs (is_page hits of human log sessions, int_weblog_hit_matches) with
-- the verdict of their log session:
--   is_tracked        the tracker recorded the same page load (tracker_event_id): never counted again
--                     (the tracker row stands);
--   stitch_status     per log session: 'stitched' when its matched hits saw tracker sessions of
--                     exactly one tracker visitor (cookie, or ip + agent without cookie: smallest =
--                     largest session_key), 'ambiguous' when of several (a shared IP and browser:
--                     never attributed), 'unmatched' when of none;
--   session_id        where the page view is counted: stitched => its matched tracker session (a
--                     hit outside every window: the session matched by the log session's first
--                     matched hit), a visit the tracker saw; otherwise the log session itself (a
--                     log-only visit, fct_sessions source 'weblogs');
--   anonymous_id      the cookie of that tracker visitor (null for a cookie-less 'ipua:' visitor).
-- Incremental: log sessions starting at or after the watermark are rewritten (whole sessions, so
-- the session-level verdict is always complete).
{% set incremental = is_incremental() %}
with hits as (
    select * from {{ ref('int_weblog_hit_matches') }}
    {% if incremental %}
    where log_session_start_ts >= (select rebuild_from_ts from {{ ref('int_web_rebuild_window') }})
    {% endif %}
),
log_sessions as (
    select log_session_id,
           case when count(matched_session_id) = 0 then 'unmatched'
                when min(min_session_key) = max(max_session_key) then 'stitched'
                else 'ambiguous' end as stitch_status,
           min(min_session_key) as visitor,
           arg_min(matched_session_id, (request_ts, hit_id)) filter (where matched_session_id is not null)
               as first_matched_session_id
    from hits group by log_session_id
)
select
    h.hit_id::varchar as hit_id,
    h.log_session_id::varchar as log_session_id,
    h.log_session_start_ts::timestamptz as log_session_start_ts,
    h.request_ts::timestamptz as request_ts,
    h.request_date::date as request_date,
    h.path_clean::varchar as path_clean,
    h.tracker_event_id::varchar as tracker_event_id,
    (h.tracker_event_id is not null) as is_tracked,
    h.matched_session_id::varchar as matched_session_id,
    l.stitch_status::varchar as stitch_status,
    case when l.stitch_status = 'stitched' then coalesce(h.matched_session_id, l.first_matched_session_id)
         else h.log_session_id end::varchar as session_id,
    case when l.stitch_status = 'stitched' and l.visitor not like 'ipua:%' then l.visitor end::varchar as anonymous_id
from hits h
join log_sessions l on l.log_session_id = h.log_session_id
