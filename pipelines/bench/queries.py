"""Analyst query latency on the published datamart.

The queries are the analysts' own library (`pipelines.analyst.queries.load_queries()`:
objects with `.name`, `.title`, `.sql`), imported lazily so the bench still measures
everything else when that package is missing or broken. Each query runs once to warm
the connection, then `repeat` timed runs; rows are fetched in full (DuckDB 2.0 may leave
a result unevaluated until it is consumed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb

from pipelines.bench.timing import time_runs


class AnalystQueryLike(Protocol):
    name: str
    title: str
    sql: str


QueryLoader = Callable[[], Sequence[AnalystQueryLike]]


@dataclass(frozen=True)
class QueryFigure:
    name: str
    title: str
    rows: int | None
    median_seconds: float | None
    runs_seconds: list[float]
    error: str | None = None


def default_loader() -> Sequence[AnalystQueryLike]:
    from pipelines.analyst.queries import load_queries

    return load_queries()


def measure_queries(
    datamart: Path,
    *,
    repeat: int,
    threads: int,
    memory_limit: str,
    loader: QueryLoader | None = None,
) -> dict[str, object]:
    """Per-query median latency (read-only connection, the analysts' limits) or why there is none."""
    try:
        queries = list((loader or default_loader)())
    except Exception as exc:  # the analyst package is another team's work in progress
        return {"available": False, "reason": f"cannot load the analyst queries: {exc}", "queries": []}
    if not datamart.exists():
        return {"available": False, "reason": f"no published datamart at {datamart}", "queries": []}
    figures: list[QueryFigure] = []
    con = duckdb.connect(
        str(datamart), read_only=True, config={"threads": threads, "memory_limit": memory_limit}
    )
    try:
        for query in queries:
            try:
                rows = len(con.execute(query.sql).fetchall())
                timing = time_runs(lambda q=query: con.execute(q.sql).fetchall(), repeat)
            except duckdb.Error as exc:
                figures.append(QueryFigure(query.name, query.title, None, None, [], str(exc).splitlines()[0]))
                continue
            figures.append(
                QueryFigure(query.name, query.title, rows, timing.median_seconds, list(timing.runs_seconds))
            )
    finally:
        con.close()
    medians = [f.median_seconds for f in figures if f.median_seconds is not None]
    return {
        "available": True,
        "reason": None,
        "total_median_seconds": round(sum(medians), 4),
        "slowest_median_seconds": max(medians, default=0.0),
        "queries": [f.__dict__ for f in figures],
    }
