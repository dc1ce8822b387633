{#- The two inputs of matching access-log page hits to the tracker, shared by int_weblog_hit_twins,
    int_weblog_hit_tracker_sessions and int_weblog_hit_matches. The matching is split over those
    models (tables) rather than CTEs of one query: DuckDB holds a materialized CTE in memory, and
    the inlined query ran out of memory at tier L (9.4M page hits against 30M events, 3GB);
    tables spill. Incremental: only hits of log sessions starting at or after the rebuild
    watermark, and only the tracker sessions that can reach them. -#}

{#- Page hits of human access-log sessions. -#}
{% macro weblog_match_pages(incremental) -%}
    select h.hit_id, h.log_session_id, h.log_session_start_ts, h.request_ts, h.request_date,
           h.visitor_key, h.path_clean
    from {{ ref('int_weblog_hits_sessionized') }} h
    join {{ ref('int_weblog_sessions') }} s on s.session_id = h.log_session_id
    where h.is_page and not s.is_bot
    {% if incremental %}
      and h.log_session_start_ts >= (select rebuild_from_ts from {{ ref('int_web_rebuild_window') }})
    {% endif %}
{%- endmacro %}

{#- Tracker events; incremental: whole tracker sessions whose widened window (or twin tolerance)
    can reach a rewritten hit. -#}
{% macro weblog_match_tracker_events(incremental) -%}
    select session_id, session_key, session_start_ts, event_id, event_type, event_ts, visitor_key, page_path
    from {{ ref('int_events_sessionized') }}
    {% if incremental %}
    where session_id in (
        select session_id from {{ ref('int_events_sessionized') }}
        where event_ts >= (select rebuild_from_ts from {{ ref('int_web_rebuild_window') }})
                          - {{ session_timeout() }}
                          - interval '{{ var("weblog_tracker_twin_seconds") | int }} seconds'
    )
    {% endif %}
{%- endmacro %}
