-- Every delivered version of every order (an order is re-sent when it changes, e.g. completed
-- then returned). version_date = the export day that carried it. Used to see orders as they
-- were known on a past as_of_date (rfm_segments history).
select
    order_id, customer_id, order_ts, cast(order_ts as date) as order_date, lower(trim(channel)) as channel,
    lower(trim(status)) as status, upper(trim(currency)) as currency, total_amount,
    _partition as version_date, _line_number
from {{ source('raw', 'crm_orders') }}
