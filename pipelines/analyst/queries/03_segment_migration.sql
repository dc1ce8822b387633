-- title: How did customers move between RFM segments this month?
-- description: Movements between consecutive RFM snapshots taken in the month of the latest snapshot (rfm_migration_summary), from previous segment to current segment; join rfm_migration for the customers of one move.
WITH latest AS (
    SELECT date_trunc('month', max(as_of_date)) AS month_start FROM marts.rfm_migration_summary
)
SELECT
    s.movement,
    coalesce(s.from_segment, '(none)') AS from_segment,
    coalesce(s.to_segment, '(none)') AS to_segment,
    sum(s.customers) AS customers
FROM marts.rfm_migration_summary AS s, latest
WHERE s.as_of_date >= latest.month_start
GROUP BY ALL
ORDER BY customers DESC, movement, from_segment, to_segment;
