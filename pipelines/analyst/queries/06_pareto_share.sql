-- title: Do 20% of customers make 80% of revenue?
-- description: Share of net revenue made by the top 20% of paying customers, and the share of paying customers in value tier A (the customers making the first 80% of revenue).
WITH paying AS (
    SELECT
        net_revenue,
        value_tier,
        row_number() OVER (ORDER BY net_revenue DESC, customer_id) AS revenue_rank,
        count(*) OVER () AS paying_customers
    FROM marts.customer_360
    WHERE net_revenue > 0
)
SELECT
    any_value(paying_customers) AS paying_customers,
    sum(net_revenue) AS net_revenue,
    round(sum(net_revenue) FILTER (WHERE revenue_rank <= ceil(paying_customers * 0.2)) / sum(net_revenue), 4)
        AS top_20pct_revenue_share,
    count(*) FILTER (WHERE value_tier = 'A') AS tier_a_customers,
    round(count(*) FILTER (WHERE value_tier = 'A') / any_value(paying_customers), 4) AS tier_a_customer_share
FROM paying;
