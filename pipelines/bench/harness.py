"""`c360 bench`: run every measurement on a tier's own data and write the results.

Order matters for honesty: the full builds run first (their raw steps are the ingest
figures), then the short scans and GoAccess on the same files, then the incremental
run, then the analyst queries on the datamart the last full build published.
"""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.bench import build
from pipelines.bench.disk import check_disk
from pipelines.bench.goaccess import as_dict, compare_with_goaccess
from pipelines.bench.ingest import ingest_section, rows_read
from pipelines.bench.machine import (
    ForeignCpuMeter,
    goaccess_version,
    is_contended,
    load_average,
    machine_info,
)
from pipelines.bench.memory import limit_bytes
from pipelines.bench.queries import QueryLoader, measure_queries
from pipelines.bench.report import update_benchmarks_md
from pipelines.bench.scan import ScanFloor, measure_scan
from pipelines.bench.timing import Progress, ratio
from pipelines.settings import PROJECT_DIR, TIERS, Settings

SCHEMA_VERSION = 1
# Pipeline runs are repeated by default only where they take seconds, not minutes.
DEFAULT_BUILD_REPEAT = {"XS": 3, "S": 3, "M": 1, "L": 1}


# How the incremental figure is made: a new day on a history built without it (what the daily
# schedule does), or the newest day run again on the full build (the same work, one build
# less: at tier L a history build costs as much as the full build).
INCREMENTAL_MODES = ("new-day", "restate")


def _command(
    tier: str, repeat: int, build_repeat: int, regenerate: bool, incremental: str, reuse: bool = False
) -> str:
    return (
        f"c360 bench --tier {tier} --repeat {repeat} --build-repeat {build_repeat}"
        + (" --regenerate" if regenerate else "")
        + (f" --incremental {incremental}" if incremental != INCREMENTAL_MODES[0] else "")
        + (" --reuse-full-build" if reuse else "")
    )


def _ensure_data(settings: Settings, tier: str, regenerate: bool, progress: Progress) -> float | None:
    """Generate the tier into the bench inbox if missing (timed only when it is generated)."""
    import time

    from pipelines.synth import generate

    manifest = settings.inbox_dir / "_manifest.json"
    if not regenerate and manifest.exists():
        have = json.loads(manifest.read_text())
        if (have.get("tier"), have.get("seed")) == (tier, settings.seed):
            progress(f"tier {tier} data already in {settings.inbox_dir} (--regenerate times generation)")
            return None
    shutil.rmtree(settings.inbox_dir, ignore_errors=True)
    progress(f"generating tier {tier} (seed {settings.seed}) into {settings.inbox_dir}")
    started = time.perf_counter()
    generate(settings, tier, settings.seed, out_dir=settings.inbox_dir, progress=lambda _m: None)
    return round(time.perf_counter() - started, 2)


def _warm_dbt_manifest(settings: Settings, progress: Progress) -> float | None:
    """Parse the dbt project now if its manifest is stale, so no measured run pays for an edit."""
    import time

    from pipelines.transform import ensure_manifest

    started = time.perf_counter()
    ensure_manifest(settings)
    seconds = round(time.perf_counter() - started, 2)
    if seconds < 1:
        return None
    progress(f"dbt manifest was stale: parsed in {seconds} s before measuring (not part of any figure)")
    return seconds


def _median_steps(runs: Sequence[build.BuildRun]) -> dict[str, float]:
    keys = dict.fromkeys(k for r in runs for k in r.step_seconds)
    return {k: round(statistics.median(r.step_seconds.get(k, 0.0) for r in runs), 3) for k in keys}


def _pipeline_figures(runs: Sequence[build.BuildRun], limit: int | None) -> dict[str, Any]:
    walls = [r.run.wall_seconds for r in runs]
    steps = _median_steps(runs)
    peaked = max(runs, key=lambda r: r.run.peak_rss_bytes)
    peak = peaked.run.peak_rss_bytes
    dbt_runs = [r.dbt_execution_seconds for r in runs if r.dbt_execution_seconds is not None]
    return {
        "command": " ".join(["c360", *runs[0].argv[1:]]),
        "wall_seconds": round(statistics.median(walls), 3),
        "runs_wall_seconds": walls,
        "peak_rss_bytes": peak,
        "peak_rss_over_memory_limit": ratio(peak, limit),
        # where the peak happened (in the run that peaked highest): which step, which programs
        "peak_rss_step": peaked.peak_rss_step,
        "peak_rss_at_seconds": peaked.run.peak_at_seconds,
        "peak_rss_bytes_by_process": dict(
            sorted(peaked.run.peak_rss_bytes_by_process.items(), key=lambda kv: -kv[1])
        ),
        "peak_spill_bytes": max(r.run.peak_spill_bytes for r in runs),
        "outside_steps_seconds": round(statistics.median(r.outside_steps_seconds for r in runs), 3),
        "dbt_execution_seconds": round(statistics.median(dbt_runs), 3) if dbt_runs else None,
        "phase_seconds": build.phase_seconds(steps),
        "step_seconds": steps,
    }


FULL_BUILD_RECORD = "full-build.json"


def _save_full_build(run_dir: Path, full: Mapping[str, Any], runs: Sequence[build.BuildRun]) -> None:
    """Keep the full build's figures beside its warehouse: a later phase that fails (a full disk,
    an interrupted session) can be measured again with --reuse-full-build, without the build's hour."""
    record = {"full_build": full, "runs_step_seconds": [r.step_seconds for r in runs]}
    (run_dir / FULL_BUILD_RECORD).write_text(json.dumps(record, indent=2, default=str))


def _load_full_build(run_dir: Path, progress: Progress) -> tuple[dict[str, Any], list[dict[str, float]]]:
    record_path = run_dir / FULL_BUILD_RECORD
    warehouse = run_dir / "warehouse" / "build.duckdb"
    if not record_path.exists() or not warehouse.exists():
        raise build.BenchRunError(
            f"--reuse-full-build: no measured full build in {run_dir} ({FULL_BUILD_RECORD} and "
            "warehouse/build.duckdb are written by a bench run): run without --reuse-full-build"
        )
    record = json.loads(record_path.read_text())
    progress(f"reusing the full build measured at {record['full_build']['measured_at']} ({record_path})")
    return record["full_build"], record["runs_step_seconds"]


def _disk(
    settings: Settings, incremental: str, reuse: bool, enforce: bool, progress: Progress
) -> dict[str, Any]:
    """Fail before the hour-long runs, not in the middle of them, when the disk is too small."""
    runs = settings.data_dir / "runs"
    new_day = incremental == INCREMENTAL_MODES[0]
    replaced = [runs / "incremental", runs / "incremental-base"] if new_day else []
    if not reuse:
        replaced.append(runs / "full")
    disk = check_disk(
        settings.inbox_dir, settings.data_dir, warehouses=int(not reuse) + int(new_day), replaced=replaced
    )
    progress(f"disk: {disk.describe()}")
    if enforce and not disk.enough:
        raise build.BenchRunError(
            f"not enough free disk for the tier {settings.tier} bench: {disk.describe()}. "
            "Free space, point C360_DATA_DIR at a larger disk, or pass --skip-disk-check"
        )
    return disk.as_dict()


def _not_measured(exc: build.BenchRunError, progress: Progress) -> dict[str, Any]:
    """A failed incremental run leaves its figure out, with why, instead of losing the others."""
    reason = str(exc)
    progress(f"incremental not measured: {reason}")
    lines = reason.splitlines() or ["the run failed"]
    cause = next((line.strip() for line in reversed(lines[1:]) if "error" in line.lower()), "")
    return {"available": False, "reason": f"{lines[0]} {cause}".strip()}


def _full_builds(settings: Settings, repeat: int, progress: Progress) -> list[build.BuildRun]:
    runs = []
    for i in range(repeat):
        run_dir = settings.data_dir / "runs" / "full"
        progress(
            f"full build {i + 1}/{repeat}: c360 run over every day, fresh data dir"
            f" (output: {build.run_log(run_dir, 'full-build')})"
        )
        run = build.full_build(settings, settings.inbox_dir, run_dir)
        progress(f"  {run.run.wall_seconds:.1f} s, peak RSS {run.run.peak_rss_bytes / 1024**3:.2f} GiB")
        runs.append(run)
    return runs


def _restated_day(
    settings: Settings,
    days: Sequence[Any],
    repeat: int,
    full: Mapping[str, Any],
    limit: int | None,
    progress: Progress,
) -> dict[str, Any]:
    """The newest day run again on the full build: every run starts from the same state (idempotent)."""
    run_settings = settings.with_data_dir(settings.data_dir / "runs" / "full")
    runs = []
    for i in range(repeat):
        label = f"restate-{i + 1}"
        progress(
            f"incremental {i + 1}/{repeat}: c360 run --date {days[-1]} again on the full build"
            f" (output: {build.run_log(run_settings.data_dir, label)})"
        )
        runs.append(build.incremental_day(run_settings, days[-1], label=label))
    base = {
        "base_days": len(days),
        "base_command": full["command"],
        "base_wall_seconds": full["wall_seconds"],
    }
    return _incremental_figures("restate", days[-1], base, runs, limit, full["wall_seconds"])


def _incremental_figures(
    mode: str,
    day: Any,
    base: Mapping[str, Any],
    runs: Sequence[build.BuildRun],
    limit: int | None,
    full_wall: float,
) -> dict[str, Any]:
    figures = _pipeline_figures(runs, limit)
    return {
        "available": True,
        "reason": None,
        "mode": mode,
        "day": day.isoformat(),
        **base,
        **figures,
        "ratio_to_full_build": ratio(figures["wall_seconds"], full_wall),
    }


def _incremental(
    settings: Settings,
    days: Sequence[Any],
    repeat: int,
    full_wall: float,
    limit: int | None,
    progress: Progress,
) -> dict[str, Any]:
    if len(days) < 2:
        return {"available": False, "reason": f"the tier has {len(days)} day(s): nothing to add to"}
    run_dir = settings.data_dir / "runs" / "incremental"
    keep = settings.data_dir / "runs" / "incremental-base"
    progress(
        f"incremental: building {len(days) - 1} days of history ({days[0]} .. {days[-2]})"
        f" (output: {build.run_log(run_dir, 'base')})"
    )
    base = build.incremental_base(settings, settings.inbox_dir, run_dir, days)
    run_settings = settings.with_data_dir(run_dir)
    if repeat > 1:
        build.snapshot(run_dir, keep)
    runs = []
    for i in range(repeat):
        if i:
            build.restore(keep, run_dir)
        label = f"incremental-{i + 1}"
        progress(
            f"incremental {i + 1}/{repeat}: c360 run --date {days[-1]} (output: {build.run_log(run_dir, label)})"
        )
        runs.append(build.incremental_day(run_settings, days[-1], label=label))
    shutil.rmtree(keep, ignore_errors=True)
    history = {
        "base_days": len(days) - 1,
        "base_command": " ".join(["c360", *base.argv[1:]]),
        "base_wall_seconds": base.run.wall_seconds,
    }
    return _incremental_figures("new-day", days[-1], history, runs, limit, full_wall)


def _scans(settings: Settings, repeat: int, progress: Progress) -> tuple[list[ScanFloor], list[Any]]:
    from pipelines.ingest.contracts import all_tables, load_contracts

    tables = all_tables(load_contracts(settings.contracts_dir))
    scans = []
    for table in tables:
        progress(f"scan floor {table.raw_table}")
        scan = measure_scan(settings.inbox_dir, table, repeat, settings.duckdb_threads)
        if scan is not None:
            scans.append(scan)
    return scans, [t for t in tables if t.format == "log"]


def run_bench(
    tier: str,
    *,
    base: Settings,
    progress: Progress,
    repeat: int = 3,
    build_repeat: int | None = None,
    regenerate: bool = False,
    write_markdown: bool = True,
    markdown_path: Path | None = None,
    note: str | None = None,
    query_loader: QueryLoader | None = None,
    incremental: str = INCREMENTAL_MODES[0],
    reuse_full_build: bool = False,
    check_free_disk: bool = True,
) -> dict[str, Any]:
    """Measure the tier; write `<data>/bench/results-<tier>.json` and the tier's BENCHMARKS.md block.

    reuse_full_build: take the full build's figures and warehouse from the last bench run of the
    tier (`runs/full/full-build.json`) instead of building again, and measure everything after it.
    check_free_disk: refuse to start the pipeline runs when the disk cannot hold what they write.
    """
    if incremental not in INCREMENTAL_MODES:
        raise ValueError(f"incremental={incremental!r}: expected one of {', '.join(INCREMENTAL_MODES)}")
    from pipelines.partitions import inbox_days

    build_repeat = build_repeat or DEFAULT_BUILD_REPEAT.get(tier, 1)
    settings = replace(base.with_data_dir(base.data_dir / "bench" / tier), tier=tier)
    limit = limit_bytes(settings.duckdb_memory_limit)
    foreign_cpu = ForeignCpuMeter()
    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tier": tier,
        "sizes": dict(TIERS[tier].__dict__),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": _command(tier, repeat, build_repeat, regenerate, incremental, reuse_full_build),
        "note": note,
        "machine": machine_info(),
        "settings": {
            "duckdb_memory_limit": settings.duckdb_memory_limit,
            "duckdb_memory_limit_bytes": limit,
            "duckdb_threads": settings.duckdb_threads,
            "dbt_threads": settings.dbt_threads,
            "seed": settings.seed,
            "data_dir": str(settings.data_dir),
        },
        "repeats": {"short": repeat, "build": build_repeat},
    }
    results["generate_seconds"] = _ensure_data(settings, tier, regenerate, progress)
    days = inbox_days(settings.inbox_dir)
    results["disk"] = _disk(settings, incremental, reuse_full_build, check_free_disk, progress)
    results["dbt_parse_seconds"] = _warm_dbt_manifest(settings, progress)

    full_dir = settings.data_dir / "runs" / "full"
    if reuse_full_build:
        full, runs_steps = _load_full_build(full_dir, progress)
    else:
        full_runs = _full_builds(settings, build_repeat, progress)
        full = {"days": len(days), "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
        full |= _pipeline_figures(full_runs, limit)
        runs_steps = [r.step_seconds for r in full_runs]
        _save_full_build(full_dir, full, full_runs)
    results["full_build"] = full

    scans, log_tables = _scans(settings, repeat, progress)
    full_db = full_dir / "warehouse" / "build.duckdb"
    rows = rows_read(full_db)
    results["ingest"] = ingest_section(scans, runs_steps, rows)

    progress("web logs: GoAccess on the same files")
    log_names = {t.raw_table for t in log_tables}
    log_lines = sum(n for t, n in rows.items() if t in log_names)
    log_seconds = sum(t["seconds"] for t in results["ingest"]["tables"] if t["name"] in log_names)
    peer = compare_with_goaccess(
        settings.inbox_dir, log_tables, lines=log_lines, ingest_seconds=log_seconds, repeat=repeat,
        version=goaccess_version(),
    )  # fmt: skip
    if not peer.available:
        progress(f"GoAccess comparison skipped: {peer.reason}")
    results["weblogs_vs_goaccess"] = as_dict(peer)

    try:
        if incremental == "restate" and len(days) >= 2:
            results["incremental"] = _restated_day(settings, days, build_repeat, full, limit, progress)
        else:
            results["incremental"] = _incremental(
                settings, days, build_repeat, full["wall_seconds"], limit, progress
            )
    except build.BenchRunError as exc:
        results["incremental"] = _not_measured(exc, progress)

    progress("analyst queries on the published datamart")
    datamart = settings.with_data_dir(settings.data_dir / "runs" / "full").datamart_db
    results["analyst_queries"] = measure_queries(
        datamart, repeat=repeat, threads=settings.duckdb_threads, memory_limit=settings.duckdb_memory_limit,
        loader=query_loader,
    )  # fmt: skip

    end_load = load_average()
    results["machine"]["load_average_at_end"] = list(end_load)
    results["machine"].update(foreign_cpu.share())
    results["contended"] = is_contended(results["machine"]["foreign_cpu_share"])
    out = base.data_dir / "bench" / f"results-{tier}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    if write_markdown:
        update_benchmarks_md(results, markdown_path or PROJECT_DIR / "BENCHMARKS.md")
    progress(f"results written to {out}")
    return results


_FIGURE_SUFFIXES = (
    "_seconds",
    "_bytes",
    "_per_second",
    "_to_scan",
    "_to_goaccess",
    "_to_full_build",
    "_over_memory_limit",
)


def figures(results: Mapping[str, Any]) -> dict[str, Any]:
    """Every measured number of a results dict by dotted path (for tests and quick diffs).

    A leaf is a figure when any key on its path names a measurement (`*_seconds`,
    `*_bytes`, rates and ratios), so per-step seconds and per-run lists count too.
    """
    out: dict[str, Any] = {}

    def walk(path: str, value: Any, measured: bool) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{path}.{k}" if path else str(k), v, measured or str(k).endswith(_FIGURE_SUFFIXES))
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                walk(f"{path}[{i}]", v, measured)
        elif measured:
            out[path] = value

    walk("", results, False)
    return out
