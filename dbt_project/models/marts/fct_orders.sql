-- One row per order (current version). Revenue definitions (macros/order_revenue.sql):
--   gross_amount    = total_amount as ordered, whatever the status (0 for a credit note);
--   net_amount      = total_amount for completed orders; 0 for returned (completed, then fully
--                     given back: + total - total = 0) and cancelled (never counted) orders;
--                     for a credit note (status returned with a negative total: a return booked
--                     as its own document, as line-level exports do) the negative total itself;
--   returned_amount = the amount given back: total_amount of a returned order, -total_amount of
--                     a credit note, else 0.
-- So sum(net_amount) = completed revenue minus returns, and net = gross - returned for every
-- non-cancelled order. Only credit notes have a negative net_amount.
with lines as (
    select order_id, count(*) as line_count, sum(quantity) as item_count
    from {{ ref('stg_crm__order_lines') }}
    group by order_id
)
select
    o.order_id::varchar as order_id,
    o.customer_id::varchar as customer_id,
    o.order_ts::timestamp as order_ts,
    o.order_date::date as order_date,
    o.channel::varchar as channel,
    o.status::varchar as status,
    o.currency::varchar as currency,
    {{ order_gross_amount('o.status', 'o.total_amount') }}::decimal(14, 2) as gross_amount,
    {{ order_net_amount('o.status', 'o.total_amount') }}::decimal(14, 2) as net_amount,
    {{ order_returned_amount('o.status', 'o.total_amount') }}::decimal(14, 2) as returned_amount,
    (o.status = 'completed')::boolean as is_completed,
    {{ is_credit_note('o.status', 'o.total_amount') }}::boolean as is_credit_note,
    (case when o.status = 'completed' then
        row_number() over (partition by o.customer_id, o.status = 'completed' order by o.order_ts, o.order_id)
     end)::integer as completed_order_number,
    coalesce(l.line_count, 0)::integer as line_count,
    coalesce(l.item_count, 0)::integer as item_count,
    o.first_seen_on::date as first_seen_on,
    o.last_changed_on::date as last_changed_on
from {{ ref('stg_crm__orders') }} o
left join lines l using (order_id)
