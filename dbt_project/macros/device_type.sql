{# Device class from a user agent string. #}
{% macro device_type(ua) -%}
    case
        when {{ ua }} is null then 'unknown'
        when {{ ua }} ilike '%ipad%' or {{ ua }} ilike '%tablet%' then 'tablet'
        when {{ ua }} ilike '%mobile%' or {{ ua }} ilike '%iphone%' or {{ ua }} ilike '%android%' then 'mobile'
        else 'desktop'
    end
{%- endmacro %}
