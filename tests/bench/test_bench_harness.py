"""The whole harness on tier XS (one run of everything), so `c360 bench` cannot rot.

Checks the results' shape and that every figure is a number, never how fast anything
was: timings belong to BENCHMARKS.md, not to assertions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipelines.bench import figures, run_bench
from pipelines.settings import Settings

pytestmark = pytest.mark.slow

HAND_WRITTEN_HEAD = "# Benchmarks\n\nHow to run it, written by hand.\n\n## Results\n\n"
HAND_WRITTEN_TAIL = "\n## Missed targets and their measured reasons\n\nAnalysis written by hand.\n"
STALE_BLOCK = "<!-- bench:XS:begin -->\nstale figures\n<!-- bench:XS:end -->\n"

TOP_LEVEL = {
    "schema_version", "tier", "sizes", "measured_at", "command", "note", "machine", "settings", "repeats",
    "contended", "generate_seconds", "dbt_parse_seconds", "full_build", "ingest", "weblogs_vs_goaccess",
    "incremental", "analyst_queries", "disk",
}  # fmt: skip
PIPELINE_RUN = {
    "command", "wall_seconds", "runs_wall_seconds", "peak_rss_bytes", "peak_rss_over_memory_limit",
    "peak_spill_bytes", "outside_steps_seconds", "dbt_execution_seconds", "phase_seconds", "step_seconds",
}  # fmt: skip
INGEST_FIGURE = {
    "name", "source", "files", "rows_read", "seconds", "scan_seconds", "scan_method", "scan_rows",
    "ratio_to_scan", "rows_per_second",
}  # fmt: skip
# Figures that are absent by design: generation is timed only when the data is (re)generated,
# the dbt parse only when the project changed since the last parse.
OPTIONAL = {"generate_seconds", "dbt_parse_seconds"}
# What the harness printed while the module's bench ran (filled by the fixture).
PROGRESS: list[str] = []


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@pytest.fixture(scope="module")
def bench_xs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, Path]:
    root = tmp_path_factory.mktemp("bench")
    markdown = root / "BENCHMARKS.md"
    markdown.write_text(HAND_WRITTEN_HEAD + STALE_BLOCK + HAND_WRITTEN_TAIL)
    settings = Settings(data_dir=root / "data", duckdb_memory_limit="1GB")
    results = run_bench(
        "XS", base=settings, progress=PROGRESS.append, repeat=1, build_repeat=1, markdown_path=markdown
    )
    return results, root / "data" / "bench" / "results-XS.json", markdown


def test_results_json_has_the_documented_shape(bench_xs: tuple[dict, Path, Path]) -> None:
    results, path, _ = bench_xs
    on_disk = json.loads(path.read_text())
    assert on_disk == results
    assert set(on_disk) == TOP_LEVEL
    assert on_disk["tier"] == "XS" and on_disk["schema_version"] == 1
    assert on_disk["settings"]["duckdb_memory_limit"] == "1GB"
    assert on_disk["settings"]["duckdb_memory_limit_bytes"] == 1_000_000_000
    assert set(on_disk["full_build"]) >= PIPELINE_RUN
    assert set(on_disk["incremental"]) >= PIPELINE_RUN
    assert set(on_disk["full_build"]["phase_seconds"]) == {"ingest", "checks", "dbt", "publish", "other"}
    tables = {t["name"] for t in on_disk["ingest"]["tables"]}
    assert {"crm_customers", "crm_orders", "clickstream_events", "weblog_hits"} <= tables
    assert {s["name"] for s in on_disk["ingest"]["sources"]} == {"crm", "clickstream", "weblogs"}
    for figure in on_disk["ingest"]["tables"] + on_disk["ingest"]["sources"]:
        assert set(figure) == INGEST_FIGURE
        assert figure["rows_read"] > 0 and figure["scan_rows"] > 0
    assert on_disk["incremental"]["available"] and on_disk["incremental"]["base_days"] == 6
    for run in (on_disk["full_build"], on_disk["incremental"]):
        # the peak's split by program adds up to the peak, and c360 itself is one of them
        by_process = run["peak_rss_bytes_by_process"]
        assert "c360" in by_process and sum(by_process.values()) == run["peak_rss_bytes"]
        assert 0 <= run["peak_rss_at_seconds"] <= run["wall_seconds"]
        assert run["peak_rss_step"] is None or run["peak_rss_step"] in run["step_seconds"]
    assert on_disk["analyst_queries"]["available"], on_disk["analyst_queries"]["reason"]
    assert on_disk["analyst_queries"]["queries"], "no analyst query measured"


def test_every_figure_is_a_number(bench_xs: tuple[dict, Path, Path]) -> None:
    results, _, _ = bench_xs
    found = figures(results)
    assert len(found) > 40
    if not results["weblogs_vs_goaccess"]["available"]:
        pytest.skip(f"GoAccess comparison not run: {results['weblogs_vs_goaccess']['reason']}")
    not_numbers = {k: v for k, v in found.items() if k not in OPTIONAL and not _is_number(v)}
    assert not not_numbers
    assert all(q["error"] is None for q in results["analyst_queries"]["queries"])


def test_benchmarks_md_block_rewritten_and_hand_text_kept(bench_xs: tuple[dict, Path, Path]) -> None:
    _, _, markdown = bench_xs
    text = markdown.read_text()
    assert text.startswith(HAND_WRITTEN_HEAD) and text.endswith(HAND_WRITTEN_TAIL)
    block = text[len(HAND_WRITTEN_HEAD) : -len(HAND_WRITTEN_TAIL)]
    assert block.startswith("<!-- bench:XS:begin -->\n### Tier XS\n")
    assert block.endswith("<!-- bench:XS:end -->\n")
    assert "stale figures" not in block and "c360 bench --tier XS" in block


def test_progress_names_the_output_of_each_pipeline_run(bench_xs: tuple[dict, Path, Path]) -> None:
    """A long tier prints nothing for an hour: the progress line says which log to follow."""
    named = [Path(m) for line in PROGRESS for m in re.findall(r"\(output: (\S+)\)", line)]
    # the full build, the history without the last day, the last day on top of it
    assert [p.name for p in named] == ["full-build.log", "base.log", "incremental-1.log"]
    for log in named:
        assert "running" in log.read_text(), f"{log} does not hold the run's output"


def test_restated_day_on_the_reused_full_build(bench_xs: tuple[dict, Path, Path]) -> None:
    """`--incremental restate --reuse-full-build` (tier L): the figures of the full build already
    measured are taken as they are (no second build), and the newest day run again on it changes
    nothing that is published."""
    import duckdb

    from pipelines.partitions import inbox_days

    results, path, _ = bench_xs
    settings = Settings(data_dir=path.parent / "XS", tier="XS", duckdb_memory_limit="1GB")
    full_dir = settings.data_dir / "runs" / "full"
    datamart = full_dir / "warehouse" / "datamart.duckdb"

    def counts() -> dict[str, int]:
        with duckdb.connect(str(datamart), read_only=True) as con:
            tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
            return {
                f"{s}.{t}": con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] for s, t in tables
            }

    before, build_log = counts(), (full_dir / "full-build.log").stat().st_mtime_ns
    first_results = path.read_text()
    messages: list[str] = []
    try:
        again = run_bench(
            "XS", base=Settings(data_dir=path.parent.parent, duckdb_memory_limit="1GB"),
            progress=messages.append, repeat=1, build_repeat=1, write_markdown=False,
            incremental="restate", reuse_full_build=True,
        )  # fmt: skip
    finally:
        path.write_text(first_results)  # the other tests read the first run's results
    assert again["full_build"] == results["full_build"]
    assert (full_dir / "full-build.log").stat().st_mtime_ns == build_log, "the full build ran again"
    assert any(m.startswith("reusing the full build measured at") for m in messages)
    assert "--reuse-full-build" in again["command"]
    restated = again["incremental"]
    days = inbox_days(settings.inbox_dir)
    assert set(restated) >= PIPELINE_RUN
    assert restated["mode"] == "restate" and restated["base_days"] == len(days) == 7
    assert restated["day"] == days[-1].isoformat()
    assert _is_number(restated["ratio_to_full_build"]) and restated["wall_seconds"] > 0
    assert restated["step_seconds"], "no step of the restating run was read back"
    assert len(before) > 10 and counts() == before


def test_reuse_without_a_measured_full_build_says_what_to_do(tmp_path: Path) -> None:
    from pipelines.bench.build import BenchRunError
    from pipelines.bench.harness import _load_full_build

    with pytest.raises(BenchRunError, match="run without --reuse-full-build"):
        _load_full_build(tmp_path / "runs" / "full", lambda _m: None)


def test_disk_need_is_recorded_and_a_short_disk_stops_the_bench_before_any_run(
    bench_xs: tuple[dict, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tier L bench once failed an hour in, on a full disk: the need is checked up front."""
    from collections import namedtuple

    from pipelines.bench import disk as disk_module
    from pipelines.bench.build import BenchRunError

    results, path, _ = bench_xs
    inbox = path.parent / "XS" / "inbox"
    inbox_bytes = sum(p.stat().st_size for p in inbox.rglob("*") if p.is_file())
    disk = results["disk"]
    # a full build and a history for the new day, plus the spill
    assert disk["warehouses"] == 2 and disk["inbox_bytes"] == inbox_bytes
    assert disk["need_bytes"] == int(inbox_bytes * (2 * 1.4 + 0.8))
    assert disk["enough"] and disk["reclaimed_bytes"] == 0

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(disk_module.shutil, "disk_usage", lambda _p: usage(10**9, 10**9, 0))
    # nothing held by the earlier runs either (at XS their DuckDB files outweigh the inbox)
    monkeypatch.setattr(disk_module, "owned_bytes", lambda _p: 0)
    logs = sorted(p.stat().st_mtime_ns for p in (path.parent / "XS" / "runs").rglob("*.log"))
    with pytest.raises(BenchRunError, match=r"not enough free disk for the tier XS bench.*--skip-disk-check"):
        run_bench(
            "XS", base=Settings(data_dir=path.parent.parent, duckdb_memory_limit="1GB"),
            progress=lambda _m: None, repeat=1, build_repeat=1, write_markdown=False,
        )  # fmt: skip
    assert sorted(p.stat().st_mtime_ns for p in (path.parent / "XS" / "runs").rglob("*.log")) == logs
