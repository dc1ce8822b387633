{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_date'
) }}
-- Evidence that an anonymous cookie belongs to a CRM customer, one row per
-- (event_date, anonymous_id, customer_id, evidence). Append-style: each day adds its evidence and
-- a re-run of a day replaces that day only (delete+insert on event_date), so history stays.
-- evidence: 'login' (login/signup event carrying user_id), 'user_id' (any other event carrying
-- user_id), 'order' (purchase event whose order_id is a CRM order of that customer).
-- Never linked: user_id values listed in the identity_placeholder_ids seed ('0', 'guest', ...),
-- ids that are not CRM customers. Shared cookies are handled in int_identity_map.
with events as (
    select * from {{ ref('stg_clickstream__events') }}
    {% if is_incremental() %}
    where event_date in ({{ affected_event_days(ref('stg_clickstream__events'), 'event_date') }})
    {% endif %}
),
placeholders as (
    select lower(trim(placeholder_id)) as placeholder_id from {{ ref('identity_placeholder_ids') }}
),
claims as (
    select e.event_date, e.anonymous_id, e.user_id as customer_id,
           case when e.event_type in ('login', 'signup') then 'login' else 'user_id' end as evidence,
           e.event_ts
    from events e
    where e.user_id is not null
      and lower(trim(e.user_id)) not in (select placeholder_id from placeholders)
    union all
    select e.event_date, e.anonymous_id, o.customer_id, 'order', e.event_ts
    from events e
    join {{ ref('stg_crm__orders') }} o on o.order_id = e.order_id
    where e.event_type = 'purchase'
)
select
    c.event_date::date as event_date,
    c.anonymous_id::varchar as anonymous_id,
    c.customer_id::varchar as customer_id,
    c.evidence::varchar as evidence,
    count(*)::integer as events,
    min(c.event_ts) as first_seen_at,
    max(c.event_ts) as last_seen_at
from claims c
join {{ ref('stg_crm__customers') }} k on k.customer_id = c.customer_id
group by all
