-- Current CRM profile and consent per customer (type-1 view of the customer: the key every fact
-- joins to), with how many profile versions the snapshots showed. The full SCD2 history of
-- profile and consent changes is dim_customers_history.
with versions as (
    select
        customer_id,
        count(*) as profile_versions,
        max(valid_from) filter (where is_current) as profile_valid_from
    from {{ ref('stg_crm__customer_versions') }}
    group by customer_id
)
select
    c.customer_id::varchar as customer_id,
    c.email::varchar as email,
    c.first_name::varchar as first_name,
    c.last_name::varchar as last_name,
    c.phone::varchar as phone,
    c.birth_date::date as birth_date,
    c.gender::varchar as gender,
    c.postal_code::varchar as postal_code,
    c.city::varchar as city,
    c.country::varchar as country,
    c.created_at::timestamp as created_at,
    c.updated_at::timestamp as updated_at,
    c.acquisition_channel::varchar as acquisition_channel,
    c.loyalty_tier::varchar as loyalty_tier,
    c.email_opt_in::boolean as email_opt_in,
    c.email_consent_type::varchar as email_consent_type,
    c.sms_opt_in::boolean as sms_opt_in,
    c.consent_updated_at::timestamp as consent_updated_at,
    {{ is_email_contactable('c.email_opt_in', 'c.email', 'c.email_consent_type') }}::boolean as is_email_contactable,
    {{ is_sms_contactable('c.sms_opt_in', 'c.phone') }}::boolean as is_sms_contactable,
    coalesce(v.profile_versions, 1)::integer as profile_versions,
    coalesce(v.profile_valid_from, c.snapshot_date)::date as profile_valid_from,
    c.snapshot_date::date as profile_as_of
from {{ ref('stg_crm__customers') }} c
left join versions v using (customer_id)
