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


def stage_raw_records(con: duckdb.DuckDBPyConnection, needed: str) -> None:
    """_rawrec(_f, _line_number, raw_record): the physical line(s) of each staged row in `needed`.

    `needed` is a query giving (_f, _line_number, _span) of the rows going to quarantine;
    only their lines are looked up (an equi-join per physical line), not the whole file.
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rawrec AS
        WITH n AS (SELECT DISTINCT _f, _line_number, _span FROM ({needed})),
        x AS (SELECT _f, _line_number AS _start, unnest(range(_line_number, _line_number + _span)) AS _line_number
              FROM n)
        SELECT x._f, x._start AS _line_number, string_agg(l.line, chr(10) ORDER BY l._line_number) AS raw_record
        FROM x JOIN _lines l USING (_f, _line_number) GROUP BY ALL"""
    )


def insert_structural_rejects(con: duckdb.DuckDBPyConnection, raw_table: str, loaded_at: object) -> None:
    """Rows the reader could not split (wrong field count, invalid JSON, malformed log line).

    raw_record is the reject's physical lines (_span: more than one for a CSV record that
    an unterminated quote ran on over the following lines).
    """
    con.execute(
        f"""INSERT INTO quarantine.{raw_table}
        WITH x AS (SELECT _f, _line_number AS _start, unnest(range(_line_number, _line_number + _span)) AS _line_number
                   FROM (SELECT DISTINCT _f, _line_number, _span FROM _rejects)),
        rec AS (SELECT x._f, x._start, string_agg(l.line, chr(10) ORDER BY l._line_number) AS raw_record
                FROM x JOIN _lines l USING (_f, _line_number) GROUP BY ALL)
        SELECT fl._source_file, r._line_number, fl._partition, ?, r.reason, r.column_name, r.detail,
               'rejected', rec.raw_record, NULL
        FROM _rejects r JOIN _files fl USING (_f)
        LEFT JOIN rec ON rec._f = r._f AND rec._start = r._line_number""",
        [loaded_at],
    )
