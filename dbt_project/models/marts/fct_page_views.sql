-- depends_on: {{ ref('int_web_rebuild_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    unique_key='event_id',
    replace_where='event_ts >= __REBUILD_FROM_TS__',
    on_schema_change='append_new_columns'
) }}
-- One row per page view, each counted once:
--   source = 'clickstream': every page_view / product_view event of the tracker, with its session
--     and the customer it is attributed to (its own user_id, else its cookie's customer);
--   source = 'weblogs': an access-log page hit of a human visitor that the tracker did NOT record
--     (int_weblog_page_views, not is_tracked; a hit the tracker also recorded within
--     weblog_tracker_twin_seconds is the same page load and stays counted once, by the tracker).
--     When the log session is stitched (ip + user agent within the widened window of one tracker
--     visitor's session) the page view joins that tracker session and carries its customer;
--     otherwise it belongs to its log-only session (fct_sessions source 'weblogs'), no customer.
--     event_id = the log line ('<file>:<line>'), page_url = the requested path and query.
-- Incremental: rewrites every page view at or after the watermark (int_web_rebuild_window), plus
-- every earlier one whose customer changed since it was written (attributed back).
{% set incremental = is_incremental() %}
with
{% if incremental %}
w as (
    select rebuild_from_ts from {{ ref('int_web_rebuild_window') }}
),
{% endif %}
-- who each page view is attributed to today (narrow: compared with what is stored)
current_customers as (
    select event_id, customer_id
    from {{ ref('int_events_stitched') }}
    where event_type in ('page_view', 'product_view')
    union all
    select p.hit_id, case when p.stitch_status = 'stitched' then c.customer_id end
    from {{ ref('int_weblog_page_views') }} p
    left join {{ ref('int_sessions_stitched') }} c on c.session_id = p.session_id
    where not p.is_tracked
),
{% if incremental %}
restitched as (
    select t.event_id
    from {{ this }} t
    join current_customers c using (event_id)
    where t.customer_id is distinct from c.customer_id
      and t.event_ts < (select rebuild_from_ts from w)
),
{% endif %}
tracker as (
    select
        event_id, event_type, event_ts, event_date, session_id, anonymous_id, customer_id, page_url,
        page_path, product_id, referrer, utm_source, utm_medium, utm_campaign, device_type,
        delivered_on, 'clickstream' as source
    from {{ ref('int_events_stitched') }}
    where event_type in ('page_view', 'product_view')
    {% if incremental %}
      and (event_ts >= (select rebuild_from_ts from w) or event_id in (select event_id from restitched))
    {% endif %}
),
logs as (
    select
        p.hit_id as event_id, 'page_view' as event_type, p.request_ts as event_ts,
        p.request_date as event_date, p.session_id, p.anonymous_id, c.customer_id,
        h.path as page_url, p.path_clean as page_path, null as product_id, h.referrer,
        h.utm_source, h.utm_medium, h.utm_campaign, {{ device_type('h.user_agent') }} as device_type,
        h.delivered_on, 'weblogs' as source
    from {{ ref('int_weblog_page_views') }} p
    join {{ ref('int_weblog_hits_sessionized') }} h on h.hit_id = p.hit_id
    left join current_customers c on c.event_id = p.hit_id
    where not p.is_tracked
    {% if incremental %}
      and (p.request_ts >= (select rebuild_from_ts from w) or p.hit_id in (select event_id from restitched))
    {% endif %}
),
batch as (
    select * from tracker
    union all by name
    select * from logs
)
select
    event_id::varchar as event_id,
    event_type::varchar as event_type,
    event_ts::timestamptz as event_ts,
    event_date::date as event_date,
    session_id::varchar as session_id,
    anonymous_id::varchar as anonymous_id,
    customer_id::varchar as customer_id,
    page_url::varchar as page_url,
    page_path::varchar as page_path,
    product_id::varchar as product_id,
    referrer::varchar as referrer,
    utm_source::varchar as utm_source,
    utm_medium::varchar as utm_medium,
    utm_campaign::varchar as utm_campaign,
    device_type::varchar as device_type,
    delivered_on::date as delivered_on,
    source::varchar as source
from batch
