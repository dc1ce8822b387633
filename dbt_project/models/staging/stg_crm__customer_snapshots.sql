-- Every daily CRM snapshot, one row per (customer_id, snapshot_date), with the light cleaning of
-- the profile applied once (trim, lower-cased email, upper-cased gender/country, empty -> null,
-- missing consent read as no consent). Within one file the first line of a customer wins.
-- stg_crm__customers (newest row) and stg_crm__customer_versions (SCD2 periods) read it.
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
    coalesce(nullif(lower(trim(email_consent_type)), ''), 'none') as email_consent_type,
    coalesce(sms_opt_in, false) as sms_opt_in,
    consent_updated_at,
    _partition as snapshot_date,
    _line_number
from {{ source('raw', 'crm_customers') }}
qualify row_number() over (partition by customer_id, _partition order by _line_number) = 1
