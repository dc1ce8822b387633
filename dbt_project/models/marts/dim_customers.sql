select * exclude (snapshot_date), snapshot_date as profile_as_of
from {{ ref('stg_crm__customers') }}
