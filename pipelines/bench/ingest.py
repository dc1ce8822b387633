"""Ingest against its limit: each raw table's ingest step beside DuckDB's scan floor.

Ingest seconds are the raw tables' Dagster step times inside the measured full builds
(median over the builds), so the figure is the real asset in the real job, not a
re-implementation. Rows are what the load audit says was read.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from pipelines.bench.scan import ScanFloor
from pipelines.bench.timing import per_second, ratio


@dataclass(frozen=True)
class IngestFigure:
    name: str  # raw table, or source for the per-source totals
    source: str
    files: int
    rows_read: int
    seconds: float
    scan_seconds: float
    scan_method: str
    scan_rows: int
    ratio_to_scan: float | None
    rows_per_second: float | None


def rows_read(build_db: Path) -> dict[str, int]:
    """Rows read per raw table, from the load audit of a finished build."""
    con = duckdb.connect(str(build_db), read_only=True)
    try:
        rows = con.execute("SELECT raw_table, sum(rows_read) FROM audit.load_log GROUP BY 1").fetchall()
    finally:
        con.close()
    return {table: int(n or 0) for table, n in rows}


def ingest_seconds(builds_steps: Sequence[Mapping[str, float]], raw_table: str) -> float:
    """Median over the builds of the table's ingest step (`raw__<table>`)."""
    values = [steps.get(f"raw__{raw_table}", 0.0) for steps in builds_steps] or [0.0]
    return round(statistics.median(values), 3)


def table_figures(
    scans: Sequence[ScanFloor], builds_steps: Sequence[Mapping[str, float]], rows: Mapping[str, int]
) -> list[IngestFigure]:
    figures = []
    for scan in scans:
        seconds = ingest_seconds(builds_steps, scan.raw_table)
        read = rows.get(scan.raw_table, 0)
        figures.append(
            IngestFigure(
                name=scan.raw_table,
                source=scan.source,
                files=scan.files,
                rows_read=read,
                seconds=seconds,
                scan_seconds=scan.timing.median_seconds,
                scan_method=scan.method,
                scan_rows=scan.rows,
                ratio_to_scan=ratio(seconds, scan.timing.median_seconds),
                rows_per_second=per_second(read, seconds),
            )
        )
    return figures


def source_figures(tables: Sequence[IngestFigure]) -> list[IngestFigure]:
    """Per-source sums of the table figures (a source is one delivery: crm, clickstream, weblogs)."""
    out = []
    for source in dict.fromkeys(t.source for t in tables):
        members = [t for t in tables if t.source == source]
        seconds = round(sum(t.seconds for t in members), 3)
        scan = round(sum(t.scan_seconds for t in members), 4)
        read = sum(t.rows_read for t in members)
        methods = sorted({t.scan_method for t in members})
        out.append(
            IngestFigure(
                name=source,
                source=source,
                files=sum(t.files for t in members),
                rows_read=read,
                seconds=seconds,
                scan_seconds=scan,
                scan_method="+".join(methods),
                scan_rows=sum(t.scan_rows for t in members),
                ratio_to_scan=ratio(seconds, scan),
                rows_per_second=per_second(read, seconds),
            )
        )
    return out


def ingest_section(
    scans: Sequence[ScanFloor], builds_steps: Sequence[Mapping[str, float]], rows: Mapping[str, int]
) -> dict[str, object]:
    tables = table_figures(scans, builds_steps, rows)
    return {
        "seconds": round(sum(t.seconds for t in tables), 3),
        "sources": [asdict(f) for f in source_figures(tables)],
        "tables": [asdict(f) for f in tables],
    }
