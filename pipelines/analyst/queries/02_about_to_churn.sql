-- title: Who is about to churn?
-- description: Valuable customers slipping away: RFM segments At Risk, Can't Lose Them and About to Sleep, or a drop in web activity (behavior_alerts); highest revenue first.
SELECT
    c.customer_id,
    c.first_name,
    c.last_name,
    c.rfm_segment,
    c.recency_days,
    c.orders_completed,
    c.net_revenue,
    c.lifecycle_stage,
    a.activity_ratio AS web_activity_ratio,
    CASE
        WHEN a.customer_id IS NOT NULL AND c.rfm_segment IN ('At Risk', 'Can''t Lose Them', 'About to Sleep')
            THEN 'segment + web drop'
        WHEN a.customer_id IS NOT NULL THEN 'web drop'
        ELSE 'segment'
    END AS churn_signal,
    c.is_email_contactable
FROM marts.customer_360 AS c
LEFT JOIN marts.behavior_alerts AS a USING (customer_id)
WHERE c.rfm_segment IN ('At Risk', 'Can''t Lose Them', 'About to Sleep')
   OR a.customer_id IS NOT NULL
ORDER BY c.net_revenue DESC, c.customer_id;
