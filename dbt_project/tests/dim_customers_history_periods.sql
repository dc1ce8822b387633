{{ config(meta={'dagster': {'ref': {'name': 'dim_customers_history'}}}) }}
-- dim_customers_history is a proper SCD2 history of every customer of dim_customers: versions
-- numbered 1..n without holes, each period half-open and ending where the next starts, exactly
-- one current version (the last, open-ended), and the current version equal to dim_customers.
with h as (
    select *,
        lead(valid_from) over (partition by customer_id order by version_no) as next_from,
        row_number() over (partition by customer_id order by valid_from) as expected_no,
        count(*) over (partition by customer_id) as versions
    from {{ ref('dim_customers_history') }}
),
bad_periods as (
    select customer_id, version_no, 'period' as problem
    from h
    where version_no <> expected_no
       or valid_to is distinct from next_from
       or (valid_to is not null and valid_to <= valid_from)
       or is_current <> (version_no = versions)
       or last_seen_on < valid_from
),
current_differs as (
    select d.customer_id, null::integer as version_no, 'current version differs from dim_customers' as problem
    from {{ ref('dim_customers') }} d
    left join h on h.customer_id = d.customer_id and h.is_current
    where h.customer_id is null
       or h.email is distinct from d.email
       or h.email_opt_in is distinct from d.email_opt_in
       or h.email_consent_type is distinct from d.email_consent_type
       or h.city is distinct from d.city
       or h.valid_from is distinct from d.profile_valid_from
       or h.versions is distinct from d.profile_versions
)
select * from bad_periods
union all
select * from current_differs
