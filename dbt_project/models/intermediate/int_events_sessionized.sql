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
fresh as not materialized (
    select
        e.*,
        coalesce(e.anonymous_id, 'ipua:' || {{ visitor_key('e.ip', 'e.user_agent') }}) as session_key,
        {{ campaign_key('e.utm_source', 'e.utm_medium', 'e.utm_campaign') }} as campaign_key
    from {{ ref('stg_clickstream__events') }} e
    {% if incremental %}where e.event_date >= (select rebuild_from_day from bounds){% endif %}
),
-- the cut works on a narrow timeline (sorting whole event rows would cost gigabytes at tier M);
-- the other columns are joined back by event_id
timeline as (
    select session_key, event_ts, event_id, campaign_key,
           null::varchar as carried_session_id, null::timestamptz as carried_start_ts, false as is_context
    from fresh
    {% if incremental %}
    union all
    -- the last stored event of each visitor on the day before: its session may go on
    select * from (
        select t.session_key, t.event_ts, t.event_id, t.session_campaign_key,
               t.session_id, t.session_start_ts, true
        from {{ this }} t
        where t.event_date = (select rebuild_from_day - 1 from bounds)
          and t.session_key in (select session_key from fresh)
        qualify row_number() over (partition by t.session_key order by t.event_ts desc, t.event_id desc) = 1
    )
    {% endif %}
),
sessionized as (
    select event_id, session_id, session_start_ts, session_campaign_key
    from ({{ sessionize('timeline', 'session_key', 'event_ts', 'event_id', 'event_id') }})
    where not is_context
)
select
    e.event_id, e.event_type, e.event_ts, e.event_date, e.delivered_on,
    e.anonymous_id, e.user_id, e.session_key,
    s.session_id,
    s.session_start_ts,
    cast(timezone('UTC', s.session_start_ts) as date) as session_date,
    e.campaign_key, s.session_campaign_key,
    e.page_url,
    nullif(regexp_extract(e.page_url, '^[a-z]+://[^/]+(/[^?#]*)', 1), '') as page_path,
    e.referrer, e.utm_source, e.utm_medium, e.utm_campaign, e.product_id, e.order_id, e.revenue,
    e.ip, e.user_agent, {{ visitor_key('e.ip', 'e.user_agent') }} as visitor_key,
    {{ device_type('e.user_agent') }} as device_type
from fresh e
join sessionized s using (event_id)
