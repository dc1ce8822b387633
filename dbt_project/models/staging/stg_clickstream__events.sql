-- Tracker events, one row per event_id, dated by their own timestamp in UTC, not by the delivery
-- file. Ingest already keeps one row per event_id across all days (a re-send is quarantined as a
-- duplicate_key, so the first delivered copy is the one in raw), and the unique test on event_id
-- guards it here: no window over all history, so a filter on event_date reaches the raw scan and an
-- incremental run reads only the days it rebuilds.
-- Identifiers are cleaned here, once for every model downstream: user_id and anonymous_id values
-- that are placeholders (identity_placeholder_ids seed: 'null', 'anonymous', 'guest', ...; blank;
-- all zeros such as '0000' or '00000000-0000-0000-0000-000000000000', var
-- identity_placeholder_pattern) become null, so they can never link a cookie to a customer nor
-- merge the traffic of unrelated visitors. Editing the seed or the var takes effect on the next run.
select
    event_id, event_type, event_ts,
    cast(timezone('UTC', event_ts) as date) as event_date,
    {{ clean_identifier('anonymous_id') }} as anonymous_id,
    {{ clean_identifier('user_id') }} as user_id,
    page_url, nullif(referrer, '') as referrer,
    nullif(utm_source, '') as utm_source, nullif(utm_medium, '') as utm_medium,
    nullif(utm_campaign, '') as utm_campaign,
    nullif(product_id, '') as product_id, nullif(order_id, '') as order_id,
    revenue, nullif(nullif(ip, ''), '-') as ip, nullif(nullif(user_agent, ''), '-') as user_agent,
    _partition as delivered_on
from {{ source('raw', 'clickstream_events') }}
