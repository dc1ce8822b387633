-- depends_on: {{ ref('int_web_rebuild_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where='request_date >= __REBUILD_FROM_DATE__',
    on_schema_change='append_new_columns'
) }}
-- Web server traffic per UTC day from the access logs, every hit counted once: hits, human page
-- hits (page views of human log sessions) split into tracked (the tracker recorded the same page
-- load) and log-only, static asset hits (reported here, never counted as pages), bot hits (every
-- hit of a bot log session, assets included) and their share, distinct human visitors (ip + user
-- agent) and IPs, status classes, bytes, top 5 human page paths and referrers ('value (hits)'),
-- and the log sessions starting that day: human ones, bot ones, and bot ones per bot_reason
-- (int_weblog_sessions; the per-reason counts add up to bot_sessions).
-- Incremental: rewrites every day from the watermark's day (int_web_rebuild_window) on.
{% set incremental = is_incremental() %}
with
{% if incremental %}
w as (
    select rebuild_from_date from {{ ref('int_web_rebuild_window') }}
),
{% endif %}
sessions as (
    select * from {{ ref('int_weblog_sessions') }}
),
hits as (
    select h.*, s.is_bot, h.is_page and not s.is_bot as is_human_page, p.is_tracked
    from {{ ref('int_weblog_hits_sessionized') }} h
    join sessions s on s.session_id = h.log_session_id
    left join {{ ref('int_weblog_page_views') }} p using (hit_id)
    {% if incremental %}where h.request_date >= (select rebuild_from_date from w){% endif %}
),
daily as (
    select
        request_date,
        count(*) as hits,
        count(*) filter (where is_human_page) as page_hits,
        count(*) filter (where is_human_page and is_tracked) as tracked_page_hits,
        count(*) filter (where is_human_page and not is_tracked) as log_only_page_hits,
        count(*) filter (where is_asset) as asset_hits,
        count(*) filter (where is_bot) as bot_hits,
        count(distinct visitor_key) filter (where not is_bot) as visitors,
        count(distinct ip) filter (where not is_bot) as visitor_ips,
        count(*) filter (where status between 200 and 299) as status_2xx,
        count(*) filter (where status between 300 and 399) as status_3xx,
        count(*) filter (where status between 400 and 499) as status_4xx,
        count(*) filter (where status >= 500) as status_5xx,
        sum(bytes) as bytes
    from hits
    group by request_date
),
daily_sessions as (
    select
        session_date as request_date,
        count(*) filter (where not is_bot and page_views > 0) as human_sessions,
        count(*) filter (where is_bot) as bot_sessions,
        count(*) filter (where bot_reason = 'ua_pattern') as bot_sessions_ua_pattern,
        count(*) filter (where bot_reason = 'no_user_agent') as bot_sessions_no_user_agent,
        count(*) filter (where bot_reason = 'high_request_rate') as bot_sessions_high_request_rate,
        count(*) filter (where bot_reason = 'too_many_pages') as bot_sessions_too_many_pages,
        count(*) filter (where bot_reason = 'no_assets') as bot_sessions_no_assets
    from sessions
    {% if incremental %}where session_date >= (select rebuild_from_date from w){% endif %}
    group by session_date
),
top_pages as (
    select request_date, string_agg(path_clean || ' (' || n || ')', ', ' order by n desc, path_clean) as top_pages
    from (
        select request_date, path_clean, count(*) as n,
               row_number() over (partition by request_date order by count(*) desc, path_clean) as rk
        from hits where is_human_page and path_clean is not null
        group by request_date, path_clean
    ) where rk <= 5 group by request_date
),
top_referrers as (
    select request_date, string_agg(referrer || ' (' || n || ')', ', ' order by n desc, referrer) as top_referrers
    from (
        select request_date, referrer, count(*) as n,
               row_number() over (partition by request_date order by count(*) desc, referrer) as rk
        from hits where is_human_page and referrer is not null
        group by request_date, referrer
    ) where rk <= 5 group by request_date
)
select
    d.request_date::date as request_date,
    d.hits::integer as hits,
    d.page_hits::integer as page_hits,
    d.asset_hits::integer as asset_hits,
    d.bot_hits::integer as bot_hits,
    round(d.bot_hits / d.hits, 4)::decimal(6, 4) as bot_share,
    d.visitors::integer as visitors,
    d.visitor_ips::integer as visitor_ips,
    d.status_2xx::integer as status_2xx,
    d.status_3xx::integer as status_3xx,
    d.status_4xx::integer as status_4xx,
    d.status_5xx::integer as status_5xx,
    coalesce(d.bytes, 0)::bigint as bytes,
    p.top_pages::varchar as top_pages,
    r.top_referrers::varchar as top_referrers,
    d.tracked_page_hits::integer as tracked_page_hits,
    d.log_only_page_hits::integer as log_only_page_hits,
    coalesce(s.human_sessions, 0)::integer as human_sessions,
    coalesce(s.bot_sessions, 0)::integer as bot_sessions,
    coalesce(s.bot_sessions_ua_pattern, 0)::integer as bot_sessions_ua_pattern,
    coalesce(s.bot_sessions_no_user_agent, 0)::integer as bot_sessions_no_user_agent,
    coalesce(s.bot_sessions_high_request_rate, 0)::integer as bot_sessions_high_request_rate,
    coalesce(s.bot_sessions_too_many_pages, 0)::integer as bot_sessions_too_many_pages,
    coalesce(s.bot_sessions_no_assets, 0)::integer as bot_sessions_no_assets
from daily d
left join daily_sessions s using (request_date)
left join top_pages p using (request_date)
left join top_referrers r using (request_date)
