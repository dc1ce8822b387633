select
    ip, auth_user, request_ts, cast(timezone('UTC', request_ts) as date) as request_date, method, path,
    protocol, status, bytes, referrer, user_agent, _source_file, _line_number
from {{ source('raw', 'weblog_hits') }}
