-- title: Where are customers in their lifecycle?
-- description: Customers per lifecycle stage (prospect, new, active, at risk, inactive, lost, won back) with their net revenue and how many are email-contactable.
SELECT
    lifecycle_stage,
    count(*) AS customers,
    round(count(*) / sum(count(*)) OVER (), 4) AS customer_share,
    sum(net_revenue) AS net_revenue,
    count(*) FILTER (WHERE is_email_contactable) AS email_contactable
FROM marts.customer_360
GROUP BY lifecycle_stage
ORDER BY customers DESC, lifecycle_stage;
