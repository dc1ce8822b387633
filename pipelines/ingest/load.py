"""Load one table's files for a range of days: stage the files with DuckDB's readers in as
few passes as memory allows, check in SQL, write raw, quarantine and audit per pass.

Why a range at once: a daily run is one file per table, but a backfill arrives as one
Dagster run with all its days (single-run backfill policy). Per-day loads paid a fixed
cost of about 0.5 s per (table, day) in small SQL passes and commits, and checks that
looked at all earlier days (references, keys already loaded) grew with every day. Here
every step runs over many files at once; `_f` tells the files apart and each file keeps
its own line numbers, checks and audit row. A long range is read in passes of about
`batch_bytes` of text, in day order, each pass in a transaction of its own: a pass that
fits in DuckDB's memory_limit does not spill (and its staging is freed at its commit), and
a key repeated in a later pass meets the earlier pass's rows in raw, the same verdict
(duplicate_key, first delivery kept) as within a pass.

Idempotent: the table's rows for the range's partitions are deleted from raw, quarantine
and the audit first, so a re-run gives the same tables. All-or-nothing per pass: a file
that cannot be read as a whole raises IngestError naming it and its pass rolls back (the
first pass with the emptying of the range); the passes before it stay loaded, the later
days stay empty until the next run. Most runs are one pass (a day, or any range under
batch_bytes): all-or-nothing as a whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb

from pipelines.ingest import audit
from pipelines.ingest.contracts import TableContract
from pipelines.ingest.csv_reader import drop_csv_temps, stage_csv
from pipelines.ingest.errors import IngestError
from pipelines.ingest.jsonl_reader import stage_jsonl
from pipelines.ingest.quarantine import ensure_quarantine_table, insert_structural_rejects, stage_raw_records
from pipelines.ingest.rules import Check, Reference, build_checks, lit, q, reject_case, typed_expr
from pipelines.ingest.textfile import ReadFile, sha256_of
from pipelines.ingest.weblogs import stage_log

# A gzip file's text is counted at about this many times its size when sizing passes.
GZIP_EXPANSION = 5
DEFAULT_BATCH_BYTES = 256 << 20
META_COLUMNS = "_source_file VARCHAR, _line_number BIGINT, _loaded_at TIMESTAMPTZ, _partition DATE"
# Intermediate steps are views; only what is read twice is materialized.
_TEMP_VIEWS = ("_final", "_typed", "_stage", "_lines")
_TEMP_TABLES = (
    "_chk",
    "_dupf",
    "_dupe",
    "_dupo",
    "_rejects",
    "_rawrec",
    "_parsed",
    "_lines_raw",
    "_lines_raw_first",
    "_csv_rejects",
    "_csv_scans",
    "_files",
)


@dataclass(frozen=True)
class FileLoad:
    source_file: str  # relative to the inbox
    rows_read: int
    rows_loaded: int
    rows_quarantined: int  # rejected: not in raw
    rows_repaired: int  # in raw, with a field set NULL
    sha256: str | None
    status: str = "loaded"  # loaded | duplicate_delivery | derived
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


@dataclass(frozen=True)
class Delivery:
    """One delivered file of a load: `f` is its index in the staged temp tables."""

    f: int
    day: date
    rel: str
    path: Path
    sha256: str


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
        ).fetchall()[0][0]
    )


def _day_list(days: list[date]) -> str:
    """SQL list of DATE literals (from date objects, never text)."""
    return ", ".join(f"DATE '{d.isoformat()}'" for d in days)


def delete_partitions(con: duckdb.DuckDBPyConnection, raw_table: str, days: list[date]) -> None:
    """Delete the days from raw, quarantine and audit (one statement each)."""
    in_days = f"IN ({_day_list(days)})"
    con.execute(f"DELETE FROM raw.{raw_table} WHERE _partition {in_days}")
    con.execute(f"DELETE FROM quarantine.{raw_table} WHERE _partition {in_days}")
    con.execute(f"DELETE FROM audit.load_log WHERE raw_table = ? AND partition {in_days}", [raw_table])


def register_files(con: duckdb.DuckDBPyConnection, files: list[Delivery], tolerance_days: int) -> None:
    """_files(_f, _partition, _source_file, _limit_*): per-file values the row checks join.

    _limit_* is the file's future limit (delivery day + 1 + tolerance at 00:00 UTC) as a
    DATE, TIMESTAMP and TIMESTAMPTZ, so the not_future check is one comparison per row.
    """
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _files (_f INTEGER, _partition DATE, _source_file VARCHAR,
            _limit_date DATE, _limit_ts TIMESTAMP, _limit_tstz TIMESTAMPTZ)"""
    )
    rows = []
    for d in files:
        limit = d.day + timedelta(days=1 + tolerance_days)
        midnight = datetime.combine(limit, time())
        rows.append([d.f, d.day, d.rel, limit, midnight, midnight.replace(tzinfo=UTC)])
    con.executemany("INSERT INTO _files VALUES (?, ?, ?, ?, ?, ?)", rows)


def _reference_join(con: duckdb.DuckDBPyConnection, ref: Reference) -> str:
    """The first partition each key was delivered in: loaded in raw or quarantined (record_key).

    A key is known to a row when it was delivered for a partition <= the row's partition.
    """
    parts = []
    if _table_exists(con, "raw", ref.raw_table):
        parts.append(
            f"SELECT CAST({q(ref.ref_column)} AS VARCHAR) AS k, _partition AS p FROM raw.{ref.raw_table}"
        )
    if _table_exists(con, "quarantine", ref.raw_table):
        parts.append(
            f"SELECT record_key AS k, _partition AS p FROM quarantine.{ref.raw_table} WHERE record_key IS NOT NULL"
        )
    source = " UNION ALL ".join(parts) if parts else "SELECT NULL::VARCHAR AS k, NULL::DATE AS p WHERE false"
    return (
        f"LEFT JOIN (SELECT k, min(p) AS p FROM ({source}) GROUP BY k) {ref.alias} "
        f"ON {ref.alias}.k = CAST(t.{q(ref.column)} AS VARCHAR)"
    )


def _duplicate_tables(con: duckdb.DuckDBPyConnection, table: TableContract) -> tuple[str, str]:
    """Small temp tables of the keys seen before, and the (joins, WHEN clauses) that mark them.

    Within a file the first valid line wins (_dupf). With `immutable`, a key loaded for a
    partition outside this load (still in raw: _dupo) or from an earlier file of this load
    (_dupe) wins too: loads run in day order, so the earliest delivery is kept. Aggregates
    over the narrow key columns keep only repeated keys, so the wide rows are never sorted.
    """
    pk = table.primary_key
    not_null = " AND ".join(f"{q(c)} IS NOT NULL" for c in pk)
    pk_list = lit(",".join(pk))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _dupf AS
        SELECT _f, _key, min(_line_number) FILTER (WHERE _r IS NULL) AS _first
        FROM _chk WHERE {not_null} GROUP BY _f, _key HAVING count(*) > 1"""
    )
    joins = "LEFT JOIN _dupf df ON df._f = c._f AND df._key = c._key"
    whens = (
        "WHEN df._first < c._line_number THEN "
        f"{{'reason': 'duplicate_key', 'column_name': {pk_list}, "
        "'detail': 'key ''' || c._key || ''' repeats line ' || df._first || ' of this file'}"
    )
    if not table.immutable:
        return joins, whens
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _dupe AS
        SELECT _key, arg_min(_source_file, _partition) AS _efile, min(_partition) AS _epart
        FROM _chk WHERE _r IS NULL AND {not_null} GROUP BY _key HAVING min(_f) <> max(_f)"""
    )
    joins += " LEFT JOIN _dupe de ON de._key = c._key"
    if _table_exists(con, "raw", table.raw_table):
        key = "concat_ws('|', " + ", ".join(f"CAST({q(c)} AS VARCHAR)" for c in pk) + ")"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _dupo AS
            SELECT {key} AS _key, min(_source_file) AS _ofile FROM raw.{table.raw_table}
            WHERE {key} IN (SELECT _key FROM _chk) GROUP BY ALL"""
        )
        joins += " LEFT JOIN _dupo dx ON dx._key = c._key"
        whens += (
            f" WHEN dx._key IS NOT NULL THEN {{'reason': 'duplicate_key', 'column_name': {pk_list}, "
            "'detail': 'key ''' || c._key || ''' already loaded from ' || dx._ofile}"
        )
    whens += (
        f" WHEN de._epart < c._partition THEN {{'reason': 'duplicate_key', 'column_name': {pk_list}, "
        "'detail': 'key ''' || c._key || ''' already loaded from ' || de._efile}"
    )
    return joins, whens


def check_staged(con: duckdb.DuckDBPyConnection, table: TableContract, tolerance_days: int) -> list[Check]:
    """Turn _stage into _final: typed columns, _reject struct (NULL = load), _record_key.

    _chk (the typed, checked rows) is the one wide materialization; _final is a view that
    adds the duplicate-key verdicts from small tables. Returns the repair checks
    (on_fail: nullify) for the raw insert and quarantine.
    """
    typed = ", ".join(f"{typed_expr(c, table)} AS {q(c.name)}" for c in table.columns)
    texts = ", ".join(f"NULLIF(s.{q('f_' + c.name)}, '') AS {q('f_' + c.name)}" for c in table.columns)
    pk = table.primary_key
    rec_key = (
        "NULLIF(concat_ws('|', " + ", ".join(f"s.{q('f_' + c)}" for c in pk) + "), '')"
        if pk
        else "NULL::VARCHAR"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _typed AS
        SELECT s._f, s._line_number, s._span, fl._partition, fl._source_file, fl._limit_date,
               fl._limit_ts, fl._limit_tstz, {typed}, {texts}, {rec_key} AS _record_key
        FROM _stage s JOIN _files fl USING (_f)"""
    )
    checks, refs = build_checks(table, tolerance_days)
    joins = [_reference_join(con, ref) for ref in refs]
    key = "concat_ws('|', " + ", ".join(f"CAST(t.{q(c)} AS VARCHAR)" for c in pk) + ")" if pk else "NULL"
    # The text of a VARCHAR column is the column itself: stored once, aliased back in _final.
    same = [q("f_" + c.name) for c in table.columns if c.type == "VARCHAR"]
    drop = ", ".join(["_limit_date", "_limit_ts", "_limit_tstz", *same])
    # Repair conditions (e.g. the e-mail regexp) are evaluated once, here, into _rep<i>.
    repairs = [c for c in checks if c.repair]
    flags = "".join(f", coalesce({r.condition}, false) AS _rep{i}" for i, r in enumerate(repairs))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _chk AS
        SELECT t.* EXCLUDE ({drop}), {reject_case(checks)} AS _r, {key} AS _key{flags}
        FROM _typed t {" ".join(joins)}"""
    )
    dup_joins, dup_whens = _duplicate_tables(con, table) if pk else ("", "")
    aliases = "".join(f", c.{q(c.name)} AS {q('f_' + c.name)}" for c in table.columns if c.type == "VARCHAR")
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _final AS
        SELECT c.* EXCLUDE (_r, _key){aliases}, CASE WHEN c._r IS NOT NULL THEN c._r {dup_whens} END AS _reject
        FROM _chk c {dup_joins}"""
    )
    return [replace(r, condition=f"t._rep{i}") for i, r in enumerate(repairs)]


def _repair_any(repairs: list[Check]) -> str:
    return " OR ".join(f"({r.condition})" for r in repairs) or "false"


def insert_rejected(con: duckdb.DuckDBPyConnection, raw_table: str, loaded_at: datetime) -> None:
    """Rows of _final that failed a check, to quarantine as 'rejected' (needs _rawrec)."""
    con.execute(
        f"""INSERT INTO quarantine.{raw_table}
        SELECT t._source_file, t._line_number, t._partition, ?, t._reject.reason, t._reject.column_name,
               t._reject.detail, 'rejected', rr.raw_record, t._record_key
        FROM _final t LEFT JOIN _rawrec rr USING (_f, _line_number) WHERE t._reject IS NOT NULL""",
        [loaded_at],
    )


def write_checked(
    con: duckdb.DuckDBPyConnection, table: TableContract, loaded_at: datetime, repairs: list[Check]
) -> None:
    """Insert _final into raw (valid rows) and quarantine (rejected and repaired rows).

    Needs _rawrec (stage_raw_records) for the quarantined rows' original text.
    """
    cols = []
    for c in table.columns:
        conds = [r.condition for r in repairs if r.column == c.name]
        cols.append(
            f"CASE WHEN {' OR '.join(conds)} THEN NULL ELSE t.{q(c.name)} END" if conds else f"t.{q(c.name)}"
        )
    con.execute(
        f"""INSERT INTO raw.{table.raw_table}
        SELECT {", ".join(cols)}, t._source_file, t._line_number, ?, t._partition
        FROM _final t WHERE t._reject IS NULL""",
        [loaded_at],
    )
    insert_rejected(con, table.raw_table, loaded_at)
    for r in repairs:
        con.execute(
            f"""INSERT INTO quarantine.{table.raw_table}
            SELECT t._source_file, t._line_number, t._partition, ?, ?, ?,
                   {r.detail} || ' (loaded with the field set NULL)', 'repaired', rr.raw_record, t._record_key
            FROM _final t LEFT JOIN _rawrec rr USING (_f, _line_number)
            WHERE t._reject IS NULL AND {r.condition}""",
            [loaded_at, r.reason, r.column],
        )


def file_counts(con: duckdb.DuckDBPyConnection, repairs: list[Check]) -> dict[int, tuple[int, int, int, int]]:
    """Per staged file: (rows_read, rows_loaded, rows_quarantined, rows_repaired)."""
    rows = con.execute(
        f"""WITH fin AS (
            SELECT _f, count(*) FILTER (WHERE _reject IS NULL) AS loaded,
                   count(*) FILTER (WHERE _reject IS NOT NULL) AS rejected,
                   count(*) FILTER (WHERE _reject IS NULL AND ({_repair_any(repairs)})) AS repaired
            FROM _final t GROUP BY _f
        ), st AS (SELECT _f, count(*) AS structural FROM _rejects GROUP BY _f)
        SELECT fl._f, coalesce(loaded, 0), coalesce(rejected, 0) + coalesce(structural, 0), coalesce(repaired, 0)
        FROM _files fl LEFT JOIN fin USING (_f) LEFT JOIN st USING (_f)"""
    ).fetchall()
    return {
        int(f): (loaded + quarantined, loaded, quarantined, repaired)
        for f, loaded, quarantined, repaired in rows
    }


def stage_files(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile], table: TableContract, tmp_dir: Path
) -> dict[int, str]:
    """Leave _lines, _stage and _rejects for the files (see the reader modules).

    Returns a note per file the reader flagged (a CSV header that drifted from the contract).
    """
    for f in files:
        if f.path.stat().st_size == 0:
            raise IngestError(f"{f.rel}: empty file (0 bytes)")
    readers = {"csv": stage_csv, "jsonl": stage_jsonl, "log": stage_log}
    return readers[table.format](con, files, table, tmp_dir) or {}


def drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    drop_csv_temps(con)
    for name in _TEMP_VIEWS:
        con.execute(f"DROP VIEW IF EXISTS temp.{name}")
    for name in _TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _hashes(paths: list[Path]) -> list[str]:
    """sha256 of every file; hashlib releases the GIL, so two threads use both cores."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(sha256_of, paths))


def _split_redeliveries(
    con: duckdb.DuckDBPyConnection, table: TableContract, files: list[Delivery], replacing: list[date]
) -> tuple[list[Delivery], list[tuple[Delivery, str]]]:
    """(files to load, (file, note) re-delivered): a `changes` file whose bytes were already
    loaded for another partition is skipped. A snapshot may legitimately repeat yesterday's
    bytes (nothing changed): it is always loaded. Loads of the `replacing` days do not count
    (they are about to be deleted): the earliest delivery among the other loads and this
    load's earlier files wins.
    """
    if table.delivery != "changes":
        return files, []
    known = audit.loaded_hashes(con, table.raw_table, excluding=replacing)
    load, skipped = [], []
    for d in files:
        if d.sha256 in known:
            first_file, first_day = known[d.sha256]
            note = f"same content as {first_file} (partition {first_day}), already loaded: skipped"
            skipped.append((d, note))
        else:
            known[d.sha256] = (d.rel, d.day)
            load.append(d)
    return load, skipped


def ingest_range(
    con: duckdb.DuckDBPyConnection,
    table: TableContract,
    inbox_dir: Path,
    days: list[date],
    *,
    future_tolerance_days: int = 1,
    tmp_dir: Path | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> list[LoadResult]:
    """Load the table's files for the days into raw/quarantine/audit, replacing those partitions.

    One result per day, in day order (a day without a file has no files and no audit row).
    The files are read in passes of about batch_bytes of text, each pass committed on its
    own; the first one also empties the range's partitions, so every verdict is the one a
    single pass would give. One transaction for a whole range kept every pass's dropped
    staging tables until the commit: a year of tier L customer snapshots had spilled 14 GB of
    temp files after 41 of its 365 days. A failed later pass rolls back alone: the passes
    before it stay loaded, the days after it stay empty until the next run (which the failed
    asset asks for), and nothing downstream runs in between.
    """
    inbox_dir = Path(inbox_dir)
    tmp_dir = Path(tmp_dir) if tmp_dir else inbox_dir.parent / "tmp" / "ingest"
    days = sorted(set(days))
    con.execute("SET TimeZone = 'UTC'")
    ensure_schemas(con)
    if table.derive is not None:
        from pipelines.ingest.line_items import ingest_derived

        return [
            ingest_derived(
                con, table, inbox_dir, day, future_tolerance_days=future_tolerance_days, tmp_dir=tmp_dir
            )
            for day in days
        ]
    ensure_raw_table(con, table)
    results = {day: LoadResult(table.raw_table, day) for day in days}
    if not days:
        return []
    # Each day's file as delivered, plain or gzip-compressed (raises if both are there).
    found = [(day, table.delivered_file(inbox_dir, day)) for day in days]
    present = [(day, rel) for day, rel in found if rel is not None]
    shas = _hashes([inbox_dir / rel for _, rel in present])
    files = [
        Delivery(i, day, rel, inbox_dir / rel, sha)
        for i, ((day, rel), sha) in enumerate(zip(present, shas, strict=True))
    ]
    loaded_at = datetime.now(UTC)
    load, skipped = _split_redeliveries(con, table, files, replacing=days)
    loads: dict[int, FileLoad] = {}
    batches = text_batches(load, batch_bytes)
    try:
        # The first transaction empties the range and loads the first pass: a range read in
        # one pass (a day, most runs) is all-or-nothing as before.
        for i, batch in enumerate(batches or [[]]):
            with _transaction(con):
                if i == 0:
                    delete_partitions(con, table.raw_table, days)
                    for d, note in skipped:
                        audit.record(
                            con,
                            table.raw_table,
                            d.day,
                            d.rel,
                            (0, 0, 0, 0),
                            d.sha256,
                            loaded_at,
                            "duplicate_delivery",
                            note,
                        )
                if batch:
                    # Staging numbers lines with row_number() OVER (): it needs the file's order.
                    con.execute("SET preserve_insertion_order = true")
                    loads.update(_load_files(con, table, batch, loaded_at, future_tolerance_days, tmp_dir))
                    drop_temp(con)
            _remove_transcoded(tmp_dir)
    finally:
        con.execute("SET preserve_insertion_order = false")
        drop_temp(con)
        _remove_transcoded(tmp_dir)
    for d in files:
        if d.f in loads:
            results[d.day].files.append(loads[d.f])
        else:
            note = next(n for s, n in skipped if s.f == d.f)
            results[d.day].files.append(FileLoad(d.rel, 0, 0, 0, 0, d.sha256, "duplicate_delivery", note))
    return [results[day] for day in days]


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _remove_transcoded(tmp_dir: Path) -> None:
    """The UTF-8 copies of a pass's files (transcode_to_utf8): gone once the pass is loaded."""
    for leftover in tmp_dir.glob("_utf8_*") if tmp_dir.exists() else []:
        leftover.unlink(missing_ok=True)


def text_bytes(path: Path) -> int:
    """About how much text a delivered file holds (gzip at its expanded size)."""
    return path.stat().st_size * (GZIP_EXPANSION if path.suffix == ".gz" else 1)


def text_batches(files: list[Delivery], batch_bytes: int) -> list[list[Delivery]]:
    """Consecutive runs of files (in the given day order) of about batch_bytes of text each."""
    batches: list[list[Delivery]] = []
    size = 0
    for d in files:
        weight = text_bytes(d.path)
        if batches and size + weight <= batch_bytes:
            batches[-1].append(d)
            size += weight
        else:
            batches.append([d])
            size = weight
    return batches


def ingest_table(
    con: duckdb.DuckDBPyConnection,
    table: TableContract,
    inbox_dir: Path,
    day: date,
    *,
    future_tolerance_days: int = 1,
    tmp_dir: Path | None = None,
) -> LoadResult:
    """Load the table's file for one day (ingest_range over that day)."""
    (result,) = ingest_range(
        con, table, inbox_dir, [day], future_tolerance_days=future_tolerance_days, tmp_dir=tmp_dir
    )
    return result


def _load_files(
    con: duckdb.DuckDBPyConnection,
    table: TableContract,
    files: list[Delivery],
    loaded_at: datetime,
    tolerance_days: int,
    tmp_dir: Path,
) -> dict[int, FileLoad]:
    register_files(con, files, tolerance_days)
    notes = stage_files(con, [ReadFile(d.f, d.path, d.rel) for d in files], table, tmp_dir)
    # Only staging numbers rows in file order; later steps may write in parallel.
    con.execute("SET preserve_insertion_order = false")
    repairs = check_staged(con, table, tolerance_days)
    insert_structural_rejects(con, table.raw_table, loaded_at)
    stage_raw_records(
        con,
        f"SELECT _f, _line_number, _span FROM _final t WHERE t._reject IS NOT NULL OR ({_repair_any(repairs)})",
    )
    # The file text is no longer needed: free its memory before the big insert.
    drop_csv_temps(con)
    con.execute("DROP VIEW IF EXISTS temp._lines")
    for name in ("_lines_raw", "_lines_raw_first", "_parsed"):
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    write_checked(con, table, loaded_at, repairs)
    counts = file_counts(con, repairs)
    out = {}
    for d in files:
        note = notes.get(d.f)
        audit.record(con, table.raw_table, d.day, d.rel, counts[d.f], d.sha256, loaded_at, "loaded", note)
        out[d.f] = FileLoad(d.rel, *counts[d.f], d.sha256, note=note)
    return out
