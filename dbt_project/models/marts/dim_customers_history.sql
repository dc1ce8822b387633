-- SCD2 history of every customer's CRM profile and consent: one row per version, valid over the
-- half-open snapshot-day range [valid_from, valid_to) (valid_to null = still current). Point in
-- time: `valid_from <= d and (valid_to is null or d < valid_to)` gives the profile on day d.
--
-- Derived from the raw daily full snapshots (stg_crm__customer_versions), not a dbt snapshot: raw
-- keeps every delivered snapshot, so a backfill or a re-run re-derives exactly the same periods,
-- whereas a dbt snapshot only records the state at the moment it runs (a late or replayed
-- delivery would be stamped with the wrong day, a skipped run loses a change for good).
-- changed_columns lists the attributes that differ from the previous version (null for the first);
-- is_consent_change is true when one of them is a consent attribute.
{%- set attrs = customer_profile_columns() %}
{%- set consent = customer_consent_columns() %}
with v as (
    select
        *,
        {% for a in attrs -%}
        lag({{ a }}) over (partition by customer_id order by version_no) as prev_{{ a }},
        {% endfor -%}
        version_no > 1 as has_previous
    from {{ ref('stg_crm__customer_versions') }}
)
select
    customer_id::varchar as customer_id,
    version_no::integer as version_no,
    valid_from::date as valid_from,
    valid_to::date as valid_to,
    is_current::boolean as is_current,
    last_seen_on::date as last_seen_on,
    {% for a in attrs -%}
    {{ a }},
    {% endfor -%}
    {{ is_email_contactable() }}::boolean as is_email_contactable,
    {{ is_sms_contactable() }}::boolean as is_sms_contactable,
    (case when has_previous then concat_ws(', '
        {%- for a in attrs %},
        case when {{ a }} is distinct from prev_{{ a }} then '{{ a }}' end
        {%- endfor %})
    end)::varchar as changed_columns,
    (has_previous and ({% for a in consent %}{{ a }} is distinct from prev_{{ a }}{{ ' or ' if not loop.last }}{% endfor %}))::boolean as is_consent_change
from v
