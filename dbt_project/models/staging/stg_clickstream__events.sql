select
    event_id, event_type, event_ts, cast(timezone('UTC', event_ts) as date) as event_date, anonymous_id,
    nullif(user_id, '') as user_id, page_url, referrer, utm_source, utm_medium, utm_campaign, product_id,
    order_id, revenue, ip, user_agent, _partition as delivered_on
from {{ source('raw', 'clickstream_events') }}
qualify row_number() over (partition by event_id order by _partition, _line_number) = 1
