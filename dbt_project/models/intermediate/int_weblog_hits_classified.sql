-- Access-log hits classified: is_bot (user agent matching a bot_user_agent_patterns seed row, case-
-- insensitive substring, or no user agent at all), is_asset (static file by extension), is_page
-- (a successful non-asset GET/HEAD by a non-bot). visitor_key = md5(ip | user agent).
with patterns as (
    select lower(pattern) as pattern from {{ ref('bot_user_agent_patterns') }}
)
select
    h.*,
    (h.user_agent is null
     or exists (select 1 from patterns p where contains(lower(h.user_agent), p.pattern))) as is_bot,
    regexp_matches(lower(coalesce(h.path_clean, '')),
                   '\.(css|js|mjs|map|png|jpe?g|gif|svg|webp|ico|woff2?|ttf|eot|txt|xml)$') as is_asset,
    md5(coalesce(h.ip, '') || '|' || coalesce(h.user_agent, '')) as visitor_key
from {{ ref('stg_weblogs__hits') }} h
