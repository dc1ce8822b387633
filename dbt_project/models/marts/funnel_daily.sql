-- Tracker-session funnel (fct_sessions, source clickstream; web-log sessions have no funnel events)
-- per day, channel and campaign: sessions with a view (page or
-- product) -> with a product view -> add to cart -> checkout -> purchase. A session counts at
-- every step it reached (steps are not forced to be in order). channel = utm_medium, else
-- 'referral' with a referrer, else 'direct'; campaign = utm_campaign, else '(none)'.
select
    session_date::date as session_date,
    channel::varchar as channel,
    campaign::varchar as campaign,
    count(*)::integer as sessions,
    (count(*) filter (where page_views + product_views > 0))::integer as sessions_viewed,
    (count(*) filter (where product_views > 0))::integer as sessions_product_view,
    (count(*) filter (where add_to_carts > 0))::integer as sessions_add_to_cart,
    (count(*) filter (where checkouts > 0))::integer as sessions_checkout,
    (count(*) filter (where purchases > 0))::integer as sessions_purchase,
    sum(purchase_revenue)::decimal(18, 2) as purchase_revenue,
    round((count(*) filter (where purchases > 0)) / count(*), 4)::decimal(6, 4) as conversion_rate
from (
    select *,
        coalesce(utm_medium, case when referrer is not null then 'referral' else 'direct' end) as channel,
        coalesce(utm_campaign, '(none)') as campaign
    from {{ ref('fct_sessions') }}
    where source = 'clickstream'
)
group by all
