select (select count(*) from {{ ref('customer_360') }}) as c360, (select count(*) from {{ ref('dim_customers') }}) as customers
where c360 <> customers
