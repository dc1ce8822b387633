"""The bench harness's pure parts: the BENCHMARKS.md rewrite, unit parsing, step phases, query timing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.bench import figures
from pipelines.bench.build import StepSpan, phase_seconds, settings_env, step_at, step_phase
from pipelines.bench.memory import limit_bytes
from pipelines.bench.queries import measure_queries
from pipelines.bench.report import replace_block
from pipelines.settings import Settings

HAND_WRITTEN = """# Benchmarks

Intro written by hand.

## Results

<!-- bench:M:begin -->
old M block
<!-- bench:M:end -->

## Missed targets and their measured reasons

Analysis written by hand, with a <!-- comment --> inside.
"""


def test_replace_block_rewrites_only_between_the_markers() -> None:
    text = replace_block(HAND_WRITTEN, "M", "new M block\n")
    assert "old M block" not in text
    assert "<!-- bench:M:begin -->\nnew M block\n<!-- bench:M:end -->" in text
    assert text.replace("new M block", "old M block") == HAND_WRITTEN
    assert replace_block(text, "M", "new M block\n") == text


def test_replace_block_adds_a_missing_tier_under_results_keeping_the_rest() -> None:
    text = replace_block(HAND_WRITTEN, "XS", "xs block\n")
    assert (
        text.index("## Results")
        < text.index("<!-- bench:XS:begin -->")
        < text.index("<!-- bench:M:begin -->")
    )
    removed = text.replace("<!-- bench:XS:begin -->\nxs block\n<!-- bench:XS:end -->\n\n", "")
    assert removed == HAND_WRITTEN
    assert replace_block("# Benchmarks\n", "S", "s\n").endswith(
        "<!-- bench:S:begin -->\ns\n<!-- bench:S:end -->\n"
    )


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("4GB", 4_000_000_000),
        ("4GiB", 4 * 1024**3),
        ("512MB", 512_000_000),
        ("1.5 GB", 1_500_000_000),
        ("50%", 500),
    ],
)
def test_memory_limit_units_follow_duckdb(limit: str, expected: int) -> None:
    assert limit_bytes(limit, total_memory=1000) == expected


def test_unreadable_memory_limit_is_none() -> None:
    assert limit_bytes("lots") is None


def test_steps_fall_into_pipeline_phases() -> None:
    steps = {
        "raw__crm_orders": 2.0,
        "raw__crm_orders_input_expectations": 1.0,
        "marts__customer_360_revenue_reconciles": 0.5,
        "dbt_datamart": 10.0,
        "publish__datamart": 1.5,
    }
    assert [step_phase(k) for k in steps] == ["ingest", "checks", "checks", "dbt", "publish"]
    assert phase_seconds(steps) == {"ingest": 2.0, "checks": 1.5, "dbt": 10.0, "publish": 1.5, "other": 0.0}


def test_peak_is_placed_in_the_step_running_at_that_moment() -> None:
    spans = [StepSpan("raw__crm_orders", 100.0, 20.0), StepSpan("dbt_datamart", 125.0, 60.0)]
    assert step_at(spans, 110.0) == "raw__crm_orders"
    assert step_at(spans, 185.0) == "dbt_datamart"
    assert step_at(spans, 122.5) is None  # between two steps: Dagster's own work
    assert step_at(spans, 99.9) is None and step_at([], 110.0) is None


def test_child_env_reproduces_the_settings() -> None:
    settings = Settings(data_dir=Path("/tmp/x"), tier="XS", duckdb_memory_limit="1GB", duckdb_threads=1)
    assert Settings.from_env(settings_env(settings)) == settings


@dataclass(frozen=True)
class StubQuery:
    name: str
    title: str
    sql: str


def test_query_latency_per_query_and_errors_named(tmp_path: Path) -> None:
    datamart = tmp_path / "datamart.duckdb"
    with duckdb.connect(str(datamart)) as con:
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT range AS n FROM range(100)")
    stubs = [
        StubQuery("01_all", "All rows", "SELECT * FROM marts.t"),
        StubQuery("02_bad", "Broken", "SELECT nope FROM marts.t"),
    ]
    result = measure_queries(datamart, repeat=2, threads=1, memory_limit="256MB", loader=lambda: stubs)
    ok, bad = result["queries"]
    assert result["available"] and ok["rows"] == 100 and len(ok["runs_seconds"]) == 2
    assert isinstance(ok["median_seconds"], float)
    assert bad["median_seconds"] is None and "nope" in bad["error"]


def test_missing_query_library_is_reported_not_raised(tmp_path: Path) -> None:
    def broken() -> list[StubQuery]:
        raise ImportError("no module named pipelines.analyst.queries")

    result = measure_queries(
        tmp_path / "none.duckdb", repeat=1, threads=1, memory_limit="256MB", loader=broken
    )
    assert result == {"available": False, "reason": result["reason"], "queries": []}
    assert "analyst queries" in result["reason"]


def test_figures_collects_nested_measurements() -> None:
    results = {
        "tier": "XS",
        "full_build": {
            "wall_seconds": 1.0,
            "runs_wall_seconds": [1.0],
            "step_seconds": {"dbt_datamart": 0.5},
        },
        "sizes": {"customers": 200},
    }
    assert figures(results) == {
        "full_build.wall_seconds": 1.0,
        "full_build.runs_wall_seconds[0]": 1.0,
        "full_build.step_seconds.dbt_datamart": 0.5,
    }


def test_a_failed_incremental_run_is_recorded_with_its_reason_not_raised() -> None:
    from pipelines.bench.build import BenchRunError
    from pipelines.bench.harness import _not_measured

    said: list[str] = []
    error = BenchRunError(
        "restate-1: `run --date 2026-08-31` exited 1:\n  dbt: 2 of 379 ERROR creating model versions\n"
        "  IO Error: No space left on device\nrun failed: dbt_datamart"
    )
    figure = _not_measured(error, said.append)
    reason = "restate-1: `run --date 2026-08-31` exited 1: IO Error: No space left on device"
    assert figure == {"available": False, "reason": reason}
    assert "No space left on device" in said[0]  # the whole reason, log tail included, is printed


def test_sampler_attributes_the_peak_to_the_program_holding_it(tmp_path: Path) -> None:
    import os
    import sys

    from pipelines.bench.proctree import run_sampled

    hold = "import time; x = bytearray(200_000_000); time.sleep(0.6)"  # 200 MB touched, held 0.6 s
    run = run_sampled(
        ["bash", "-c", f'sleep 0.3; "{sys.executable}" -c "{hold}"; true'],
        env=dict(os.environ),
        log=tmp_path / "run.log",
    )
    assert run.returncode == 0 and run.peak_rss_bytes > 200_000_000
    assert sum(run.peak_rss_bytes_by_process.values()) == run.peak_rss_bytes
    name, held = max(run.peak_rss_bytes_by_process.items(), key=lambda kv: kv[1])
    assert name.startswith("python") and held > 200_000_000 and "bash" in run.peak_rss_bytes_by_process
    assert run.peak_at_seconds is not None and 0.3 <= run.peak_at_seconds <= run.wall_seconds


def test_only_files_without_another_link_count_as_freed(tmp_path: Path) -> None:
    """Bench run directories hard-link the inbox: deleting them frees only what they wrote."""
    import os

    from pipelines.bench.disk import check_disk, owned_bytes

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "day.csv").write_bytes(b"x" * 100_000)
    run = tmp_path / "runs" / "full"
    run.mkdir(parents=True)
    os.link(inbox / "day.csv", run / "day.csv")
    (run / "build.duckdb").write_bytes(b"y" * 40_960)
    assert owned_bytes(run) == 40_960
    assert owned_bytes(tmp_path / "absent") == 0

    checked = check_disk(inbox, tmp_path, warehouses=1, replaced=[run])
    assert checked.inbox_bytes == 100_000 and checked.reclaimed_bytes == 40_960
    assert checked.need_bytes == int(100_000 * (1.4 + 0.8))
    assert checked.available_bytes == checked.free_bytes + 40_960


def test_snapshot_and_restore_keep_the_exports_symlink(tmp_path: Path) -> None:
    """Repeated incremental runs restore the built state; `exports` must come back as a link."""
    from pipelines.bench.build import restore, snapshot

    run, keep = tmp_path / "run", tmp_path / "keep"
    (run / "inbox").mkdir(parents=True)
    (run / "inbox" / "day.csv").write_text("inbox\n")
    version = run / ".exports-versions" / "v1"
    version.mkdir(parents=True)
    (version / "t.parquet").write_text("v1\n")
    (run / "exports").symlink_to(version)
    (run / "warehouse").mkdir()
    (run / "warehouse" / "build.duckdb").write_text("built\n")
    snapshot(run, keep)
    assert not (keep / "inbox").exists() and (keep / "exports").is_symlink()

    # the day's run publishes a new version and writes the warehouse
    v2 = run / ".exports-versions" / "v2"
    v2.mkdir()
    (run / "exports").unlink()
    (run / "exports").symlink_to(v2)
    (run / "warehouse" / "build.duckdb").write_text("after the day\n")
    restore(keep, run)
    assert (run / "exports").is_symlink() and (run / "exports").resolve() == version.resolve()
    assert (run / "exports" / "t.parquet").read_text() == "v1\n"
    assert (run / "warehouse" / "build.duckdb").read_text() == "built\n"
    assert not v2.exists() and (run / "inbox" / "day.csv").read_text() == "inbox\n"
