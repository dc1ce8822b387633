{#- Log sessions: the counts agree with their hits, and the bot verdict with the rules and vars
    (is_bot exactly when a reason is given; the reason is the first rule that holds). -#}
{% test bot_sessions_flagged_by_the_rules(model, hits=ref('int_weblog_hits_sessionized')) %}
with counted as (
    select log_session_id as session_id, count(*) as hits,
           count(*) filter (where is_page) as page_views,
           count(*) filter (where is_asset) as asset_hits,
           count(*) filter (where not is_asset) as requests
    from {{ hits }} group by log_session_id
),
expected as (
    select s.*, c.hits as counted_hits, c.page_views as counted_pages, c.asset_hits as counted_assets,
           c.requests as counted_requests,
           case
               when s.ua_bot_pattern is not null then 'ua_pattern'
               when s.user_agent is null then 'no_user_agent'
               when s.requests >= {{ var('bot_rate_min_requests') | int }}
                    and s.requests * 60.0 / greatest(s.duration_seconds, 1) > {{ var('bot_max_requests_per_minute') }}
                    then 'high_request_rate'
               when s.page_views > {{ var('bot_max_pages_per_session') | int }} then 'too_many_pages'
               when s.page_views >= {{ var('bot_no_assets_min_pages') | int }} and s.asset_hits = 0 then 'no_assets'
           end as expected_reason
    from {{ model }} s left join counted c using (session_id)
)
select session_id, bot_reason, expected_reason from expected
where counted_hits is distinct from hits
   or counted_pages is distinct from page_views
   or counted_assets is distinct from asset_hits
   or counted_requests is distinct from requests
   or bot_reason is distinct from expected_reason
   or is_bot <> (bot_reason is not null)
   or (bot_reason is not null and bot_reasons not like bot_reason || '%')
{% endtest %}
