-- Every daily CRM snapshot, one row per (customer_id, snapshot_date), with the light cleaning of
-- the profile applied once (clean_customer_profile macro: trim, lower-cased email, upper-cased
-- gender/country, empty -> null, missing consent read as no consent). Within one file the first
-- line of a customer wins. stg_crm__customer_versions derives the SCD2 periods from the same raw
-- rows with the same macro, without going through this view (it sorts narrow rows only).
select
    customer_id,
    {{ clean_customer_profile() }},
    _partition as snapshot_date,
    _line_number
from {{ source('raw', 'crm_customers') }}
qualify row_number() over (partition by customer_id, _partition order by _line_number) = 1
