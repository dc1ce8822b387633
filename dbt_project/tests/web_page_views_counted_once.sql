{{ config(meta={'dagster': {'ref': {'name': 'fct_page_views'}}}) }}
-- Every page view is counted once and where its session says:
--   no access-log hit the tracker also recorded (is_tracked) is a page view of its own;
--   per session, the page views in fct_page_views are the session's counts: tracker rows =
--   page_views + product_views of a clickstream session, log rows = log_only_page_views;
--   no page view of a bot session and no bot session in fct_sessions.
with pv as (
    select session_id,
           count(*) filter (where source = 'clickstream') as tracker_rows,
           count(*) filter (where source = 'weblogs') as log_rows
    from {{ ref('fct_page_views') }} group by session_id
)
select 'tracked log hit counted again' as problem, p.event_id as id
from {{ ref('fct_page_views') }} p
join {{ ref('int_weblog_page_views') }} h on h.hit_id = p.event_id
where p.source = 'weblogs' and h.is_tracked
union all
select 'session counts differ from its page views', s.session_id
from {{ ref('fct_sessions') }} s left join pv using (session_id)
where coalesce(pv.tracker_rows, 0) <> case when s.source = 'clickstream' then s.page_views + s.product_views else 0 end
   or coalesce(pv.log_rows, 0) <> s.log_only_page_views
   or (s.source = 'weblogs' and s.page_views <> s.log_only_page_views)
union all
select 'bot traffic in the human facts', b.session_id
from {{ ref('web_bot_sessions') }} b
where b.session_id in (select session_id from {{ ref('fct_sessions') }})
   or b.session_id in (select log_session_id from {{ ref('int_weblog_page_views') }})
