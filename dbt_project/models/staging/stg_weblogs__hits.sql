-- Access log hits with the request day in UTC. Paths keep their query string; path_clean drops it.
-- hit_id = '<source file>:<line>' names the log line (stable across re-loads of the same file).
select
    _source_file || ':' || _line_number as hit_id,
    ip, nullif(auth_user, '-') as auth_user, request_ts,
    cast(timezone('UTC', request_ts) as date) as request_date,
    method, path,
    nullif(split_part(coalesce(path, ''), '?', 1), '') as path_clean,
    protocol, request, status, coalesce(bytes, 0) as bytes,
    nullif(nullif(referrer, '-'), '') as referrer,
    nullif(nullif(user_agent, '-'), '') as user_agent,
    _source_file, _line_number, _partition as delivered_on
from {{ source('raw', 'weblog_hits') }}
