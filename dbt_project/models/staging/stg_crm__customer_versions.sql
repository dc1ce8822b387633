{{ config(materialized="table") }}
-- A table, not a view: the window over every daily snapshot is computed once per build and read
-- by dim_customers and its tests.
-- SCD2 history of the CRM profile derived from the daily full snapshots: one row per period in
-- which a customer's attributes stayed the same. valid_from/valid_to are snapshot days, half-open
-- [valid_from, valid_to); valid_to is null for the current version. Rebuilt from raw every run,
-- so it is idempotent (unlike a dbt snapshot, which only sees the state at run time).
with snap as (
    select
        customer_id, _partition as snapshot_date,
        md5(concat_ws('|', email, first_name, last_name, phone, birth_date, gender, postal_code, city, country,
                      created_at, updated_at, acquisition_channel, loyalty_tier, email_opt_in,
                      email_consent_type, sms_opt_in, consent_updated_at)) as row_hash,
        email, first_name, last_name, phone, birth_date, gender, postal_code, city, country, created_at,
        updated_at, acquisition_channel, loyalty_tier, email_opt_in, email_consent_type, sms_opt_in,
        consent_updated_at
    from {{ source('raw', 'crm_customers') }}
    qualify row_number() over (partition by customer_id, _partition order by _line_number) = 1
),
flagged as (
    select *,
        case when row_hash is distinct from lag(row_hash) over (partition by customer_id order by snapshot_date)
             then 1 else 0 end as is_change
    from snap
),
numbered as (
    select *, sum(is_change) over (partition by customer_id order by snapshot_date rows unbounded preceding) as version_no
    from flagged
),
versions as (
    select
        customer_id, version_no,
        min(snapshot_date) as valid_from,
        max(snapshot_date) as last_seen_on,
        any_value(row_hash) as row_hash
    from numbered
    group by customer_id, version_no
)
select
    v.customer_id,
    v.version_no::integer as version_no,
    v.valid_from,
    lead(v.valid_from) over (partition by v.customer_id order by v.version_no) as valid_to,
    v.last_seen_on,
    lead(v.valid_from) over (partition by v.customer_id order by v.version_no) is null as is_current,
    n.email, n.first_name, n.last_name, n.phone, n.birth_date, n.gender, n.postal_code, n.city, n.country,
    n.created_at, n.updated_at, n.acquisition_channel, n.loyalty_tier, n.email_opt_in, n.email_consent_type,
    n.sms_opt_in, n.consent_updated_at, v.row_hash
from versions v
join numbered n on n.customer_id = v.customer_id and n.snapshot_date = v.valid_from
