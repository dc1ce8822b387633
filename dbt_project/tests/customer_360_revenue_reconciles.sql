{{ config(meta={'dagster': {'ref': {'name': 'customer_360'}}}) }}
-- Net revenue in customer_360 reconciles to the cent, per customer and in total, with
--   (1) the orders mart: fct_orders.net_amount (for a past as_of_date var, int_orders_as_of:
--       orders as known then), and
--   (2) the raw orders themselves, recomputed here without the marts' revenue macros: the latest
--       version of each order delivered up to as_of_date, completed minus returned, cancelled
--       excluded. Sales = orders still completed + orders completed then returned (status
--       returned, total >= 0); returns = every returned amount (abs(total): a returned order, or a
--       credit note of a line-level export, status returned with a negative total).
-- Attached to customer_360 in Dagster (meta.dagster.ref): it reads several models.
{% set reference = ref('int_orders_as_of') if var('as_of_date') else ref('fct_orders') %}
with mart as (
    select customer_id, sum(net_amount) as net
    from {{ reference }}
    where order_date <= {{ as_of_date() }}
    group by customer_id
),
raw_latest as (
    select customer_id, status, total_amount
    from {{ source('raw', 'crm_orders') }}
    where _partition <= {{ as_of_date() }} and cast(order_ts as date) <= {{ as_of_date() }}
    qualify row_number() over (partition by order_id order by _partition desc, _line_number desc) = 1
),
raw as (
    select
        customer_id,
        coalesce(sum(abs(total_amount)) filter (where status = 'completed' or (status = 'returned' and total_amount >= 0)), 0)
        - coalesce(sum(abs(total_amount)) filter (where status = 'returned'), 0) as net
    from raw_latest
    group by customer_id
),
c as (select customer_id, net_revenue from {{ ref('customer_360') }}),
per_customer as (
    select coalesce(c.customer_id, m.customer_id, r.customer_id) as customer_id,
           c.net_revenue, m.net as mart_net, r.net as raw_net
    from c
    full join mart m using (customer_id)
    full join raw r using (customer_id)
)
select customer_id, net_revenue, mart_net, raw_net
from per_customer
where abs(coalesce(net_revenue, 0) - coalesce(mart_net, 0)) >= 0.01
   or abs(coalesce(net_revenue, 0) - coalesce(raw_net, 0)) >= 0.01
union all
select 'TOTAL', sum(net_revenue), sum(mart_net), sum(raw_net)
from per_customer
having abs(coalesce(sum(net_revenue), 0) - coalesce(sum(mart_net), 0)) >= 0.01
    or abs(coalesce(sum(net_revenue), 0) - coalesce(sum(raw_net), 0)) >= 0.01
