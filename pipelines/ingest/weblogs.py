"""Web server access logs (Apache/Nginx combined or common format) into fields.

Lines are read as text (physical line numbers, original text for quarantine), then
split into a struct of text fields (see stage_log for the fast path). A line that does
not match the whole pattern (regexp_extract gives '' then, never NULL) is `malformed_line`.
Quoted fields keep Apache's escapes undone (\\" and \\\\); '-' means absent.
Measured alternatives are in docs/contracts.md (section "Log parsing").
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.ingest.contracts import TableContract
from pipelines.ingest.textfile import ReadFile, stage_lines

_Q = r'"((?:[^"\\]|\\.)*)"'
COMMON = r"^(\S+) (\S+) (\S+) \[([^\]]+)\] " + _Q + r" (\d{3}) (\d+|-)"
COMBINED = COMMON + " " + _Q + " " + _Q + r"\s*$"
COMMON = COMMON + r"\s*$"
GROUPS = ["ip", "ident", "auth_user", "request_ts", "request", "status", "bytes", "referrer", "user_agent"]


def _unescape(expr: str) -> str:
    return f"NULLIF(replace(replace({expr}, '\\\"', '\"'), '\\\\', '\\'), '-')"


def field_sql(log_format: str) -> dict[str, str]:
    """SQL (over struct `p`) for every column a weblog contract may declare."""
    req = _unescape("p.request")
    return {
        "ip": "p.ip",
        "ident": "NULLIF(p.ident, '-')",
        "auth_user": "NULLIF(p.auth_user, '-')",
        "request_ts": "p.request_ts",
        "request": req,
        "method": f"NULLIF(regexp_extract({req}, '^([A-Za-z]+) ', 1), '')",
        "path": f"NULLIF(regexp_extract({req}, '^[A-Za-z]+ (\\S+)', 1), '')",
        "protocol": f"NULLIF(regexp_extract({req}, '^[A-Za-z]+ \\S+ (\\S+)$', 1), '')",
        "status": "p.status",
        "bytes": "NULLIF(p.bytes, '-')",
        "referrer": _unescape("p.referrer") if log_format == "combined" else "NULL",
        "user_agent": _unescape("p.user_agent") if log_format == "combined" else "NULL",
    }


def stage_log(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile], table: TableContract, tmp_dir: Path
) -> None:
    stage_lines(con, files, "utf-8" if table.encoding in {"utf-8", "utf8"} else "latin-1")
    combined = table.log_format == "combined"
    pattern = COMBINED if combined else COMMON
    groups = GROUPS if combined else GROUPS[:7]
    names = "[" + ", ".join(f"'{g}'" for g in groups) + "]"
    # Fast path (measured 30% faster on 2M lines): a capture-free full match validates the
    # line, then string_split on '"' cuts it; valid lines without a backslash have no quote
    # inside a field, so the pieces are exact. Lines with escapes or that do not match go
    # through regexp_extract (which also gives '' for the malformed ones).
    split_fields = {
        "ip": "split_part(q[1], ' ', 1)",
        "ident": "split_part(q[1], ' ', 2)",
        "auth_user": "split_part(split_part(q[1], ' [', 1), ' ', 3)",
        "request_ts": "split_part(split_part(q[1], '[', 2), ']', 1)",
        "request": "q[2]",
        "status": "split_part(trim(q[3]), ' ', 1)",
        "bytes": "split_part(trim(q[3]), ' ', 2)",
        "referrer": "q[4]",
        "user_agent": "q[6]",
    }
    struct = "{" + ", ".join(f"'{g}': {split_fields[g]}" for g in groups) + "}"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _parsed AS
        WITH l AS (
            SELECT _f, _line_number, line, regexp_full_match(line, $1) AS ok, contains(line, '\\') AS esc
            FROM _lines WHERE line IS NOT NULL AND ltrim(line) <> ''
        )
        SELECT _f, _line_number, {struct} AS p
        FROM (SELECT _f, _line_number, string_split(line, '"') AS q FROM l WHERE ok AND NOT esc)
        UNION ALL
        SELECT _f, _line_number, regexp_extract(line, $1, {names}) AS p FROM l WHERE NOT ok OR esc""",
        [pattern],
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _rejects AS
        SELECT _f, _line_number, 1 AS _span, 'malformed_line' AS reason, NULL::VARCHAR AS column_name,
               ? AS detail
        FROM _parsed WHERE p.ip = ''""",
        [f"does not match the {table.log_format} log format"],
    )
    parts = field_sql(table.log_format)
    unknown = [c.name for c in table.columns if c.name not in parts]
    fields = ", ".join(
        f'{parts[c.name] if c.name not in unknown else "NULL"}::VARCHAR AS "f_{c.name}"'
        for c in table.columns
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _stage AS
        SELECT _f, _line_number, 1 AS _span, {fields} FROM _parsed WHERE p.ip <> ''"""
    )
