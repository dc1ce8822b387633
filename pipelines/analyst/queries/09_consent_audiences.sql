-- title: How many customers can marketing actually reach per audience?
-- description: Consent-aware audience sizes from marts.audiences (only customers contactable on the channel): customers reachable by email (and of them with explicit consent), by SMS, and by either.
SELECT
    audience_type,
    audience,
    count(DISTINCT customer_id) FILTER (WHERE channel = 'email') AS email_reachable,
    count(DISTINCT customer_id) FILTER (WHERE channel = 'email' AND consent_type = 'explicit') AS email_explicit,
    count(DISTINCT customer_id) FILTER (WHERE channel = 'sms') AS sms_reachable,
    count(DISTINCT customer_id) AS reachable
FROM marts.audiences
GROUP BY ALL
ORDER BY audience_type, reachable DESC, audience;
