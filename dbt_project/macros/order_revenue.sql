{# Revenue of one order version, the one definition fct_orders and int_orders_as_of share.
   Net revenue = completed minus returned, cancelled excluded:
     completed                    gross = total, returned = 0,      net = total
     returned (total >= 0)        the order was completed, then given back in full:
                                  gross = total, returned = total,  net = 0
     credit note (returned, total < 0: a return booked as its own document, e.g. a 'C' invoice of
                                  a line-level export, whose sale is another order):
                                  gross = 0,     returned = -total, net = total (negative)
     cancelled                    gross = total, returned = 0,      net = 0 (never counted)
   So for every non-cancelled order net = gross - returned, and summing net over a customer's
   orders subtracts every return exactly once. #}
{% macro is_credit_note(status, total) -%}
    ({{ status }} = 'returned' and {{ total }} < 0)
{%- endmacro %}

{% macro order_gross_amount(status, total) -%}
    (case when {{ is_credit_note(status, total) }} then 0 else {{ total }} end)
{%- endmacro %}

{% macro order_net_amount(status, total) -%}
    (case when {{ status }} = 'completed' then {{ total }}
          when {{ is_credit_note(status, total) }} then {{ total }}
          else 0 end)
{%- endmacro %}

{% macro order_returned_amount(status, total) -%}
    (case when {{ status }} = 'returned' then abs({{ total }}) else 0 end)
{%- endmacro %}
