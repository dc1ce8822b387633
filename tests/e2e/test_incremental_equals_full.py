"""An incremental daily run gives the same datamart as a full rebuild.

One generated data set, two data dirs with the same inbox:

- incremental: the whole job over every day but the last, then the job for the last day
  alone (dbt gets min_date/max_date of that one day; incremental models only rebuild the
  event days delivered in it, late events included);
- full: the whole job over every day at once, in a fresh warehouse (at tier S, the session's
  `tier_s` run, which is exactly that).

Every table of schema `marts` (and the identity link table and the incremental web tables of
schema `intermediate`) must then hold
exactly the same rows, compared as multisets both ways (EXCEPT ALL) after dropping the
run-time columns (load and build timestamps, run ids). Tables with an `as_of_date`
(`rfm_segments`, `rfm_score_bins`) keep one snapshot per as_of_date, so the incremental
warehouse also has the previous day's: the snapshot of the last day is compared.
`rfm_migration` and `rfm_migration_summary` (transitions between the snapshots taken) differ by
design and are skipped.

The tier is S by default (C360_TEST_INCREMENTAL_TIER=XS for a quicker check).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.partitions import inbox_days
from pipelines.runner import run_pipeline
from pipelines.settings import Settings
from pipelines.synth import generate

TIER = os.environ.get("C360_TEST_INCREMENTAL_TIER", "S")
SEED = 42
# Columns that record when or by which run a row was written, not what it says.
RUN_TIME_COLUMNS = {"_loaded_at", "loaded_at", "built_at", "_built_at", "dbt_updated_at", "run_id", "_run_id"}
EXTRA_TABLES = [
    ("intermediate", "int_identity_links"),
    # the SCD2 customer versions: appended day by day, or derived from every snapshot at once
    ("staging", "stg_crm__customer_versions"),
    # the incremental web tables under the marts: re-cut from a watermark, they must match too
    ("intermediate", "int_events_sessionized"),
    ("intermediate", "int_weblog_hits_sessionized"),
    ("intermediate", "int_weblog_sessions"),
    ("intermediate", "int_weblog_hit_twins"),
    ("intermediate", "int_weblog_hit_tracker_sessions"),
    ("intermediate", "int_weblog_hit_matches"),
    ("intermediate", "int_weblog_page_views"),
]
# A summary of the transitions between the snapshots a warehouse took: the incremental one took
# one more snapshot (the day before), so its transitions differ by design.
SNAPSHOT_HISTORY = {"rfm_migration", "rfm_migration_summary"}


def _run(settings: Settings, start, end) -> None:
    outcome = run_pipeline(settings, start, end, instance=dg.DagsterInstance.ephemeral())
    assert outcome.success, outcome.reason


@pytest.fixture(scope="module")
def warehouses(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Settings, Settings, list]:
    root = tmp_path_factory.mktemp("incremental_vs_full")
    incremental = Settings(data_dir=root / "incremental", tier=TIER, seed=SEED, duckdb_memory_limit="2GB")
    if TIER == "S":
        # The session's tier S (same seed, every day in one run on a fresh warehouse) is the
        # full rebuild; building it a second time here only cost suite time.
        full = request.getfixturevalue("tier_s").settings
        assert (full.tier, full.seed) == (TIER, SEED)
        shutil.copytree(full.inbox_dir, incremental.inbox_dir)
    else:
        full = Settings(data_dir=root / "full", tier=TIER, seed=SEED, duckdb_memory_limit="2GB")
        generate(incremental, TIER, SEED, out_dir=incremental.inbox_dir)
        shutil.copytree(incremental.inbox_dir, full.inbox_dir)
    days = inbox_days(incremental.inbox_dir)
    assert len(days) >= 3
    _run(incremental, days[0], days[-2])
    _run(incremental, days[-1], days[-1])
    if TIER != "S":
        _run(full, days[0], days[-1])
    return incremental, full, days


def _tables(db: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        marts = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = 'marts' ORDER BY table_name"
        ).fetchall()
    return [*marts, *EXTRA_TABLES]


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str, db: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [db, schema, table],
        ).fetchall()
    ]


def test_incremental_daily_run_equals_full_rebuild(warehouses) -> None:
    incremental, full, days = warehouses
    last = days[-1]
    tables = _tables(full.build_db)
    assert tables == _tables(incremental.build_db)
    assert {"fct_sessions", "fct_page_views", "fct_orders", "customer_360", "rfm_segments"} <= {
        t for _, t in tables
    }
    con = duckdb.connect()
    con.execute(f"ATTACH '{incremental.build_db}' AS inc (READ_ONLY)")
    con.execute(f"ATTACH '{full.build_db}' AS fullb (READ_ONLY)")
    differences: dict[str, tuple[int, int, int]] = {}
    compared = 0
    for schema, table in tables:
        columns = _columns(con, schema, table, "fullb")
        assert columns == _columns(con, schema, table, "inc"), f"{schema}.{table} columns differ"
        kept = ", ".join(f'"{c}"' for c in columns if c not in RUN_TIME_COLUMNS)
        if table in SNAPSHOT_HISTORY:
            continue
        where = ""
        if "as_of_date" in columns:
            # One snapshot per as_of_date: the incremental warehouse also holds the day before's.
            as_of = con.execute(f"SELECT max(as_of_date) FROM fullb.{schema}.{table}").fetchall()[0][0]
            snapshots = [
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT as_of_date FROM inc.{schema}.{table} ORDER BY 1"
                ).fetchall()
            ]
            if table == "rfm_segments":
                assert len(snapshots) == 2 and snapshots[-1] == as_of == last, snapshots
            where = f" WHERE as_of_date = DATE '{as_of}'"
        rel_inc = f"SELECT {kept} FROM inc.{schema}.{table}{where}"
        rel_full = f"SELECT {kept} FROM fullb.{schema}.{table}{where}"
        n_full = con.execute(f"SELECT count(*) FROM ({rel_full})").fetchall()[0][0]
        only_inc = con.execute(f"SELECT count(*) FROM ({rel_inc} EXCEPT ALL {rel_full})").fetchall()[0][0]
        only_full = con.execute(f"SELECT count(*) FROM ({rel_full} EXCEPT ALL {rel_inc})").fetchall()[0][0]
        compared += n_full
        if only_inc or only_full:
            differences[f"{schema}.{table}"] = (n_full, only_inc, only_full)
    print(
        f"\nincremental vs full rebuild on tier {TIER} ({len(days)} days, last {last}): "
        f"{len(tables)} tables, {compared} rows compared"
    )
    assert not differences, f"(rows in full, only in incremental, only in full): {differences}"
    # The comparison is not vacuous: the event facts reach into the last day.
    last_day_sessions = con.execute(
        "SELECT count(*) FROM fullb.marts.fct_sessions WHERE session_date = ?", [last]
    ).fetchall()[0][0]
    assert last_day_sessions > 0
