-- title: Which campaigns convert?
-- description: Tracker sessions per utm_campaign: sessions, identified visitors, purchasing sessions, conversion rate and purchase revenue per session.
SELECT
    coalesce(utm_campaign, '(none)') AS campaign,
    count(*) AS sessions,
    count(DISTINCT customer_id) AS identified_customers,
    count(*) FILTER (WHERE purchases > 0) AS purchasing_sessions,
    round(count(*) FILTER (WHERE purchases > 0) / count(*), 4) AS conversion_rate,
    coalesce(sum(purchase_revenue), 0) AS purchase_revenue,
    round(coalesce(sum(purchase_revenue), 0) / count(*), 2) AS revenue_per_session
FROM marts.fct_sessions
WHERE source = 'clickstream'
GROUP BY ALL
ORDER BY conversion_rate DESC, sessions DESC, campaign;
