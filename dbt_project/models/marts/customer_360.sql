-- One row per CRM customer, prospects included. Web behaviour and predictive columns come later.
with orders as (
    select
        customer_id,
        min(order_ts) filter (where status <> 'cancelled') as first_order_at,
        max(order_ts) filter (where status <> 'cancelled') as last_order_at,
        count(*) filter (where status = 'completed') as orders_completed,
        count(*) filter (where status = 'returned') as orders_returned,
        sum(net_amount) as net_revenue
    from {{ ref('fct_orders') }}
    group by customer_id
),
rfm as (
    select * from {{ ref('rfm_segments') }}
    where as_of_date = (select max(as_of_date) from {{ ref('rfm_segments') }})
),
contacts as (
    select customer_id, count(*) as support_contacts, avg(satisfaction) as avg_satisfaction
    from {{ ref('stg_crm__interactions') }}
    group by customer_id
)
select
    c.customer_id, c.email, c.first_name, c.last_name, c.phone, c.city, c.country, c.created_at,
    c.acquisition_channel, c.loyalty_tier, c.email_opt_in, c.email_consent_type, c.sms_opt_in,
    c.consent_updated_at,
    o.first_order_at, o.last_order_at,
    coalesce(o.orders_completed, 0) as orders_completed,
    coalesce(o.orders_returned, 0) as orders_returned,
    coalesce(o.net_revenue, 0)::decimal(18, 2) as net_revenue,
    case when o.orders_completed > 0 then (o.net_revenue / o.orders_completed)::decimal(18, 2) end as average_order_value,
    r.recency_days, r.frequency, r.monetary, r.r_score, r.f_score, r.m_score, r.rfm_cell, r.segment as rfm_segment,
    coalesce(k.support_contacts, 0) as support_contacts,
    round(k.avg_satisfaction, 2) as avg_satisfaction,
    c.snapshot_date as last_updated
from {{ ref('stg_crm__customers') }} c
left join orders o using (customer_id)
left join rfm r using (customer_id)
left join contacts k using (customer_id)
