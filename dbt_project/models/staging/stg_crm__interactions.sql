select interaction_id, customer_id, channel, type as interaction_type, opened_at, closed_at, satisfaction
from {{ source('raw', 'crm_interactions') }}
qualify row_number() over (partition by interaction_id order by _partition desc, _line_number desc) = 1
