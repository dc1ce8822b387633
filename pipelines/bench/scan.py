"""The scan floor: DuckDB merely counting the rows of each raw table's delivered files.

It reads and splits the same bytes the ingest reads (CSV with the contract's dialect,
newline-delimited JSON, or the log's physical lines) but checks, converts and stores
nothing: no ingest can beat it, so ingest seconds over scan seconds is how far from
the limit we are. Defective rows must not stop the count, hence the lenient CSV options;
a file whose dialect DuckDB cannot scan at all falls back to counting its lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.bench.timing import Timing, time_runs
from pipelines.ingest.contracts import TableContract

# A byte that never occurs in text: each physical line is one VARCHAR value.
_NO_DELIM = "\\x1f"


@dataclass(frozen=True)
class ScanFloor:
    raw_table: str
    source: str
    files: int
    method: str  # read_csv | read_json | lines
    rows: int
    timing: Timing


def table_files(inbox_dir: Path, table: TableContract) -> list[Path]:
    """Every delivered file of the table in the inbox, whatever its day, plain or gzip-compressed."""
    return sorted({p for pattern in table.file_patterns() for p in inbox_dir.glob(pattern)})


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _duckdb_encoding(encoding: str) -> str:
    """DuckDB decodes utf-8 and latin-1 natively; any single-byte code page scans like latin-1."""
    return "utf-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else "latin-1"


def lines_sql(encoding: str = "utf-8") -> str:
    return (
        f"SELECT count(*) FROM read_csv(?, columns={{'line': 'VARCHAR'}}, header=false, auto_detect=false, "
        f"delim='{_NO_DELIM}', quote='', escape='', encoding='{_duckdb_encoding(encoding)}')"
    )


def scan_sql(table: TableContract) -> tuple[str, str]:
    """(method, SQL with one `?` for the file list) for the table's format."""
    if table.format == "csv":
        quote = _literal(table.quote or "")
        return "read_csv", (
            "SELECT count(*) FROM read_csv(?, all_varchar=true, "
            f"delim={_literal(table.delimiter)}, quote={quote}, escape={quote}, "
            f"header={'true' if table.header else 'false'}, encoding='{_duckdb_encoding(table.encoding)}', "
            "strict_mode=false, null_padding=true, ignore_errors=true)"
        )
    if table.format == "jsonl":
        return (
            "read_json",
            "SELECT count(*) FROM read_json(?, format='newline_delimited', ignore_errors=true)",
        )
    return "lines", lines_sql(table.encoding)


def measure_scan(inbox_dir: Path, table: TableContract, repeat: int, threads: int) -> ScanFloor | None:
    """Median seconds of the floor scan over the table's files; None if it has no files.

    Same thread count as the ingest's connections, so the ratio compares like with like.
    """
    files = [str(p) for p in table_files(inbox_dir, table)]
    if not files:
        return None
    method, sql = scan_sql(table)
    con = duckdb.connect()
    try:
        con.execute(f"SET threads = {int(threads)}")
        try:
            rows = int(con.execute(sql, [files]).fetchall()[0][0])
        except duckdb.Error:
            method, sql = "lines", lines_sql(table.encoding)
            rows = int(con.execute(sql, [files]).fetchall()[0][0])
        timing = time_runs(lambda: con.execute(sql, [files]).fetchall(), repeat)
    finally:
        con.close()
    return ScanFloor(table.raw_table, table.source, len(files), method, rows, timing)
