-- title: Where do visitors drop out of the web funnel, per campaign?
-- description: Tracker sessions reaching each step (view, product view, cart, checkout, purchase) per campaign over all days of funnel_daily, with the cart-to-purchase rate.
SELECT
    campaign,
    sum(sessions) AS sessions,
    sum(sessions_viewed) AS viewed,
    sum(sessions_product_view) AS product_view,
    sum(sessions_add_to_cart) AS add_to_cart,
    sum(sessions_checkout) AS checkout,
    sum(sessions_purchase) AS purchase,
    round(sum(sessions_purchase) / nullif(sum(sessions_add_to_cart), 0), 4) AS cart_to_purchase_rate,
    round(sum(sessions_purchase) / sum(sessions), 4) AS conversion_rate,
    sum(purchase_revenue) AS purchase_revenue
FROM marts.funnel_daily
GROUP BY campaign
ORDER BY sessions DESC, campaign;
