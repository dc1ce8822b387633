"""quarantine.<raw_table>: every row that did not reach raw as delivered, whole, with its reason.

action 'rejected': the row is not in raw. action 'repaired': the row is in raw with the
named field set NULL (on_fail: nullify); `detail` keeps the original value. `record_key`
(the primary key as text, '|'-joined) lets `references` checks see keys that were
delivered but quarantined, so an order is not blamed for its customer's bad row.
"""

from __future__ import annotations

import duckdb

QUARANTINE_COLUMNS = """
    _source_file VARCHAR, _line_number BIGINT, _partition DATE, _loaded_at TIMESTAMPTZ,
    reason VARCHAR, column_name VARCHAR, detail VARCHAR, action VARCHAR, raw_record VARCHAR,
    record_key VARCHAR
"""


def ensure_quarantine_table(con: duckdb.DuckDBPyConnection, raw_table: str) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS quarantine.{raw_table} ({QUARANTINE_COLUMNS})")


def raw_record_sql(alias: str) -> str:
    """Original text of a staged row: its physical line(s) from _lines."""
    return (
        f"(SELECT string_agg(l.line, chr(10) ORDER BY l._line_number) FROM _lines l "
        f"WHERE l._line_number BETWEEN {alias}._line_number AND {alias}._line_number + {alias}._span - 1)"
    )


def insert_structural_rejects(
    con: duckdb.DuckDBPyConnection, raw_table: str, source_file: str, partition: object, loaded_at: object
) -> int:
    """Rows the reader could not split (wrong field count, invalid JSON, malformed log line)."""
    con.execute(
        f"""INSERT INTO quarantine.{raw_table}
        SELECT ?, r._line_number, ?, ?, r.reason, r.column_name, r.detail, 'rejected', l.line, NULL
        FROM _rejects r LEFT JOIN _lines l USING (_line_number)""",
        [source_file, partition, loaded_at],
    )
    return int(con.execute("SELECT count(*) FROM _rejects").fetchone()[0])
