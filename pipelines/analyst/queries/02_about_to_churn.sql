-- title: Who is about to churn?
-- description: Valuable customers slipping away: RFM segments At Risk, Can't Lose Them and About to Sleep, or a behaviour alert (behavior_alerts: web activity drop, purchase gap against their own rhythm); highest revenue first.
WITH alerts AS (
    SELECT
        customer_id,
        max(activity_ratio) AS web_activity_ratio,
        max(days_since_last_order) AS days_since_last_order,
        string_agg(replace(replace(alert_type, 'web_activity_drop', 'web drop'), '_', ' '), ' + ' ORDER BY alert_type) AS alerts,
        string_agg(reason, '; ' ORDER BY alert_type) AS alert_reasons
    FROM marts.behavior_alerts
    GROUP BY customer_id
)
SELECT
    c.customer_id,
    c.first_name,
    c.last_name,
    c.rfm_segment,
    c.recency_days,
    c.orders_completed,
    c.net_revenue,
    c.lifecycle_stage,
    a.web_activity_ratio,
    CASE
        WHEN a.customer_id IS NOT NULL AND c.rfm_segment IN ('At Risk', 'Can''t Lose Them', 'About to Sleep')
            THEN 'segment + ' || a.alerts
        WHEN a.customer_id IS NOT NULL THEN a.alerts
        ELSE 'segment'
    END AS churn_signal,
    a.alert_reasons,
    c.is_email_contactable
FROM marts.customer_360 AS c
LEFT JOIN alerts AS a USING (customer_id)
WHERE c.rfm_segment IN ('At Risk', 'Can''t Lose Them', 'About to Sleep')
   OR a.customer_id IS NOT NULL
ORDER BY c.net_revenue DESC, c.customer_id;
