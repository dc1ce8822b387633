-- Current catalogue entry per product (newest daily snapshot containing it).
select
    product_id,
    trim(name) as product_name,
    nullif(trim(category), '') as category,
    nullif(trim(brand), '') as brand,
    list_price,
    _partition as snapshot_date
from {{ source('raw', 'crm_products') }}
qualify row_number() over (partition by product_id order by _partition desc, _line_number) = 1
