{{ config(meta={'dagster': {'ref': {'name': 'customer_360'}}}) }}
-- Every customer with a completed order up to as_of_date has exactly one RFM row for that day,
-- and customer_360 carries the same segment.
select c.customer_id, c.orders_completed, c.rfm_segment, r.segment
from {{ ref('customer_360') }} c
left join {{ ref('rfm_segments') }} r on r.customer_id = c.customer_id and r.as_of_date = c.as_of_date
where (c.orders_completed > 0) <> (r.customer_id is not null)
   or c.rfm_segment is distinct from r.segment
