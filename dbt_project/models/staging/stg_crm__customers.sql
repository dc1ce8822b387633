-- Current profile of every customer: the row from the newest daily snapshot that contains them
-- (a customer missing from a later snapshot is not deleted). That is the current SCD2 version
-- (its attributes have not changed since it started; last_seen_on is the newest snapshot with the
-- customer), read from the stg_crm__customer_versions table rather than re-windowing every
-- snapshot each time this view is read. Cleaning: stg_crm__customer_snapshots.
select
    customer_id,
    {% for a in customer_profile_columns() %}{{ a }},
    {% endfor -%}
    last_seen_on as snapshot_date
from {{ ref('stg_crm__customer_versions') }}
where is_current
