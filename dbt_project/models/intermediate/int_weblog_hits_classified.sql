-- Access-log hits with what each hit says on its own (whether a visitor is a bot is decided per log
-- session, in int_weblog_sessions):
--   ua_bot_pattern  the first bot_user_agent_patterns seed row found in the user agent (case-
--                   insensitive substring), null when none matches or there is no user agent;
--   is_asset        static file by extension (css, js, images, fonts, robots.txt, sitemap.xml ...);
--   is_page         a page view: not an asset, GET or HEAD, status below 400;
--   visitor_key     md5(ip | user agent), the same key the tracker events get;
--   utm_* and campaign_key from the query string of non-asset requests.
-- The seed is matched once per distinct user agent and joined, so that a filter on request_date
-- (incremental runs) reaches the scan of the log lines.
with patterns as (
    select lower(pattern) as pattern from {{ ref('bot_user_agent_patterns') }}
),
agents as (
    select a.user_agent, min(p.pattern) as ua_bot_pattern
    from (select distinct user_agent from {{ ref('stg_weblogs__hits') }} where user_agent is not null) a
    join patterns p on contains(lower(a.user_agent), p.pattern)
    group by a.user_agent
),
hits as (
    select h.*,
        regexp_matches(lower(coalesce(h.path_clean, '')),
                       '\.(css|js|mjs|map|png|jpe?g|gif|svg|webp|ico|woff2?|ttf|eot|txt|xml)$') as is_asset
    from {{ ref('stg_weblogs__hits') }} h
),
utm as (
    select *,
        case when not is_asset then nullif(regexp_extract(path, '[?&]utm_source=([^&#]*)', 1), '') end as utm_source,
        case when not is_asset then nullif(regexp_extract(path, '[?&]utm_medium=([^&#]*)', 1), '') end as utm_medium,
        case when not is_asset then nullif(regexp_extract(path, '[?&]utm_campaign=([^&#]*)', 1), '') end as utm_campaign
    from hits
)
select
    u.*,
    a.ua_bot_pattern,
    (not u.is_asset and u.method in ('GET', 'HEAD') and u.status < 400) as is_page,
    {{ visitor_key('u.ip', 'u.user_agent') }} as visitor_key,
    {{ campaign_key('u.utm_source', 'u.utm_medium', 'u.utm_campaign') }} as campaign_key
from utm u
left join agents a on a.user_agent = u.user_agent
