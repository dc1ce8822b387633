{#- Incremental web-traffic models (tracker events and log hits cut into sessions, log sessions,
    page views, sessions, daily traffic, identity links) rebuild from a watermark, never the whole
    history, and give the same rows as a full rebuild.

    Sessionizing is causal: whether an event opens a session depends only on the earlier events of
    the same visitor. So when the run window [min_date, max_date) delivers rows dated R or later
    (R = web_rebuild_from_day(); late events re-open their day), the row-level sessionized tables
    re-cut every row dated R or later, starting from the last stored row of each visitor on day
    R - 1 (its session id, start and campaign in force carry over). A row earlier than R - 1 is
    more than session_timeout_minutes (< 1 day) before any re-cut row, so it cannot matter.

    Downstream, every web row whose time is at or after the watermark rebuild_from_ts
    (int_web_rebuild_window: the earliest start of a tracker or log session still running at
    R - 1 00:00 UTC, else R - 1 00:00) is deleted and written again; rows before it are unchanged
    by construction. Sessions spanning midnight, late events merging two sessions and a late
    tracker event changing how a log hit is stitched all fall after the watermark. -#}

{#- First UTC day with tracker events, log hits or new orders delivered in the run window (null:
    nothing delivered; everything when no window). Read from raw, filtered on _partition, so it
    stays a cheap scan. New orders count because a purchase event of an order the CRM did not know
    yet gains its 'order' identity link once the order arrives. -#}
{% macro web_rebuild_from_day() -%}
(
    select min(day) from (
        select min(cast(timezone('UTC', event_ts) as date)) as day
        from {{ source('raw', 'clickstream_events') }} where {{ in_run_window('_partition') }}
        union all
        select min(cast(timezone('UTC', request_ts) as date))
        from {{ source('raw', 'weblog_hits') }} where {{ in_run_window('_partition') }}
        union all
        select min(cast(timezone('UTC', e.event_ts) as date))
        from {{ source('raw', 'clickstream_events') }} e
        where e.event_type = 'purchase' and e.order_id in (
            select order_id from {{ source('raw', 'crm_orders') }} where {{ in_run_window('_partition') }}
            {%- if var('min_date') %}
            except
            select order_id from {{ source('raw', 'crm_orders') }} where _partition < DATE '{{ var("min_date") }}'
            {%- endif %}
        )
    )
)
{%- endmacro %}

{#- Custom incremental strategy: delete every stored row matching the model's `replace_where`
    predicate (config; the rebuilt time range), plus, with a unique_key, every stored row whose key
    is in the new batch (rows re-attributed outside the range, e.g. a customer stitched later);
    then insert the batch. Unlike delete+insert on a day key, a stored row that no longer exists
    (two sessions merged by a late event) is removed too.
    Config values are rendered when dbt parses the project, so replace_where names the bounds with
    tokens resolved here, at run time: __REBUILD_FROM_DAY__ (web_rebuild_from_day()),
    __REBUILD_FROM_TS__ and __REBUILD_FROM_DATE__ (int_web_rebuild_window), and
    __CUSTOMER_VERSIONS_FULL_REBUILD__ (customer_versions_full_rebuild(), macros/customer_profile.sql). -#}
{% macro get_incremental_replace_range_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- set dest_cols_csv = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set replace_where = config.get('replace_where') -%}
    {%- if not replace_where -%}
        {{ exceptions.raise_compiler_error("incremental_strategy 'replace_range' needs a replace_where config") }}
    {%- endif -%}
    {%- if '__REBUILD_FROM_DAY__' in replace_where -%}
        {%- set replace_where = replace_where | replace('__REBUILD_FROM_DAY__', web_rebuild_from_day()) -%}
    {%- endif -%}
    {%- if '__CUSTOMER_VERSIONS_FULL_REBUILD__' in replace_where -%}
        {%- set replace_where = replace_where
            | replace('__CUSTOMER_VERSIONS_FULL_REBUILD__', customer_versions_full_rebuild(target)) -%}
    {%- endif -%}
    {%- if '__REBUILD_FROM_TS__' in replace_where or '__REBUILD_FROM_DATE__' in replace_where -%}
        {%- set window = ref('int_web_rebuild_window') -%}
        {%- set replace_where = replace_where
            | replace('__REBUILD_FROM_TS__', '(select rebuild_from_ts from ' ~ window ~ ')')
            | replace('__REBUILD_FROM_DATE__', '(select rebuild_from_date from ' ~ window ~ ')') -%}
    {%- endif -%}
    delete from {{ target }}
    where coalesce(({{ replace_where }}), false)
    {%- if unique_key %}
       or {{ unique_key }} in (select {{ unique_key }} from {{ source }})
    {%- endif %};
    insert into {{ target }} ({{ dest_cols_csv }})
    select {{ dest_cols_csv }} from {{ source }}
{%- endmacro %}

{#- The session timeout as a DuckDB interval; refuses a day or more (the incremental re-cut looks
    back one day only). -#}
{% macro session_timeout() -%}
    {%- set minutes = var('session_timeout_minutes') | int -%}
    {%- if minutes <= 0 or minutes >= 1440 -%}
        {{ exceptions.raise_compiler_error("session_timeout_minutes must be between 1 and 1439") }}
    {%- endif -%}
    interval '{{ minutes }} minutes'
{%- endmacro %}

{#- Cut the rows of CTE `timeline` into sessions per `key`, ordered by `ts` then `tiebreak`:
    a row opens a session when it is the visitor's first, comes more than session_timeout_minutes
    after the previous row, or brings a campaign (campaign_key, null = none) different from the
    one in force in the current run of activity (the last campaign seen since the last timeout
    gap; a session that started without a campaign is re-opened by the first campaign).
    `timeline` needs: key, ts, tiebreak and row_id columns, campaign_key, is_context, and on context
    rows (the last stored row of a visitor, see web_incremental) carried_session_id,
    carried_start_ts and, as campaign_key, the campaign in force after it. Adds is_new_session,
    session_id (md5 of key, start in epoch microseconds and the opening row's id: two sessions of
    one visitor opening in the same microsecond stay apart), session_start_ts and
    session_campaign_key (the campaign in force after the row). -#}
{% macro sessionize(timeline, key, ts, tiebreak, row_id) -%}
    select *,
        last_value(case when is_new_session then coalesce(
            carried_session_id,
            md5({{ key }} || '|' || epoch_us({{ ts }}) || '|' || {{ row_id }})) end ignore nulls) over w as session_id,
        last_value(case when is_new_session then coalesce(carried_start_ts, {{ ts }}) end ignore nulls) over w
            as session_start_ts,
        coalesce(campaign_key, campaign_in_force) as session_campaign_key
    from (
        select *,
            (prev_ts is null
             or {{ ts }} - prev_ts > {{ session_timeout() }}
             or (campaign_key is not null and campaign_key is distinct from campaign_in_force)) as is_new_session
        from (
            select *,
                last_value(campaign_key ignore nulls) over (
                    partition by {{ key }}, chain_no order by {{ ts }}, {{ tiebreak }}
                    rows between unbounded preceding and 1 preceding
                ) as campaign_in_force
            from (
                select *,
                    sum(case when prev_ts is null or {{ ts }} - prev_ts > {{ session_timeout() }} then 1 else 0 end) over (
                        partition by {{ key }} order by {{ ts }}, {{ tiebreak }} rows unbounded preceding
                    ) as chain_no
                from (
                    select *, lag({{ ts }}) over (partition by {{ key }} order by {{ ts }}, {{ tiebreak }}) as prev_ts
                    from {{ timeline }}
                )
            )
        )
    )
    window w as (partition by {{ key }} order by {{ ts }}, {{ tiebreak }} rows unbounded preceding)
{%- endmacro %}

{#- 'source|medium|campaign' when any utm field is set, else null. -#}
{% macro campaign_key(source, medium, campaign) -%}
    case when {{ source }} is not null or {{ medium }} is not null or {{ campaign }} is not null
         then concat_ws('|', coalesce({{ source }}, ''), coalesce({{ medium }}, ''), coalesce({{ campaign }}, ''))
    end
{%- endmacro %}

{#- Visitor of the access log and of the tracker alike: md5 of ip | user agent. -#}
{% macro visitor_key(ip, user_agent) -%}
    md5(coalesce({{ ip }}, '') || '|' || coalesce({{ user_agent }}, ''))
{%- endmacro %}
