-- title: How did customers move between RFM segments this month?
-- description: Movements between consecutive RFM snapshots taken in the month of the latest snapshot (rfm_migration), from previous segment to current segment.
WITH latest AS (
    SELECT date_trunc('month', max(as_of_date)) AS month_start FROM marts.rfm_migration
)
SELECT
    m.movement,
    coalesce(m.previous_segment, '(none)') AS from_segment,
    coalesce(m.segment, '(none)') AS to_segment,
    count(*) AS customers
FROM marts.rfm_migration AS m, latest
WHERE m.as_of_date >= latest.month_start
GROUP BY ALL
ORDER BY customers DESC, movement, from_segment, to_segment;
