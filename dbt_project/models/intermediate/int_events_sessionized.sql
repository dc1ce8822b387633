{{ config(materialized="table") }}
-- A table, not a view: sessionizing every event is the expensive step; it is done once per build
-- and read by fct_sessions, fct_page_views and the tests.
-- Tracker events cut into sessions per anonymous cookie: a new session starts after more than
-- session_timeout_minutes of inactivity, or when an event brings a campaign (utm source/medium/
-- campaign) different from the one in force. session_id = md5(anonymous_id || first event ts).
-- customer_id: the event's own user_id when it is a CRM customer (not a placeholder), else the
-- customer the cookie resolves to (int_identity_map, shared cookies never resolve).
with events as (
    select e.*,
        case when e.utm_source is not null or e.utm_medium is not null or e.utm_campaign is not null
             then concat_ws('|', coalesce(e.utm_source, ''), coalesce(e.utm_medium, ''), coalesce(e.utm_campaign, ''))
        end as campaign_key
    from {{ ref('stg_clickstream__events') }} e
),
flagged as (
    select *,
        lag(event_ts) over w as prev_ts,
        last_value(campaign_key ignore nulls) over (w rows between unbounded preceding and 1 preceding) as campaign_in_force
    from events
    window w as (partition by anonymous_id order by event_ts, event_id)
),
numbered as (
    select *,
        sum(case
                when prev_ts is null then 1
                when event_ts - prev_ts > interval '{{ var("session_timeout_minutes") | int }} minutes' then 1
                when campaign_key is not null and campaign_key is distinct from campaign_in_force then 1
                else 0
            end) over (partition by anonymous_id order by event_ts, event_id rows unbounded preceding) as session_no
    from flagged
),
sessions as (
    select *, min(event_ts) over (partition by anonymous_id, session_no) as session_start_ts
    from numbered
)
select
    s.event_id, s.event_type, s.event_ts, s.event_date, s.delivered_on, s.anonymous_id,
    md5(s.anonymous_id || '|' || cast(s.session_start_ts as varchar)) as session_id,
    s.session_start_ts,
    cast(timezone('UTC', s.session_start_ts) as date) as session_date,
    coalesce(k.customer_id, m.customer_id) as customer_id,
    s.page_url,
    regexp_extract(s.page_url, '^[a-z]+://[^/]+(/[^?#]*)', 1) as page_path,
    s.referrer, s.utm_source, s.utm_medium, s.utm_campaign, s.product_id, s.order_id, s.revenue,
    s.ip, s.user_agent, {{ device_type('s.user_agent') }} as device_type
from sessions s
left join {{ ref('stg_crm__customers') }} k
       on k.customer_id = s.user_id
      and lower(s.user_id) not in (select lower(trim(placeholder_id)) from {{ ref('identity_placeholder_ids') }})
left join {{ ref('int_identity_map') }} m on m.anonymous_id = s.anonymous_id
