{# Event days an incremental event model must rebuild for this run: every day that has an event
   DELIVERED in the run window [min_date, max_date) (late events land in the next day's file, so a
   run of day D+1 also rebuilds day D). All events of those days are re-read, whatever their
   delivery day, and replaced with delete+insert on the day column. Full rebuild when no window. #}
{% macro affected_event_days(relation, day_column, delivered_column='delivered_on') -%}
    select distinct {{ day_column }} from {{ relation }}
    where {{ in_run_window(delivered_column) }}
{%- endmacro %}

{# Device class from a user agent string. #}
{% macro device_type(ua) -%}
    case
        when {{ ua }} is null then 'unknown'
        when {{ ua }} ilike '%ipad%' or {{ ua }} ilike '%tablet%' then 'tablet'
        when {{ ua }} ilike '%mobile%' or {{ ua }} ilike '%iphone%' or {{ ua }} ilike '%android%' then 'mobile'
        else 'desktop'
    end
{%- endmacro %}
