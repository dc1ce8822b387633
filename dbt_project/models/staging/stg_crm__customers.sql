-- Current profile of every customer: the row from the newest daily snapshot that contains them
-- (a customer missing from a later snapshot is not deleted). Cleaning: stg_crm__customer_snapshots.
select * exclude (_line_number)
from {{ ref('stg_crm__customer_snapshots') }}
qualify row_number() over (partition by customer_id order by snapshot_date desc) = 1
