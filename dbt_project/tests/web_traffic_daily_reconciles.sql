{{ config(meta={'dagster': {'ref': {'name': 'web_traffic_daily'}}}) }}
-- web_traffic_daily drops nothing and its parts add up: every log line of staging is one hit of
-- its day; bot hits are the hits of bot sessions; human page hits = tracked + log-only; bot
-- sessions = the sum of the per-reason counts = web_bot_sessions of the day.
with hits as (
    select request_date, count(*) as hits from {{ ref('stg_weblogs__hits') }} group by request_date
),
bots as (
    select session_date as request_date, count(*) as bot_sessions
    from {{ ref('web_bot_sessions') }} group by session_date
)
select d.request_date, 'hits differ from the log lines' as problem
from {{ ref('web_traffic_daily') }} d full join hits h using (request_date)
where d.hits is distinct from h.hits
union all
select request_date, 'parts do not add up' from {{ ref('web_traffic_daily') }}
where page_hits <> tracked_page_hits + log_only_page_hits
   or bot_sessions <> bot_sessions_ua_pattern + bot_sessions_no_user_agent + bot_sessions_high_request_rate
                      + bot_sessions_too_many_pages + bot_sessions_no_assets
   or bot_hits > hits or page_hits + asset_hits > hits
union all
select d.request_date, 'bot sessions differ from web_bot_sessions'
from {{ ref('web_traffic_daily') }} d left join bots b using (request_date)
where d.bot_sessions <> coalesce(b.bot_sessions, 0)
