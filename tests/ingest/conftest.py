"""Helpers for ingest tests: a tmp inbox built from the hand-made fixtures, contracts, DuckDB."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest import SourceContract, load_contracts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
CONTRACTS = Path(__file__).resolve().parents[2] / "pipelines" / "contracts"


def gz(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(gzip.compress(src.read_bytes()))
    return dst


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """The fixtures laid out as the sources deliver them (gzip where the contract says .gz)."""
    box = tmp_path / "inbox"
    shutil.copytree(FIXTURES / "inbox", box)
    for day in ("2025-09-01", "2025-09-02"):
        gz(FIXTURES / f"clickstream-{day}.jsonl", box / "clickstream" / f"events-{day}.jsonl.gz")
    gz(FIXTURES / "access-combined-2015-05-17.log", box / "weblogs" / "access-2015-05-17.log.gz")
    return box


@pytest.fixture(scope="session")
def contracts() -> dict[str, SourceContract]:
    return load_contracts(CONTRACTS)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(str(tmp_path / "build.duckdb"))
    yield c
    c.close()


def quarantine(con: duckdb.DuckDBPyConnection, raw_table: str) -> list[tuple]:
    """(line, reason, column, action) of a quarantine table, in file order."""
    return con.execute(
        f"SELECT _line_number, reason, column_name, action FROM quarantine.{raw_table} "
        "ORDER BY _partition, _source_file, _line_number, action"
    ).fetchall()


def snapshot(con: duckdb.DuckDBPyConnection, raw_table: str) -> dict[str, list[tuple]]:
    """Full contents of raw, quarantine and audit for a table, without load timestamps."""
    return {
        "raw": con.execute(f"SELECT * EXCLUDE (_loaded_at) FROM raw.{raw_table} ORDER BY ALL").fetchall(),
        "quarantine": con.execute(
            f"SELECT * EXCLUDE (_loaded_at) FROM quarantine.{raw_table} ORDER BY ALL"
        ).fetchall(),
        "audit": con.execute(
            "SELECT * EXCLUDE (loaded_at) FROM audit.load_log WHERE raw_table = ? ORDER BY ALL", [raw_table]
        ).fetchall(),
    }
