"""Analysts keep working while publish swaps the datamart and the exports under them.

Real separate processes (DuckDB's file locks and its per-process database cache are what
matter here, so threads would prove nothing): one holds a read-only connection open for the
whole test, one reconnects for every query, one scans the Parquet exports by their fixed path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from publish_testkit import fill_build

from pipelines.publish import publish
from pipelines.settings import Settings

READER = r"""
import json, sys, time
from pathlib import Path
import duckdb

mode, datamart, exports, workdir = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
stop, ready = workdir / "stop", workdir / f"ready-{mode}"
seen, errors, queries = [], [], 0
held = duckdb.connect(datamart, read_only=True) if mode == "held" else None
last = False
while True:
    last = stop.exists()  # one more query after the stop signal: it must see the final version
    try:
        if mode == "held":
            row = held.execute(
                "select p.run_id, (select count(*) from marts.fct_orders) from meta.publication p"
            ).fetchone()
        elif mode == "reconnect":
            con = duckdb.connect(datamart, read_only=True)
            row = con.execute(
                "select p.run_id, (select count(*) from marts.fct_orders) from meta.publication p"
            ).fetchone()
            con.close()
        else:
            con = duckdb.connect()
            row = con.execute(
                f"select 'exports', count(*) from read_parquet('{exports}/fct_orders/**/*.parquet')"
            ).fetchone()
            con.close()
        queries += 1
        if not seen or seen[-1] != list(row):
            seen.append(list(row))
    except Exception as exc:  # the test asserts there are none
        errors.append(f"{type(exc).__name__}: {exc}")
    ready.touch()
    if last:
        break
    time.sleep(0.005)
print(json.dumps({"queries": queries, "errors": errors, "seen": seen}))
"""


def test_readers_never_error_while_publish_swaps(settings: Settings, tmp_path: Path) -> None:
    publish(settings, "run-0", [])
    workdir = tmp_path / "readers"
    workdir.mkdir()
    args = [str(settings.datamart_db), str(settings.exports_dir), str(workdir)]
    readers = {
        mode: subprocess.Popen(
            [sys.executable, "-c", READER, mode, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("held", "reconnect", "exports")
    }
    deadline = time.monotonic() + 60
    while not all((workdir / f"ready-{m}").exists() for m in readers):
        assert time.monotonic() < deadline, "readers did not start"
        assert all(p.poll() is None for p in readers.values()), [p.communicate() for p in readers.values()]
        time.sleep(0.05)

    for n in (1, 2, 3):
        fill_build(settings, orders=1_000 + n)
        publish(settings, f"run-{n}", [])
    (workdir / "stop").touch()

    reports = {}
    for mode, proc in readers.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        reports[mode] = json.loads(out)

    for mode, report in reports.items():
        assert report["errors"] == [], (mode, report["errors"])
        assert report["queries"] > 0
    # The held connection keeps reading the inode it opened: always the first version.
    assert reports["held"]["seen"] == [["run-0", 1_000]]
    # Connecting again (no other connection open in that process) gets the newest version.
    assert reports["reconnect"]["seen"][0] == ["run-0", 1_000]
    assert reports["reconnect"]["seen"][-1] == ["run-3", 1_003]
    assert reports["exports"]["seen"][-1] == ["exports", 1_003]
    assert {tuple(s) for s in reports["exports"]["seen"]} <= {
        ("exports", n) for n in (1_000, 1_001, 1_002, 1_003)
    }
    # A fresh connection here sees the last publication too.
    con = duckdb.connect(str(settings.datamart_db), read_only=True)
    assert con.execute("select run_id from meta.publication").fetchall() == [("run-3",)]
    con.close()
