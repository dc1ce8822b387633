-- depends_on: {{ ref('int_web_rebuild_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where='log_session_start_ts >= __REBUILD_FROM_TS__',
    on_schema_change='sync_all_columns'
) }}
-- The tracker twin of each human access-log page hit that has one: the tracker page_view /
-- product_view of the same visitor (ip + user agent) and path within weblog_tracker_twin_seconds,
-- nearest first, then by id - the same page load. Bucketed by the tolerance so that only the three
-- neighbouring buckets are compared (exact: |dt| <= tolerance lies in them).
-- Why a model of its own: macros/web_hit_matching.sql.
{% set incremental = is_incremental() %}
with
pages as (
    {{ weblog_match_pages(incremental) }}
),
tracker_events as (
    {{ weblog_match_tracker_events(incremental) }}
)
-- The nearest by a window, not arg_min: arg_min's (distance, id) states for 9.4M hits ran out of
-- memory at tier L (3GB) where a window sort spills.
select
    p.hit_id::varchar as hit_id,
    p.log_session_start_ts::timestamptz as log_session_start_ts,
    e.event_id::varchar as tracker_event_id
from (
    select hit_id, log_session_start_ts, visitor_key, path_clean, request_ts, unnest([b - 1, b, b + 1]) as bucket
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
qualify row_number() over (
    partition by p.hit_id order by abs(epoch(e.event_ts - p.request_ts)), e.event_id
) = 1
