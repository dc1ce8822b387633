-- One row per support contact.
select
    interaction_id::varchar as interaction_id,
    customer_id::varchar as customer_id,
    channel::varchar as channel,
    interaction_type::varchar as interaction_type,
    opened_at::timestamp as opened_at,
    closed_at::timestamp as closed_at,
    opened_date::date as opened_date,
    (closed_at is not null)::boolean as is_closed,
    resolution_minutes::integer as resolution_minutes,
    satisfaction::integer as satisfaction
from {{ ref('stg_crm__interactions') }}
