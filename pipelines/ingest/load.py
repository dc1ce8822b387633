"""Load one table's file for one day: stage with DuckDB's readers, check in SQL, write raw,
quarantine and audit in one transaction.

Idempotent: the table's rows for the partition are deleted from raw, quarantine and the
audit first, in the same transaction, so a re-run gives the same tables. A file that
cannot be read as a whole raises IngestError and the transaction rolls back (nothing of
that table-partition is loaded, the previous load stays).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from pipelines.ingest import audit
from pipelines.ingest.contracts import TableContract
from pipelines.ingest.csv_reader import stage_csv
from pipelines.ingest.errors import IngestError
from pipelines.ingest.jsonl_reader import stage_jsonl
from pipelines.ingest.quarantine import ensure_quarantine_table, insert_structural_rejects, raw_record_sql
from pipelines.ingest.rules import Reference, build_checks, lit, q, reject_case, typed_expr
from pipelines.ingest.textfile import sha256_of
from pipelines.ingest.weblogs import stage_log

META_COLUMNS = "_source_file VARCHAR, _line_number BIGINT, _loaded_at TIMESTAMPTZ, _partition DATE"
# Intermediate steps are views; only what is read twice is materialized.
_TEMP_VIEWS = ("_final_src", "_checked", "_typed", "_stage")
_TEMP_TABLES = (
    "_final",
    "_rejects",
    "_parsed",
    "_jl",
    "_csv",
    "_rej",
    "_slots",
    "_recmap",
    "_lines",
    "_csv_rejects",
    "_csv_scans",
)


@dataclass(frozen=True)
class FileLoad:
    source_file: str  # relative to the inbox
    rows_read: int
    rows_loaded: int
    rows_quarantined: int  # rejected: not in raw
    rows_repaired: int  # in raw, with a field set NULL
    sha256: str | None
    status: str = "loaded"  # loaded | duplicate_delivery
    note: str | None = None


@dataclass
class LoadResult:
    raw_table: str
    partition: date
    files: list[FileLoad] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rows_repaired(self) -> int:
        return sum(f.rows_repaired for f in self.files)


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Schemas raw, quarantine, audit and the audit.load_log table."""
    for schema in ("raw", "quarantine", "audit"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    audit.ensure_audit(con)


def ensure_raw_table(con: duckdb.DuckDBPyConnection, table: TableContract) -> None:
    cols = ", ".join(f"{q(c.name)} {c.type}" for c in table.columns)
    con.execute(f"CREATE TABLE IF NOT EXISTS raw.{table.raw_table} ({cols}, {META_COLUMNS})")
    ensure_quarantine_table(con, table.raw_table)


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def delete_partition(con: duckdb.DuckDBPyConnection, raw_table: str, day: date) -> None:
    con.execute(f"DELETE FROM raw.{raw_table} WHERE _partition = ?", [day])
    con.execute(f"DELETE FROM quarantine.{raw_table} WHERE _partition = ?", [day])
    con.execute("DELETE FROM audit.load_log WHERE raw_table = ? AND partition = ?", [raw_table, day])


def _reference_join(con: duckdb.DuckDBPyConnection, ref: Reference, day: date) -> str:
    """Keys delivered up to this day: loaded in raw or quarantined (record_key).

    The day is inlined as a DATE literal (from a date object, never text) because this
    SQL lives in a temp view, which cannot hold prepared parameters.
    """
    upto = f"DATE '{day.isoformat()}'"
    parts = []
    if _table_exists(con, "raw", ref.raw_table):
        parts.append(
            f"SELECT CAST({q(ref.ref_column)} AS VARCHAR) AS k FROM raw.{ref.raw_table} "
            f"WHERE _partition <= {upto}"
        )
    if _table_exists(con, "quarantine", ref.raw_table):
        parts.append(
            f"SELECT record_key AS k FROM quarantine.{ref.raw_table} WHERE _partition <= {upto} "
            "AND record_key IS NOT NULL"
        )
    source = " UNION ".join(parts) if parts else "SELECT NULL::VARCHAR AS k WHERE false"
    return (
        f"LEFT JOIN (SELECT DISTINCT k FROM ({source})) {ref.alias} "
        f"ON {ref.alias}.k = CAST(t.{q(ref.column)} AS VARCHAR)"
    )


def check_staged(
    con: duckdb.DuckDBPyConnection, table: TableContract, day: date, tolerance_days: int
) -> list:
    """Turn _stage into _final: typed columns, _reject struct (NULL = load), _key, _record_key.

    Returns the repair checks (on_fail: nullify) for the raw insert and quarantine.
    """
    typed = ", ".join(f"{typed_expr(c, table)} AS {q(c.name)}" for c in table.columns)
    texts = ", ".join(f"NULLIF(s.{q('f_' + c.name)}, '') AS {q('f_' + c.name)}" for c in table.columns)
    pk = table.primary_key
    key = "concat_ws('|', " + ", ".join(f"CAST({q(c)} AS VARCHAR)" for c in pk) + ")" if pk else "NULL"
    rec_key = (
        "NULLIF(concat_ws('|', " + ", ".join(f"s.{q('f_' + c)}" for c in pk) + "), '')"
        if pk
        else "NULL::VARCHAR"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _typed AS
        SELECT s._line_number, s._span, {typed}, {texts}, {rec_key} AS _record_key FROM _stage s"""
    )
    checks, refs = build_checks(table, day, tolerance_days)
    joins = [_reference_join(con, ref, day) for ref in refs]
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _checked AS
        SELECT t.*, {reject_case(checks)} AS _r FROM _typed t {" ".join(joins)}"""
    )
    if not pk:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _final AS SELECT * EXCLUDE (_r), _r AS _reject FROM _checked"
        )
        return [c for c in checks if c.repair]
    pk_not_null = " AND ".join(f"c.{q(c)} IS NOT NULL" for c in pk)
    pk_cols = ", ".join(q(c) for c in pk)
    other, other_params = "", []
    other_case = ""
    if table.immutable and _table_exists(con, "raw", table.raw_table):
        other = (
            f"LEFT JOIN (SELECT {key} AS _okey, min(_source_file) AS _ofile FROM raw.{table.raw_table} "
            f"WHERE _partition <> ? AND {key} IN (SELECT {key} FROM _checked) GROUP BY ALL) o "
            "ON o._okey = c._key"
        )
        other_params = [day]
        other_case = (
            f"WHEN o._okey IS NOT NULL THEN {{'reason': 'duplicate_key', 'column_name': {lit(','.join(pk))}, "
            f"'detail': 'key ''' || c._key || ''' already loaded from ' || o._ofile}}"
        )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _final AS
        WITH c AS (
            SELECT *, {key} AS _key,
                   min(CASE WHEN _r IS NULL THEN _line_number END) OVER (PARTITION BY {pk_cols}) AS _first
            FROM _checked
        )
        SELECT c.* EXCLUDE (_r, _first, _key),
            CASE WHEN c._r IS NOT NULL THEN c._r
                 WHEN {pk_not_null} AND c._first < c._line_number THEN
                    {{'reason': 'duplicate_key', 'column_name': {lit(",".join(pk))},
                      'detail': 'key ''' || c._key || ''' repeats line ' || c._first || ' of this file'}}
                 {other_case}
            END AS _reject
        FROM c {other}""",
        other_params,
    )
    return [c for c in checks if c.repair]


def insert_rejected(
    con: duckdb.DuckDBPyConnection, raw_table: str, rel: str, day: date, loaded_at: datetime
) -> int:
    """Rows of _final that failed a check, to quarantine as 'rejected'. Returns their count."""
    con.execute(
        f"""INSERT INTO quarantine.{raw_table}
        SELECT ?, t._line_number, ?, ?, t._reject.reason, t._reject.column_name, t._reject.detail,
               'rejected', {raw_record_sql("t")}, t._record_key
        FROM _final t WHERE t._reject IS NOT NULL""",
        [rel, day, loaded_at],
    )
    return int(con.execute("SELECT count(*) FROM _final WHERE _reject IS NOT NULL").fetchone()[0])


def write_checked(
    con: duckdb.DuckDBPyConnection,
    table: TableContract,
    rel: str,
    day: date,
    loaded_at: datetime,
    repairs: list,
) -> tuple[int, int, int]:
    """Insert _final into raw and quarantine. Returns (loaded, rejected, repaired)."""
    cols = []
    for c in table.columns:
        conds = [r.condition for r in repairs if r.column == c.name]
        cols.append(
            f"CASE WHEN {' OR '.join(conds)} THEN NULL ELSE t.{q(c.name)} END" if conds else f"t.{q(c.name)}"
        )
    con.execute(
        f"""INSERT INTO raw.{table.raw_table}
        SELECT {", ".join(cols)}, ?, t._line_number, ?, ? FROM _final t WHERE t._reject IS NULL""",
        [rel, loaded_at, day],
    )
    insert_rejected(con, table.raw_table, rel, day, loaded_at)
    for r in repairs:
        con.execute(
            f"""INSERT INTO quarantine.{table.raw_table}
            SELECT ?, t._line_number, ?, ?, ?, ?, {r.detail} || ' (loaded with the field set NULL)',
                   'repaired', {raw_record_sql("t")}, t._record_key
            FROM _final t WHERE t._reject IS NULL AND {r.condition}""",
            [rel, day, loaded_at, r.reason, r.column],
        )
    repair_any = " OR ".join(f"({r.condition})" for r in repairs) or "false"
    loaded, rejected, repaired = con.execute(
        f"""SELECT count(*) FILTER (WHERE _reject IS NULL), count(*) FILTER (WHERE _reject IS NOT NULL),
                   count(*) FILTER (WHERE _reject IS NULL AND ({repair_any}))
        FROM _final t"""
    ).fetchone()
    return int(loaded), int(rejected), int(repaired)


def stage_file(
    con: duckdb.DuckDBPyConnection, path: Path, rel: str, table: TableContract, tmp_dir: Path
) -> None:
    """Leave _lines, _stage and _rejects for the file (see the reader modules)."""
    if path.stat().st_size == 0:
        raise IngestError(f"{rel}: empty file (0 bytes)")
    readers = {"csv": stage_csv, "jsonl": stage_jsonl, "log": stage_log}
    readers[table.format](con, path, rel, table, tmp_dir)


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    for name in _TEMP_VIEWS:
        con.execute(f"DROP VIEW IF EXISTS temp.{name}")
    for name in _TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def ingest_table(
    con: duckdb.DuckDBPyConnection,
    table: TableContract,
    inbox_dir: Path,
    day: date,
    *,
    future_tolerance_days: int = 1,
    tmp_dir: Path | None = None,
) -> LoadResult:
    """Load table's file for one day into raw/quarantine/audit; replaces that partition."""
    inbox_dir = Path(inbox_dir)
    tmp_dir = Path(tmp_dir) if tmp_dir else inbox_dir.parent / "tmp" / "ingest"
    con.execute("SET TimeZone = 'UTC'")
    ensure_schemas(con)
    if table.derive is not None:
        from pipelines.ingest.line_items import ingest_derived

        return ingest_derived(
            con, table, inbox_dir, day, future_tolerance_days=future_tolerance_days, tmp_dir=tmp_dir
        )
    ensure_raw_table(con, table)
    rel = table.file_for(day)
    path = inbox_dir / rel
    result = LoadResult(table.raw_table, day)
    loaded_at = datetime.now(UTC)
    # Staging numbers lines with row_number() OVER (): it needs the file's order.
    con.execute("SET preserve_insertion_order = true")
    con.execute("BEGIN TRANSACTION")
    try:
        delete_partition(con, table.raw_table, day)
        if path.is_file():
            result.files.append(
                _load_file(con, table, path, rel, day, loaded_at, future_tolerance_days, tmp_dir)
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("SET preserve_insertion_order = false")
        _drop_temp(con)
        for leftover in tmp_dir.glob("_utf8_*") if tmp_dir.exists() else []:
            leftover.unlink(missing_ok=True)
    return result


def _load_file(
    con: duckdb.DuckDBPyConnection,
    table: TableContract,
    path: Path,
    rel: str,
    day: date,
    loaded_at: datetime,
    tolerance_days: int,
    tmp_dir: Path,
) -> FileLoad:
    sha = sha256_of(path)
    # A snapshot may legitimately repeat yesterday's bytes (nothing changed); only a
    # `changes` file seen before is a re-delivery.
    previous = (
        audit.previous_delivery(con, table.raw_table, day, sha) if table.delivery == "changes" else None
    )
    if previous is not None:
        note = f"same content as {previous[0]} (partition {previous[1]}), already loaded: skipped"
        audit.record(con, table.raw_table, day, rel, (0, 0, 0, 0), sha, loaded_at, "duplicate_delivery", note)
        return FileLoad(rel, 0, 0, 0, 0, sha, "duplicate_delivery", note)
    stage_file(con, path, rel, table, tmp_dir)
    repairs = check_staged(con, table, day, tolerance_days)
    structural = insert_structural_rejects(con, table.raw_table, rel, day, loaded_at)
    loaded, rejected, repaired = write_checked(con, table, rel, day, loaded_at, repairs)
    rows_read = loaded + rejected + structural
    counts = (rows_read, loaded, rejected + structural, repaired)
    audit.record(con, table.raw_table, day, rel, counts, sha, loaded_at, "loaded")
    return FileLoad(rel, rows_read, loaded, rejected + structural, repaired, sha)
