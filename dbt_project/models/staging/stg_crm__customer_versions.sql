{{ config(materialized="table") }}
-- A table, not a view: the window over every daily snapshot is computed once per build and read
-- by dim_customers, dim_customers_history and their tests.
-- SCD2 history of the CRM profile derived from the daily full snapshots (cleaned values, so a
-- change of case or spacing alone opens no version): one row per period in which a customer's
-- attributes (customer_profile_columns macro) stayed the same. valid_from/valid_to are snapshot
-- days, half-open [valid_from, valid_to); valid_to is null for the current version. A customer
-- missing from later snapshots keeps the version last seen (last_seen_on tells when). Rebuilt from
-- raw every run, so it is idempotent and a backfill re-derives the same history (a dbt snapshot
-- only sees the state at the time it runs).
{%- set attrs = customer_profile_columns() %}
with snap as (
    select
        *,
        md5(concat_ws('|', {% for a in attrs %}coalesce(cast({{ a }} as varchar), '<null>'){{ ', ' if not loop.last }}{% endfor %})) as row_hash
    from {{ ref('stg_crm__customer_snapshots') }}
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
        max(snapshot_date) as last_seen_on
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
    {% for a in attrs %}n.{{ a }}, {% endfor %}n.row_hash
from versions v
join numbered n on n.customer_id = v.customer_id and n.snapshot_date = v.valid_from
