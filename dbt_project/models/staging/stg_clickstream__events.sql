-- Tracker events, one per event_id (the first delivered copy wins; ingest already quarantines
-- re-sends, this is a guard), dated by their own timestamp in UTC, not by the delivery file.
-- The guard partitions by (event_id, event_date), which is the same thing for a re-sent event (it
-- keeps its timestamp) and lets a filter on event_date reach the raw scan, so an incremental run
-- reads the days it rebuilds, not all history; a copy with another day would fail the unique test.
-- Identifiers are cleaned here, once for every model downstream: user_id and anonymous_id values
-- that are placeholders (identity_placeholder_ids seed: 'null', 'anonymous', 'guest', ...; blank;
-- all zeros such as '0000' or '00000000-0000-0000-0000-000000000000', var
-- identity_placeholder_pattern) become null, so they can never link a cookie to a customer nor
-- merge the traffic of unrelated visitors. Editing the seed or the var takes effect on the next run.
with events as (
    select *, cast(timezone('UTC', event_ts) as date) as event_date
    from {{ source('raw', 'clickstream_events') }}
)
select
    event_id, event_type, event_ts, event_date,
    {{ clean_identifier('anonymous_id') }} as anonymous_id,
    {{ clean_identifier('user_id') }} as user_id,
    page_url, nullif(referrer, '') as referrer,
    nullif(utm_source, '') as utm_source, nullif(utm_medium, '') as utm_medium,
    nullif(utm_campaign, '') as utm_campaign,
    nullif(product_id, '') as product_id, nullif(order_id, '') as order_id,
    revenue, nullif(nullif(ip, ''), '-') as ip, nullif(nullif(user_agent, ''), '-') as user_agent,
    _partition as delivered_on
from events
qualify row_number() over (partition by event_id, event_date order by _partition, _line_number) = 1
