{#- True when an identifier value is a placeholder that must never link anything: empty or blank,
    a value of the identity_placeholder_ids seed (case-insensitive, trimmed: 'null', 'anonymous',
    'guest', ...), or matching identity_placeholder_pattern (all zeros and dashes: '0000',
    '00000000-0000-0000-0000-000000000000'). Null stays null (not a placeholder, simply absent). -#}
{% macro is_placeholder_id(expr) -%}
    (trim({{ expr }}) = ''
     or lower(trim({{ expr }})) in (select lower(trim(placeholder_id)) from {{ ref('identity_placeholder_ids') }})
     or regexp_full_match(trim({{ expr }}), '{{ var("identity_placeholder_pattern") }}'))
{%- endmacro %}

{#- The trimmed identifier, or null when it is absent or a placeholder. -#}
{% macro clean_identifier(expr) -%}
    case when {{ is_placeholder_id(expr) }} then null else nullif(trim({{ expr }}), '') end
{%- endmacro %}
