-- depends_on: {{ ref('int_web_rebuild_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where='session_start_ts >= __REBUILD_FROM_TS__',
    on_schema_change='append_new_columns'
) }}
-- Every access-log session flagged as a bot (int_weblog_sessions), with the reason: bots are
-- reported here, never silently dropped, and kept out of fct_sessions / fct_page_views.
-- bot_reason is the first matching rule (ua_pattern, no_user_agent, high_request_rate,
-- too_many_pages, no_assets; thresholds are vars), bot_reasons lists every rule that matched.
-- Incremental: sessions starting at or after the watermark (int_web_rebuild_window) are rewritten.
select
    session_id::varchar as session_id,
    session_date::date as session_date,
    session_start_ts::timestamptz as session_start_ts,
    session_end_ts::timestamptz as session_end_ts,
    duration_seconds::integer as duration_seconds,
    ip::varchar as ip,
    user_agent::varchar as user_agent,
    bot_reason::varchar as bot_reason,
    bot_reasons::varchar as bot_reasons,
    ua_bot_pattern::varchar as ua_bot_pattern,
    hits::integer as hits,
    requests::integer as requests,
    page_views::integer as page_views,
    asset_hits::integer as asset_hits,
    error_hits::integer as error_hits,
    requests_per_minute::decimal(12, 2) as requests_per_minute,
    bytes::bigint as bytes,
    landing_page::varchar as landing_page
from {{ ref('int_weblog_sessions') }}
where is_bot
{% if is_incremental() %}
  and session_start_ts >= (select rebuild_from_ts from {{ ref('int_web_rebuild_window') }})
{% endif %}
