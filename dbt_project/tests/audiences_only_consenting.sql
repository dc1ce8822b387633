-- Audiences never contain a customer without consent on the channel used.
select a.*
from {{ ref('audiences') }} a
join {{ ref('dim_customers') }} c using (customer_id)
where (a.channel = 'email' and not c.is_email_contactable)
   or (a.channel = 'sms' and not c.is_sms_contactable)
