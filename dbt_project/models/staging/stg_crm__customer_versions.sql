{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where='__CUSTOMER_VERSIONS_FULL_REBUILD__ or is_current',
    on_schema_change='fail'
) }}
-- SCD2 history of the CRM profile derived from the daily full snapshots (cleaned values, so a
-- change of case or spacing alone opens no version): one row per period in which a customer's
-- attributes (customer_profile_columns macro) stayed the same. valid_from/valid_to are snapshot
-- days, half-open [valid_from, valid_to); valid_to is null for the current version. A customer
-- missing from later snapshots keeps the version last seen (last_seen_on tells when). Derived
-- from raw, not a dbt snapshot (which only sees the state at the time it runs), so a backfill
-- re-derives the same history.
--
-- Two ways to build it, same rows (tests/e2e/test_incremental_equals_full.py):
--   full    every snapshot row, windowed per customer. First build, --full-refresh, and every run
--           whose window delivers a snapshot day on or before the newest versioned day (a restated
--           or backfilled day changes the versions after it): customer_versions_full_rebuild().
--   append  the daily case: only the snapshot days after the newest versioned one, continuing
--           from each customer's current version. The current versions are deleted and written
--           again (last_seen_on, valid_to and is_current move on); closed versions are final.
-- At tier L the full build windows 293M snapshot rows (352 s, BENCHMARKS.md); a day appends 1M.
{%- set attrs = customer_profile_columns() %}
{%- set full = true %}
{%- if execute and is_incremental() %}
    {%- set full = run_query('select ' ~ customer_versions_full_rebuild(this)).columns[0].values()[0] %}
{%- endif %}
{%- if full %}
-- The windows sort narrow rows (key, day, line, profile hash), never the profile itself. The
-- attributes are read back only for the first row of each version.
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
{%- else %}
-- Appending: the new days' rows compare by the md5 row_hash (the stored versions keep no 64-bit
-- key); equal profiles, equal hashes, as in the full build.
with carried as (
    select * from {{ this }} where is_current
),
new_rows as (
    select customer_id, _partition as snapshot_date, _line_number, {{ clean_customer_profile() }}
    from {{ source('raw', 'crm_customers') }}
    where _partition > (select max(last_seen_on) from {{ this }})
    qualify row_number() over (partition by customer_id, _partition order by _line_number) = 1
),
hashed as (
    select *, {{ customer_profile_hash() }} as row_hash from new_rows
),
timeline as (
    -- Each customer's current version as one row dated its last_seen_on (before every new day),
    -- then the new days.
    select customer_id, last_seen_on as snapshot_date, null::bigint as _line_number, row_hash,
           version_no as carried_version_no
    from carried
    union all
    select customer_id, snapshot_date, _line_number, row_hash, null
    from hashed
),
numbered as (
    select *,
        coalesce(max(carried_version_no) over (partition by customer_id), 0)
        + sum(is_change) over (partition by customer_id order by snapshot_date rows unbounded preceding) as version_no
    from (
        select *,
            case when carried_version_no is null
                      and row_hash is distinct from lag(row_hash) over (partition by customer_id order by snapshot_date)
                 then 1 else 0 end as is_change
        from timeline
    )
),
versions as (
    select
        customer_id, version_no,
        bool_or(carried_version_no is not null) as is_carried,
        min(snapshot_date) as first_day,
        max(snapshot_date) as last_seen_on,
        arg_min(_line_number, snapshot_date) filter (where carried_version_no is null) as first_line
    from numbered
    group by customer_id, version_no
),
dated as (
    select v.*, coalesce(c.valid_from, v.first_day) as valid_from
    from versions v
    left join carried c on v.is_carried and c.customer_id = v.customer_id and c.version_no = v.version_no
)
select
    d.customer_id,
    d.version_no::integer as version_no,
    d.valid_from,
    lead(d.valid_from) over (partition by d.customer_id order by d.version_no) as valid_to,
    d.last_seen_on,
    lead(d.valid_from) over (partition by d.customer_id order by d.version_no) is null as is_current,
    {% for a in attrs %}if(d.is_carried, c.{{ a }}, n.{{ a }}) as {{ a }}, {% endfor %}
    if(d.is_carried, c.row_hash, n.row_hash) as row_hash
from dated d
left join carried c
    on d.is_carried and c.customer_id = d.customer_id and c.version_no = d.version_no
left join hashed n
    on not d.is_carried and n.customer_id = d.customer_id and n.snapshot_date = d.first_day
   and n._line_number = d.first_line
{%- endif %}
