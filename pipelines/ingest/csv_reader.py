"""CSV files: DuckDB's reader with explicit VARCHAR columns and stored rejects.

Leaves `_lines` (physical lines), `_stage(_f, _line_number, _span, f_<column>...)` for
records that split into fields and `_rejects(_f, _line_number, _span, reason, column_name,
detail)` for records that did not. Typing and rules come afterwards (rules.py), as for
every format.

Placing records on physical lines. DuckDB numbers records, not lines (a blank line is a
record, a quoted field spanning lines is one record), only for rejected records, and says
what text each reject swallowed (`csv_line`). Per file:

- *single-line files* (the usual case, proven by counting: physical lines = header +
  good rows + lines of the rejects + blank lines, and every reject is one line): record
  number = line number. Good rows fill the remaining lines in order; the k-th good row
  sits k + 1 lines down, plus one for each hole (reject or blank line) before it (an
  ASOF join on the holes, no window over the file).
- *multi-line files* (a quoted field with line breaks, or a reject that ran on over the
  following lines, e.g. an unterminated quote): records are laid end to end in record
  order, each taking 1 + its line breaks (a reject: the lines of its `csv_line`), a
  running sum giving each one's first line. A file that also has blank lines between its
  records is walked record by record instead (a blank line there may be a record or part
  of a quoted field; the walk tells them apart), which only such rare files pay for.

Whatever the path, every physical line must be accounted for (header, blank, or inside
exactly one record); a file where it is not fails with IngestError naming it, so a
resynchronising parser can never drop a line silently.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from pipelines.ingest.contracts import TableContract
from pipelines.ingest.errors import IngestError
from pipelines.ingest.textfile import ReadFile, locate_unreadable, read_tagged, stage_decoded

CSV_TEMP_TABLES = (
    "_csvfiles",
    "_csvfirst",
    "_csvholey",
    "_rej",
    "_fstat",
    "_holes",
    "_goodpos",
    "_rejpos",
    "_nlgood",
)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _newlines(expr: str) -> str:
    """Number of line breaks in a text expression (0 for NULL)."""
    return f"coalesce(length({expr}) - length(replace({expr}, chr(10), '')), 0)"


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
    g: int,
    files: list[ReadFile],
    header: tuple[str, ...],
    table: TableContract,
    encoding: str,
) -> str:
    """Read the files sharing a header into _csvraw<g>; returns its part of the _csv view.

    One multi-file read (read_tagged): the k-th good row of a file is its rowid minus the
    file's first rowid, plus one.
    """
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    quote = _sql_str(table.quote)
    reader = (
        f"read_csv(?, columns={columns}, header=true, auto_detect=false, "
        f"delim={_sql_str(table.delimiter)}, quote={quote}, escape={quote}, encoding='{encoding}', "
        "strict_mode=true, null_padding=false, store_rejects=true, rejects_table='_csv_rejects', "
        "rejects_scan='_csv_scans', max_line_size=4194304)"
    )
    cols = ", ".join(f"c{i}" for i in range(len(header)))
    try:
        read_tagged(
            con,
            f"_csvraw{g}",
            files,
            reader.replace("max_line_size=4194304)", "max_line_size=4194304, filename=true)"),
            cols,
        )
    except duckdb.Error as exc:
        raise locate_unreadable(files, reader, exc) from exc
    con.execute(f"INSERT INTO _csvfirst SELECT _f, _first, _last, _n FROM _csvraw{g}_first")
    # One reject per record (DuckDB may report several errors for one record); _nlines: the
    # physical lines it took (csv_line may start with the previous record's line break).
    trimmed = "trim(j.csv_line, chr(10) || chr(13))"
    con.execute(
        f"""INSERT INTO _rej
        SELECT p._f, j.line, arg_min(j.error_type::VARCHAR, j.column_idx), arg_min(j.error_message, j.column_idx),
               1 + max({_newlines(trimmed)})
        FROM _csv_rejects j JOIN _csv_scans s USING (scan_id, file_id) JOIN _csvfiles p ON p._path = s.file_path
        GROUP BY p._f, j.line"""
    )
    fields = [
        f"r.c{header.index(c.source)}" if c.source in header else "NULL::VARCHAR" for c in table.columns
    ]
    named = ", ".join(f'{expr} AS "f_{c.name}"' for expr, c in zip(fields, table.columns, strict=True))
    return f"SELECT r._f, r.rowid - p._first + 1 AS _k, {named} FROM _csvraw{g} r JOIN _csvfirst p USING (_f)"


def _file_stats(con: duckdb.DuckDBPyConnection) -> None:
    """_fstat per file: lines, blank lines, good rows, rejects and their lines, and its path.

    single_line: physical lines = header + goods + reject lines + blanks and each reject is
    one line. A quoted line break in a good row adds a line no count explains (even a blank
    line inside a field comes with the non-blank line that closes the quote).
    """
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fstat AS
        WITH l AS (
            SELECT _f, max(_line_number) AS n_lines,
                   count(*) FILTER (WHERE line IS NULL AND _line_number > 1) AS n_blank
            FROM _lines GROUP BY _f
        ),
        r AS (SELECT _f, count(*) AS n_rej, sum(_nlines) AS rej_lines FROM _rej GROUP BY _f)
        SELECT cf._f, l.n_lines, l.n_blank, coalesce(g._n, 0) AS n_goods, coalesce(r.n_rej, 0) AS n_rej,
               coalesce(r.rej_lines, 0) AS rej_lines,
               l.n_lines = 1 + coalesce(g._n, 0) + coalesce(r.rej_lines, 0) + l.n_blank
                   AND coalesce(r.rej_lines, 0) = coalesce(r.n_rej, 0) AS single_line
        FROM _csvfiles cf JOIN l USING (_f) LEFT JOIN _csvfirst g USING (_f) LEFT JOIN r USING (_f)"""
    )


def _place_single_line(con: duckdb.DuckDBPyConnection) -> None:
    """_holes for single-line files: rejects and blank lines, with the good rows before each.

    The i-th hole (in line order) at line h has h - i - 1 good rows before it; a good row k
    is shifted down by the number of holes with fewer than k goods before them.
    """
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _holes AS
        WITH h AS (
            SELECT _f, _rec AS _line FROM _rej WHERE _f IN (SELECT _f FROM _fstat WHERE single_line)
            UNION
            SELECT _f, _line_number FROM _lines
            WHERE line IS NULL AND _line_number > 1 AND _f IN (SELECT _f FROM _fstat WHERE single_line)
        ),
        n AS (SELECT _f, _line, row_number() OVER (PARTITION BY _f ORDER BY _line) AS _i FROM h)
        SELECT _f, _line - _i - 1 AS _before, max(_i) AS _shift FROM n GROUP BY ALL"""
    )


def _place_multi_line(con: duckdb.DuckDBPyConnection, table: TableContract, csv_view: str) -> None:
    """_goodpos(_f, _k, _line_number, _span) and _rejpos(_f, _rec, _line_number, _span) for multi-line files."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _goodpos (_f INTEGER, _k BIGINT, _line_number BIGINT, _span BIGINT)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rejpos (_f INTEGER, _rec BIGINT, _line_number BIGINT, _span BIGINT)"
    )
    multi = [f for (f,) in con.execute("SELECT _f FROM _fstat WHERE NOT single_line ORDER BY _f").fetchall()]
    if not multi:
        return
    in_multi = ", ".join(str(int(f)) for f in multi)
    newlines = " + ".join(_newlines(f'c."f_{c.name}"') for c in table.columns)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _nlgood AS
        SELECT c._f, c._k, 1 + {newlines} AS _lines FROM ({csv_view}) c WHERE c._f IN ({in_multi})"""
    )
    # Blank lines before the file's last non-blank line may or may not be records: walk those files.
    walk = {
        int(f)
        for (f,) in con.execute(
            f"""SELECT _f FROM _lines WHERE _f IN ({in_multi}) GROUP BY _f
            HAVING count(*) FILTER (WHERE line IS NULL AND _line_number > 1
                                    AND _line_number < (SELECT max(l2._line_number) FROM _lines l2
                                                        WHERE l2._f = _lines._f AND l2.line IS NOT NULL)) > 0"""
        ).fetchall()
    }
    summed = [f for f in multi if f not in walk]
    if summed:
        in_summed = ", ".join(str(int(f)) for f in summed)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _seq AS
            WITH recs AS (
                SELECT _f, unnest(range(2, 2 + n_goods + n_rej)) AS _rec FROM _fstat WHERE _f IN ({in_summed})
            ),
            free AS (
                SELECT _f, _rec, row_number() OVER (PARTITION BY _f ORDER BY _rec) AS _k
                FROM recs ANTI JOIN _rej USING (_f, _rec)
            ),
            seq AS (
                SELECT _f, _rec, _k, g._lines FROM free JOIN _nlgood g USING (_f, _k)
                UNION ALL
                SELECT _f, _rec, NULL, _nlines FROM _rej WHERE _f IN ({in_summed})
            )
            SELECT *, 2 + coalesce(sum(_lines) OVER (PARTITION BY _f ORDER BY _rec
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS _line_number
            FROM seq"""
        )
        con.execute("INSERT INTO _goodpos SELECT _f, _k, _line_number, _lines FROM _seq WHERE _k IS NOT NULL")
        con.execute("INSERT INTO _rejpos SELECT _f, _rec, _line_number, _lines FROM _seq WHERE _k IS NULL")
        con.execute("DROP TABLE _seq")
    for f in sorted(walk):
        _walk_file(con, f)


def _walk_file(con: duckdb.DuckDBPyConnection, f: int) -> None:
    """Lay one file's records on its lines in record order, telling blank records from blank
    lines inside a quoted field by where the previous record ended (rare files only)."""
    n_lines = con.execute("SELECT max(_line_number) FROM _lines WHERE _f = ?", [f]).fetchone()[0]
    blanks = {
        n
        for (n,) in con.execute(
            "SELECT _line_number FROM _lines WHERE _f = ? AND line IS NULL", [f]
        ).fetchall()
    }
    rejects = dict(con.execute("SELECT _rec, _nlines FROM _rej WHERE _f = ?", [f]).fetchall())
    goods = [n for (n,) in con.execute("SELECT _lines FROM _nlgood WHERE _f = ? ORDER BY _k", [f]).fetchall()]
    good_rows: list[tuple[int, int, int, int]] = []
    rej_rows: list[tuple[int, int, int, int]] = []
    pending = set(rejects)
    line, rec, k = 2, 2, 0
    while line <= n_lines and (pending or k < len(goods)):
        if rec in rejects:
            rej_rows.append((f, rec, line, rejects[rec]))
            pending.discard(rec)
            line += rejects[rec]
        elif line in blanks:
            line += 1
        elif k < len(goods):
            good_rows.append((f, k + 1, line, goods[k]))
            line += goods[k]
            k += 1
        else:
            break  # a reject DuckDB numbered past the lines: the placement check names the file
        rec += 1
    if good_rows:
        con.executemany("INSERT INTO _goodpos VALUES (?, ?, ?, ?)", good_rows)
    if rej_rows:
        con.executemany("INSERT INTO _rejpos VALUES (?, ?, ?, ?)", rej_rows)


def _check_every_line_placed(con: duckdb.DuckDBPyConnection, files: list[ReadFile]) -> None:
    """Every line of a multi-line file is the header, a blank line outside records, or in exactly
    one record, and every record was placed (single-line files hold by the count in _fstat)."""
    rows = con.execute(
        """WITH spans AS (
            SELECT _f, _line_number, _span FROM _goodpos UNION ALL SELECT _f, _line_number, _span FROM _rejpos
        ),
        s AS (SELECT _f, count(*) AS n, sum(_span) AS covered, max(_line_number + _span - 1) AS last
              FROM spans GROUP BY _f),
        covered_blank AS (
            SELECT l._f, count(*) AS n FROM _lines l JOIN spans p
              ON p._f = l._f AND l._line_number BETWEEN p._line_number AND p._line_number + p._span - 1
            WHERE l.line IS NULL GROUP BY l._f
        )
        SELECT fs._f, fs.n_lines, fs.n_goods + fs.n_rej AS records, coalesce(s.n, 0),
               1 + coalesce(s.covered, 0) + fs.n_blank - coalesce(cb.n, 0) AS accounted, coalesce(s.last, 1)
        FROM _fstat fs LEFT JOIN s USING (_f) LEFT JOIN covered_blank cb USING (_f)
        WHERE NOT fs.single_line"""
    ).fetchall()
    rel = {f.f: f.rel for f in files}
    for f, n_lines, records, placed, accounted, last in rows:
        if placed != records or accounted != n_lines or last > n_lines:
            raise IngestError(
                f"{rel[f]}: {records} CSV record(s) could not all be placed on its {n_lines} physical lines "
                f"({placed} placed, {accounted} lines accounted for): unbalanced quotes? Nothing was loaded."
            )


def _stage_view(con: duckdb.DuckDBPyConnection, table: TableContract) -> None:
    """_stage over the three kinds of file: plain (line = k + 1), single-line with holes (shifted
    by an ASOF join, materialized: inside the wide check query the join measured 2x slower),
    multi-line (_goodpos)."""
    fields = ", ".join(f'c."f_{c.name}"' for c in table.columns)
    kinds = dict(
        con.execute(
            """SELECT kind, list(_f) FROM (
                SELECT _f, CASE WHEN NOT single_line THEN 'multi'
                                WHEN _f IN (SELECT _f FROM _holes) THEN 'holey' ELSE 'plain' END AS kind
                FROM _fstat) GROUP BY kind"""
        ).fetchall()
    )

    def in_list(kind: str) -> str:
        return ", ".join(str(int(f)) for f in kinds.get(kind, [])) or "-1"

    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _csvholey AS
        SELECT c._f, c._k + 1 + coalesce(h._shift, 0) AS _line_number, 1 AS _span, {fields}
        FROM (SELECT * FROM _csv WHERE _f IN ({in_list("holey")})) c
        ASOF LEFT JOIN _holes h ON h._f = c._f AND c._k > h._before"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _stage AS
        SELECT c._f, c._k + 1 AS _line_number, 1 AS _span, {fields} FROM _csv c WHERE c._f IN ({in_list("plain")})
        UNION ALL
        SELECT * FROM _csvholey
        UNION ALL
        SELECT c._f, p._line_number, p._span, {fields} FROM _csv c JOIN _goodpos p USING (_f, _k)
        WHERE c._f IN ({in_list("multi")})"""
    )


def stage_csv(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile], table: TableContract, tmp_dir: Path
) -> dict[int, str]:
    """Stage the files; returns the schema-drift note of each file whose header differs from the contract."""
    if not table.header:
        raise IngestError(f"{files[0].rel}: CSV contracts need header: true (columns are matched by name)")
    files, encoding = stage_decoded(con, files, table.encoding, tmp_dir)
    headers = _headers(con, files, table)
    con.execute("CREATE OR REPLACE TEMP TABLE _csvfiles (_path VARCHAR, _f INTEGER)")
    con.executemany("INSERT INTO _csvfiles VALUES (?, ?)", [[str(f.path), f.f] for f in files])
    con.execute("CREATE OR REPLACE TEMP TABLE _csvfirst (_f INTEGER, _first BIGINT, _last BIGINT, _n BIGINT)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rej (_f INTEGER, _rec BIGINT, error_type VARCHAR, error_message VARCHAR, "
        "_nlines BIGINT)"
    )
    groups: dict[tuple[str, ...], list[ReadFile]] = {}
    for f in files:
        groups.setdefault(headers[f.f], []).append(f)
    parts = [
        _read_group(con, g, group, header, table, encoding)
        for g, (header, group) in enumerate(groups.items())
    ]
    csv_view = " UNION ALL ".join(parts)
    con.execute(f"CREATE OR REPLACE TEMP VIEW _csv AS {csv_view}")
    _file_stats(con)
    _place_single_line(con)
    _place_multi_line(con, table, "SELECT * FROM _csv")
    _stage_view(con, table)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _rejects AS
        SELECT r._f, coalesce(p._line_number, r._rec) AS _line_number, coalesce(p._span, 1) AS _span,
               CASE WHEN error_type = 'LINE SIZE OVER MAXIMUM' THEN 'malformed_line'
                    ELSE 'wrong_column_count' END AS reason,
               NULL::VARCHAR AS column_name,
               error_type || ': ' || error_message AS detail
        FROM _rej r LEFT JOIN _rejpos p USING (_f, _rec)"""
    )
    _check_every_line_placed(con, files)
    notes = {f.f: drift_note(headers[f.f], table) for f in files}
    return {f: note for f, note in notes.items() if note}


def drop_csv_temps(con: duckdb.DuckDBPyConnection) -> None:
    """The reader's temp tables (the per-group raw reads too)."""
    con.execute("DROP VIEW IF EXISTS temp._csv")
    names = [
        n
        for (n,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE '\\_csvraw%' ESCAPE '\\'"
        ).fetchall()
    ]
    for name in [*names, *CSV_TEMP_TABLES]:
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")
