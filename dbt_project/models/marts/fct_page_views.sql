{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_date',
    on_schema_change='append_new_columns'
) }}
-- One row per page or product view from the tracker, with its session and stitched customer.
-- Incremental: a run with min_date/max_date rebuilds every event day that has events delivered in
-- [min_date, max_date) (late events included), plus every earlier day with a view whose stitched
-- customer changed since it was built (attributed back once the visitor identifies);
-- delete+insert on event_date.
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
    delivered_on::date as delivered_on
from {{ ref('int_events_sessionized') }}
where event_type in ('page_view', 'product_view')
{% if is_incremental() or var('min_date') or var('max_date') %}
  and event_date in (
    {{ affected_event_days(ref('int_events_sessionized'), 'event_date') }}
    {% if is_incremental() %}
    union
    {{ restitched_days('event_date', 'event_id',
        "select event_id, customer_id from " ~ ref('int_events_sessionized')
        ~ " where event_type in ('page_view', 'product_view')") }}
    {% endif %}
  )
{% endif %}
