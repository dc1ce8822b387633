"""audit.load_log: one row per (raw_table, partition, source_file), the proof nothing was lost.

rows_read = rows_loaded + rows_quarantined for every file (rows_repaired are loaded rows
with a field nulled, counted in rows_loaded too). status: 'loaded',
'derived' (line_items layout) or 'duplicate_delivery' (a `changes`
file with the same bytes as one already loaded for another partition of the same table:
skipped so rows are not doubled; `note` names it). A day without a file has no row.
"""

from __future__ import annotations

from datetime import date

import duckdb

AUDIT_DDL = """
CREATE TABLE IF NOT EXISTS audit.load_log (
    raw_table VARCHAR, partition DATE, source_file VARCHAR,
    rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, rows_repaired BIGINT,
    sha256 VARCHAR, loaded_at TIMESTAMPTZ, status VARCHAR, note VARCHAR
)
"""


def ensure_audit(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(AUDIT_DDL)


def loaded_hashes(
    con: duckdb.DuckDBPyConnection, raw_table: str, excluding: list[date] | None = None
) -> dict[str, tuple[str, date]]:
    """sha256 -> (source_file, partition) of the earliest loaded file with those bytes.

    Partitions in `excluding` (about to be reloaded) do not count.
    """
    rows = con.execute(
        """SELECT sha256, arg_min(source_file, partition), min(partition) FROM audit.load_log
        WHERE raw_table = ? AND status = 'loaded' AND sha256 IS NOT NULL
          AND NOT list_contains(?::DATE[], partition)
        GROUP BY sha256""",
        [raw_table, list(excluding or [])],
    ).fetchall()
    return {sha: (source_file, day) for sha, source_file, day in rows}


def record(
    con: duckdb.DuckDBPyConnection,
    raw_table: str,
    day: date,
    source_file: str,
    counts: tuple[int, int, int, int],
    sha256: str | None,
    loaded_at: object,
    status: str,
    note: str | None = None,
) -> None:
    con.execute(
        "INSERT INTO audit.load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [raw_table, day, source_file, *counts, sha256, loaded_at, status, note],
    )
