-- title: How big is each RFM segment and how much revenue does it bring?
-- description: Customers and net revenue per segment at the latest RFM snapshot, with each segment's share of customers and of revenue.
SELECT
    segment,
    count(*) AS customers,
    sum(monetary) AS net_revenue,
    round(count(*) / sum(count(*)) OVER (), 4) AS customer_share,
    round(sum(monetary) / sum(sum(monetary)) OVER (), 4) AS revenue_share,
    round(avg(recency_days), 1) AS avg_recency_days,
    round(avg(frequency), 2) AS avg_frequency
FROM marts.rfm_segments
WHERE as_of_date = (SELECT max(as_of_date) FROM marts.rfm_segments)
GROUP BY segment
ORDER BY net_revenue DESC, segment;
