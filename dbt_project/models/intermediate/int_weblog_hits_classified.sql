-- Access-log hits with what each hit says on its own (whether a visitor is a bot is decided per log
-- session, in int_weblog_sessions):
--   ua_bot_pattern  the first bot_user_agent_patterns seed row found in the user agent (case-
--                   insensitive substring), null when none matches or there is no user agent;
--   is_asset        static file by extension (css, js, images, fonts, robots.txt, sitemap.xml ...);
--   is_page         a page view: not an asset, GET or HEAD, status below 400;
--   visitor_key     md5(ip | user agent), the same key the tracker events get;
--   utm_* and campaign_key from the query string of non-asset requests.
with patterns as (
    select lower(pattern) as pattern from {{ ref('bot_user_agent_patterns') }}
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
    (select min(p.pattern) from patterns p where contains(lower(u.user_agent), p.pattern)) as ua_bot_pattern,
    (not u.is_asset and u.method in ('GET', 'HEAD') and u.status < 400) as is_page,
    {{ visitor_key('u.ip', 'u.user_agent') }} as visitor_key,
    {{ campaign_key('u.utm_source', 'u.utm_medium', 'u.utm_campaign') }} as campaign_key
from utm u
