{# RFM score 1-5 of `value` among the rows of the window (5 = best). `best` is 'high' (frequency,
   monetary) or 'low' (recency_days). Equal values always share a score:
     - only one distinct value among the customers: 3 (the measure separates nobody);
     - the best value: 5, the worst value: 1, however many customers share it;
     - any other value: the fifth of the population in which the middle of its tie group falls,
       1 + floor(5 * (customers strictly worse + half of the tie group) / customers)
       (mid-rank percentile, in integer arithmetic so a bin edge never depends on rounding).
   Without ties these are exact quintiles (10 customers: 2 per score); ties can leave a score
   empty, which rfm_score_bins shows. Partition by as_of_date when several snapshots are scored. #}
{% macro rfm_score(value, best, partition_by='as_of_date') -%}
    {%- set worse_first = 'desc' if best == 'low' else 'asc' -%}
    {%- set best_fn = 'min' if best == 'low' else 'max' -%}
    {%- set worst_fn = 'max' if best == 'low' else 'min' -%}
    (case
        when min({{ value }}) over (partition by {{ partition_by }}) = max({{ value }}) over (partition by {{ partition_by }}) then 3
        when {{ value }} = {{ best_fn }}({{ value }}) over (partition by {{ partition_by }}) then 5
        when {{ value }} = {{ worst_fn }}({{ value }}) over (partition by {{ partition_by }}) then 1
        else 1 + (5 * (2 * rank() over (partition by {{ partition_by }} order by {{ value }} {{ worse_first }}) - 2
                       + count(*) over (partition by {{ partition_by }}, {{ value }})))
                 // (2 * count(*) over (partition by {{ partition_by }}))
    end)
{%- endmacro %}
