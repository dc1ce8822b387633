-- Marketing audiences, restricted to consenting customers: one row per (audience, customer,
-- channel). channel 'email' needs is_email_contactable (opt-in, address, consent explicit or
-- implicit); 'sms' needs is_sms_contactable (opt-in and phone). Audiences: every RFM segment
-- ('rfm: <segment>'), every lifecycle stage except prospect ('lifecycle: <stage>'), value tier A
-- ('value tier: A') and the behaviour alerts ('alert: web activity drop').
with members as (
    select 'rfm: ' || rfm_segment as audience, 'rfm_segment' as audience_type, customer_id
    from {{ ref('customer_360') }} where rfm_segment is not null
    union all
    select 'lifecycle: ' || lifecycle_stage, 'lifecycle_stage', customer_id
    from {{ ref('customer_360') }} where lifecycle_stage <> 'prospect'
    union all
    select 'value tier: A', 'value_tier', customer_id
    from {{ ref('customer_360') }} where value_tier = 'A'
    union all
    select 'alert: web activity drop', 'behavior_alert', customer_id
    from {{ ref('behavior_alerts') }}
),
contacts as (
    select customer_id, 'email' as channel, email as address, as_of_date
    from {{ ref('customer_360') }} where is_email_contactable
    union all
    select customer_id, 'sms', phone, as_of_date
    from {{ ref('customer_360') }} where is_sms_contactable
)
select
    m.audience::varchar as audience,
    m.audience_type::varchar as audience_type,
    m.customer_id::varchar as customer_id,
    c.channel::varchar as channel,
    c.address::varchar as address,
    c.as_of_date::date as as_of_date
from members m
join contacts c using (customer_id)
