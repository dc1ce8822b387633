{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='request_date',
    on_schema_change='append_new_columns'
) }}
-- Web server traffic per day from the access logs (int_weblog_hits_classified): hits, page hits,
-- bot share, distinct human visitors (ip + user agent), status classes, bytes, and the top 5 human
-- page paths and external referrers as 'value (hits)' lists. Incremental on request_date: a run
-- rebuilds every day with hits delivered in [min_date, max_date).
with hits as (
    select *, is_page and not is_bot as is_human_page
    from (
        select *, (not is_asset and not is_bot and method in ('GET', 'HEAD') and status < 400) as is_page
        from {{ ref('int_weblog_hits_classified') }}
    )
    {% if is_incremental() or var('min_date') or var('max_date') %}
    where request_date in ({{ affected_event_days(ref('int_weblog_hits_classified'), 'request_date') }})
    {% endif %}
),
daily as (
    select
        request_date,
        count(*) as hits,
        count(*) filter (where is_human_page) as page_hits,
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
    r.top_referrers::varchar as top_referrers
from daily d
left join top_pages p using (request_date)
left join top_referrers r using (request_date)
