-- Current profile of every customer: the row from the newest snapshot that contains them.
select
    customer_id, email, first_name, last_name, phone, birth_date, gender, postal_code, city, country,
    created_at, updated_at, acquisition_channel, nullif(loyalty_tier, '') as loyalty_tier,
    coalesce(email_opt_in, false) as email_opt_in, email_consent_type, coalesce(sms_opt_in, false) as sms_opt_in,
    consent_updated_at, _partition as snapshot_date
from {{ source('raw', 'crm_customers') }}
qualify row_number() over (partition by customer_id order by _partition desc, _line_number) = 1
