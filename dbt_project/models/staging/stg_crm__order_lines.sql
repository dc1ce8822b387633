-- One row per (order_id, line_no), latest delivered copy; line_amount = quantity x unit_price - discount.
select
    order_id, line_no, product_id, quantity, unit_price,
    coalesce(discount_amount, 0)::decimal(12, 2) as discount_amount,
    (quantity * unit_price - coalesce(discount_amount, 0))::decimal(14, 2) as line_amount,
    _partition as last_changed_on
from {{ source('raw', 'crm_order_lines') }}
qualify row_number() over (partition by order_id, line_no order by _partition desc, _line_number desc) = 1
