-- depends_on: {{ ref('int_web_rebuild_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where='log_session_start_ts >= __REBUILD_FROM_TS__',
    on_schema_change='sync_all_columns'
) }}
-- Every page hit of a human access-log session, matched to the tracker, hit by hit (keys only; the
-- log-session verdict is int_weblog_page_views): its tracker twin (int_weblog_hit_twins) and its
-- tracker session (int_weblog_hit_tracker_sessions), null where there is none. The matching lives
-- in those two models so that each query stays within memory (macros/web_hit_matching.sql).
-- Incremental: hits of log sessions starting at or after the watermark are rewritten.
{% set incremental = is_incremental() %}
with
pages as (
    {{ weblog_match_pages(incremental) }}
),
twins as (
    select hit_id, tracker_event_id from {{ ref('int_weblog_hit_twins') }}
    {% if incremental %}
    where log_session_start_ts >= (select rebuild_from_ts from {{ ref('int_web_rebuild_window') }})
    {% endif %}
),
matched as (
    select hit_id, matched_session_id, min_session_key, max_session_key
    from {{ ref('int_weblog_hit_tracker_sessions') }}
    {% if incremental %}
    where log_session_start_ts >= (select rebuild_from_ts from {{ ref('int_web_rebuild_window') }})
    {% endif %}
)
-- One grouping of the three row sets rather than two left joins: probing both joins' hash tables in
-- one pipeline ran out of memory at tier M with memory_limit 450MB (a stand-in for tier L at 3GB),
-- while a grouping spills. any_value skips nulls; twins and matched hits are pages' own hits.
select
    hit_id::varchar as hit_id,
    any_value(log_session_id)::varchar as log_session_id,
    any_value(log_session_start_ts)::timestamptz as log_session_start_ts,
    any_value(request_ts)::timestamptz as request_ts,
    any_value(request_date)::date as request_date,
    any_value(path_clean)::varchar as path_clean,
    any_value(tracker_event_id)::varchar as tracker_event_id,
    any_value(matched_session_id)::varchar as matched_session_id,
    any_value(min_session_key)::varchar as min_session_key,
    any_value(max_session_key)::varchar as max_session_key
from (
    select hit_id, log_session_id, log_session_start_ts, request_ts, request_date, path_clean,
           true as is_page
    from pages
    union all by name
    select hit_id, tracker_event_id from twins
    union all by name
    select hit_id, matched_session_id, min_session_key, max_session_key from matched
)
group by hit_id
having bool_or(is_page)
