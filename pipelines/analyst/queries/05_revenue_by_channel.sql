-- title: Where does revenue come from, by order channel?
-- description: Orders, completed orders, net revenue, its share of the total and the average completed order value per sales channel (web, store, call center, mobile app).
SELECT
    coalesce(channel, '(unknown)') AS channel,
    count(*) AS orders,
    count(*) FILTER (WHERE is_completed) AS completed_orders,
    sum(net_amount) AS net_revenue,
    round(sum(net_amount) / sum(sum(net_amount)) OVER (), 4) AS revenue_share,
    round(sum(net_amount) / nullif(count(*) FILTER (WHERE is_completed), 0), 2) AS average_order_value
FROM marts.fct_orders
GROUP BY ALL
ORDER BY net_revenue DESC, channel;
