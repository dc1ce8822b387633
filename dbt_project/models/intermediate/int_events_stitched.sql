-- Tracker events with the customer they are attributed to, resolved on every read so that a
-- visitor who identifies later, a cookie that becomes shared or a rule change (identity vars and
-- seeds) re-attributes all their events at once:
--   customer_id = the event's own user_id when it is a CRM customer (placeholders were nulled in
--   staging), else the customer its cookie resolves to in int_identity_map (shared cookies and
--   placeholder cookies resolve to nobody).
-- The placeholder rule is applied again to the stored user_id: int_events_sessionized keeps what
-- staging said when the row was cut, and a value declared a placeholder since then must not name
-- a customer from the next run on.
select
    e.event_id, e.event_type, e.event_ts, e.event_date, e.delivered_on, e.session_id,
    e.anonymous_id, e.user_id, e.page_url, e.page_path, e.product_id, e.referrer,
    e.utm_source, e.utm_medium, e.utm_campaign, e.device_type,
    coalesce(k.customer_id, m.customer_id) as customer_id
from {{ ref('int_events_sessionized') }} e
left join {{ ref('stg_crm__customers') }} k
       on k.customer_id = e.user_id and not {{ is_placeholder_id('e.user_id') }}
left join {{ ref('int_identity_map') }} m on m.anonymous_id = e.anonymous_id
