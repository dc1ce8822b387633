select order_id, line_no, product_id, quantity, unit_price, coalesce(discount_amount, 0) as discount_amount
from {{ source('raw', 'crm_order_lines') }}
qualify row_number() over (partition by order_id, line_no order by _partition desc, _line_number desc) = 1
