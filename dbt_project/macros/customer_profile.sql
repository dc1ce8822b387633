{# The CRM profile and consent attributes that make a customer version: a change in any of them
   opens a new SCD2 period (stg_crm__customer_versions, dim_customers_history). #}
{% macro customer_profile_columns() -%}
    {{ return(['email', 'first_name', 'last_name', 'phone', 'birth_date', 'gender', 'postal_code', 'city',
               'country', 'created_at', 'updated_at', 'acquisition_channel', 'loyalty_tier', 'email_opt_in',
               'email_consent_type', 'sms_opt_in', 'consent_updated_at']) }}
{%- endmacro %}

{# The consent attributes among them (a change is flagged is_consent_change). #}
{% macro customer_consent_columns() -%}
    {{ return(['email_opt_in', 'email_consent_type', 'sms_opt_in', 'consent_updated_at']) }}
{%- endmacro %}

{# Marketing may email a customer who opted in, has an address and gave consent explicitly or
   implicitly; SMS needs the opt-in and a phone number. One definition for every mart. #}
{% macro is_email_contactable(opt_in='email_opt_in', email='email', consent_type='email_consent_type') -%}
    coalesce({{ opt_in }} and {{ email }} is not null and {{ consent_type }} in ('explicit', 'implicit'), false)
{%- endmacro %}

{% macro is_sms_contactable(opt_in='sms_opt_in', phone='phone') -%}
    coalesce({{ opt_in }} and {{ phone }} is not null, false)
{%- endmacro %}

{# The light cleaning of a raw CRM customer row, once for every model that reads raw.crm_customers
   (stg_crm__customer_snapshots, stg_crm__customer_versions): trim, lower-cased email, upper-cased
   gender/country, empty -> null, missing opt-ins read as false and a missing consent type as none.
   Renders the customer_profile_columns() in that order, each `as` its name. #}
{% macro clean_customer_profile() -%}
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
    consent_updated_at
{%- endmacro %}

{# md5 of the cleaned profile: equal hashes, equal versions. #}
{% macro customer_profile_hash() -%}
    md5(concat_ws('|', {% for a in customer_profile_columns() %}coalesce(cast({{ a }} as varchar), '<null>'){{ ', ' if not loop.last }}{% endfor %}))
{%- endmacro %}

{# Whether this run must re-derive the whole SCD2 history of stg_crm__customer_versions (true)
   or may append the snapshot days after the versioned ones (false). A scalar SQL expression,
   used both by the model (through run_query, to choose its select) and by the replace_range
   delete (token __CUSTOMER_VERSIONS_FULL_REBUILD__), which runs before the insert and so sees
   the same table. Appending is only right when every snapshot day the run delivers is newer
   than the newest day already versioned: a restated or backfilled day (first delivered day on
   or before it) changes versions after it, so the history is re-derived. Nothing delivered in
   the window: append (the days after the versioned ones, usually none). #}
{% macro customer_versions_full_rebuild(target) -%}
(
    select case
        when versioned_to is null then true
        when first_delivered is null then false
        else first_delivered <= versioned_to
    end
    from (
        select
            (select max(last_seen_on) from {{ target }}) as versioned_to,
            (select min(_partition) from {{ source('raw', 'crm_customers') }}
             where {{ in_run_window('_partition') }}) as first_delivered
    )
)
{%- endmacro %}
