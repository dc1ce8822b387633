-- depends_on: {{ ref('int_web_rebuild_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    unique_key='session_id',
    replace_where='session_start_ts >= __REBUILD_FROM_TS__',
    on_schema_change='append_new_columns'
) }}
-- One row per web visit, never two for the same visit:
--   source = 'clickstream': a tracker session (int_events_sessionized: more than
--     session_timeout_minutes of inactivity or a new utm campaign opens a session), with the
--     customer of its last identified event (int_sessions_stitched: own user_id, else the cookie's
--     customer; shared and placeholder cookies never). Access-log page hits of the same visit
--     (same ip + user agent within the session's window widened by the timeout) are not another
--     session: the ones the tracker also recorded are not counted again, the ones it missed are
--     log_only_page_views (and rows of fct_page_views with source 'weblogs');
--   source = 'weblogs': a log-only visit, the page hits of a human access-log session that no
--     single tracker visitor explains (no tracker session of that ip + user agent in the window, or
--     several: a shared address is never attributed). No customer: nothing identifies it. Bot
--     sessions are never here (web_bot_sessions).
-- Landing/exit page = page of the first/last event (log: first/last page hit); first values break
-- event_ts ties by event_id. is_converted = the session has a purchase event (logs: never).
-- Incremental: rewrites every session starting at or after the watermark (int_web_rebuild_window),
-- plus every earlier tracker session whose customer changed since it was written (a visitor who
-- identifies today is attributed back, as in a full rebuild).
{% set incremental = is_incremental() %}
with
{% if incremental %}
w as (
    select rebuild_from_ts from {{ ref('int_web_rebuild_window') }}
),
{% endif %}
session_customers as (
    select session_id, customer_id from {{ ref('int_sessions_stitched') }}
),
{% if incremental %}
restitched as (
    select t.session_id
    from {{ this }} t
    join session_customers c using (session_id)
    where t.source = 'clickstream'
      and t.customer_id is distinct from c.customer_id
      and t.session_start_ts < (select rebuild_from_ts from w)
),
{% endif %}
ev as (
    select * from {{ ref('int_events_sessionized') }}
    {% if incremental %}
    where session_start_ts >= (select rebuild_from_ts from w)
       or session_id in (select session_id from restitched)
    {% endif %}
),
log_pages as (
    select * from {{ ref('int_weblog_page_views') }} where not is_tracked
),
tracker as (
    select
        session_id,
        any_value(anonymous_id) as anonymous_id,
        min(session_date) as session_date,
        min(event_ts) as session_start_ts,
        max(event_ts) as session_end_ts,
        count(*) as events,
        count(*) filter (where event_type = 'page_view') as page_views,
        count(*) filter (where event_type = 'product_view') as product_views,
        count(*) filter (where event_type = 'search') as searches,
        count(*) filter (where event_type = 'add_to_cart') as add_to_carts,
        count(*) filter (where event_type = 'checkout') as checkouts,
        count(*) filter (where event_type = 'purchase') as purchases,
        coalesce(sum(revenue) filter (where event_type = 'purchase'), 0) as purchase_revenue,
        arg_min(page_path, (event_ts, event_id)) as landing_page,
        arg_max(page_path, (event_ts, event_id)) as exit_page,
        arg_min(referrer, (event_ts, event_id)) as referrer,
        arg_min(utm_source, (event_ts, event_id)) as utm_source,
        arg_min(utm_medium, (event_ts, event_id)) as utm_medium,
        arg_min(utm_campaign, (event_ts, event_id)) as utm_campaign,
        arg_min(device_type, (event_ts, event_id)) as device_type,
        count(*) = 1 as is_bounce,
        count(*) filter (where event_type = 'purchase') > 0 as is_converted,
        'clickstream' as source
    from ev
    group by session_id
),
tracker_log_pages as (
    select session_id, count(*) as log_only_page_views
    from log_pages
    where stitch_status = 'stitched' and session_id in (select session_id from tracker)
    group by session_id
),
log_sessions as (
    select
        session_id,
        null as anonymous_id,
        cast(timezone('UTC', min(request_ts)) as date) as session_date,
        min(request_ts) as session_start_ts,
        max(request_ts) as session_end_ts,
        count(*) as events,
        count(*) as page_views,
        0 as product_views, 0 as searches, 0 as add_to_carts, 0 as checkouts, 0 as purchases,
        0 as purchase_revenue,
        arg_min(path_clean, (request_ts, _source_file, _line_number)) as landing_page,
        arg_max(path_clean, (request_ts, _source_file, _line_number)) as exit_page,
        arg_min(referrer, (request_ts, _source_file, _line_number)) as referrer,
        arg_min(utm_source, (request_ts, _source_file, _line_number)) as utm_source,
        arg_min(utm_medium, (request_ts, _source_file, _line_number)) as utm_medium,
        arg_min(utm_campaign, (request_ts, _source_file, _line_number)) as utm_campaign,
        arg_min(device_type, (request_ts, _source_file, _line_number)) as device_type,
        count(*) = 1 as is_bounce,
        false as is_converted,
        count(*) as log_only_page_views,
        'weblogs' as source
    from (
        select p.session_id, p.request_ts, p.path_clean, h.referrer, h.utm_source, h.utm_medium,
               h.utm_campaign, {{ device_type('h.user_agent') }} as device_type, h._source_file, h._line_number
        from log_pages p
        join {{ ref('int_weblog_hits_sessionized') }} h on h.hit_id = p.hit_id
        where p.stitch_status <> 'stitched'
        {% if incremental %}
        -- whole log-only visits whose first page may be at or after the watermark
          and p.session_id in (
              select session_id from log_pages
              where stitch_status <> 'stitched' and request_ts >= (select rebuild_from_ts from w)
          )
        {% endif %}
    )
    group by session_id
    {% if incremental %}having min(request_ts) >= (select rebuild_from_ts from w){% endif %}
)
select
    s.session_id::varchar as session_id,
    s.anonymous_id::varchar as anonymous_id,
    c.customer_id::varchar as customer_id,
    s.session_date::date as session_date,
    s.session_start_ts::timestamptz as session_start_ts,
    s.session_end_ts::timestamptz as session_end_ts,
    date_diff('second', s.session_start_ts, s.session_end_ts)::integer as duration_seconds,
    s.events::integer as events,
    s.page_views::integer as page_views,
    s.product_views::integer as product_views,
    s.searches::integer as searches,
    s.add_to_carts::integer as add_to_carts,
    s.checkouts::integer as checkouts,
    s.purchases::integer as purchases,
    s.purchase_revenue::decimal(18, 2) as purchase_revenue,
    s.landing_page::varchar as landing_page,
    s.referrer::varchar as referrer,
    s.utm_source::varchar as utm_source,
    s.utm_medium::varchar as utm_medium,
    s.utm_campaign::varchar as utm_campaign,
    s.device_type::varchar as device_type,
    s.is_bounce::boolean as is_bounce,
    s.source::varchar as source,
    s.exit_page::varchar as exit_page,
    s.is_converted::boolean as is_converted,
    coalesce(s.log_only_page_views, 0)::integer as log_only_page_views
from (
    select t.*, l.log_only_page_views
    from tracker t left join tracker_log_pages l using (session_id)
    union all by name
    select * from log_sessions
) s
left join session_customers c on c.session_id = s.session_id and s.source = 'clickstream'
