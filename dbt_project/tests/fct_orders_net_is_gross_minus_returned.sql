-- Revenue identity of every non-cancelled order: net = gross - returned (a completed order keeps
-- its total, a returned one nets to 0, a credit note to minus what it gives back); cancelled
-- orders count nothing. Only credit notes may have a negative net_amount.
select order_id, status, gross_amount, net_amount, returned_amount, is_credit_note
from {{ ref('fct_orders') }}
where (status <> 'cancelled' and net_amount <> gross_amount - returned_amount)
   or (status = 'cancelled' and (net_amount <> 0 or returned_amount <> 0))
   or (net_amount < 0 and not is_credit_note)
   or (is_credit_note and status <> 'returned')
