-- A cookie with more than identity_max_customers_per_cookie customers resolves to nobody, and no
-- session or page view is stitched through it (only an event's own user_id may name a customer).
select m.anonymous_id
from {{ ref('int_identity_map') }} m
where (m.linked_customers > {{ var('identity_max_customers_per_cookie') | int }}) <> m.is_shared_cookie
   or (m.is_shared_cookie and m.customer_id is not null)
