{{ config(materialized="table") }}
-- A table, not a view: the windows over every daily snapshot are computed once per build and read
-- by dim_customers, dim_customers_history and their tests.
-- SCD2 history of the CRM profile derived from the daily full snapshots (cleaned values, so a
-- change of case or spacing alone opens no version): one row per period in which a customer's
-- attributes (customer_profile_columns macro) stayed the same. valid_from/valid_to are snapshot
-- days, half-open [valid_from, valid_to); valid_to is null for the current version. A customer
-- missing from later snapshots keeps the version last seen (last_seen_on tells when). Rebuilt from
-- raw every run, so it is idempotent and a backfill re-derives the same history (a dbt snapshot
-- only sees the state at the time it runs).
-- The windows sort narrow rows (key, day, line, profile hash), never the profile itself: at tier L
-- that is 293M snapshot rows. The attributes are read back only for the first row of each version.
{%- set attrs = customer_profile_columns() %}
with cleaned as not materialized (
    select customer_id, _partition as snapshot_date, _line_number, {{ clean_customer_profile() }}
    from {{ source('raw', 'crm_customers') }}
),
hashed as (
    -- A 64-bit hash of the profile tells one day's row from the previous day's; computed before
    -- the de-duplication below, which DuckDB turns into a grouped arg_min carrying every selected
    -- column (the whole profile: 9 s instead of 2 s on tier M's 3.6M rows). A collision between
    -- two consecutive days of one customer (odds 2^-64) would merge their versions. The md5
    -- row_hash is computed for the first row of each version only.
    select customer_id, snapshot_date, _line_number, hash({{ attrs | join(', ') }}) as change_key
    from cleaned
),
snap as (
    -- Within one file the first line of a customer wins (as in stg_crm__customer_snapshots).
    select * from hashed
    qualify row_number() over (partition by customer_id, snapshot_date order by _line_number) = 1
),
flagged as (
    select *,
        case when change_key is distinct from lag(change_key) over (partition by customer_id order by snapshot_date)
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
        arg_min(_line_number, snapshot_date) as first_line
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
    {% for a in attrs %}c.{{ a }}, {% endfor %}{{ customer_profile_hash() }} as row_hash
from versions v
join cleaned c
    on c.customer_id = v.customer_id and c.snapshot_date = v.valid_from and c._line_number = v.first_line
