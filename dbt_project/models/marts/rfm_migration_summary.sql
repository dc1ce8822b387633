-- Segment migration summarised: for every RFM snapshot (as_of_date) and the one before it
-- (previous_as_of_date), how many customers went from each segment to each segment (rfm_migration
-- rows counted; from_segment null = entered, to_segment null = left), with their current monetary
-- value. "Who moved from Champions to At Risk this month": filter from_segment/to_segment and
-- as_of_date, or join back to rfm_migration for the customers.
select
    m.as_of_date::date as as_of_date,
    m.previous_as_of_date::date as previous_as_of_date,
    m.previous_segment::varchar as from_segment,
    m.segment::varchar as to_segment,
    m.movement::varchar as movement,
    count(*)::integer as customers,
    coalesce(sum(r.monetary), 0)::decimal(18, 2) as monetary
from {{ ref('rfm_migration') }} m
left join {{ ref('rfm_segments') }} r using (customer_id, as_of_date)
group by all
