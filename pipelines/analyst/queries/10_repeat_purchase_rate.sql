-- title: What share of buyers come back for a second order?
-- description: Repeat purchase rate (customers with 2+ completed orders / customers with 1+) per acquisition channel and overall ('(all)').
SELECT
    CASE WHEN grouping(acquisition_channel) = 1 THEN '(all)' ELSE coalesce(acquisition_channel, '(unknown)') END
        AS acquisition_channel,
    count(*) AS buyers,
    count(*) FILTER (WHERE orders_completed >= 2) AS repeat_buyers,
    round(count(*) FILTER (WHERE orders_completed >= 2) / count(*), 4) AS repeat_purchase_rate,
    round(avg(orders_completed), 2) AS avg_completed_orders
FROM marts.customer_360
WHERE orders_completed >= 1
GROUP BY ROLLUP (acquisition_channel)
ORDER BY grouping(acquisition_channel), buyers DESC, acquisition_channel;
