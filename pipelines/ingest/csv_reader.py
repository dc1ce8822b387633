"""CSV files: DuckDB's reader with explicit VARCHAR columns and stored rejects.

Leaves `_lines` (physical lines), `_stage(_line_number, _span, f_<column>...)` for rows
that split into fields and `_rejects(_line_number, _span, reason, column_name, detail)`
for rows that did not. Typing and rules come afterwards (rules.py), as for every format.

Line numbers: DuckDB numbers records (a blank line is a record, a quoted field spanning
lines is one record) and only for rejected rows. Good rows take the record slots the
rejects and blank lines leave free, in file order; records map to physical lines by
identity, or, when a field spans lines, by quote parity (_record_map). A stray quote
in an unquoted field can shift the numbers of the lines after it in such files.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from pipelines.ingest.contracts import TableContract
from pipelines.ingest.errors import IngestError
from pipelines.ingest.textfile import (
    DUCKDB_ENCODINGS,
    duckdb_problem,
    needs_transcoding,
    stage_lines,
    transcode_to_utf8,
)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _header(con: duckdb.DuckDBPyConnection, rel: str, table: TableContract) -> list[str]:
    row = con.execute("SELECT line FROM _lines WHERE _line_number = 1").fetchone()
    if row is None or row[0] is None or not row[0].strip():
        raise IngestError(f"{rel}: empty file (no header line)")
    first = row[0].lstrip("\ufeff")
    fields = next(csv.reader([first], delimiter=table.delimiter, quotechar=table.quote or None))
    return [f.strip() for f in fields]


def stage_csv(
    con: duckdb.DuckDBPyConnection, path: Path, rel: str, table: TableContract, tmp_dir: Path
) -> None:
    if not table.header:
        raise IngestError(f"{rel}: CSV contracts need header: true (columns are matched by name)")
    encoding = "utf-8"
    if needs_transcoding(table.encoding):
        path = transcode_to_utf8(path, rel, table.encoding, tmp_dir)
    else:
        encoding = DUCKDB_ENCODINGS[table.encoding]
    stage_lines(con, path, rel, encoding)
    header = _header(con, rel, table)
    missing = [c.source for c in table.columns if c.required and c.source not in header]
    if missing:
        raise IngestError(
            f"{rel}: missing required column(s) {', '.join(missing)} in the header (found: {', '.join(header)})"
        )
    if len(set(header)) != len(header):
        raise IngestError(f"{rel}: duplicate column names in the header")
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    quote = _sql_str(table.quote)
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _csv AS
            SELECT row_number() OVER () AS _k, * FROM read_csv(?, columns={columns}, header=true,
                auto_detect=false, delim={_sql_str(table.delimiter)}, quote={quote}, escape={quote},
                encoding='{encoding}', strict_mode=true, null_padding=false, store_rejects=true,
                rejects_table='_csv_rejects', rejects_scan='_csv_scans', max_line_size=4194304)""",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise IngestError(f"{rel}: {duckdb_problem(exc)}") from exc
    # One reject per record (DuckDB may report several errors for one line).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _rej AS
        SELECT line AS _rec, arg_min(error_type::VARCHAR, column_idx) AS error_type,
               arg_min(error_message, column_idx) AS error_message
        FROM _csv_rejects GROUP BY line"""
    )
    newlines = " + ".join(
        f"coalesce(length(c{i}) - length(replace(c{i}, chr(10), '')), 0)" for i in range(len(header))
    )
    multiline = con.execute(f"SELECT coalesce(sum({newlines}), 0) > 0 FROM _csv").fetchone()[0]
    _record_map(con, table.quote if multiline else "")
    # Record slots: header is record 1; blank lines and rejects occupy theirs.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _slots AS
        WITH blank AS (SELECT m._rec FROM _lines l JOIN _recmap m USING (_line_number)
                       WHERE l._line_number > 1 AND l.line IS NULL),
        taken AS (SELECT _rec FROM blank UNION SELECT _rec FROM _rej),
        n AS (SELECT (SELECT count(*) FROM _csv) + (SELECT count(*) FROM taken) + 1 AS total)
        SELECT r.rec AS _rec, row_number() OVER (ORDER BY r.rec) AS _k
        FROM range(2, (SELECT total FROM n) + 1) r(rec)
        WHERE r.rec NOT IN (SELECT _rec FROM taken)"""
    )
    fields = []
    for col in table.columns:
        if col.source in header:
            fields.append(f'_csv.c{header.index(col.source)} AS "f_{col.name}"')
        else:
            fields.append(f'NULL::VARCHAR AS "f_{col.name}"')
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _stage AS
        SELECT m._line_number, ({newlines.replace("(c", "(_csv.c")}) + 1 AS _span, {", ".join(fields)}
        FROM _csv JOIN _slots USING (_k) JOIN _recmap m ON m._rec = _slots._rec"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _rejects AS
        SELECT coalesce(m._line_number, _rej._rec) AS _line_number, 1 AS _span,
               CASE WHEN error_type = 'LINE SIZE OVER MAXIMUM' THEN 'malformed_line'
                    ELSE 'wrong_column_count' END AS reason,
               NULL::VARCHAR AS column_name,
               error_type || ': ' || error_message AS detail
        FROM _rej LEFT JOIN _recmap m ON m._rec = _rej._rec"""
    )


def _record_map(con: duckdb.DuckDBPyConnection, quote: str) -> None:
    """_recmap(_rec, _line_number): DuckDB's record number -> physical line where it starts.

    Without quoted line breaks it is the identity. With them, a physical line starts a
    record when the quotes before it are balanced (an even count; doubled quotes count 2).
    """
    if not quote:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _recmap AS SELECT _line_number AS _rec, _line_number FROM _lines"
        )
        return
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _recmap AS
        WITH q AS (
            SELECT _line_number,
                   coalesce(sum(coalesce(length(line) - length(replace(line, ?, '')), 0)) OVER (
                       ORDER BY _line_number ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
            FROM _lines
        )
        SELECT row_number() OVER (ORDER BY _line_number) AS _rec, _line_number FROM q WHERE before % 2 = 0""",
        [quote],
    )
