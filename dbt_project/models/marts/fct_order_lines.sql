-- One row per order line of a known order (lines whose order is not in fct_orders are left out:
-- the order was quarantined). net_line_amount follows the order's net revenue: line_amount when
-- the order is completed or a credit note (whose lines carry negative quantities, so returns
-- are subtracted from the product's revenue), 0 for returned and cancelled orders.
select
    l.order_id::varchar as order_id,
    l.line_no::integer as line_no,
    l.product_id::varchar as product_id,
    o.customer_id::varchar as customer_id,
    o.order_date::date as order_date,
    o.status::varchar as order_status,
    l.quantity::integer as quantity,
    l.unit_price::decimal(12, 2) as unit_price,
    l.discount_amount::decimal(12, 2) as discount_amount,
    l.line_amount::decimal(14, 2) as line_amount,
    (case when o.status = 'completed' or o.is_credit_note then l.line_amount else 0 end)::decimal(14, 2) as net_line_amount
from {{ ref('stg_crm__order_lines') }} l
join {{ ref('fct_orders') }} o using (order_id)
