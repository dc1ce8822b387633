-- title: How much of our web traffic is bots?
-- description: Access-log hits per ISO week with the bot hits and their share, human page hits and distinct human visitors (web_traffic_daily).
SELECT
    date_trunc('week', request_date)::DATE AS week_start,
    sum(hits) AS hits,
    sum(bot_hits) AS bot_hits,
    round(sum(bot_hits) / sum(hits), 4) AS bot_share,
    sum(page_hits) AS human_page_hits,
    sum(visitors) AS human_visitor_days
FROM marts.web_traffic_daily
GROUP BY ALL
ORDER BY week_start;
