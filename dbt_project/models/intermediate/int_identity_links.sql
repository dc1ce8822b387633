-- depends_on: {{ ref('int_web_rebuild_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_range',
    replace_where="(rule <> 'ip_ua_window' and link_date >= __REBUILD_FROM_DATE__)"
        ~ " or (rule = 'ip_ua_window' and first_seen_at >= __REBUILD_FROM_TS__)",
    on_schema_change='sync_all_columns'
) }}
-- The identity link table: every piece of evidence that two identifiers belong together, with the
-- rule that made the link and the event(s) that prove it, append-style (a run rewrites only the
-- days it re-reads; older evidence stays). Nothing here decides a merge: int_identity_map applies
-- the rules in force (identity_enabled_rules, placeholders, shared cookies) on every read, so a
-- wrong merge is explained by these rows and undone by changing a rule, a var or a seed.
-- Rules, one row per (link_date, rule, cookie, customer) or per (log session, tracker session):
--   login         a login/signup event of the cookie carrying user_id = customer_id
--   user_id       any other event of the cookie carrying user_id
--   order         a purchase event of the cookie whose order_id is a CRM order of the customer
--   ip_ua_window  a human access-log session whose page hits fall, with the same ip + user agent,
--                 in the widened window of a tracker session (int_weblog_page_views,
--                 stitch_status 'stitched'): it links the log session to that tracker session and
--                 its cookie; the customer is the tracker session's (customer_id left null here).
-- Placeholder ids never reach this table (staging nulls them). Claimed user ids are kept even when
-- the CRM does not know them (yet); int_identity_map only resolves CRM customers.
{% set incremental = is_incremental() %}
with
{% if incremental %}
w as (
    select * from {{ ref('int_web_rebuild_window') }}
),
{% endif %}
events as (
    select * from {{ ref('stg_clickstream__events') }}
    where anonymous_id is not null
    {% if incremental %}and event_date >= (select rebuild_from_date from w){% endif %}
),
claims as (
    select e.event_date, e.anonymous_id, e.user_id as customer_id,
           case when e.event_type in ('login', 'signup') then 'login' else 'user_id' end as rule,
           e.event_id, e.event_ts, null::varchar as order_id
    from events e
    where e.user_id is not null
    union all
    select e.event_date, e.anonymous_id, o.customer_id, 'order', e.event_id, e.event_ts, e.order_id
    from events e
    join {{ ref('stg_crm__orders') }} o on o.order_id = e.order_id
    where e.event_type = 'purchase'
),
cookie_links as (
    select
        event_date as link_date,
        rule,
        anonymous_id,
        customer_id,
        null::varchar as clickstream_session_id,
        null::varchar as weblog_session_id,
        arg_min(event_id, (event_ts, event_id)) as evidence_event_id,
        arg_max(event_id, (event_ts, event_id)) as last_evidence_event_id,
        min(order_id) as evidence_order_id,
        null::varchar as evidence_hit_id,
        count(*) as evidence_count,
        min(event_ts) as first_seen_at,
        max(event_ts) as last_seen_at
    from claims
    group by event_date, rule, anonymous_id, customer_id
),
log_hits as (
    select * from {{ ref('int_weblog_page_views') }}
    where stitch_status = 'stitched' and matched_session_id is not null
    {% if incremental %}and log_session_start_ts >= (select rebuild_from_ts from w){% endif %}
),
log_links as (
    select
        cast(timezone('UTC', any_value(h.log_session_start_ts)) as date) as link_date,
        'ip_ua_window' as rule,
        any_value(h.anonymous_id) as anonymous_id,
        null::varchar as customer_id,
        h.matched_session_id as clickstream_session_id,
        h.log_session_id as weblog_session_id,
        null::varchar as evidence_event_id,
        null::varchar as last_evidence_event_id,
        null::varchar as evidence_order_id,
        arg_min(h.hit_id, (h.request_ts, h.hit_id)) as evidence_hit_id,
        count(*) as evidence_count,
        any_value(h.log_session_start_ts) as first_seen_at,
        max(h.request_ts) as last_seen_at,
        min(h.request_ts) as first_hit_at
    from log_hits h
    group by h.log_session_id, h.matched_session_id
),
-- the tracker event closest in time to the first matched hit: what the log hit was matched on
log_evidence as (
    select l.weblog_session_id, l.clickstream_session_id,
           arg_min(e.event_id, (abs(epoch(e.event_ts - l.first_hit_at)), e.event_id)) as evidence_event_id
    from log_links l
    join {{ ref('int_events_sessionized') }} e on e.session_id = l.clickstream_session_id
    {% if incremental %}
    -- the nearest event is at most one timeout before a hit, and hits are at or after the watermark
    where e.event_ts >= (select rebuild_from_ts from w) - {{ session_timeout() }}
    {% endif %}
    group by all
)
select
    md5(concat_ws('|', rule, link_date, anonymous_id, customer_id, clickstream_session_id, weblog_session_id))::varchar as link_id,
    link_date::date as link_date,
    rule::varchar as rule,
    anonymous_id::varchar as anonymous_id,
    customer_id::varchar as customer_id,
    clickstream_session_id::varchar as clickstream_session_id,
    weblog_session_id::varchar as weblog_session_id,
    evidence_event_id::varchar as evidence_event_id,
    last_evidence_event_id::varchar as last_evidence_event_id,
    evidence_order_id::varchar as evidence_order_id,
    evidence_hit_id::varchar as evidence_hit_id,
    evidence_count::integer as evidence_count,
    first_seen_at::timestamptz as first_seen_at,
    last_seen_at::timestamptz as last_seen_at
from (
    select * from cookie_links
    union all by name
    select l.* exclude (evidence_event_id, first_hit_at), e.evidence_event_id
    from log_links l join log_evidence e using (weblog_session_id, clickstream_session_id)
)
