{#- No value of the column is a placeholder identifier (identity_placeholder_ids seed, blank, or
    var identity_placeholder_pattern): placeholders must never link identities. -#}
{% test placeholder_free(model, column_name) %}
select * from {{ model }}
where {{ column_name }} is not null and {{ is_placeholder_id(column_name) }}
{% endtest %}
