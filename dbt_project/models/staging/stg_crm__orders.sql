-- Current version of each order: the copy from the latest export day wins (a return arrives as a
-- later copy with status 'returned'); within one file the last line wins.
select
    order_id, customer_id, order_ts, order_date, channel, status, currency, total_amount,
    min(version_date) over (partition by order_id) as first_seen_on,
    version_date as last_changed_on
from {{ ref('stg_crm__order_versions') }}
qualify row_number() over (partition by order_id order by version_date desc, _line_number desc) = 1
