{# Scores (and satisfaction) are whole numbers 1-5; nulls pass (use not_null where required). #}
{% test score_between_1_and_5(model, column_name) %}
select * from {{ model }} where {{ column_name }} not between 1 and 5
{% endtest %}
