-- Marketing audiences, restricted to consenting customers: one row per (audience, customer,
-- channel). channel 'email' needs is_email_contactable (opt-in, address, consent explicit or
-- implicit); 'sms' needs is_sms_contactable (opt-in and phone). consent_type keeps how the
-- customer consented on that channel, so a campaign can target explicit opt-ins only: the CRM's
-- email_consent_type (explicit | implicit) for email; 'unspecified' for sms (the CRM records only
-- the sms opt-in flag, not how it was given). Audiences: every RFM segment ('rfm: <segment>'),
-- every lifecycle stage except prospect ('lifecycle: <stage>'), value tier A ('value tier: A')
-- and each behaviour alert type ('alert: web activity drop', 'alert: purchase gap').
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
    select 'alert: ' || replace(alert_type, '_', ' '), 'behavior_alert', customer_id
    from {{ ref('behavior_alerts') }}
),
contacts as (
    select customer_id, 'email' as channel, email as address, email_consent_type as consent_type, as_of_date
    from {{ ref('customer_360') }} where is_email_contactable
    union all
    select customer_id, 'sms', phone, 'unspecified', as_of_date
    from {{ ref('customer_360') }} where is_sms_contactable
)
select
    m.audience::varchar as audience,
    m.audience_type::varchar as audience_type,
    m.customer_id::varchar as customer_id,
    c.channel::varchar as channel,
    c.address::varchar as address,
    c.consent_type::varchar as consent_type,
    c.as_of_date::date as as_of_date
from members m
join contacts c using (customer_id)
