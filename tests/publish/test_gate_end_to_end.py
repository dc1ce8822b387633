"""The promise to analysts, end to end through `c360 run`: a failed check publishes nothing.

One tiny generated data set (tier XS) goes through the real command line three times:
1. days 1-6: everything passes, version A is published; the output is for a person: no
   interpreter-exit noise on stderr ("nanobind: leaked ..."), no dbt colour codes, and it
   ends with the published version and where the datamart and exports are;
2. day 7 with a planted defect (marketing's RFM seed loses a cell, so the blocking dbt test
   `rfm_segment_map_covers_every_cell_once` fails): non-zero exit naming the check, the
   marts downstream of the seed and the publish asset are not materialized, the served
   datamart and every export file are byte-for-byte unchanged, `c360 status` names it;
3. day 7 again with the defect fixed, while an analyst holds a read-only connection to
   the served datamart and keeps querying it: published, the reader never sees an error,
   and a new connection sees the new version.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.instance.ref import InstanceRef
from publish_testkit import checksums, no_leftovers
from xs_deployment import xs_deployment

from pipelines.settings import PROJECT_DIR, Settings

BROKEN_CHECK = "marts/rfm_segment_map:rfm_segment_map_covers_every_cell_once"


def _c360(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], env=env, capture_output=True, text=True, timeout=600
    )


def _last_run_id(home: Path) -> str:
    """The newest run in the deployment's Dagster instance, where `c360 run` records its runs."""
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        return instance.get_run_records(limit=1)[0].dagster_run.run_id
    finally:
        instance.dispose()


def _published_run(settings: Settings) -> str:
    with duckdb.connect(str(settings.datamart_db), read_only=True) as con:
        return con.execute("select run_id from meta.publication").fetchall()[0][0]


@pytest.mark.slow
def test_a_failed_blocking_check_publishes_nothing_and_readers_never_break(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, env = xs_deployment(tmp_path)
    home = Path(env["DAGSTER_HOME"])
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # dagster.yaml reads it

    # 1. A good first version.
    first = _c360(env, "run", "--from", "2025-09-01", "--to", "2025-09-06")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "nanobind" not in first.stderr, first.stderr[-2000:]
    assert "\x1b[" not in first.stdout  # dbt's colour codes are off
    version_a = _last_run_id(home)
    assert _published_run(settings) == version_a
    tail = first.stdout.splitlines()[-4:]
    assert tail[0].startswith(f"run {version_a} succeeded in ")
    assert tail[1].startswith(f"published: run {version_a} at 20") and tail[1].endswith(" rows")
    assert tail[2].startswith(f"  datamart: {settings.datamart_db}  ")
    assert tail[3].startswith(f"  exports:  {settings.exports_dir}/<table>/  ")
    # dbt's ~240 node lines became a handful of progress lines
    assert sum(line.startswith("  dbt: ") for line in first.stdout.splitlines()) < 12
    before = checksums(settings)
    assert len(before) > 10  # the datamart plus every export file and the manifest

    # 2. The defect: a copy of the dbt project whose segment map lost the (5, 4) cell.
    broken_project = tmp_path / "dbt_project"
    shutil.copytree(
        PROJECT_DIR / "dbt_project", broken_project, ignore=shutil.ignore_patterns("target", "logs")
    )
    seed = broken_project / "seeds" / "rfm_segment_map.csv"
    lines = seed.read_text().splitlines()
    seed.write_text("\n".join(line for line in lines if not line.startswith("5,4,")) + "\n")
    failed = _c360({**env, "C360_DBT_PROJECT_DIR": str(broken_project)}, "run", "--date", "2025-09-07")
    assert failed.returncode != 0
    assert "nanobind" not in failed.stderr
    reason = next(line for line in failed.stderr.splitlines() if line.startswith("c360 run: FAILED"))
    assert f"check {BROKEN_CHECK} failed" in reason
    failed_run = _last_run_id(home)
    assert checksums(settings) == before, "a failed run must not touch the served datamart or exports"
    assert no_leftovers(settings) == []
    status = _c360(env, "status").stdout
    assert f"published: run {version_a}" in status
    assert f"last run:  {failed_run} FAILED" in status and BROKEN_CHECK in status
    assert f"see: http://127.0.0.1:3000/runs/{failed_run}" in status

    # Not a context manager: Dagster 1.13's __exit__ leaves its state storage installed.
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    records = instance.get_records_for_run(
        failed_run, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    materialized = {r.event_log_entry.dagster_event.asset_key.to_user_string() for r in records}
    instance.dispose()
    assert "raw/crm_orders" in materialized  # ingest ran
    assert "marts/rfm_segment_map" in materialized  # the seed itself was loaded, then its test failed
    for downstream in ("marts/rfm_segments", "marts/customer_360", "publish/datamart", "publish/exports"):
        assert downstream not in materialized, f"{downstream} was materialized after a blocking check failed"

    # 3. Fixed (the project's own seed), re-run while an analyst keeps a session open.
    reader = duckdb.connect(str(settings.datamart_db), read_only=True)
    customers = reader.execute("select count(*) from marts.customer_360").fetchall()[0][0]
    # Output goes to a file, not a pipe: nobody reads a pipe while polling, and a run that logs
    # more than the pipe buffer (64 KB) would block on write forever.
    log = tmp_path / "run3.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "run", "--date", "2025-09-07"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        queries = 0
        while proc.poll() is None:
            assert reader.execute("select count(*) from marts.customer_360").fetchall()[0][0] == customers
            assert reader.execute("select run_id from meta.publication").fetchall()[0][0] == version_a
            queries += 1
            time.sleep(0.1)
    assert proc.returncode == 0, log.read_text()[-2000:]
    assert queries > 10, "the reader should have queried during the run"
    # The open session still reads its (old) version after the swap; a new one sees the new one.
    assert reader.execute("select run_id from meta.publication").fetchall()[0][0] == version_a
    reader.close()
    version_b = _last_run_id(home)
    assert version_b != version_a
    assert _published_run(settings) == version_b
    assert checksums(settings) != before
    manifest = json.loads((settings.exports_dir / "_manifest.json").read_text())
    assert manifest["run_id"] == version_b and BROKEN_CHECK in manifest["checks_passed"]
