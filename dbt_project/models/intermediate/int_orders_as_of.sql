-- Orders as they were known on as_of_date (var, default the last loaded order day): for each
-- order, the latest version whose export day is <= as_of_date, keeping orders placed on or before
-- as_of_date. With the default as_of_date this is exactly fct_orders; for a past as_of_date it
-- ignores later changes (an order returned afterwards still counts as completed), so RFM history
-- and customer_360 can be rebuilt for any past day. Revenue columns: order_revenue macros.
with params as (
    select {{ as_of_date() }} as as_of_date
)
select
    v.order_id, v.customer_id, v.order_ts, v.order_date, v.channel, v.status, v.currency,
    {{ is_credit_note('v.status', 'v.total_amount') }} as is_credit_note,
    {{ order_gross_amount('v.status', 'v.total_amount') }} as gross_amount,
    {{ order_net_amount('v.status', 'v.total_amount') }} as net_amount,
    {{ order_returned_amount('v.status', 'v.total_amount') }} as returned_amount,
    v.version_date as last_changed_on,
    p.as_of_date
from {{ ref('stg_crm__order_versions') }} v, params p
where v.version_date <= p.as_of_date and v.order_date <= p.as_of_date
qualify row_number() over (partition by v.order_id order by v.version_date desc, v._line_number desc) = 1
