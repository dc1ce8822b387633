-- Support contacts, latest delivered copy per interaction_id (a contact can be re-sent when closed).
select
    interaction_id, customer_id, lower(trim(channel)) as channel, lower(trim(type)) as interaction_type,
    opened_at, closed_at, cast(opened_at as date) as opened_date,
    case when closed_at >= opened_at then date_diff('minute', opened_at, closed_at) end as resolution_minutes,
    satisfaction,
    _partition as last_changed_on
from {{ source('raw', 'crm_interactions') }}
qualify row_number() over (partition by interaction_id order by _partition desc, _line_number desc) = 1
