-- The part of web history this run rebuilds (one row; see macros/web_incremental.sql):
--   rebuild_from_day  first UTC day with tracker events, log hits or new orders delivered in the
--                     run window [min_date, max_date) (null: nothing delivered, nothing rebuilt;
--                     no window: the first day of all);
--   rebuild_from_ts   the watermark: the earliest start of a tracker or log session still running at
--                     rebuild_from_day - 1 00:00 UTC, else that instant. Web rows (sessions,
--                     page views, links of log sessions) at or after it are rewritten;
--   rebuild_from_date its UTC day: day-grain rows (web_traffic_daily, cookie links) from it on are rewritten.
-- A view, so every model reads the value of its own run, whatever was run before.
with day as (
    select {{ web_rebuild_from_day() }} as rebuild_from_day
),
cutoff as (
    select rebuild_from_day, timezone('UTC', (rebuild_from_day - 1)::timestamp) as cutoff_ts from day
),
watermark as (
    select
        c.rebuild_from_day,
        least(
            c.cutoff_ts,
            (select min(session_start_ts) from {{ ref('int_events_sessionized') }} where event_ts >= c.cutoff_ts),
            (select min(log_session_start_ts) from {{ ref('int_weblog_hits_sessionized') }} where request_ts >= c.cutoff_ts)
        ) as rebuild_from_ts
    from cutoff c
)
select
    rebuild_from_day,
    rebuild_from_ts,
    cast(timezone('UTC', rebuild_from_ts) as date) as rebuild_from_date
from watermark
