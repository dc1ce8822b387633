-- Net revenue in customer_360 equals fct_orders' net_amount to the cent, per customer and in
-- total. For a past as_of_date (var) the reference is int_orders_as_of (orders as known then);
-- for the default (last loaded day) it is fct_orders itself.
{% set reference = ref('int_orders_as_of') if var('as_of_date') else ref('fct_orders') %}
with o as (
    select customer_id, sum(net_amount) as net
    from {{ reference }}
    where order_date <= {{ as_of_date() }}
    group by customer_id
),
c as (select customer_id, net_revenue from {{ ref('customer_360') }})
select coalesce(c.customer_id, o.customer_id) as customer_id, c.net_revenue, o.net
from c full join o using (customer_id)
where abs(coalesce(c.net_revenue, 0) - coalesce(o.net, 0)) >= 0.01
union all
select 'TOTAL', (select sum(net_revenue) from c), (select sum(net) from o)
where abs((select coalesce(sum(net_revenue), 0) from c) - (select coalesce(sum(net), 0) from o)) >= 0.01
