-- Tracker events, one per event_id (the first delivered copy wins; ingest already dedups, this
-- guards re-sends across days), dated by their own timestamp in UTC, not by the delivery file.
select
    event_id, event_type, event_ts,
    cast(timezone('UTC', event_ts) as date) as event_date,
    anonymous_id,
    nullif(trim(user_id), '') as user_id,
    page_url, nullif(referrer, '') as referrer,
    nullif(utm_source, '') as utm_source, nullif(utm_medium, '') as utm_medium,
    nullif(utm_campaign, '') as utm_campaign,
    nullif(product_id, '') as product_id, nullif(order_id, '') as order_id,
    revenue, ip, user_agent,
    _partition as delivered_on
from {{ source('raw', 'clickstream_events') }}
qualify row_number() over (partition by event_id order by _partition, _line_number) = 1
