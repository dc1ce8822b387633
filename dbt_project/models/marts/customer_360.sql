-- One row per CRM customer (prospects without orders included), as of as_of_date (var, default
-- the last loaded order day). Web columns count stitched tracker sessions (fct_sessions) in the
-- 30/90 days ending on as_of_date. Orders are read as known on as_of_date (int_orders_as_of); orders
-- and contacts after as_of_date are ignored; the profile is the current one. Predictive columns
-- (CLV, churn, next best products) are not in this slice.
--
-- lifecycle_stage, from completed orders up to as_of_date (d = days since the last one), first
-- matching rule wins (thresholds are vars):
--   prospect  no completed order
--   new       first completed order at most lifecycle_new_days ago
--   won back  d <= lifecycle_active_days and the gap before the last order was > lifecycle_at_risk_days
--   active    d <= lifecycle_active_days
--   at risk   d <= lifecycle_at_risk_days
--   inactive  d <= lifecycle_lost_days
--   lost      otherwise
-- value_tier (Pareto on net_revenue): customers with net_revenue > 0 sorted by net_revenue
-- descending (ties by customer_id); A while the revenue share before the customer is
-- < pareto_a_share, B while < pareto_b_share, C for the rest and for customers with no revenue.
with params as (
    select {{ as_of_date() }} as as_of_date
),
orders as (
    -- orders as known on as_of_date (= fct_orders when as_of_date is the last loaded day)
    select * from {{ ref('int_orders_as_of') }}
),
order_stats as (
    select
        customer_id,
        min(order_ts) filter (where status <> 'cancelled' and not is_credit_note) as first_order_at,
        max(order_ts) filter (where status <> 'cancelled' and not is_credit_note) as last_order_at,
        min(order_date) filter (where status = 'completed') as first_completed_order_date,
        max(order_date) filter (where status = 'completed') as last_completed_order_date,
        count(*) filter (where status <> 'cancelled' and not is_credit_note) as orders_placed,
        count(*) filter (where status = 'completed') as orders_completed,
        count(*) filter (where status = 'returned') as orders_returned,
        count(*) filter (where status = 'cancelled') as orders_cancelled,
        sum(gross_amount) filter (where status <> 'cancelled') as gross_revenue,
        sum(returned_amount) as returned_amount,
        sum(net_amount) as net_revenue,
        max(last_changed_on) as orders_changed_on
    from orders
    group by customer_id
),
gaps as (
    -- gap in days between the last completed order and the one before it
    select customer_id, max(order_date) - max(prev_date) filter (where is_last) as gap_before_last_days
    from (
        select customer_id, order_date,
               lag(order_date) over (partition by customer_id order by order_date, order_id) as prev_date,
               row_number() over (partition by customer_id order by order_date desc, order_id desc) = 1 as is_last
        from orders where status = 'completed'
    )
    group by customer_id
),
rfm as (
    select r.* from {{ ref('rfm_segments') }} r, params p where r.as_of_date = p.as_of_date
),
contacts as (
    select
        i.customer_id,
        count(*) as support_contacts,
        count(*) filter (where i.interaction_type = 'complaint') as complaints,
        avg(i.satisfaction) as avg_satisfaction,
        max(i.opened_at) as last_contact_at,
        max(s.last_changed_on) as contacts_changed_on
    from {{ ref('fct_interactions') }} i
    join {{ ref('stg_crm__interactions') }} s using (interaction_id), params p
    where i.opened_date <= p.as_of_date
    group by i.customer_id
),
web as (
    select
        s.customer_id,
        count(*) filter (where s.session_date > p.as_of_date - 30) as web_sessions_30d,
        count(*) as web_sessions_90d,
        coalesce(sum(s.page_views + s.product_views) filter (where s.session_date > p.as_of_date - 30), 0) as page_views_30d,
        sum(s.page_views + s.product_views) as page_views_90d
    from {{ ref('fct_sessions') }} s, params p
    where s.customer_id is not null and s.session_date <= p.as_of_date and s.session_date > p.as_of_date - 90
    group by s.customer_id
),
last_visit as (
    select s.customer_id, max(s.session_start_ts) as last_visit_at
    from {{ ref('fct_sessions') }} s, params p
    where s.customer_id is not null and s.session_date <= p.as_of_date
    group by s.customer_id
),
device as (
    -- most sessions over all history up to as_of_date; ties: latest session, then name
    select customer_id, device_type as preferred_device
    from (
        select s.customer_id, s.device_type, count(*) as n, max(s.session_start_ts) as latest
        from {{ ref('fct_sessions') }} s, params p
        where s.customer_id is not null and s.session_date <= p.as_of_date
        group by all
    )
    qualify row_number() over (partition by customer_id order by n desc, latest desc, device_type) = 1
),
order_channel as (
    -- most non-cancelled orders (credit notes are no orders); ties: latest order, then name
    select customer_id, channel as preferred_channel
    from (
        select customer_id, channel, count(*) as n, max(order_ts) as latest
        from orders where status <> 'cancelled' and not is_credit_note and channel is not null
        group by all
    )
    qualify row_number() over (partition by customer_id order by n desc, latest desc, channel) = 1
),
category as (
    -- highest positive net line amount (completed lines minus credit-note lines) up to as_of_date;
    -- ties: more items, then name
    select customer_id, category as top_category
    from (
        select l.customer_id, p2.category, sum(l.net_line_amount) as amount,
               sum(l.quantity) filter (where l.order_status = 'completed' or l.net_line_amount < 0) as items
        from {{ ref('fct_order_lines') }} l
        join {{ ref('dim_products') }} p2 using (product_id), params p
        where l.order_date <= p.as_of_date and p2.category is not null
        group by all
        having sum(l.net_line_amount) > 0
    )
    qualify row_number() over (partition by customer_id order by amount desc, items desc, category) = 1
),
pareto as (
    select
        customer_id,
        (sum(net_revenue) over (order by net_revenue desc, customer_id rows unbounded preceding) - net_revenue)
            / sum(net_revenue) over () as share_before
    from order_stats
    where net_revenue > 0
),
joined as (
    select
        c.*, p.as_of_date,
        o.first_order_at, o.last_order_at, o.first_completed_order_date, o.last_completed_order_date,
        o.orders_placed, o.orders_completed, o.orders_returned, o.orders_cancelled,
        o.gross_revenue, o.returned_amount, o.net_revenue, o.orders_changed_on,
        g.gap_before_last_days,
        p.as_of_date - o.last_completed_order_date as days_since_last_order,
        p.as_of_date - o.first_completed_order_date as days_since_first_order,
        r.recency_days, r.frequency, r.monetary, r.r_score, r.f_score, r.m_score, r.rfm_cell, r.segment,
        k.support_contacts, k.complaints, k.avg_satisfaction, k.last_contact_at, k.contacts_changed_on,
        pa.share_before,
        w.web_sessions_30d, w.web_sessions_90d, w.page_views_30d, w.page_views_90d, lv.last_visit_at,
        dv.preferred_device, oc.preferred_channel, ca.top_category
    from {{ ref('dim_customers') }} c
    cross join params p
    left join order_stats o using (customer_id)
    left join gaps g using (customer_id)
    left join rfm r using (customer_id)
    left join contacts k using (customer_id)
    left join pareto pa using (customer_id)
    left join web w using (customer_id)
    left join last_visit lv using (customer_id)
    left join device dv using (customer_id)
    left join order_channel oc using (customer_id)
    left join category ca using (customer_id)
)
select
    customer_id::varchar as customer_id,
    as_of_date::date as as_of_date,
    email::varchar as email,
    first_name::varchar as first_name,
    last_name::varchar as last_name,
    phone::varchar as phone,
    birth_date::date as birth_date,
    gender::varchar as gender,
    postal_code::varchar as postal_code,
    city::varchar as city,
    country::varchar as country,
    created_at::timestamp as created_at,
    acquisition_channel::varchar as acquisition_channel,
    loyalty_tier::varchar as loyalty_tier,
    email_opt_in::boolean as email_opt_in,
    email_consent_type::varchar as email_consent_type,
    sms_opt_in::boolean as sms_opt_in,
    consent_updated_at::timestamp as consent_updated_at,
    is_email_contactable::boolean as is_email_contactable,
    is_sms_contactable::boolean as is_sms_contactable,
    first_order_at::timestamp as first_order_at,
    last_order_at::timestamp as last_order_at,
    coalesce(orders_placed, 0)::integer as orders_placed,
    coalesce(orders_completed, 0)::integer as orders_completed,
    coalesce(orders_returned, 0)::integer as orders_returned,
    coalesce(orders_cancelled, 0)::integer as orders_cancelled,
    coalesce(gross_revenue, 0)::decimal(18, 2) as gross_revenue,
    coalesce(returned_amount, 0)::decimal(18, 2) as returned_amount,
    coalesce(net_revenue, 0)::decimal(18, 2) as net_revenue,
    (case when orders_completed > 0 then round(net_revenue / orders_completed, 2) end)::decimal(18, 2) as average_order_value,
    recency_days::integer as recency_days,
    frequency::integer as frequency,
    monetary::decimal(18, 2) as monetary,
    r_score::integer as r_score,
    f_score::integer as f_score,
    m_score::integer as m_score,
    rfm_cell::varchar as rfm_cell,
    segment::varchar as rfm_segment,
    (case
        when coalesce(orders_completed, 0) = 0 then 'prospect'
        when days_since_first_order <= {{ var('lifecycle_new_days') | int }} then 'new'
        when days_since_last_order <= {{ var('lifecycle_active_days') | int }}
             and gap_before_last_days > {{ var('lifecycle_at_risk_days') | int }} then 'won back'
        when days_since_last_order <= {{ var('lifecycle_active_days') | int }} then 'active'
        when days_since_last_order <= {{ var('lifecycle_at_risk_days') | int }} then 'at risk'
        when days_since_last_order <= {{ var('lifecycle_lost_days') | int }} then 'inactive'
        else 'lost'
    end)::varchar as lifecycle_stage,
    (case
        when share_before is null then 'C'
        when share_before < {{ var('pareto_a_share') }} then 'A'
        when share_before < {{ var('pareto_b_share') }} then 'B'
        else 'C'
    end)::varchar as value_tier,
    coalesce(web_sessions_30d, 0)::integer as web_sessions_30d,
    coalesce(web_sessions_90d, 0)::integer as web_sessions_90d,
    coalesce(page_views_30d, 0)::integer as page_views_30d,
    coalesce(page_views_90d, 0)::integer as page_views_90d,
    last_visit_at::timestamptz as last_visit_at,
    preferred_channel::varchar as preferred_channel,
    preferred_device::varchar as preferred_device,
    top_category::varchar as top_category,
    coalesce(support_contacts, 0)::integer as support_contacts,
    coalesce(complaints, 0)::integer as complaints,
    round(avg_satisfaction, 2)::decimal(4, 2) as avg_satisfaction,
    last_contact_at::timestamp as last_contact_at,
    greatest(profile_valid_from, orders_changed_on, contacts_changed_on)::date as last_updated
from joined
