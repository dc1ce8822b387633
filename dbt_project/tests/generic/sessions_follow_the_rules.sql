{#- The session cut, checked pair by pair on consecutive rows of the same visitor (key), whatever
    built them (a full rebuild or a chain of incremental runs):
      same session      => at most session_timeout_minutes apart, and no new campaign;
      different session => more than the timeout apart, or the later row brings a campaign other
                           than the one in force after the earlier row;
    and every session starts at its first row. A windowed run checks the rows it re-cut and the day
    before them (from web_rebuild_from_day() - 1), not all history; without a window, everything. -#}
{% test sessions_follow_the_rules(model, key='session_key', ts='event_ts', tiebreak='event_id',
                                  session='session_id', start='session_start_ts') %}
with checked as (
    select * from {{ model }}
    where {{ ts }} >= timezone('UTC', ({{ web_rebuild_from_day() }} - 1)::timestamp)
),
ordered as (
    select {{ key }} as k, {{ ts }} as ts, {{ session }} as sid, {{ start }} as start_ts,
           campaign_key, session_campaign_key,
           lag({{ ts }}) over w as prev_ts,
           lag({{ session }}) over w as prev_sid,
           lag(session_campaign_key) over w as prev_campaign
    from checked
    window w as (partition by {{ key }} order by {{ ts }}, {{ tiebreak }})
),
broken_pairs as (
    select k, ts, 'same session across a gap or a new campaign' as problem
    from ordered
    where prev_sid = sid
      and (ts - prev_ts > {{ session_timeout() }}
           or (campaign_key is not null and campaign_key is distinct from prev_campaign))
    union all
    select k, ts, 'new session without a gap or a new campaign'
    from ordered
    where prev_sid <> sid
      and ts - prev_ts <= {{ session_timeout() }}
      and (campaign_key is null or campaign_key is not distinct from prev_campaign)
),
starts as (
    select {{ session }} as sid, 'session_start_ts is not its first row' as problem
    from {{ model }}
    where {{ session }} in (select {{ session }} from checked)
    group by {{ session }}
    having min({{ ts }}) <> min({{ start }}) or max({{ start }}) <> min({{ start }})
)
select k as id, problem from broken_pairs
union all
select sid, problem from starts
{% endtest %}
