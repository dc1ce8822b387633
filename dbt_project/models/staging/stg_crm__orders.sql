-- Current version of each order (a return arrives as a later copy with status 'returned').
select
    order_id, customer_id, order_ts, cast(order_ts as date) as order_date, channel, status, currency,
    total_amount, _partition as last_changed_on
from {{ source('raw', 'crm_orders') }}
qualify row_number() over (partition by order_id order by _partition desc, _line_number desc) = 1
