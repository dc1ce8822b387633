"""Write-audit-publish of the datamart and the Parquet exports.

Analysts and BI tools never see a half-built warehouse: publish copies every table/view of
schema `marts` from build.duckdb into NEW files beside the served ones (write), reopens
and compares them with the build database (audit), and only then swaps them into place
with atomic renames (publish). Any failure before the swap deletes the staged files and
leaves the served datamart and exports byte-for-byte as they were.

Layout:

    data/warehouse/datamart.duckdb            served file, replaced by os.replace()
    data/warehouse/.datamart-<run>.duckdb     staged copy (exists only during a publish)
    data/exports -> .exports-versions/<v>     a symlink, swapped by os.replace() of a temp symlink
    data/.exports-versions/<v>/<table>/...    one folder per published version (last KEEP_VERSIONS kept)
    data/.exports-versions/<v>/_manifest.json

Why a symlink for the exports: a directory cannot be replaced atomically on POSIX
(rename-old-then-rename-new leaves a moment with no `data/exports`, and a crash between
the two renames leaves none at all). Replacing a symlink is one rename(2), so
`data/exports/<table>/` is a fixed path that always resolves to one complete version.
The price: the path is a symlink (tools that refuse symlinks must be given the resolved
path, which `c360 status` prints), and a scan that resolved the old target keeps
reading it; that is why the previous version is kept (KEEP_VERSIONS = 2) rather than
deleted at once.

Why a rename for the datamart: DuckDB readers hold the file open; after os.replace() a
reader's open handle still points at the old inode and keeps working, while a new
connection (in a process with no other connection to the path) opens the new file. The
staged file is CHECKPOINTed and closed first, so no `.wal` travels with it, and a stale
`datamart.duckdb.wal` (only a writer would leave one) is removed so it cannot be replayed
onto the new file.

One publisher at a time: the Dagster asset runs in pool `duckdb_writer` (limit 1), so a
publish may clear staged leftovers of a crashed earlier publish.
"""

# No `from __future__ import annotations`: Dagster reads the asset's context annotation at definition time.
import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq

from pipelines.resources import PipelineSettingsResource, WarehouseResource, connect_duckdb
from pipelines.settings import DEFAULT_EXPORT_HASH_KEY, Settings

Progress = Callable[[str], None]

MARTS_SCHEMA = "marts"
# Versions of the exports kept on disk: the current one and the previous one, so a BI scan
# that started before a swap finishes on the files it resolved.
KEEP_VERSIONS = 2
# DuckDB's own row-group size. Row groups are the unit of parallel scan and of min/max
# pruning: 122,880 rows (a few MB compressed for our widest facts) gives DuckDB, polars and
# pyarrow one task per row group without re-chunking, lets a date filter skip row groups
# inside a month file, and keeps small marts in a single row group.
ROW_GROUP_SIZE = 122_880
COMPRESSION = "zstd"
# Large facts are partitioned hive-style by month of this column (`<table>/month=YYYY-MM/`).
# Months, not days: a day of fct_page_views at tier M is ~55k rows, smaller than one row
# group, so daily folders would make thousands of tiny files; a month is 1-3M rows.
# A table missing its declared column is exported unpartitioned, with a warning.
PARTITIONED_EXPORTS: Mapping[str, str] = {
    "fct_orders": "order_date",
    "fct_order_lines": "order_date",
    "fct_sessions": "session_date",
    "fct_page_views": "event_date",
}
PARTITION_KEY = "month"
MANIFEST = "_manifest.json"
VERSIONS_DIRNAME = ".exports-versions"
STAGING_SUFFIX = ".staging"

_SAFE = re.compile(r"[^A-Za-z0-9_-]")


class PublishError(RuntimeError):
    """Publishing was refused or failed; the served datamart and exports are unchanged."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class TableExport:
    rows: int
    columns: tuple[Column, ...]
    files: tuple[str, ...]
    partitioned_by: str | None
    pseudonymized: tuple[str, ...] = ()


@dataclass(frozen=True)
class PublishResult:
    run_id: str
    published_at: datetime
    tables: dict[str, int]
    datamart_path: Path
    exports_path: Path
    exports_version_dir: Path
    checks_passed: tuple[str, ...]
    seconds: float
    warnings: tuple[str, ...] = field(default_factory=tuple)


# ---- small helpers ------------------------------------------------------------------


def _ident(name: str) -> str:
    """Quote an identifier taken from the catalog (never from user input)."""
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path | str) -> str:
    """A path as an SQL string literal: COPY TO and ATTACH do not take parameters."""
    return "'" + str(path).replace("'", "''") + "'"


def export_type(duckdb_type: str) -> str:
    """The type a column has in the Parquet export (and in the manifest).

    Parquet has no 128-bit integers or enums: DuckDB would write HUGEINT as DOUBLE (lossy:
    sum() of integers is HUGEINT, so this hits real marts) and ENUM as VARCHAR. We cast
    explicitly to lossless Parquet-native types so the export schema is predictable and
    verifiable.
    """
    upper = duckdb_type.upper()
    if upper in ("HUGEINT", "UHUGEINT"):
        return "DECIMAL(38,0)"
    if upper.startswith("ENUM("):
        return "VARCHAR"
    return duckdb_type


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """fsync every file and directory under root (files first, then their directories)."""
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            _fsync_path(Path(dirpath) / name)
        _fsync_path(Path(dirpath))


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def versions_dir(settings: Settings) -> Path:
    return settings.exports_dir.parent / VERSIONS_DIRNAME


def staged_paths(settings: Settings) -> list[Path]:
    """Leftovers a publish creates and removes: staged datamarts, staged exports, temp links."""
    found: list[Path] = []
    if settings.warehouse_dir.exists():
        found += sorted(settings.warehouse_dir.glob(".datamart-*"))
    vdir = versions_dir(settings)
    if vdir.exists():
        found += sorted(vdir.glob(f"*{STAGING_SUFFIX}"))
    parent = settings.exports_dir.parent
    if parent.exists():
        found += sorted(parent.glob(".exports.tmp-*"))
    return found


# ---- reading the build database --------------------------------------------------------


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> tuple[Column, ...]:
    rows = con.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_catalog = ? and table_schema = ? and table_name = ?
        order by ordinal_position
        """,
        [catalog, MARTS_SCHEMA, table],
    ).fetchall()
    return tuple(Column(name, dtype) for name, dtype in rows)


def _mart_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
        "order by table_name",
        [catalog, MARTS_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def _catalog(con: duckdb.DuckDBPyConnection) -> str:
    """DuckDB names the main catalog after the file (minus a leading dot): ask, don't guess."""
    row = con.execute("select current_database()").fetchone()
    assert row is not None
    return str(row[0])


def _count(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> int:
    row = con.execute(f"select count(*) from {_ident(catalog)}.{MARTS_SCHEMA}.{_ident(table)}").fetchone()
    assert row is not None
    return int(row[0])


# ---- write ---------------------------------------------------------------------------


def _write_datamart(
    settings: Settings,
    build_db: Path,
    staged_db: Path,
    run_id: str,
    published_at: datetime,
    checks_passed: Sequence[str],
) -> dict[str, int]:
    """Copy every marts table/view into a fresh file, add meta.publication, CHECKPOINT, close.

    The file is written in settings.datamart_storage_version (e.g. v1.4.0), so analysts'
    tools on DuckDB 1.x (the DuckDB CLI, DBeaver) open it; build.duckdb keeps the default.
    """
    con = connect_duckdb(
        staged_db,
        memory_limit=settings.duckdb_memory_limit,
        threads=settings.duckdb_threads,
        temp_dir=settings.tmp_dir,
        storage_version=settings.datamart_storage_version,
    )
    try:
        # Alias "build": dbt-duckdb views name their tables build.marts.x, so they resolve.
        con.execute(f"attach {_literal(build_db)} as build (read_only)")
        tables = _mart_tables(con, "build")
        if not tables:
            raise PublishError(f"schema {MARTS_SCHEMA} in {build_db} has no tables: nothing to publish")
        con.execute(f"create schema {MARTS_SCHEMA}")
        counts: dict[str, int] = {}
        for table in tables:
            con.execute(
                f"create table {MARTS_SCHEMA}.{_ident(table)} as "
                f"select * from build.{MARTS_SCHEMA}.{_ident(table)}"
            )
            counts[table] = _count(con, _catalog(con), table)
        con.execute("create schema meta")
        con.execute(
            "create table meta.publication (run_id varchar, published_at timestamptz, "
            "checks_passed varchar[], tables integer, total_rows bigint)"
        )
        con.execute(
            "insert into meta.publication values (?, ?, ?, ?, ?)",
            [run_id, published_at, list(checks_passed), len(counts), sum(counts.values())],
        )
        con.execute(
            "create table meta.publication_tables (table_name varchar, row_count bigint, column_count integer)"
        )
        for table, rows in counts.items():
            ncols = len(_columns(con, _catalog(con), table))
            con.execute("insert into meta.publication_tables values (?, ?, ?)", [table, rows, ncols])
        con.execute("detach build")
        con.execute("checkpoint")
    finally:
        con.close()
    return counts


def pseudonymized_columns(settings: Settings, columns: Sequence[Column]) -> tuple[str, ...]:
    """The columns of a table that the exports hash (none when pseudonymization is off)."""
    if not settings.export_pseudonymize:
        return ()
    pii = {c.lower() for c in settings.export_pii_columns}
    return tuple(c.name for c in columns if c.name.lower() in pii)


def pseudonym_sql(value_sql: str, hash_key: str) -> str:
    """Keyed hash of a personal value: sha256(key | lower(trim(value))), hex; NULL stays NULL.

    Normalised first so the same email written two ways gets one pseudonym, and joins and
    distinct counts across exported tables still work. Not reversible without the key; with
    the key anyone can test a guess, so the key is a secret (C360_EXPORT_HASH_KEY).
    """
    return f"sha256({_literal(hash_key + '|')} || lower(trim(cast({value_sql} as varchar))))"


def _export_expression(column: Column, hash_key: str | None) -> str:
    name = _ident(column.name)
    if hash_key is not None:
        return f"{pseudonym_sql(name, hash_key)} as {name}"
    if export_type(column.type) == column.type:
        return name
    return f"cast({name} as {export_type(column.type)}) as {name}"


def _export_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[Column],
    rows: int,
    out_dir: Path,
    partition_column: str | None,
    hashed: Mapping[str, str] | None = None,
) -> None:
    """One COPY per table: casts to Parquet-native types, zstd, fixed row groups, hive months."""
    hashed = hashed or {}
    projection = ", ".join(_export_expression(c, hashed.get(c.name)) for c in columns)
    options = f"format parquet, compression {COMPRESSION}, row_group_size {ROW_GROUP_SIZE}"
    source = f"{MARTS_SCHEMA}.{_ident(table)}"
    out_dir.mkdir(parents=True)
    if partition_column is not None and rows > 0:
        # Sorted by the date so row-group min/max statistics prune day filters inside a month.
        query = (
            f"select {projection}, strftime({_ident(partition_column)}, '%Y-%m') as {PARTITION_KEY} "
            f"from {source} order by {_ident(partition_column)}"
        )
        con.execute(f"copy ({query}) to {_literal(out_dir)} ({options}, partition_by ({PARTITION_KEY}))")
    else:
        # An empty table is written unpartitioned: one file still carries the schema.
        con.execute(
            f"copy (select {projection} from {source}) to {_literal(out_dir / 'data_0.parquet')} ({options})"
        )


def _write_exports(
    settings: Settings,
    datamart: Path,
    staged_dir: Path,
    counts: Mapping[str, int],
    partition_columns: Mapping[str, str],
    manifest_head: Mapping[str, object],
    progress: Progress | None,
) -> tuple[dict[str, TableExport], list[str]]:
    """Export every table of the staged datamart (so exports and datamart are the same data)."""
    warnings: list[str] = []
    if settings.export_pseudonymize and settings.export_hash_key == DEFAULT_EXPORT_HASH_KEY:
        warnings.append(
            "exports pseudonymized with the built-in development key: set C360_EXPORT_HASH_KEY before sharing them"
        )
    exports: dict[str, TableExport] = {}
    staged_dir.mkdir(parents=True)
    con = connect_duckdb(
        datamart,
        memory_limit=settings.duckdb_memory_limit,
        threads=settings.duckdb_threads,
        temp_dir=settings.tmp_dir,
        read_only=True,
    )
    try:
        # Month partitions of TIMESTAMPTZ columns are UTC months, whatever the machine's zone.
        con.execute("set TimeZone = 'UTC'")
        for table, rows in counts.items():
            columns = _columns(con, _catalog(con), table)
            names = {c.name for c in columns}
            partition_column = partition_columns.get(table)
            if partition_column is not None and partition_column not in names:
                warnings.append(
                    f"{table}: partition column {partition_column!r} not found, exported unpartitioned"
                )
                partition_column = None
            if partition_column is not None and PARTITION_KEY in names:
                warnings.append(f"{table}: has a column {PARTITION_KEY!r}, exported unpartitioned")
                partition_column = None
            started = time.perf_counter()
            hashed = pseudonymized_columns(settings, columns)
            _export_table(
                con,
                table,
                columns,
                rows,
                staged_dir / table,
                partition_column,
                {c: settings.export_hash_key for c in hashed},
            )
            files = tuple(
                sorted(p.relative_to(staged_dir).as_posix() for p in (staged_dir / table).rglob("*.parquet"))
            )
            exports[table] = TableExport(
                rows=rows,
                columns=tuple(
                    Column(c.name, "VARCHAR" if c.name in hashed else export_type(c.type)) for c in columns
                ),
                files=files,
                partitioned_by=f"{PARTITION_KEY}({partition_column})" if partition_column and rows else None,
                pseudonymized=hashed,
            )
            _say(
                progress,
                f"exported {table}: {rows:,} rows, {len(files)} file(s), {time.perf_counter() - started:.1f}s",
            )
    finally:
        con.close()
    manifest = {
        **manifest_head,
        "format": "parquet",
        "compression": COMPRESSION,
        "row_group_size": ROW_GROUP_SIZE,
        "partitioning": {
            "style": "hive",
            "column": PARTITION_KEY,
            "note": f"tables with partitioned_by are split into {PARTITION_KEY}=YYYY-MM/ folders; readers with "
            f"hive partitioning on (DuckDB, polars, pyarrow datasets) add a VARCHAR column {PARTITION_KEY!r} "
            "that is not in the table's schema (hive_partitioning=false leaves it out)",
        },
        "warnings": warnings,
        "pseudonymization": {
            "enabled": settings.export_pseudonymize,
            "method": "sha256(key || '|' || lower(trim(value))), hex; key from C360_EXPORT_HASH_KEY",
            "columns": list(settings.export_pii_columns) if settings.export_pseudonymize else [],
        },
        "tables": {
            table: {
                "rows": e.rows,
                "schema": [{"name": c.name, "type": c.type} for c in e.columns],
                "files": list(e.files),
                "partitioned_by": e.partitioned_by,
                "pseudonymized": list(e.pseudonymized),
            }
            for table, e in exports.items()
        },
    }
    (staged_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return exports, warnings


# ---- audit ---------------------------------------------------------------------------


def _verify_datamart(settings: Settings, build_db: Path, staged_db: Path, counts: Mapping[str, int]) -> None:
    """Reopen the staged file read-only: same tables, row counts, column names and types as build."""
    wal = staged_db.with_name(staged_db.name + ".wal")
    if wal.exists():
        raise PublishError(
            f"{wal.name} exists after CHECKPOINT and close: the staged datamart is not self-contained"
        )
    con = connect_duckdb(
        staged_db,
        memory_limit=settings.duckdb_memory_limit,
        threads=settings.duckdb_threads,
        temp_dir=settings.tmp_dir,
        read_only=True,
    )
    try:
        con.execute(f"attach {_literal(build_db)} as build (read_only)")
        main = _catalog(con)
        built = _mart_tables(con, "build")
        staged = _mart_tables(con, main)
        if built != staged or sorted(counts) != built:
            raise PublishError(f"datamart tables {staged} differ from build tables {built}")
        problems: list[str] = []
        for table in built:
            want_cols, got_cols = _columns(con, "build", table), _columns(con, main, table)
            if want_cols != got_cols:
                problems.append(f"{table}: columns {got_cols} != build {want_cols}")
            want_rows, got_rows = _count(con, "build", table), _count(con, main, table)
            if want_rows != got_rows or got_rows != counts[table]:
                problems.append(f"{table}: {got_rows} rows != build {want_rows}")
        if problems:
            raise PublishError("datamart verification failed: " + "; ".join(problems))
    finally:
        con.close()


def _verify_exports(staged_dir: Path, exports: Mapping[str, TableExport], counts: Mapping[str, int]) -> None:
    """Read the Parquet back with two readers: DuckDB for schema and rows, pyarrow footers for rows."""
    manifest = json.loads((staged_dir / MANIFEST).read_text())
    problems: list[str] = []
    if sorted(manifest["tables"]) != sorted(counts):
        problems.append(f"manifest tables {sorted(manifest['tables'])} != {sorted(counts)}")
    con = duckdb.connect()
    try:
        for table, expected in exports.items():
            on_disk = sorted(
                p.relative_to(staged_dir).as_posix() for p in (staged_dir / table).rglob("*.parquet")
            )
            if not on_disk or on_disk != list(expected.files):
                problems.append(f"{table}: files on disk {on_disk} != manifest {list(expected.files)}")
                continue
            paths = [str(staged_dir / f) for f in on_disk]
            schema = con.execute(
                "select column_name, column_type from (describe select * from read_parquet(?, hive_partitioning = false))",
                [paths],
            ).fetchall()
            got_cols = tuple(Column(n, t) for n, t in schema)
            if got_cols != expected.columns:
                problems.append(f"{table}: parquet schema {got_cols} != expected {expected.columns}")
            duck_rows = con.execute(
                "select count(*) from read_parquet(?, hive_partitioning = false)", [paths]
            ).fetchone()
            arrow_rows = sum(pq.read_metadata(p).num_rows for p in paths)
            if duck_rows is None or duck_rows[0] != counts[table] or arrow_rows != counts[table]:
                problems.append(
                    f"{table}: parquet rows duckdb={duck_rows[0] if duck_rows else None} pyarrow={arrow_rows} "
                    f"!= datamart {counts[table]}"
                )
            if manifest["tables"].get(table, {}).get("rows") != counts[table]:
                problems.append(f"{table}: manifest rows != {counts[table]}")
    finally:
        con.close()
    if problems:
        raise PublishError("export verification failed: " + "; ".join(problems))


# ---- publish (swap) --------------------------------------------------------------------


def _migrate_exports_dir(exports_dir: Path, vdir: Path, stamp: str) -> None:
    """A real directory at data/exports (first publish, older layout) becomes a version."""
    if exports_dir.is_symlink() or not exports_dir.exists():
        return
    if exports_dir.is_dir() and not any(exports_dir.iterdir()):
        exports_dir.rmdir()
        return
    os.replace(exports_dir, vdir / f"{stamp}-legacy")


def _prune_versions(vdir: Path, current: Path, keep: int) -> None:
    versions = sorted(p for p in vdir.iterdir() if p.is_dir() and not p.name.endswith(STAGING_SUFFIX))
    for old in versions[: max(0, len(versions) - keep)]:
        if old.resolve() != current.resolve():
            shutil.rmtree(old, ignore_errors=True)


def current_exports_version(settings: Settings) -> Path | None:
    """The version directory data/exports points at, or None before the first publish."""
    link = settings.exports_dir
    if link.is_symlink():
        return link.resolve()
    return link if link.is_dir() else None


def publication_run(datamart: Path) -> str | None:
    """The run_id in a datamart file's meta.publication; None without a file or a publication."""
    if not datamart.exists():
        return None
    try:
        con = duckdb.connect(str(datamart), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute("select run_id from meta.publication").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return str(row[0]) if row else None


def manifest_run(version_dir: Path | None) -> str | None:
    """The run_id in an exports version's manifest; None without one."""
    manifest = version_dir / MANIFEST if version_dir is not None else None
    if manifest is None or not manifest.exists():
        return None
    return json.loads(manifest.read_text()).get("run_id")


def _point_exports_at(settings: Settings, target: Path) -> None:
    """Swap the data/exports link to target with one rename (a real directory becomes a version first)."""
    exports_dir = settings.exports_dir
    _migrate_exports_dir(exports_dir, versions_dir(settings), datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ"))
    tmp_link = exports_dir.parent / ".exports.tmp-recover"
    _remove(tmp_link)
    os.symlink(os.path.relpath(target, exports_dir.parent), tmp_link)
    os.replace(tmp_link, exports_dir)
    _fsync_path(exports_dir.parent)


def recover_publication(settings: Settings) -> str | None:
    """Make the served datamart and exports one version again after a publish died between its renames.

    The swap is two renames, the datamart first, then the exports link: a crash between
    them serves the new datamart beside the previous exports. Both new halves were verified
    before the swap, so roll forward: point the exports at the version the datamart's run
    wrote. If that version is gone, roll back: restore the previous datamart from its
    hard-link backup (.datamart-previous-<run>.duckdb) when it matches the exports. Runs at
    the start of every publish, before leftovers (the backup among them) are cleared.
    Returns what was done; None when datamart and exports already agree.
    """
    served = publication_run(settings.datamart_db)
    exported = manifest_run(current_exports_version(settings))
    if served is None or served == exported:
        return None
    vdir = versions_dir(settings)
    versions = (
        sorted(
            p
            for p in vdir.iterdir()
            if p.is_dir() and not p.name.endswith(STAGING_SUFFIX) and manifest_run(p) == served
        )
        if vdir.exists()
        else []
    )
    if versions:
        _point_exports_at(settings, versions[-1])
        return f"rolled forward: exports now serve run {served} ({versions[-1].name}), like the datamart"
    if exported is not None:
        for backup in sorted(settings.warehouse_dir.glob(".datamart-previous-*.duckdb")):
            if publication_run(backup) == exported:
                settings.datamart_db.with_name(settings.datamart_db.name + ".wal").unlink(missing_ok=True)
                os.replace(backup, settings.datamart_db)
                _fsync_path(settings.warehouse_dir)
                return f"rolled back: the datamart serves run {exported} again, like the exports"
    return (
        f"datamart (run {served}) and exports (run {exported}) disagree and neither can be restored: "
        "this publish replaces both"
    )


@contextlib.contextmanager
def _cleanup_on_error(paths: Sequence[Path]) -> Iterator[None]:
    try:
        yield
    except BaseException:
        for p in paths:
            _remove(p)
        raise


def publish(
    settings: Settings,
    run_id: str,
    checks_passed: Sequence[str],
    progress: Progress | None = None,
    *,
    build_db: Path | None = None,
    partition_columns: Mapping[str, str] | None = None,
    keep_versions: int = KEEP_VERSIONS,
) -> PublishResult:
    """Write, audit, then atomically swap the datamart and the exports; raise PublishError on any failure.

    The caller (the Dagster asset) is responsible for deciding that the run's checks
    passed; `checks_passed` is recorded in meta.publication and the manifest.
    """
    started = time.perf_counter()
    build_db = build_db or settings.build_db
    partition_columns = PARTITIONED_EXPORTS if partition_columns is None else partition_columns
    if not build_db.exists():
        raise PublishError(f"build database {build_db} does not exist: run the pipeline first")
    published_at = datetime.now(UTC)
    safe_run = _SAFE.sub("_", run_id)
    stamp = published_at.strftime("%Y%m%dT%H%M%S%fZ")
    warehouse = settings.warehouse_dir
    exports_dir = settings.exports_dir
    vdir = versions_dir(settings)
    warehouse.mkdir(parents=True, exist_ok=True)
    vdir.mkdir(parents=True, exist_ok=True)
    # A publish that died between its two renames: datamart and exports one version again.
    recovered = recover_publication(settings)
    if recovered:
        _say(progress, f"publish: recovered an interrupted publish: {recovered}")
    # Leftovers of a crashed publish: safe to remove, publishes run one at a time (pool).
    for leftover in staged_paths(settings):
        _remove(leftover)

    staged_db = warehouse / f".datamart-{safe_run}.duckdb"
    staged_wal = staged_db.with_name(staged_db.name + ".wal")
    version_name = f"{stamp}-{safe_run}"
    staged_dir = vdir / f"{version_name}{STAGING_SUFFIX}"
    final_dir = vdir / version_name
    tmp_link = exports_dir.parent / f".exports.tmp-{safe_run}"
    backup = warehouse / f".datamart-previous-{safe_run}.duckdb"

    try:
        with _cleanup_on_error([staged_db, staged_wal, staged_dir, final_dir, tmp_link, backup]):
            _say(progress, f"publish: copying marts from {build_db.name}")
            counts = _write_datamart(settings, build_db, staged_db, run_id, published_at, checks_passed)
            head = {
                "run_id": run_id,
                "published_at": published_at.isoformat(),
                "checks_passed": list(checks_passed),
            }
            exports, warnings = _write_exports(
                settings, staged_db, staged_dir, counts, partition_columns, head, progress
            )
            _say(progress, "publish: verifying datamart and exports")
            _verify_datamart(settings, build_db, staged_db, counts)
            _verify_exports(staged_dir, exports, counts)

            # Durable before visible: data first, then the directory entries.
            _fsync_path(staged_db)
            _fsync_tree(staged_dir)
            os.replace(staged_dir, final_dir)
            _fsync_path(vdir)
            _migrate_exports_dir(exports_dir, vdir, stamp)
            os.symlink(os.path.relpath(final_dir, exports_dir.parent), tmp_link)

            served = settings.datamart_db
            had_previous = served.exists()
            if had_previous:
                os.link(served, backup)  # instant rollback if the exports swap below fails
            stale_wal = served.with_name(served.name + ".wal")
            stale_wal.unlink(missing_ok=True)  # would be replayed onto the new file
            os.replace(staged_db, served)
            try:
                os.replace(tmp_link, exports_dir)
            except BaseException:
                # Put the served datamart back: datamart and exports change together or not at all.
                if had_previous:
                    os.replace(backup, served)
                else:
                    served.unlink(missing_ok=True)
                raise
    except PublishError:
        raise
    except Exception as exc:
        raise PublishError(f"publish failed, nothing was swapped: {exc}") from exc

    # Published: from here on nothing may delete the new version (outside the cleanup block).
    _fsync_path(warehouse)
    _fsync_path(exports_dir.parent)
    backup.unlink(missing_ok=True)
    _prune_versions(vdir, final_dir, keep_versions)
    seconds = time.perf_counter() - started
    _say(progress, f"published {len(counts)} tables, {sum(counts.values()):,} rows in {seconds:.1f}s")
    return PublishResult(
        run_id=run_id,
        published_at=published_at,
        tables=counts,
        datamart_path=settings.datamart_db,
        exports_path=exports_dir,
        exports_version_dir=final_dir,
        checks_passed=tuple(checks_passed),
        seconds=seconds,
        warnings=tuple(warnings),
    )


# ---- trust but verify: the run's checks ------------------------------------------------


def _check_label(key: dg.AssetCheckKey) -> str:
    return f"{key.asset_key.to_user_string()}:{key.name}"


def verify_run_checks(
    instance: dg.DagsterInstance, run_id: str, expected: Sequence[dg.AssetCheckKey]
) -> tuple[list[str], list[str]]:
    """Every expected check must have been evaluated in this run, and no ERROR check may have failed.

    Reads the run's ASSET_CHECK_EVALUATION events from the instance instead of trusting
    that blocking checks stopped the run: public reports show downstream Python steps
    running after failed checks. Failed WARN-severity checks do not block (that is what
    WARN means) but are returned so they show in the publication metadata.
    Returns (passed check labels, warned check labels); raises PublishError otherwise.
    """
    evaluations: list[dg.AssetCheckEvaluation] = []
    cursor: str | None = None
    while True:
        conn = instance.get_records_for_run(
            run_id, cursor=cursor, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        )
        for record in conn.records:
            event = record.event_log_entry.dagster_event
            if event is not None and isinstance(event.event_specific_data, dg.AssetCheckEvaluation):
                evaluations.append(event.event_specific_data)
        if not conn.has_more:
            break
        cursor = conn.cursor

    failed = sorted(
        {
            _check_label(e.asset_check_key)
            for e in evaluations
            if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
        }
    )
    warned = sorted(
        {
            _check_label(e.asset_check_key)
            for e in evaluations
            if not e.passed and e.severity != dg.AssetCheckSeverity.ERROR
        }
    )
    seen = {e.asset_check_key for e in evaluations}
    missing = sorted(_check_label(k) for k in set(expected) - seen)
    if failed or missing or len(seen) < len(set(expected)):
        parts = []
        if failed:
            parts.append(f"{len(failed)} check(s) failed: {', '.join(failed)}")
        if missing:
            parts.append(f"{len(missing)} expected check(s) did not run: {', '.join(missing)}")
        raise PublishError("not publishing: " + "; ".join(parts))
    passed = sorted(_check_label(e.asset_check_key) for e in evaluations if e.passed)
    return sorted(set(passed)), warned


# ---- after the swap: what is served is what was built ------------------------------------


def _build_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: _count(con, "build", t) for t in _mart_tables(con, "build")}


def _mismatches(build: Mapping[str, int], published: Mapping[str, int | None]) -> list[dict[str, object]]:
    return [
        {"table": t, "build_rows": build.get(t), "published_rows": published.get(t)}
        for t in sorted(set(build) | set(published))
        if build.get(t) != published.get(t)
    ]


def datamart_matches_build(settings: Settings, build_db: Path) -> tuple[bool, dict[str, object]]:
    """Row count of every table of the served datamart (count(*), not its own metadata) = the build's."""
    con = duckdb.connect()
    try:
        con.execute(f"attach {_literal(build_db)} as build (read_only)")
        build = _build_counts(con)
        if not settings.datamart_db.exists():
            return False, {"error": f"{settings.datamart_db} does not exist", "build_tables": len(build)}
        con.execute(f"attach {_literal(settings.datamart_db)} as served (read_only)")
        served = {t: _count(con, "served", t) for t in _mart_tables(con, "served")}
        run = con.execute("select run_id from served.meta.publication").fetchone()
    finally:
        con.close()
    mismatched = _mismatches(build, served)
    return not mismatched, {
        "published_run": run[0] if run else None,
        "tables": len(served),
        "rows": sum(served.values()),
        "mismatches": dg.MetadataValue.json(mismatched),
    }


def exports_match_build(settings: Settings, build_db: Path) -> tuple[bool, dict[str, object]]:
    """Rows of every exported table, in the manifest and in the Parquet footers (pyarrow) = the build's."""
    con = duckdb.connect()
    try:
        con.execute(f"attach {_literal(build_db)} as build (read_only)")
        build = _build_counts(con)
    finally:
        con.close()
    version = current_exports_version(settings)
    if version is None or not (version / MANIFEST).exists():
        return False, {
            "error": f"no exports manifest under {settings.exports_dir}",
            "build_tables": len(build),
        }
    manifest = json.loads((version / MANIFEST).read_text())
    in_manifest = {t: int(v["rows"]) for t, v in manifest["tables"].items()}
    in_files = {
        t: sum(pq.read_metadata(p).num_rows for p in (version / t).rglob("*.parquet"))
        for t in manifest["tables"]
        if (version / t).is_dir()
    }
    mismatched = [{**m, "where": "manifest"} for m in _mismatches(build, in_manifest)]
    mismatched += [{**m, "where": "parquet files"} for m in _mismatches(build, in_files)]
    return not mismatched, {
        "published_run": manifest.get("run_id"),
        "version_dir": dg.MetadataValue.path(str(version)),
        "tables": len(in_files),
        "rows": sum(in_files.values()),
        "mismatches": dg.MetadataValue.json(mismatched),
    }


# ---- the Dagster asset -----------------------------------------------------------------


PUBLISH_ASSET_KEY = dg.AssetKey(["publish", "datamart"])
EXPORTS_ASSET_KEY = dg.AssetKey(["publish", "exports"])
MATCHES_BUILD_CHECK = "row_counts_match_build"


def build_publish_asset(
    deps: Sequence[dg.AssetKey],
    expected_check_keys: Sequence[dg.AssetCheckKey],
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetsDefinition:
    """The publish step: the served datamart and, downstream of it, the Parquet exports.

    One step materializes both (they are swapped together), as two assets so the lineage
    graph runs from the inbox files to the exports. Gated on this run's checks.
    Partitioned like the rest of the job when a partitions_def is given (with a
    single-run backfill policy): Dagster refuses or mis-plans an unpartitioned asset
    downstream of partitioned ones in one range run, so publish takes the same daily
    partitions and ignores the range: it always publishes the whole marts schema.
    """
    expected = tuple(expected_check_keys)

    @dg.multi_asset(
        name="publish",
        specs=[
            dg.AssetSpec(
                PUBLISH_ASSET_KEY,
                group_name="publish",
                deps=list(deps),
                description="Write-audit-publish of data/warehouse/datamart.duckdb (analysts' read-only SQL), "
                "only when every expected check of this run passed.",
                kinds={"duckdb"},
            ),
            dg.AssetSpec(
                EXPORTS_ASSET_KEY,
                group_name="publish",
                deps=[PUBLISH_ASSET_KEY],
                description="data/exports/<table>/: Parquet for BI tools with _manifest.json, the same "
                "version as the datamart (swapped in the same step).",
                kinds={"parquet"},
            ),
        ],
        pool="duckdb_writer",
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions_def is not None else None,
    )
    def publish_datamart(
        context: dg.AssetExecutionContext,
        settings: PipelineSettingsResource,
        warehouse: WarehouseResource,
    ) -> Iterator[dg.MaterializeResult]:
        run_id = context.run.run_id
        passed, warned = verify_run_checks(context.instance, run_id, expected)
        context.log.info(f"{len(passed)} checks passed in run {run_id}; publishing")
        for label in warned:
            context.log.warning(f"warning-level check failed (not blocking): {label}")
        result = publish(
            settings.get(),
            run_id,
            passed,
            progress=context.log.info,
            build_db=Path(warehouse.database),
        )
        for message in result.warnings:
            context.log.warning(message)
        yield dg.MaterializeResult(
            asset_key=PUBLISH_ASSET_KEY,
            metadata={
                "run_id": result.run_id,
                "published_at": result.published_at.isoformat(),
                "tables": len(result.tables),
                "total_rows": sum(result.tables.values()),
                "row_counts": dg.MetadataValue.json(result.tables),
                "checks_passed": len(result.checks_passed),
                "checks_warned": dg.MetadataValue.json(warned),
                "datamart": dg.MetadataValue.path(str(result.datamart_path)),
                "exports": dg.MetadataValue.path(str(result.exports_path)),
                "exports_version": dg.MetadataValue.path(str(result.exports_version_dir)),
                "seconds": round(result.seconds, 2),
            },
        )
        yield dg.MaterializeResult(
            asset_key=EXPORTS_ASSET_KEY,
            metadata={
                "run_id": result.run_id,
                "exports": dg.MetadataValue.path(str(result.exports_path)),
                "exports_version": dg.MetadataValue.path(str(result.exports_version_dir)),
                "manifest": dg.MetadataValue.path(str(result.exports_version_dir / MANIFEST)),
                "tables": len(result.tables),
                "row_counts": dg.MetadataValue.json(result.tables),
            },
        )

    return publish_datamart


def build_publish_checks() -> list[dg.AssetChecksDefinition]:
    """After the swap, re-count what is served against the build: "every published table's row
    count matches the build", visible on the publish assets in the UI. Blocking, so a
    mismatch fails the run (and `c360 run`), although the swap has already happened."""

    def build(asset: dg.AssetKey, compare: Callable[[Settings, Path], tuple[bool, dict[str, object]]]):  # type: ignore[no-untyped-def]
        @dg.asset_check(
            asset=asset,
            name=MATCHES_BUILD_CHECK,
            blocking=True,
            pool="duckdb_writer",
            description=f"{compare.__doc__}",
        )
        def _check(settings: PipelineSettingsResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
            passed, metadata = compare(settings.get(), Path(warehouse.database))
            return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)

        return _check

    return [build(PUBLISH_ASSET_KEY, datamart_matches_build), build(EXPORTS_ASSET_KEY, exports_match_build)]
