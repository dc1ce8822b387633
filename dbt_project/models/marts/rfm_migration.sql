-- Segment migration between consecutive RFM snapshots: for every customer of every as_of_date,
-- the segment at the previous as_of_date present in rfm_segments (null when the customer was not
-- scored then: movement = 'entered'). Customers scored before but not now are listed with
-- movement = 'left' (possible with rfm_window_days).
with snapshots as (
    select as_of_date, lag(as_of_date) over (order by as_of_date) as previous_as_of_date
    from (select distinct as_of_date from {{ ref('rfm_segments') }})
),
cur as (
    select s.*, n.previous_as_of_date
    from {{ ref('rfm_segments') }} s join snapshots n using (as_of_date)
),
pairs as (
    select
        coalesce(c.customer_id, p.customer_id) as customer_id,
        coalesce(c.as_of_date, n.as_of_date) as as_of_date,
        coalesce(c.previous_as_of_date, n.previous_as_of_date) as previous_as_of_date,
        p.segment as previous_segment, c.segment as segment,
        p.rfm_cell as previous_rfm_cell, c.rfm_cell as rfm_cell
    from cur c
    full join (
        select s.*, n.as_of_date as next_as_of_date
        from {{ ref('rfm_segments') }} s join snapshots n on n.previous_as_of_date = s.as_of_date
    ) p on p.customer_id = c.customer_id and p.next_as_of_date = c.as_of_date
    left join snapshots n on n.as_of_date = p.next_as_of_date
)
select
    customer_id::varchar as customer_id,
    as_of_date::date as as_of_date,
    previous_as_of_date::date as previous_as_of_date,
    previous_segment::varchar as previous_segment,
    segment::varchar as segment,
    previous_rfm_cell::varchar as previous_rfm_cell,
    rfm_cell::varchar as rfm_cell,
    (case
        when previous_as_of_date is null then 'first_snapshot'
        when previous_segment is null then 'entered'
        when segment is null then 'left'
        when segment = previous_segment then 'same'
        else 'changed'
    end)::varchar as movement
from pairs
