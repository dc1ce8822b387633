-- One row per tracker session with its customer: the customer of the session's last event that has
-- one (int_events_stitched; ties on event_ts broken by event_id), so anonymous browsing before a
-- login in the same session, and earlier sessions of the same cookie, are attributed back.
-- Resolved on every read (a view): a new link or a rule change re-attributes old sessions.
select
    session_id,
    arg_max(customer_id, (event_ts, event_id)) filter (where customer_id is not null) as customer_id
from {{ ref('int_events_stitched') }}
group by session_id
