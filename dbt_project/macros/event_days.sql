{# Event days an incremental event model must rebuild for this run: every day that has an event
   DELIVERED in the run window [min_date, max_date) (late events land in the next day's file, so a
   run of day D+1 also rebuilds day D). All events of those days are re-read, whatever their
   delivery day, and replaced with delete+insert on the day column. Full rebuild when no window. #}
{% macro affected_event_days(relation, day_column, delivered_column='delivered_on') -%}
    select distinct {{ day_column }} from {{ relation }}
    where {{ in_run_window(delivered_column) }}
{%- endmacro %}

{# Days of an incremental stitched-event model whose stored customer_id is no longer the one the
   identity graph gives today. A visitor who identifies on day D has their earlier anonymous
   traffic attributed back (same anonymous_id): a full rebuild would stitch those earlier days
   too, so an incremental run must rebuild them as well (also when a cookie becomes shared and
   loses its customer). Compares the model ({{ this }}) with the current events, on key_column. #}
{% macro restitched_days(day_column, key_column, current) -%}
    select distinct t.{{ day_column }} from {{ this }} t
    join ({{ current }}) c on c.{{ key_column }} = t.{{ key_column }}
    where t.customer_id is distinct from c.customer_id
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
