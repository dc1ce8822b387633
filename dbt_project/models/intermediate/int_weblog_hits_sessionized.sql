{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where='request_date >= __REBUILD_FROM_DAY__',
    on_schema_change='sync_all_columns'
) }}
-- Every access-log hit (pages, static assets, errors, bots alike) in its log session, cut per
-- visitor_key (md5 of ip | user agent) with the tracker's rule (macro sessionize: more than
-- session_timeout_minutes of inactivity, or a new utm campaign in the query string). Every hit
-- belongs to exactly one log session, so bot and asset traffic are accounted for, never dropped.
-- log_session_id = md5(visitor_key | start in epoch us | first hit_id). Ties on request_ts are
-- broken by file and line. Incremental like int_events_sessionized: re-cuts hits dated on or after the
-- first day with data delivered in the run window, continuing each visitor's session of the day before.
{% set incremental = is_incremental() %}
with
{% if incremental %}
bounds as (
    select {{ web_rebuild_from_day() }} as rebuild_from_day
),
{% endif %}
fresh as not materialized (
    select h.*
    from {{ ref('int_weblog_hits_classified') }} h
    {% if incremental %}where h.request_date >= (select rebuild_from_day from bounds){% endif %}
),
-- the cut works on a narrow timeline; the other columns are joined back by hit_id
timeline as (
    select visitor_key, request_ts, _source_file, _line_number, hit_id, campaign_key,
           null::varchar as carried_session_id, null::timestamptz as carried_start_ts, false as is_context
    from fresh
    {% if incremental %}
    union all
    -- the last stored hit of each visitor on the day before: its session may go on
    select * from (
        select t.visitor_key, t.request_ts, t._source_file, t._line_number, t.hit_id,
               t.session_campaign_key, t.log_session_id, t.log_session_start_ts, true
        from {{ this }} t
        where t.request_date = (select rebuild_from_day - 1 from bounds)
          and t.visitor_key in (select visitor_key from fresh)
        qualify row_number() over (
            partition by t.visitor_key order by t.request_ts desc, t._source_file desc, t._line_number desc
        ) = 1
    )
    {% endif %}
),
sessionized as (
    select hit_id, session_id, session_start_ts, session_campaign_key
    from ({{ sessionize('timeline', 'visitor_key', 'request_ts', '_source_file, _line_number', 'hit_id') }})
    where not is_context
)
select
    h.hit_id, h.request_ts, h.request_date, h.delivered_on,
    h.visitor_key, h.ip, h.user_agent, h.ua_bot_pattern,
    s.session_id as log_session_id,
    s.session_start_ts as log_session_start_ts,
    h.method, h.path, h.path_clean, h.status, h.bytes, h.referrer,
    h.is_asset, h.is_page,
    h.utm_source, h.utm_medium, h.utm_campaign, h.campaign_key, s.session_campaign_key,
    h._source_file, h._line_number
from fresh h
join sessionized s using (hit_id)
