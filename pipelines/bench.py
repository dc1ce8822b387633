"""Benchmark harness: `c360 bench --tier S|M|L`.

Measures on a data set of its own under `data/bench/<tier>/` (never the user's inbox):
  generate  seconds for `c360 generate` of the tier
  scan      seconds DuckDB needs to merely count the rows of each source's files (the floor)
  ingest    seconds of the real ingest assets per source (Dagster step time), and their ratio to the scan
Results go to `data/bench/results-<tier>.json` and into BENCHMARKS.md between markers.
"""

from __future__ import annotations

import json
import platform
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.settings import PROJECT_DIR, TIERS, Settings

Progress = Callable[[str], None]

# Scan floors: the cheapest full read of the same files, per source.
SCAN_SQL = {
    "crm": "SELECT count(*) FROM read_csv(?, columns={'line': 'VARCHAR'}, header=false, delim='\\x1f', quote='', escape='', auto_detect=false, encoding='latin-1')",
    "clickstream": "SELECT count(*) FROM read_csv(?, columns={'line': 'VARCHAR'}, header=false, delim='\\x1f', quote='', escape='', auto_detect=false)",
    "weblogs": "SELECT count(*) FROM read_csv(?, columns={'line': 'VARCHAR'}, header=false, delim='\\x1f', quote='', escape='', auto_detect=false)",
}
SOURCE_GLOBS = {
    "crm": "crm/*/*.csv",
    "clickstream": "clickstream/*.jsonl.gz",
    "weblogs": "weblogs/*.log.gz",
}


def _median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _source_of_step(step_key: str) -> str | None:
    for source in SOURCE_GLOBS:
        prefix = "weblog" if source == "weblogs" else source
        if f"raw__{prefix}" in step_key:
            return source
    return None


def run_bench(
    tier: str,
    *,
    base: Settings,
    progress: Progress,
    repeat: int = 3,
    regenerate: bool = False,
    write_markdown: bool = True,
) -> dict:
    from pipelines.definitions import build_definitions
    from pipelines.partitions import inbox_days
    from pipelines.runner import run_pipeline
    from pipelines.synth import generate

    bench_dir = base.data_dir / "bench" / tier
    settings = replace(base.with_data_dir(bench_dir), tier=tier)
    results: dict = {
        "tier": tier,
        "sizes": TIERS[tier].__dict__,
        "machine": {"cores": _cores(), "python": platform.python_version(), "duckdb": duckdb.__version__},
        "command": f"c360 bench --tier {tier} --repeat {repeat}" + (" --regenerate" if regenerate else ""),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }

    # 1. generate (once: it is deterministic and slow to repeat at large tiers)
    if regenerate or not (settings.inbox_dir / "_manifest.json").exists():
        shutil.rmtree(settings.inbox_dir, ignore_errors=True)
        progress(f"generate tier {tier}")
        started = time.perf_counter()
        generate(settings, tier, settings.seed, out_dir=settings.inbox_dir, progress=progress)
        results["generate_seconds"] = round(time.perf_counter() - started, 2)
    else:
        progress(f"tier {tier} data already in {settings.inbox_dir} (use --regenerate to time generation)")
        results["generate_seconds"] = None

    # 2. scan floor per source
    scans: dict[str, float] = {}
    con = duckdb.connect()
    try:
        for source, pattern in SOURCE_GLOBS.items():
            glob = str(settings.inbox_dir / pattern)
            progress(f"scan floor {source}")
            scans[source] = round(_median_seconds(lambda sql=SCAN_SQL[source], g=glob: con.execute(sql, [g]).fetchall(), repeat), 3)
    finally:
        con.close()

    # 3. ingest: the real Dagster assets over every day, on a fresh build database
    days = inbox_days(settings.inbox_dir)
    defs = build_definitions(settings)
    ingest_keys = [k for k in defs.resolve_all_asset_keys() if k.path[0] == "raw"]
    ingest_runs: list[dict[str, float]] = []
    walls: list[float] = []
    for i in range(repeat):
        settings.build_db.unlink(missing_ok=True)
        progress(f"ingest run {i + 1}/{repeat} over {len(days)} days")
        started = time.perf_counter()
        outcome = run_pipeline(settings, days[0], days[-1], selection=ingest_keys, progress=lambda _m: None)
        walls.append(time.perf_counter() - started)
        if not outcome.success:
            raise RuntimeError(f"ingest failed during the benchmark: {outcome.reason}")
        per_source: dict[str, float] = {}
        for step, seconds in outcome.step_seconds.items():
            source = _source_of_step(step)
            if source:
                per_source[source] = per_source.get(source, 0.0) + seconds
        ingest_runs.append(per_source)
    rows = _rows_loaded(settings)
    ingest = {}
    for source in SOURCE_GLOBS:
        seconds = statistics.median(run.get(source, 0.0) for run in ingest_runs)
        ingest[source] = {
            "seconds": round(seconds, 2),
            "scan_seconds": scans[source],
            "ratio_to_scan": round(seconds / scans[source], 2) if scans[source] else None,
            "rows_read": rows.get(source, 0),
            "rows_per_second": round(rows.get(source, 0) / seconds) if seconds else None,
        }
    results["ingest"] = ingest
    results["ingest_wall_seconds"] = round(statistics.median(walls), 2)

    out = base.data_dir / "bench" / f"results-{tier}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    if write_markdown:
        update_benchmarks_md(results, PROJECT_DIR / "BENCHMARKS.md")
    progress(f"results written to {out}")
    return results


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def _rows_loaded(settings: Settings) -> dict[str, int]:
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        rows = con.execute("SELECT raw_table, sum(rows_read) FROM audit.load_log GROUP BY 1").fetchall()
    finally:
        con.close()
    totals: dict[str, int] = {}
    for table, n in rows:
        source = "weblogs" if table.startswith("weblog") else table.split("_")[0]
        totals[source] = totals.get(source, 0) + int(n)
    return totals


def render_markdown(results: dict) -> str:
    tier = results["tier"]
    lines = [
        f"### Tier {tier}",
        "",
        f"Measured {results['measured_at']} on {results['machine']['cores']} cores, "
        f"Python {results['machine']['python']}, DuckDB {results['machine']['duckdb']}, "
        f"with `{results['command']}` (median of the repeats).",
        "",
        f"- generate: {results['generate_seconds']} s" if results["generate_seconds"] is not None else "- generate: not re-timed (data present)",
        f"- ingest, all sources, whole Dagster run: {results['ingest_wall_seconds']} s",
        "",
        "| source | rows read | ingest s | scan floor s | ratio | rows/s |",
        "|---|---|---|---|---|---|",
    ]
    for source, f in results["ingest"].items():
        lines.append(
            f"| {source} | {f['rows_read']:,} | {f['seconds']} | {f['scan_seconds']} | {f['ratio_to_scan']} | {f['rows_per_second']:,} |"
        )
    return "\n".join(lines) + "\n"


def update_benchmarks_md(results: dict, path: Path) -> None:
    """Replace this tier's block between markers, keeping the rest of the file."""
    begin, end = f"<!-- bench:{results['tier']}:begin -->", f"<!-- bench:{results['tier']}:end -->"
    block = f"{begin}\n{render_markdown(results)}{end}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
