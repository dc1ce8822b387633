"""Whole-pipeline figures: `c360 run` as users run it, in a fresh data directory of its own.

Each run gets a new data dir whose inbox is hard links to the bench's generated files
(no copy, no regeneration) and a Dagster home of its own, so its step timings can be
read back from the run's event log afterwards without touching the project's
`.dagster_home` (nor the runs other people see in the UI).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipelines.bench.proctree import TreeRun, log_tail, run_sampled
from pipelines.settings import Settings

STEP_PHASES = ("ingest", "checks", "dbt", "publish", "other")
# dbt's own summary line: how long its models and tests ran, without start-up and parsing.
_DBT_FINISHED = re.compile(r"^Finished running .* \(([0-9.]+)s\)\.?\s*$", re.MULTILINE)


@dataclass(frozen=True)
class BuildRun:
    """One `c360 run` as measured: wall and peak memory of the whole tree, seconds per Dagster step."""

    argv: tuple[str, ...]
    run: TreeRun
    step_seconds: dict[str, float] = field(default_factory=dict)
    dbt_execution_seconds: float | None = None
    peak_rss_step: str | None = None  # the step running when the tree's RSS peaked

    @property
    def outside_steps_seconds(self) -> float:
        """Wall time no step accounts for: process start, imports, loading definitions, run set-up."""
        return round(max(0.0, self.run.wall_seconds - sum(self.step_seconds.values())), 3)


class BenchRunError(RuntimeError):
    """A measured `c360 run` failed: the figure would be meaningless."""


def c360_executable() -> str:
    """The c360 installed beside this Python (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "c360"
    return str(beside) if beside.exists() else "c360"


def settings_env(settings: Settings) -> dict[str, str]:
    """The C360_* variables that make a child's Settings.from_env() equal to `settings`."""
    return {
        "C360_DATA_DIR": str(settings.data_dir),
        "C360_CONTRACTS_DIR": str(settings.contracts_dir),
        "C360_DBT_PROJECT_DIR": str(settings.dbt_project_dir),
        "C360_MODELS_DIR": str(settings.models_dir),
        "C360_TIER": settings.tier,
        "C360_SEED": str(settings.seed),
        "C360_START_DATE": settings.start_date.isoformat(),
        "C360_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "C360_DUCKDB_THREADS": str(settings.duckdb_threads),
        "C360_DBT_THREADS": str(settings.dbt_threads),
        "C360_LATE_ARRIVAL_DAYS": str(settings.late_arrival_days),
        "C360_FUTURE_TOLERANCE_DAYS": str(settings.future_tolerance_days),
        "C360_EXPORT_PSEUDONYMIZE": "true" if settings.export_pseudonymize else "false",
        "C360_EXPORT_HASH_KEY": settings.export_hash_key,
        "C360_EXPORT_PII_COLUMNS": ",".join(settings.export_pii_columns),
    }


def child_env(settings: Settings, dagster_home: Path) -> dict[str, str]:
    """The parent's environment (PATH, telemetry opt-outs) with this run's settings and home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("C360_")}
    env.update(settings_env(settings))
    env["DAGSTER_HOME"] = str(dagster_home)
    env["DO_NOT_TRACK"] = "1"
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    return env


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link every file of src under dst (copy when links are impossible, e.g. across disks)."""
    for path in src.rglob("*"):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)


def _write_dagster_home(home: Path) -> None:
    """The project's instance settings with an absolute storage path, so the parent can open it after the run."""
    import yaml

    from pipelines.instance_storage import storage_config
    from pipelines.settings import DAGSTER_YAML

    home.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(DAGSTER_YAML.read_text())
    config["storage"] = storage_config(str(home))
    (home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def fresh_run_dir(base: Settings, inbox: Path, run_dir: Path) -> Settings:
    """An empty data dir holding only (links to) the inbox; returns its settings."""
    shutil.rmtree(run_dir, ignore_errors=True)
    settings = base.with_data_dir(run_dir)
    _link_tree(inbox, settings.inbox_dir)
    _write_dagster_home(run_dir / "dagster_home")
    return settings


@dataclass(frozen=True)
class StepSpan:
    """A successful Dagster step: its key and when it ran (epoch seconds)."""

    key: str
    started_at: float
    seconds: float

    def covers(self, moment: float) -> bool:
        return self.started_at <= moment <= self.started_at + self.seconds


def read_steps(dagster_home: Path) -> list[StepSpan]:
    """Every successful step of the latest run stored in dagster_home, with its time span."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return []
        entries = instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
    spans = []
    for entry in entries:
        event = entry.dagster_event
        if event is not None and event.step_key:
            seconds = event.event_specific_data.duration_ms / 1000
            spans.append(StepSpan(event.step_key, entry.timestamp - seconds, round(seconds, 3)))
    return spans


def read_step_seconds(dagster_home: Path) -> dict[str, float]:
    """Seconds of every successful step of the latest run stored in dagster_home."""
    return {span.key: span.seconds for span in read_steps(dagster_home)}


def step_at(spans: Sequence[StepSpan], moment: float) -> str | None:
    """The step running at `moment` (epoch seconds); None when no step was (start-up, set-up)."""
    return next((span.key for span in spans if span.covers(moment)), None)


def run_log(run_dir: Path, label: str) -> Path:
    """Where a bench pipeline run writes its output: `tail -f` it to follow a long tier."""
    return run_dir / f"{label}.log"


def run_c360(settings: Settings, args: Sequence[str], *, label: str) -> BuildRun:
    """`c360 run <args>` in settings.data_dir; raises BenchRunError naming the cause when it fails."""
    home = settings.data_dir / "dagster_home"
    argv = (c360_executable(), "run", *args)
    run = run_sampled(
        argv,
        env=child_env(settings, home),
        log=run_log(settings.data_dir, label),
        spill_dir=settings.tmp_dir,
    )
    if run.returncode != 0:
        raise BenchRunError(f"{label}: `{' '.join(argv[1:])}` exited {run.returncode}:\n{log_tail(run.log)}")
    spans = read_steps(home)
    peak_step = (
        step_at(spans, run.started_at + run.peak_at_seconds) if run.peak_at_seconds is not None else None
    )
    return BuildRun(
        argv, run, {s.key: s.seconds for s in spans}, dbt_execution_seconds(run.log), peak_rss_step=peak_step
    )


def dbt_execution_seconds(log: Path) -> float | None:
    """Seconds dbt reports for running its nodes (the last `Finished running ...` line), if any."""
    found = _DBT_FINISHED.findall(log.read_text(errors="replace")) if log.exists() else []
    return float(found[-1]) if found else None


def step_phase(step_key: str) -> str:
    """Which part of the pipeline a Dagster step belongs to (by the project's key names)."""
    if "input_expectations" in step_key or "reconcil" in step_key:
        return "checks"
    if step_key.startswith("raw__"):
        return "ingest"
    if step_key.startswith("dbt"):
        return "dbt"
    if step_key.startswith("publish"):
        return "publish"
    return "other"


def phase_seconds(steps: Mapping[str, float]) -> dict[str, float]:
    totals = dict.fromkeys(STEP_PHASES, 0.0)
    for key, seconds in steps.items():
        totals[step_phase(key)] += seconds
    return {phase: round(total, 3) for phase, total in totals.items()}


def full_build(base: Settings, inbox: Path, run_dir: Path) -> BuildRun:
    """Every day of the inbox, from nothing: ingest, checks, dbt, publish."""
    return run_c360(fresh_run_dir(base, inbox, run_dir), [], label="full-build")


def incremental_base(base: Settings, inbox: Path, run_dir: Path, days: Sequence[date]) -> BuildRun:
    """The history without its last day, built once; the incremental runs start from here."""
    settings = fresh_run_dir(base, inbox, run_dir)
    return run_c360(settings, ["--from", days[0].isoformat(), "--to", days[-2].isoformat()], label="base")


def snapshot(run_dir: Path, keep: Path) -> None:
    """Copy the built state (everything but the inbox) so each incremental run starts equal.

    Symlinks stay symlinks: `exports` is one (to the published version), and publish swaps it.
    """
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(
        run_dir, keep, symlinks=True, ignore=lambda d, _names: ["inbox"] if Path(d) == run_dir else []
    )


def restore(keep: Path, run_dir: Path) -> None:
    for child in run_dir.iterdir():
        if child.name == "inbox":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    shutil.copytree(keep, run_dir, symlinks=True, dirs_exist_ok=True)


def incremental_day(settings: Settings, day: date, label: str) -> BuildRun:
    """One day on top of the built history: what the daily schedule runs."""
    return run_c360(settings, ["--date", day.isoformat()], label=label)
