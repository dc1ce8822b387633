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
