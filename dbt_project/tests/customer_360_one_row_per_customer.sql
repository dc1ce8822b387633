{{ config(meta={'dagster': {'ref': {'name': 'customer_360'}}}) }}
-- customer_360 has exactly the CRM customers: none missing, none extra, none twice.
select customer_id, count(c.customer_id) as in_360, count(d.customer_id) as in_crm
from {{ ref('customer_360') }} c
full join {{ ref('stg_crm__customers') }} d using (customer_id)
group by customer_id
having count(c.customer_id) <> 1 or count(d.customer_id) <> 1
