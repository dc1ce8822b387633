{{ config(meta={'dagster': {'ref': {'name': 'audiences'}}}) }}
-- Audiences never contain a customer without consent on the channel used, and an email row
-- carries the customer's own consent type (explicit | implicit), never an invented one.
select a.*
from {{ ref('audiences') }} a
join {{ ref('dim_customers') }} c using (customer_id)
where (a.channel = 'email' and not c.is_email_contactable)
   or (a.channel = 'sms' and not c.is_sms_contactable)
   or (a.channel = 'email' and a.consent_type is distinct from c.email_consent_type)
   or (a.channel = 'sms' and a.consent_type <> 'unspecified')
