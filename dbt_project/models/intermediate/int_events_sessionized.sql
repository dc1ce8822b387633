{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where='event_date >= __REBUILD_FROM_DAY__',
    on_schema_change='sync_all_columns'
) }}
-- Tracker events cut into sessions, per visitor (session_key = the cookie anonymous_id; events
-- whose cookie is missing or a placeholder fall back to 'ipua:' || md5(ip | user agent), so they
-- never merge into one giant session): a new session after more than session_timeout_minutes of
-- inactivity, or when an event brings a campaign (utm source/medium/campaign) different from the
-- one in force (macro sessionize). session_id = md5(session_key | start in epoch us | first event_id).
-- No customer here: who a session belongs to changes as the identity graph learns (int_events_stitched
-- resolves it at read time), while the cut itself never changes once its events are known.
-- Incremental (macro web_incremental): re-cuts every event dated on or after the first day with
-- events delivered in the run window, continuing from each visitor's last stored event of the day
-- before; earlier days are not read.
{% set incremental = is_incremental() %}
with
{% if incremental %}
bounds as (
    select {{ web_rebuild_from_day() }} as rebuild_from_day
),
{% endif %}
fresh as (
    select
        e.*,
        coalesce(e.anonymous_id, 'ipua:' || {{ visitor_key('e.ip', 'e.user_agent') }}) as session_key,
        {{ campaign_key('e.utm_source', 'e.utm_medium', 'e.utm_campaign') }} as campaign_key,
        null::varchar as carried_session_id,
        null::timestamptz as carried_start_ts,
        false as is_context
    from {{ ref('stg_clickstream__events') }} e
    {% if incremental %}where e.event_date >= (select rebuild_from_day from bounds){% endif %}
),
{% if incremental %}
-- the last stored event of each visitor on the day before: its session may go on
context as (
    select t.session_key, t.event_ts, t.event_id,
           t.session_campaign_key as campaign_key,
           t.session_id as carried_session_id,
           t.session_start_ts as carried_start_ts,
           true as is_context
    from {{ this }} t
    where t.event_date = (select rebuild_from_day - 1 from bounds)
      and t.session_key in (select session_key from fresh)
    qualify row_number() over (partition by t.session_key order by t.event_ts desc, t.event_id desc) = 1
),
{% endif %}
timeline as (
    select * from fresh
    {% if incremental %}union all by name select * from context{% endif %}
),
sessionized as (
    {{ sessionize('timeline', 'session_key', 'event_ts', 'event_id', 'event_id') }}
)
select
    s.event_id, s.event_type, s.event_ts, s.event_date, s.delivered_on,
    s.anonymous_id, s.user_id, s.session_key,
    s.session_id,
    s.session_start_ts,
    cast(timezone('UTC', s.session_start_ts) as date) as session_date,
    s.campaign_key, s.session_campaign_key,
    s.page_url,
    nullif(regexp_extract(s.page_url, '^[a-z]+://[^/]+(/[^?#]*)', 1), '') as page_path,
    s.referrer, s.utm_source, s.utm_medium, s.utm_campaign, s.product_id, s.order_id, s.revenue,
    s.ip, s.user_agent, {{ visitor_key('s.ip', 's.user_agent') }} as visitor_key,
    {{ device_type('s.user_agent') }} as device_type
from sessionized s
where not s.is_context
