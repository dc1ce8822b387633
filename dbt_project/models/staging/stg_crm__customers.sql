-- Current profile of every customer: the row from the newest daily snapshot that contains them
-- (a customer missing from a later snapshot is not deleted). Light cleaning only.
select
    customer_id,
    nullif(lower(trim(email)), '') as email,
    nullif(trim(first_name), '') as first_name,
    nullif(trim(last_name), '') as last_name,
    nullif(trim(phone), '') as phone,
    birth_date,
    nullif(upper(trim(gender)), '') as gender,
    nullif(trim(postal_code), '') as postal_code,
    nullif(trim(city), '') as city,
    nullif(upper(trim(country)), '') as country,
    created_at,
    updated_at,
    nullif(trim(acquisition_channel), '') as acquisition_channel,
    nullif(trim(loyalty_tier), '') as loyalty_tier,
    coalesce(email_opt_in, false) as email_opt_in,
    coalesce(nullif(trim(email_consent_type), ''), 'none') as email_consent_type,
    coalesce(sms_opt_in, false) as sms_opt_in,
    consent_updated_at,
    _partition as snapshot_date
from {{ source('raw', 'crm_customers') }}
qualify row_number() over (partition by customer_id order by _partition desc, _line_number) = 1
