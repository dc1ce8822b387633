-- One row per cookie with identity evidence: the customer it resolves to, or none. Applies the
-- rules in force to the evidence of int_identity_links on every read (a view), so changing a rule,
-- a var or a seed re-decides every merge of the past at the next run:
--   only the cookie rules listed in identity_enabled_rules count (ip_ua_window links log sessions to
--   tracker sessions, not cookies to customers);
--   placeholder values (identity_placeholder_ids seed, identity_placeholder_pattern) never resolve,
--   even in evidence recorded before the seed listed them;
--   only CRM customers (stg_crm__customers) are resolved;
--   a cookie linked to more than identity_max_customers_per_cookie customers is shared (kiosk,
--   family computer): is_shared_cookie, never merged (customer_id null).
-- A cookie with a few customers resolves to the one with the most recent evidence (ties: login >
-- order > user_id, then customer_id).
with evidence as (
    select l.*
    from {{ ref('int_identity_links') }} l
    join {{ ref('stg_crm__customers') }} k on k.customer_id = l.customer_id
    where l.rule in (
        {%- for rule in var('identity_enabled_rules') %}'{{ rule }}'{{ ", " if not loop.last }}{% endfor -%}
    )
      and l.anonymous_id is not null
      and not {{ is_placeholder_id('l.anonymous_id') }}
      and not {{ is_placeholder_id('l.customer_id') }}
),
per_pair as (
    select anonymous_id, customer_id,
           max(last_seen_at) as last_seen_at,
           min(first_seen_at) as first_seen_at,
           sum(evidence_count) as evidence_count,
           max(case rule when 'login' then 3 when 'order' then 2 else 1 end) as evidence_rank
    from evidence
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
