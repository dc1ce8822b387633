-- title: Which product categories sell?
-- description: Net revenue (completed orders), items and buyers per product category, with each category's share of net revenue.
SELECT
    coalesce(p.category, '(unknown)') AS category,
    count(DISTINCT l.order_id) AS orders,
    sum(l.quantity) AS items,
    count(DISTINCT l.customer_id) AS buyers,
    sum(l.net_line_amount) AS net_revenue,
    round(sum(l.net_line_amount) / sum(sum(l.net_line_amount)) OVER (), 4) AS revenue_share
FROM marts.fct_order_lines AS l
JOIN marts.dim_products AS p USING (product_id)
GROUP BY ALL
ORDER BY net_revenue DESC, category;
