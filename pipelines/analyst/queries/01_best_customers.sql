-- title: Who are our best customers?
-- description: The 20 customers with the highest net revenue (completed orders), with their RFM segment, value tier and whether we may email them.
SELECT
    customer_id,
    first_name,
    last_name,
    net_revenue,
    orders_completed,
    average_order_value,
    last_order_at,
    rfm_segment,
    value_tier,
    lifecycle_stage,
    is_email_contactable
FROM marts.customer_360
WHERE net_revenue > 0
ORDER BY net_revenue DESC, customer_id
LIMIT 20;
