{# Half-open window [min_date, max_date) of the run on a date column; true when the var is null.
   Used by incremental models (delete+insert on the day key) so a partition run rebuilds its days only. #}
{% macro in_run_window(column) -%}
    ({% if var('min_date') %}{{ column }} >= DATE '{{ var("min_date") }}'{% else %}true{% endif %}
     and {% if var('max_date') %}{{ column }} < DATE '{{ var("max_date") }}'{% else %}true{% endif %})
{%- endmacro %}
