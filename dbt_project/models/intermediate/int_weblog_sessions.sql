{{ config(materialized="table") }}
-- A table: sessionizing all log hits is computed once per build, then read by fct_sessions and tests.
-- Sessions of visitors the tracker never saw, from the access logs: human page hits (not a bot, not
-- a static asset, GET/HEAD, status < 400) of visitor keys (md5 of ip | user agent) that have no
-- tracker event on the same day, cut with the same rule as the tracker (more than
-- session_timeout_minutes of inactivity, or a new utm campaign in the query string). Tracked
-- visitors are left out so fct_sessions does not count them twice. No customer: logs carry no identity.
with tracked as (
    select distinct event_date, md5(coalesce(ip, '') || '|' || coalesce(user_agent, '')) as visitor_key
    from {{ ref('stg_clickstream__events') }}
),
hits as (
    select
        h.request_ts, h.request_date, h.visitor_key, h.path_clean, h.referrer, h.user_agent, h._line_number,
        h._source_file,
        nullif(regexp_extract(h.path, '[?&]utm_source=([^&#]*)', 1), '') as utm_source,
        nullif(regexp_extract(h.path, '[?&]utm_medium=([^&#]*)', 1), '') as utm_medium,
        nullif(regexp_extract(h.path, '[?&]utm_campaign=([^&#]*)', 1), '') as utm_campaign
    from {{ ref('int_weblog_hits_classified') }} h
    where not h.is_bot and not h.is_asset and h.method in ('GET', 'HEAD') and h.status < 400
      and not exists (
          select 1 from tracked t where t.event_date = h.request_date and t.visitor_key = h.visitor_key
      )
),
keyed as (
    select *,
        case when utm_source is not null or utm_medium is not null or utm_campaign is not null
             then concat_ws('|', coalesce(utm_source, ''), coalesce(utm_medium, ''), coalesce(utm_campaign, ''))
        end as campaign_key
    from hits
),
flagged as (
    select *,
        lag(request_ts) over w as prev_ts,
        last_value(campaign_key ignore nulls) over (w rows between unbounded preceding and 1 preceding) as campaign_in_force
    from keyed
    window w as (partition by visitor_key order by request_ts, _source_file, _line_number)
),
numbered as (
    select *,
        sum(case
                when prev_ts is null then 1
                when request_ts - prev_ts > interval '{{ var("session_timeout_minutes") | int }} minutes' then 1
                when campaign_key is not null and campaign_key is distinct from campaign_in_force then 1
                else 0
            end) over (partition by visitor_key order by request_ts, _source_file, _line_number rows unbounded preceding) as session_no
    from flagged
)
select
    md5('weblogs|' || visitor_key || '|' || cast(min(request_ts) as varchar)) as session_id,
    visitor_key,
    cast(timezone('UTC', min(request_ts)) as date) as session_date,
    min(request_ts) as session_start_ts,
    max(request_ts) as session_end_ts,
    count(*) as page_views,
    arg_min(path_clean, (request_ts, _source_file, _line_number)) as landing_page,
    arg_min(referrer, (request_ts, _source_file, _line_number)) as referrer,
    arg_min(utm_source, (request_ts, _source_file, _line_number)) as utm_source,
    arg_min(utm_medium, (request_ts, _source_file, _line_number)) as utm_medium,
    arg_min(utm_campaign, (request_ts, _source_file, _line_number)) as utm_campaign,
    {{ device_type('arg_min(user_agent, (request_ts, _source_file, _line_number))') }} as device_type
from numbered
group by visitor_key, session_no
