-- Net revenue in customer_360 equals completed orders in fct_orders, to the cent.
select abs((select sum(net_revenue) from {{ ref('customer_360') }})
         - (select coalesce(sum(net_amount), 0) from {{ ref('fct_orders') }} where customer_id in (select customer_id from {{ ref('dim_customers') }}))) as diff
where diff >= 0.01
