{#- One row; the watermark is no later than 00:00 UTC of the day before the first re-delivered
    day, and rebuild_from_date is its UTC day. -#}
{% test rebuild_window_is_consistent(model) %}
select 'rows' as problem from (select count(*) as n from {{ model }}) where n <> 1
union all
select 'watermark after the cut-off' from {{ model }}
where rebuild_from_ts > timezone('UTC', (rebuild_from_day - 1)::timestamp)
union all
select 'date is not the watermark day' from {{ model }}
where rebuild_from_date is distinct from cast(timezone('UTC', rebuild_from_ts) as date)
union all
select 'half null' from {{ model }}
where (rebuild_from_day is null) <> (rebuild_from_ts is null)
{% endtest %}
