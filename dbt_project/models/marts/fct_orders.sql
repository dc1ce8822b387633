-- One row per order. Net revenue counts completed orders only: a returned order was
-- completed and then given back (net 0), a cancelled one never counted.
select
    order_id, customer_id, order_ts, order_date, channel, status, currency,
    total_amount as gross_amount,
    case when status = 'completed' then total_amount else 0 end as net_amount,
    case when status = 'returned' then total_amount else 0 end as returned_amount
from {{ ref('stg_crm__orders') }}
