{#- Every identity link carries the proof its rule needs: cookie rules name the cookie, the
    customer and the event(s); the order rule also the order; ip_ua_window the log session, the
    tracker session, the log line and the tracker event it was matched on. -#}
{% test identity_links_have_evidence(model) %}
select * from {{ model }}
where evidence_count < 1
   or (rule in ('login', 'user_id', 'order')
       and (anonymous_id is null or customer_id is null or evidence_event_id is null or last_evidence_event_id is null))
   or (rule = 'order' and evidence_order_id is null)
   or (rule = 'ip_ua_window'
       and (customer_id is not null or weblog_session_id is null or clickstream_session_id is null
            or evidence_hit_id is null or evidence_event_id is null))
{% endtest %}
