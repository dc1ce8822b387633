{{ config(meta={'dagster': {'ref': {'name': 'fct_sessions'}}}) }}
-- The customers stored in the incremental web facts are the ones the identity graph gives today,
-- on every day, not only on the days a run rewrote: a visitor who identified later is attributed
-- back, a merge undone by a rule change is undone everywhere (fct_sessions / fct_page_views keep
-- their stored customer_id, int_sessions_stitched / int_events_stitched resolve it at read time).
select 'session' as grain, s.session_id as id, s.customer_id as stored, c.customer_id as current
from {{ ref('fct_sessions') }} s
join {{ ref('int_sessions_stitched') }} c using (session_id)
where s.source = 'clickstream' and s.customer_id is distinct from c.customer_id
union all
select 'page view', p.event_id, p.customer_id, e.customer_id
from {{ ref('fct_page_views') }} p
join {{ ref('int_events_stitched') }} e using (event_id)
where p.source = 'clickstream' and p.customer_id is distinct from e.customer_id
