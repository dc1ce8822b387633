-- title: How are customers spread over the recency x frequency grid?
-- description: Customer count and revenue in each of the 25 R x F cells of the latest RFM snapshot (5 = best), with the segment each cell maps to; empty cells show 0.
WITH snapshot AS (
    SELECT * FROM marts.rfm_segments WHERE as_of_date = (SELECT max(as_of_date) FROM marts.rfm_segments)
),
grid AS (
    SELECT r.r_score, f.f_score
    FROM range(1, 6) AS r(r_score), range(1, 6) AS f(f_score)
)
SELECT
    g.r_score::INTEGER AS r_score,
    g.f_score::INTEGER AS f_score,
    count(s.customer_id) AS customers,
    coalesce(sum(s.monetary), 0) AS net_revenue,
    any_value(s.segment) AS segment
FROM grid AS g
LEFT JOIN snapshot AS s ON s.r_score = g.r_score AND s.f_score = g.f_score
GROUP BY ALL
ORDER BY r_score DESC, f_score;
