-- depends_on: {{ ref('int_weblog_hits_classified') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='session_date',
    on_schema_change='append_new_columns'
) }}
-- One row per web session, from two sources:
--   source = 'clickstream': tracker sessions (int_events_sessionized: 30-minute inactivity rule, a
--     new campaign starts a new session), stitched to a customer: the customer of the session's
--     last identified event (its own user_id, else the customer its cookie resolves to; shared
--     cookies resolve to nobody);
--   source = 'weblogs': sessions of visitors the tracker never saw that day (int_weblog_sessions),
--     same rule, page views only, no customer.
-- First/last values of a session (landing page, referrer, utm, device, customer) break event_ts
-- ties by event_id, so a rebuild always picks the same event.
-- Incremental: rebuilds every session day touched by tracker events or log hits delivered in
-- [min_date, max_date) (both sources for the same days, so delete+insert never drops one), plus
-- every earlier day holding a tracker session whose stitched customer changed since it was built
-- (a visitor who identifies today is attributed back on their earlier sessions, as in a full
-- rebuild).
{% set windowed = is_incremental() or var('min_date') or var('max_date') %}
with
{% if windowed %}
days as (
    {{ affected_event_days(ref('int_events_sessionized'), 'session_date') }}
    union
    select distinct cast(timezone('UTC', request_ts) as date) from {{ ref('int_weblog_hits_classified') }}
    where {{ in_run_window('delivered_on') }}
    {% if is_incremental() %}
    union
    {{ restitched_days('session_date', 'session_id',
        "select session_id, arg_max(customer_id, (event_ts, event_id)) filter (where customer_id is not null) as customer_id
         from " ~ ref('int_events_sessionized') ~ " group by session_id") }}
    {% endif %}
),
{% endif %}
ev as (
    select * from {{ ref('int_events_sessionized') }}
    {% if windowed %}where session_date in (select * from days){% endif %}
),
tracker as (
    select
        session_id,
        any_value(anonymous_id) as anonymous_id,
        arg_max(customer_id, (event_ts, event_id)) filter (where customer_id is not null) as customer_id,
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
        arg_min(referrer, (event_ts, event_id)) as referrer,
        arg_min(utm_source, (event_ts, event_id)) as utm_source,
        arg_min(utm_medium, (event_ts, event_id)) as utm_medium,
        arg_min(utm_campaign, (event_ts, event_id)) as utm_campaign,
        arg_min(device_type, (event_ts, event_id)) as device_type,
        count(*) = 1 as is_bounce,
        'clickstream' as source
    from ev
    group by session_id
),
logs as (
    select
        session_id, null as anonymous_id, null as customer_id, session_date, session_start_ts, session_end_ts,
        page_views as events, page_views, 0 as product_views, 0 as searches, 0 as add_to_carts,
        0 as checkouts, 0 as purchases, 0 as purchase_revenue, landing_page, referrer, utm_source,
        utm_medium, utm_campaign, device_type, page_views = 1 as is_bounce, 'weblogs' as source
    from {{ ref('int_weblog_sessions') }}
    {% if windowed %}where session_date in (select * from days){% endif %}
)
select
    session_id::varchar as session_id,
    anonymous_id::varchar as anonymous_id,
    customer_id::varchar as customer_id,
    session_date::date as session_date,
    session_start_ts::timestamptz as session_start_ts,
    session_end_ts::timestamptz as session_end_ts,
    date_diff('second', session_start_ts, session_end_ts)::integer as duration_seconds,
    events::integer as events,
    page_views::integer as page_views,
    product_views::integer as product_views,
    searches::integer as searches,
    add_to_carts::integer as add_to_carts,
    checkouts::integer as checkouts,
    purchases::integer as purchases,
    purchase_revenue::decimal(18, 2) as purchase_revenue,
    landing_page::varchar as landing_page,
    referrer::varchar as referrer,
    utm_source::varchar as utm_source,
    utm_medium::varchar as utm_medium,
    utm_campaign::varchar as utm_campaign,
    device_type::varchar as device_type,
    is_bounce::boolean as is_bounce,
    source::varchar as source
from (select * from tracker union all by name select * from logs)
