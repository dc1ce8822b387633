{# The RFM reference day: var as_of_date, else the last day any order file was loaded. #}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%}
        DATE '{{ var("as_of_date") }}'
    {%- else -%}
        (SELECT max(_partition) FROM {{ source('raw', 'crm_orders') }})
    {%- endif -%}
{%- endmacro %}
