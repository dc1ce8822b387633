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
from pipelines.ingest.textfile import ReadFile, locate_unreadable, path_literal, stage_decoded


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def drift_note(header: tuple[str, ...], table: TableContract) -> str | None:
    """Schema drift the load tolerates, in words: extra columns ignored, optional ones absent."""
    sources = [c.source for c in table.columns]
    extra = [h for h in header if h not in sources]
    absent = [s for s in sources if s not in header]
    parts = ([f"column(s) not in the contract, ignored: {', '.join(extra)}"] if extra else []) + (
        [f"contract column(s) absent, loaded as NULL: {', '.join(absent)}"] if absent else []
    )
    return "schema drift: " + "; ".join(parts) if parts else None


def _headers(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile], table: TableContract
) -> dict[int, tuple[str, ...]]:
    """Each file's header fields (line 1 of _lines); a file's problem names that file."""
    first = dict(con.execute("SELECT _f, line FROM _lines WHERE _line_number = 1").fetchall())
    out: dict[int, tuple[str, ...]] = {}
    for f in files:
        line = first.get(f.f)
        if line is None or not line.strip():
            raise IngestError(f"{f.rel}: empty file (no header line)")
        fields = next(
            csv.reader([line.lstrip("\ufeff")], delimiter=table.delimiter, quotechar=table.quote or None)
        )
        header = tuple(h.strip() for h in fields)
        missing = [c.source for c in table.columns if c.required and c.source not in header]
        if missing:
            raise IngestError(
                f"{f.rel}: missing required column(s) {', '.join(missing)} in the header "
                f"(found: {', '.join(header)})"
            )
        if len(set(header)) != len(header):
            raise IngestError(f"{f.rel}: duplicate column names in the header")
        out[f.f] = header
    return out


def _read_group(
    con: duckdb.DuckDBPyConnection,
    files: list[ReadFile],
    header: tuple[str, ...],
    table: TableContract,
    encoding: str,
) -> None:
    """Append one read_csv over files sharing a header to _csv and _rej.

    _k numbers a file's good rows from 1: the scan's row_number() minus the file's first.
    """
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    quote = _sql_str(table.quote)
    reader = (
        f"read_csv(?, columns={columns}, header=true, auto_detect=false, "
        f"delim={_sql_str(table.delimiter)}, quote={quote}, escape={quote}, encoding='{encoding}', "
        "strict_mode=true, null_padding=false, store_rejects=true, rejects_table='_csv_rejects', "
        "rejects_scan='_csv_scans', max_line_size=4194304, filename=true)"
    )
    paths = "[" + ", ".join(path_literal(f.path) for f in files) + "]"
    cols = ", ".join(f"c{i}" for i in range(len(header)))
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _csv_raw AS SELECT row_number() OVER () AS _n, filename AS _path, "
            f"{cols} FROM {reader.replace('?', paths)}"
        )
    except duckdb.Error as exc:
        raise locate_unreadable(files, reader.replace(", filename=true", ""), exc) from exc
    con.execute("CREATE OR REPLACE TEMP TABLE _paths (_path VARCHAR, _f INTEGER)")
    con.executemany("INSERT INTO _paths VALUES (?, ?)", [[str(f.path), f.f] for f in files])
    fields = []
    for col in table.columns:
        fields.append(f"r.c{header.index(col.source)}" if col.source in header else "NULL::VARCHAR")
    newlines = " + ".join(
        f"coalesce(length(r.c{i}) - length(replace(r.c{i}, chr(10), '')), 0)" for i in range(len(header))
    )
    con.execute(
        f"""INSERT INTO _csv
        SELECT p._f, r._n - o._first + 1, {newlines}, {", ".join(fields)}
        FROM _csv_raw r JOIN _paths p USING (_path)
        JOIN (SELECT _path, min(_n) AS _first FROM _csv_raw GROUP BY _path) o USING (_path)"""
    )
    # One reject per record (DuckDB may report several errors for one line).
    con.execute(
        """INSERT INTO _rej
        SELECT p._f, j.line, arg_min(j.error_type::VARCHAR, j.column_idx), arg_min(j.error_message, j.column_idx)
        FROM _csv_rejects j JOIN _csv_scans s USING (scan_id, file_id) JOIN _paths p ON p._path = s.file_path
        GROUP BY ALL"""
    )
    con.execute("DROP TABLE _csv_raw")


def stage_csv(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile], table: TableContract, tmp_dir: Path
) -> dict[int, str]:
    """Stage the files; returns the schema-drift note of each file whose header differs from the contract."""
    if not table.header:
        raise IngestError(f"{files[0].rel}: CSV contracts need header: true (columns are matched by name)")
    files, encoding = stage_decoded(con, files, table.encoding, tmp_dir)
    headers = _headers(con, files, table)
    fields = ", ".join(f'"f_{c.name}" VARCHAR' for c in table.columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _csv (_f INTEGER, _k BIGINT, _nl BIGINT, {fields})")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rej (_f INTEGER, _rec BIGINT, error_type VARCHAR, error_message VARCHAR)"
    )
    groups: dict[tuple[str, ...], list[ReadFile]] = {}
    for f in files:
        groups.setdefault(headers[f.f], []).append(f)
    for header, group in groups.items():
        _read_group(con, group, header, table, encoding)
    multiline = [f for (f,) in con.execute("SELECT DISTINCT _f FROM _csv WHERE _nl > 0").fetchall()]
    _record_map(con, table.quote, multiline)
    # Record slots: header is record 1; blank lines and rejects occupy theirs.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _slots AS
        WITH blank AS (SELECT m._f, m._rec FROM _lines l JOIN _recmap m USING (_f, _line_number)
                       WHERE l._line_number > 1 AND l.line IS NULL),
        taken AS (SELECT _f, _rec FROM blank UNION SELECT _f, _rec FROM _rej),
        n AS (SELECT _f, count(*) AS rows FROM _csv GROUP BY _f),
        t AS (SELECT _f, count(*) AS rows FROM taken GROUP BY _f),
        recs AS (SELECT _f, unnest(range(2, coalesce(n.rows, 0) + coalesce(t.rows, 0) + 2)) AS _rec
                 FROM n FULL JOIN t USING (_f))
        SELECT _f, _rec, row_number() OVER (PARTITION BY _f ORDER BY _rec) AS _k
        FROM recs ANTI JOIN taken USING (_f, _rec)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _stage AS
        SELECT _csv._f, m._line_number, _csv._nl + 1 AS _span, {", ".join(f'"f_{c.name}"' for c in table.columns)}
        FROM _csv JOIN _slots USING (_f, _k) JOIN _recmap m ON m._f = _slots._f AND m._rec = _slots._rec"""
    )
    # An unterminated quote swallows the lines up to the next record DuckDB could read (at
    # worst the end of the file): its _span covers them all, so quarantine keeps their text.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _rejects AS
        WITH r AS (
            SELECT _rej._f, coalesce(m._line_number, _rej._rec) AS _line_number, error_type, error_message,
                   error_message ILIKE '%unterminated quote%' AS _open
            FROM _rej LEFT JOIN _recmap m ON m._f = _rej._f AND m._rec = _rej._rec
        ),
        o AS (SELECT DISTINCT _f FROM r WHERE _open),
        starts AS (
            SELECT _f, _line_number, lead(_line_number) OVER (PARTITION BY _f ORDER BY _line_number) AS _next
            FROM (SELECT _f, _line_number FROM r WHERE _f IN (SELECT _f FROM o)
                  UNION SELECT _f, _line_number FROM _stage WHERE _f IN (SELECT _f FROM o))
        ),
        eof AS (SELECT _f, max(_line_number) + 1 AS _eof FROM _lines WHERE _f IN (SELECT _f FROM o) GROUP BY _f)
        SELECT r._f, r._line_number,
               CASE WHEN r._open THEN coalesce(s._next, eof._eof) - r._line_number ELSE 1 END AS _span,
               CASE WHEN error_type = 'LINE SIZE OVER MAXIMUM' THEN 'malformed_line'
                    ELSE 'wrong_column_count' END AS reason,
               NULL::VARCHAR AS column_name,
               error_type || ': ' || error_message AS detail
        FROM r LEFT JOIN starts s USING (_f, _line_number) LEFT JOIN eof USING (_f)"""
    )
    notes = {f.f: drift_note(headers[f.f], table) for f in files}
    return {f: note for f, note in notes.items() if note}


def _record_map(con: duckdb.DuckDBPyConnection, quote: str, multiline: list[int]) -> None:
    """_recmap(_f, _rec, _line_number): DuckDB's record number -> physical line where it starts.

    The identity for files without quoted line breaks. In the files with them (`multiline`),
    a physical line starts a record when the quotes before it are balanced (an even count;
    doubled quotes count 2).
    """
    multiline = multiline if quote else []
    multi = ", ".join(str(int(f)) for f in multiline) or "-1"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _recmap AS
        SELECT _f, _line_number AS _rec, _line_number FROM _lines WHERE _f NOT IN ({multi})"""
    )
    if not multiline:
        return
    con.execute(
        f"""INSERT INTO _recmap
        WITH q AS (
            SELECT _f, _line_number,
                   coalesce(sum(coalesce(length(line) - length(replace(line, ?, '')), 0)) OVER (
                       PARTITION BY _f ORDER BY _line_number
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
            FROM _lines WHERE _f IN ({multi})
        )
        SELECT _f, row_number() OVER (PARTITION BY _f ORDER BY _line_number), _line_number
        FROM q WHERE before % 2 = 0""",
        [quote],
    )
