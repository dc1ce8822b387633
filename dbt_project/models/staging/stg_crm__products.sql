select product_id, name as product_name, category, brand, list_price
from {{ source('raw', 'crm_products') }}
qualify row_number() over (partition by product_id order by _partition desc, _line_number) = 1
