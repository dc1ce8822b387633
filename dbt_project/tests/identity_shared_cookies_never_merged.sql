{{ config(meta={'dagster': {'ref': {'name': 'int_identity_map'}}}) }}
-- A cookie with more than identity_max_customers_per_cookie customers resolves to nobody, and no
-- event is stitched through it: an event of a shared cookie names a customer only through its own
-- user_id.
select m.anonymous_id, 'map' as problem
from {{ ref('int_identity_map') }} m
where (m.linked_customers > {{ var('identity_max_customers_per_cookie') | int }}) <> m.is_shared_cookie
   or (m.is_shared_cookie and m.customer_id is not null)
union all
select e.anonymous_id, 'event stitched through a shared cookie'
from {{ ref('int_events_stitched') }} e
join {{ ref('int_identity_map') }} m using (anonymous_id)
where m.is_shared_cookie and e.customer_id is distinct from e.user_id and e.customer_id is not null
