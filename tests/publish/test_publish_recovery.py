"""A publish killed between its two renames, and the published row counts as checks.

The swap renames the datamart, then the exports link. A process killed between the two
(simulated here with os._exit in a real subprocess, so no `finally` or `except` runs)
leaves the new datamart beside the previous exports; the next publish must make them one
version again before it clears leftovers (the datamart backup is one of them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import pyarrow.dataset as ds
from publish_testkit import ORDERS, TEST_HASH_KEY, checksums, fill_build, no_leftovers

from pipelines.publish import (
    KEEP_VERSIONS,
    current_exports_version,
    datamart_matches_build,
    exports_match_build,
    manifest_run,
    publication_run,
    publish,
    recover_publication,
    versions_dir,
)
from pipelines.settings import Settings
from pipelines.status import read_status

CRASH = r"""
import os, sys
from pathlib import Path
import pipelines.publish as publish_mod
from pipelines.settings import Settings

settings = Settings(data_dir=Path(sys.argv[1]), duckdb_memory_limit="512MB", duckdb_threads=1,
                    export_hash_key=sys.argv[3])
real_replace = os.replace

def replace(src, dst):
    if Path(dst) == settings.exports_dir:
        os._exit(137)  # killed after the datamart rename, before the exports rename
    return real_replace(src, dst)

os.replace = replace
publish_mod.publish(settings, sys.argv[2], [])
"""


def _crash_publish(settings: Settings, run_id: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CRASH, str(settings.data_dir), run_id, TEST_HASH_KEY],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 137, proc.stderr[-2000:]


def _exported_orders(settings: Settings) -> int:
    return ds.dataset(settings.exports_dir / "fct_orders", partitioning="hive").count_rows()


def _torn(settings: Settings) -> None:
    """publish run-good, then a publish of run-crash (3 more orders) killed between the renames."""
    publish(settings, "run-good", [])
    fill_build(settings, orders=ORDERS + 3)
    _crash_publish(settings, "run-crash")
    assert publication_run(settings.datamart_db) == "run-crash"
    assert manifest_run(current_exports_version(settings)) == "run-good"
    assert _exported_orders(settings) == ORDERS
    # what `c360 status` says about it meanwhile
    status = read_status(settings, instance=_no_runs_instance(settings))
    assert status["exports_match_datamart"] is False


def _no_runs_instance(settings: Settings):  # type: ignore[no-untyped-def]
    import dagster as dg

    home = settings.data_dir.parent / "dagster_home"
    home.mkdir(exist_ok=True)
    return dg.DagsterInstance.local_temp(tempdir=str(home))


def test_the_next_publish_rolls_an_interrupted_swap_forward(settings: Settings) -> None:
    _torn(settings)
    assert (settings.warehouse_dir / ".datamart-previous-run-crash.duckdb").exists()
    messages: list[str] = []
    fill_build(settings, orders=ORDERS + 5)
    publish(settings, "run-next", [], progress=messages.append)
    assert messages[0] == (
        "publish: recovered an interrupted publish: rolled forward: exports now serve run run-crash ("
        + next(p.name for p in versions_dir(settings).iterdir() if p.name.endswith("run-crash"))
        + "), like the datamart"
    )
    assert publication_run(settings.datamart_db) == "run-next"
    assert manifest_run(current_exports_version(settings)) == "run-next"
    assert _exported_orders(settings) == ORDERS + 5
    assert no_leftovers(settings) == []
    # the interrupted version (run-crash) is the previous one now: run-good was pruned
    kept = sorted(p.name.rsplit("-", 2)[-2:][1] for p in versions_dir(settings).iterdir())
    assert len(kept) == KEEP_VERSIONS and kept == ["crash", "next"]


def test_recovery_rolls_forward_to_the_version_the_datamart_serves(settings: Settings) -> None:
    _torn(settings)
    done = recover_publication(settings)
    assert done is not None and done.startswith("rolled forward: exports now serve run run-crash")
    assert manifest_run(current_exports_version(settings)) == "run-crash"
    assert _exported_orders(settings) == ORDERS + 3  # the crashed run's verified exports
    assert recover_publication(settings) is None  # consistent now: nothing to do


def test_recovery_rolls_back_when_the_new_exports_are_gone(settings: Settings) -> None:
    publish(settings, "run-good", [])
    before = checksums(settings)
    fill_build(settings, orders=ORDERS + 3)
    _crash_publish(settings, "run-crash")
    lost = next(p for p in versions_dir(settings).iterdir() if p.name.endswith("run-crash"))
    shutil.rmtree(lost)
    assert recover_publication(settings) == (
        "rolled back: the datamart serves run run-good again, like the exports"
    )
    assert checksums(settings) == before  # byte for byte the version served before the crash
    assert not (settings.warehouse_dir / ".datamart-previous-run-crash.duckdb").exists()


# ---- "every published table's row count matches the build", as checks ----------------------


def test_row_count_checks_pass_after_a_publish(settings: Settings) -> None:
    publish(settings, "run-a", [])
    for compare in (datamart_matches_build, exports_match_build):
        passed, metadata = compare(settings, settings.build_db)
        assert passed, metadata
        # 100 audiences + 200 customers + 0 + 1,000 orders + 3,000 page views (publish_testkit)
        assert metadata["rows"] == 4_300 and metadata["tables"] == 5
        assert metadata["published_run"] == "run-a"


def test_row_count_checks_fail_when_the_build_and_what_is_served_differ(settings: Settings) -> None:
    publish(settings, "run-a", [])
    fill_build(settings, orders=ORDERS + 3)  # the build moved on; nothing was published
    passed, metadata = datamart_matches_build(settings, settings.build_db)
    assert not passed
    assert metadata["mismatches"].value == [
        {"table": "fct_orders", "build_rows": 1_003, "published_rows": 1_000}
    ]
    passed, metadata = exports_match_build(settings, settings.build_db)
    assert not passed
    assert metadata["mismatches"].value == [
        {"table": "fct_orders", "build_rows": 1_003, "published_rows": 1_000, "where": "manifest"},
        {"table": "fct_orders", "build_rows": 1_003, "published_rows": 1_000, "where": "parquet files"},
    ]


def test_exports_check_reads_the_parquet_files_not_only_the_manifest(settings: Settings) -> None:
    publish(settings, "run-a", [], partition_columns={"fct_orders": "order_date"})
    # fct_orders: days 2025-09-20 + (i % 20): 11 September days x 50 = 550 rows, 9 October days = 450.
    victim = current_exports_version(settings) / "fct_orders" / "month=2025-10" / "data_0.parquet"
    con = duckdb.connect()
    con.execute(f"copy (select * from read_parquet('{victim}') limit 1) to '{victim}.tmp' (format parquet)")
    con.close()
    os.replace(f"{victim}.tmp", victim)
    assert datamart_matches_build(settings, settings.build_db)[0]
    passed, metadata = exports_match_build(settings, settings.build_db)
    assert not passed
    assert metadata["mismatches"].value == [
        {"table": "fct_orders", "build_rows": 1_000, "published_rows": 551, "where": "parquet files"}
    ]
