-- One row per anonymous cookie with evidence: the customer it resolves to, or none when the cookie
-- is shared (more than identity_max_customers_per_cookie distinct customers: kiosk, family PC),
-- in which case it is never merged. A cookie with a few customers resolves to the one with the
-- most recent evidence (ties: login > order > user_id, then customer_id).
with per_pair as (
    select anonymous_id, customer_id,
           max(last_seen_at) as last_seen_at,
           min(first_seen_at) as first_seen_at,
           sum(events) as events,
           max(case evidence when 'login' then 3 when 'order' then 2 else 1 end) as evidence_rank
    from {{ ref('int_identity_links') }}
    group by anonymous_id, customer_id
),
per_cookie as (
    select anonymous_id, count(*) as customers
    from per_pair group by anonymous_id
)
select
    p.anonymous_id,
    case when c.customers <= {{ var('identity_max_customers_per_cookie') | int }} then p.customer_id end as customer_id,
    c.customers as linked_customers,
    c.customers > {{ var('identity_max_customers_per_cookie') | int }} as is_shared_cookie,
    p.first_seen_at, p.last_seen_at
from per_pair p
join per_cookie c using (anonymous_id)
qualify row_number() over (
    partition by p.anonymous_id
    order by p.last_seen_at desc, p.evidence_rank desc, p.customer_id
) = 1
