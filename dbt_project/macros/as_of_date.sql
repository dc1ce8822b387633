{# The reference day of RFM, lifecycle and customer_360: var as_of_date, else the last day an
   order file was loaded (max raw.crm_orders._partition). Inclusive: orders on that day count. #}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%}
        DATE '{{ var("as_of_date") }}'
    {%- else -%}
        (SELECT max(_partition) FROM {{ source('raw', 'crm_orders') }})
    {%- endif -%}
{%- endmacro %}
