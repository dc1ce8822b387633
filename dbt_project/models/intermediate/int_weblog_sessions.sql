-- depends_on: {{ ref('int_web_rebuild_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where='session_start_ts >= __REBUILD_FROM_TS__',
    on_schema_change='sync_all_columns'
) }}
-- One row per access-log session (int_weblog_hits_sessionized: all hits of one ip + user agent,
-- cut by the session rule), with its traffic and whether it is a bot. Static assets belong to the
-- session (so a bot's assets count as bot traffic) but never count as pages.
-- A session is a bot when one rule matches; bot_reason is the first in this order, bot_reasons
-- lists them all (vars in dbt_project.yml):
--   ua_pattern         the user agent contains a bot_user_agent_patterns seed row
--   no_user_agent      no user agent at all
--   high_request_rate  at least bot_rate_min_requests requests (non-asset hits) at more than
--                      bot_max_requests_per_minute (requests x 60 / duration, duration at least 1 s)
--   too_many_pages     more than bot_max_pages_per_session page views
--   no_assets          at least bot_no_assets_min_pages page views and not one static asset fetched
-- Nothing is dropped: human sessions feed fct_sessions / fct_page_views, bot sessions web_bot_sessions,
-- and every hit is counted in web_traffic_daily. Incremental: sessions starting at or after the
-- watermark (int_web_rebuild_window) are rewritten.
with hits as (
    select * from {{ ref('int_weblog_hits_sessionized') }}
    {% if is_incremental() %}
    where log_session_start_ts >= (select rebuild_from_ts from {{ ref('int_web_rebuild_window') }})
    {% endif %}
),
sessions as (
    select
        log_session_id as session_id,
        any_value(visitor_key) as visitor_key,
        any_value(ip) as ip,
        any_value(user_agent) as user_agent,
        any_value(ua_bot_pattern) as ua_bot_pattern,
        min(log_session_start_ts) as session_start_ts,
        max(request_ts) as session_end_ts,
        count(*) as hits,
        count(*) filter (where not is_asset) as requests,
        count(*) filter (where is_page) as page_views,
        count(*) filter (where is_asset) as asset_hits,
        count(*) filter (where status >= 400) as error_hits,
        sum(bytes) as bytes,
        arg_min(path_clean, (request_ts, _source_file, _line_number)) filter (where is_page) as landing_page,
        arg_max(path_clean, (request_ts, _source_file, _line_number)) filter (where is_page) as exit_page
    from hits
    group by log_session_id
),
measured as (
    select *,
        date_diff('second', session_start_ts, session_end_ts) as duration_seconds,
        round(requests * 60.0 / greatest(date_diff('second', session_start_ts, session_end_ts), 1), 2) as requests_per_minute
    from sessions
),
ruled as (
    select *,
        ua_bot_pattern is not null as rule_ua_pattern,
        user_agent is null as rule_no_user_agent,
        requests >= {{ var('bot_rate_min_requests') | int }}
            and requests_per_minute > {{ var('bot_max_requests_per_minute') }} as rule_high_request_rate,
        page_views > {{ var('bot_max_pages_per_session') | int }} as rule_too_many_pages,
        page_views >= {{ var('bot_no_assets_min_pages') | int }} and asset_hits = 0 as rule_no_assets
    from measured
)
select
    session_id::varchar as session_id,
    visitor_key::varchar as visitor_key,
    ip::varchar as ip,
    user_agent::varchar as user_agent,
    cast(timezone('UTC', session_start_ts) as date) as session_date,
    session_start_ts::timestamptz as session_start_ts,
    session_end_ts::timestamptz as session_end_ts,
    duration_seconds::integer as duration_seconds,
    hits::integer as hits,
    requests::integer as requests,
    page_views::integer as page_views,
    asset_hits::integer as asset_hits,
    error_hits::integer as error_hits,
    bytes::bigint as bytes,
    requests_per_minute::decimal(12, 2) as requests_per_minute,
    landing_page::varchar as landing_page,
    exit_page::varchar as exit_page,
    ua_bot_pattern::varchar as ua_bot_pattern,
    (rule_ua_pattern or rule_no_user_agent or rule_high_request_rate or rule_too_many_pages or rule_no_assets) as is_bot,
    case
        when rule_ua_pattern then 'ua_pattern'
        when rule_no_user_agent then 'no_user_agent'
        when rule_high_request_rate then 'high_request_rate'
        when rule_too_many_pages then 'too_many_pages'
        when rule_no_assets then 'no_assets'
    end::varchar as bot_reason,
    nullif(concat_ws(',',
        case when rule_ua_pattern then 'ua_pattern' end,
        case when rule_no_user_agent then 'no_user_agent' end,
        case when rule_high_request_rate then 'high_request_rate' end,
        case when rule_too_many_pages then 'too_many_pages' end,
        case when rule_no_assets then 'no_assets' end), '')::varchar as bot_reasons
from ruled
