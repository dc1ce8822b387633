{#- The session cut, checked pair by pair on consecutive rows of the same visitor (key), whatever
    built them (a full rebuild or a chain of incremental runs):
      same session      => at most session_timeout_minutes apart, and no new campaign;
      different session => more than the timeout apart, or the later row brings a campaign other
                           than the one in force after the earlier row;
    and every session starts at its first row. A windowed run checks the rows it re-cut and the day
    before them (from web_rebuild_from_day() - 1), not all history; without a window, everything. -#}
{% test sessions_follow_the_rules(model, key='session_key', ts='event_ts', tiebreak='event_id',
                                  session='session_id', start='session_start_ts') %}
-- Each CTE is read once and none is materialized: DuckDB keeps a materialized CTE (one read
-- twice) in memory. This test ran out of memory at tier L (30M events, memory_limit 3GB); at
-- tier M its session-start check needed over 150MB before, under it now (BENCHMARKS.md).
with ordered as not materialized (
    select {{ key }} as k, {{ ts }} as ts, {{ session }} as sid,
           campaign_key,
           lag({{ ts }}) over w as prev_ts,
           lag({{ session }}) over w as prev_sid,
           lag(session_campaign_key) over w as prev_campaign
    from {{ model }}
    where {{ ts }} >= timezone('UTC', ({{ web_rebuild_from_day() }} - 1)::timestamp)
    window w as (partition by {{ key }} order by {{ ts }}, {{ tiebreak }})
),
broken_pairs as not materialized (
    select k, ts, problem
    from (
        select k, ts,
               case
                   when prev_sid = sid
                    and (ts - prev_ts > {{ session_timeout() }}
                         or (campaign_key is not null and campaign_key is distinct from prev_campaign))
                   then 'same session across a gap or a new campaign'
                   when prev_sid <> sid
                    and ts - prev_ts <= {{ session_timeout() }}
                    and (campaign_key is null or campaign_key is not distinct from prev_campaign)
                   then 'new session without a gap or a new campaign'
               end as problem
        from ordered
    )
    where problem is not null
),
starts as not materialized (
    -- the sessions with a row in the window (in the same grouping, not a semi-join on the
    -- window's session ids: its hash table did not spill)
    select {{ session }} as sid, 'session_start_ts is not its first row' as problem
    from {{ model }}
    group by {{ session }}
    having max({{ ts }}) >= timezone('UTC', ({{ web_rebuild_from_day() }} - 1)::timestamp)
       and (min({{ ts }}) <> min({{ start }}) or max({{ start }}) <> min({{ start }}))
)
select k as id, problem from broken_pairs
union all
select sid, problem from starts
{% endtest %}
