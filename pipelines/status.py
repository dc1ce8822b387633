"""`c360 status`: what is published, what the last run did, and whether they disagree.

Two sources, on purpose:
- the published version is read from the datamart itself (meta.publication, written by
  publish in the same file analysts query), so status never claims a version that is not
  the one being served;
- runs are read from the Dagster instance (DAGSTER_HOME, the project's `.dagster_home` by
  default), where every run is recorded whoever started it: `c360 run`, the UI, the daily
  schedule or the inbox sensor. A run-status sensor writing a file would miss runs while
  the daemon is down or the sensor is off; the instance's run storage cannot.

For a failed run, the failed checks are shown with their metadata (failed expectations
with sample values) and the run's page in the UI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from pipelines.publish import MANIFEST, current_exports_version
from pipelines.quality.checks import run_days
from pipelines.settings import Settings

ACTIVE_STATUSES = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
)
FINISHED_STATUSES = (
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
)
# Lines of one failed check's metadata shown by `c360 status` (the UI shows everything).
MAX_METADATA_LINES = 12
# Dagster prefixes the messages of errors it wraps with their class path; the user needs the sentence.
_DAGSTER_CLASS_PREFIX = re.compile(r"^dagster\.[\w.]*: ")


@dataclass(frozen=True)
class FailedCheck:
    label: str  # asset/key:check_name
    description: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FailureSummary:
    """Why a run failed, from its events: failed blocking checks first, else the step errors."""

    reason: str
    failed_steps: tuple[str, ...] = ()
    failed_checks: tuple[FailedCheck, ...] = ()


def clean_message(message: str) -> str:
    """The first line of an error message, without Dagster's `dagster._core...Failure: ` prefix."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return _DAGSTER_CLASS_PREFIX.sub("", first)


def plain_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Dagster MetadataValues as plain Python values (JSON lists stay lists)."""
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def summarize_failure(events: Iterable[dg.DagsterEvent]) -> FailureSummary:
    failed: list[str] = []
    step_reasons: list[str] = []
    checks: list[FailedCheck] = []
    for event in events:
        if event.event_type_value == "STEP_FAILURE":
            step = event.step_key or "?"
            failed.append(step)
            error = getattr(event.event_specific_data, "error", None)
            message = clean_message(error.message) if error and error.message else "unknown error"
            # Dagster wraps user errors; the innermost cause carries the useful sentence.
            cause = getattr(error, "cause", None)
            while cause is not None:
                if cause.message:
                    message = clean_message(cause.message)
                cause = getattr(cause, "cause", None)
            step_reasons.append(f"step {step}: {message}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            evaluation = getattr(data, "evaluation", data)
            if getattr(evaluation, "passed", True) is False and getattr(evaluation, "severity", None) in (
                None,
                dg.AssetCheckSeverity.ERROR,
            ):
                key = evaluation.asset_check_key
                checks.append(
                    FailedCheck(
                        f"{key.asset_key.to_user_string()}:{key.name}",
                        evaluation.description,
                        plain_metadata(dict(evaluation.metadata or {})),
                    )
                )
    steps = tuple(dict.fromkeys(failed))
    if checks:
        # A failed blocking check fails its step too; the check is the reason, not the step's traceback.
        reasons = [f"check {c.label} failed" for c in checks]
        if steps:
            reasons.append(f"stopped at: {', '.join(steps)}")
    else:
        reasons = step_reasons or ["the run did not succeed (see the Dagster UI for details)"]
    return FailureSummary("; ".join(reasons), steps, tuple(checks))


# ---- the published version --------------------------------------------------------------


def _read_published(datamart: Path) -> dict[str, Any] | None:
    if not datamart.exists():
        return None
    con = duckdb.connect(str(datamart), read_only=True)
    try:
        row = con.execute(
            "select run_id, published_at, checks_passed, tables, total_rows from meta.publication"
        ).fetchone()
        tables = con.execute(
            "select table_name, row_count from meta.publication_tables order by table_name"
        ).fetchall()
    except duckdb.CatalogException:
        return {"error": f"{datamart} has no meta.publication table (not written by publish)"}
    finally:
        con.close()
    if row is None:
        return {"error": f"{datamart} has an empty meta.publication table"}
    run_id, published_at, checks, n_tables, total_rows = row
    return {
        "run_id": run_id,
        "published_at": published_at.astimezone(UTC).isoformat(),
        "checks_passed": len(checks or []),
        "tables": n_tables,
        "total_rows": int(total_rows),
        "row_counts": {name: int(rows) for name, rows in tables},
    }


def _read_exports(settings: Settings) -> dict[str, Any] | None:
    version = current_exports_version(settings)
    if version is None:
        return None
    manifest_path = version / MANIFEST
    info: dict[str, Any] = {"path": str(settings.exports_dir), "version_dir": str(version)}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        info["run_id"] = manifest.get("run_id")
        info["published_at"] = manifest.get("published_at")
        info["tables"] = len(manifest.get("tables", {}))
    return info


# ---- runs, from the Dagster instance -------------------------------------------------------


def _days_label(tags: dict[str, str]) -> str | None:
    days = run_days(tags)
    if not days:
        return None
    return days[0].isoformat() if len(days) == 1 else f"{days[0]} .. {days[-1]}"


def _when(timestamp: float | None) -> str | None:
    return datetime.fromtimestamp(timestamp, UTC).isoformat() if timestamp else None


def _run_info(record: Any, settings: Settings) -> dict[str, Any]:
    run = record.dagster_run
    return {
        "run_id": run.run_id,
        "job": run.job_name,
        "status": run.status.value,
        "success": run.status == dg.DagsterRunStatus.SUCCESS,
        "days": _days_label(dict(run.tags)),
        "trigger": _trigger(dict(run.tags)),
        "started_at": _when(record.start_time),
        "finished_at": _when(record.end_time),
        "url": settings.run_url(run.run_id),
    }


def _trigger(tags: dict[str, str]) -> str:
    if "dagster/schedule_name" in tags:
        return f"schedule {tags['dagster/schedule_name']}"
    if "dagster/sensor_name" in tags:
        return f"sensor {tags['dagster/sensor_name']}"
    return "command line or UI"


def _failure(instance: dg.DagsterInstance, run_id: str) -> FailureSummary:
    entries = instance.all_logs(
        run_id,
        of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.ASSET_CHECK_EVALUATION},
    )
    return summarize_failure(e.dagster_event for e in entries if e.dagster_event is not None)


def read_runs(settings: Settings, instance: dg.DagsterInstance) -> dict[str, Any]:
    """The last finished run (with why it failed) and the runs queued or in progress."""
    finished = instance.get_run_records(filters=dg.RunsFilter(statuses=list(FINISHED_STATUSES)), limit=1)
    active = instance.get_run_records(filters=dg.RunsFilter(statuses=list(ACTIVE_STATUSES)))
    last: dict[str, Any] | None = None
    if finished:
        last = _run_info(finished[0], settings)
        if not last["success"]:
            summary = _failure(instance, last["run_id"])
            last["reason"] = summary.reason
            last["failed_steps"] = list(summary.failed_steps)
            last["failed_checks"] = [
                {"check": c.label, "description": c.description, "metadata": c.metadata}
                for c in summary.failed_checks
            ]
    return {"last_run": last, "active_runs": [_run_info(r, settings) for r in active]}


def open_instance(settings: Settings) -> dg.DagsterInstance:
    """The project's persistent Dagster instance (settings.dagster_home, prepared if new)."""
    from pipelines.settings import prepare_dagster_home

    prepare_dagster_home(settings)
    return dg.DagsterInstance.get()


def read_status(settings: Settings, instance: dg.DagsterInstance | None = None) -> dict[str, Any]:
    """Published version, exports version, last run and runs in progress, and whether they agree."""
    published = _read_published(settings.datamart_db)
    exports = _read_exports(settings)
    own = instance is None
    instance = open_instance(settings) if instance is None else instance
    try:
        runs = read_runs(settings, instance)
    finally:
        if own:
            instance.dispose()
    last_run = runs["last_run"]
    published_run = published.get("run_id") if published else None
    stale = bool(last_run and last_run.get("run_id") != published_run)
    return {
        "datamart": str(settings.datamart_db),
        "published": published,
        "exports": exports,
        "last_run": last_run,
        "active_runs": runs["active_runs"],
        # The last run did not publish (it failed, or published nothing): analysts see older data.
        "published_is_older_than_last_run": stale,
        "exports_match_datamart": bool(published and exports and exports.get("run_id") == published_run),
    }


# ---- text ---------------------------------------------------------------------------------


def _metadata_lines(metadata: dict[str, Any]) -> list[str]:
    """One line per scalar, one line per item of a list (a failed expectation with its sample)."""
    lines: list[str] = []
    for key, value in metadata.items():
        if isinstance(value, list) and value:
            lines.extend(f"{key}: {_compact(item)}" for item in value)
        elif not isinstance(value, list):
            lines.append(f"{key}: {_compact(value)}")
    return lines


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_compact(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    return str(value)


def check_lines(label: str, description: str | None, metadata: dict[str, Any]) -> list[str]:
    """A failed check and (the first lines of) its metadata, indented for the terminal."""
    about = f": {description}" if description else ""
    details = _metadata_lines(metadata)
    lines = [f"  failed check {label}{about}", *(f"    {line}" for line in details[:MAX_METADATA_LINES])]
    if len(details) > MAX_METADATA_LINES:
        lines.append(f"    ... {len(details) - MAX_METADATA_LINES} more lines in the UI")
    return lines


def format_run(run: dict[str, Any]) -> list[str]:
    outcome = {"SUCCESS": "succeeded", "FAILURE": "FAILED", "CANCELED": "CANCELED"}.get(run["status"])
    days = f" for {run['days']}" if run.get("days") else ""
    lines = [f"last run:  {run['run_id']} {outcome} at {run.get('finished_at')}{days}, by {run['trigger']}"]
    if run["success"]:
        return lines
    for check in run.get("failed_checks", []):
        lines.extend(check_lines(check["check"], check.get("description"), check.get("metadata") or {}))
    if run.get("failed_steps"):
        lines.append(f"  failed steps: {', '.join(run['failed_steps'])}")
    if run.get("reason"):
        lines.append(f"  reason: {run['reason']}")
    lines.append(f"  see: {run['url']} (`make ui`)")
    return lines


def format_status(status: dict[str, Any]) -> str:
    """Plain text for the terminal: a few lines, the failure in full."""
    lines: list[str] = []
    published = status.get("published")
    if published is None:
        lines.append(f"published: nothing yet ({status.get('datamart')} does not exist)")
    elif "error" in published:
        lines.append(f"published: unreadable: {published['error']}")
    else:
        lines.append(
            f"published: run {published['run_id']} at {published['published_at']}, "
            f"{published['tables']} tables, {published['total_rows']:,} rows, "
            f"{published['checks_passed']} checks passed"
        )
        for name, rows in published["row_counts"].items():
            lines.append(f"  {name:<28} {rows:>12,}")
    exports = status.get("exports")
    if exports:
        match = (
            ""
            if status.get("exports_match_datamart")
            else "  (does NOT match the datamart version: the next publish repairs it)"
        )
        lines.append(f"exports:   {exports['path']} -> {exports['version_dir']}{match}")
    else:
        lines.append("exports:   nothing yet")
    last = status.get("last_run")
    if last is None:
        lines.append("last run:  none recorded")
    else:
        lines.extend(format_run(last))
    for run in status.get("active_runs", []):
        days = f" for {run['days']}" if run.get("days") else ""
        lines.append(f"running:   {run['run_id']} {run['status']}{days}, by {run['trigger']}: {run['url']}")
    if status.get("published_is_older_than_last_run"):
        lines.append("note: the published datamart is from an earlier run than the last run")
    return "\n".join(lines)
