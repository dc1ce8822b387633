"""Run the whole job in-process for a range of days, with compact progress and a one-line failure reason.

The CLI, the benchmark and end-to-end tests all go through here, so a run from the
command line is the same run the Dagster UI would launch (same job, same range tags).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from pipelines.definitions import ALL_JOB, build_definitions
from pipelines.settings import Settings

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    run_id: str
    reason: str | None = None
    failed_steps: tuple[str, ...] = ()
    step_seconds: dict[str, float] = field(default_factory=dict)


class _ProgressHandler(logging.Handler):
    """Forwards step starts and the assets' own log lines, not Dagster's event chatter."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(level=logging.DEBUG)
        self._progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        if event is None:
            if record.levelno < logging.INFO:
                return
            message = meta.get("orig_message") or record.getMessage()
            self._progress(f"[{step}] {message}" if step else str(message))
        elif event.event_type_value == "STEP_START":
            self._progress(f"▶ {step}")
        elif event.event_type_value == "STEP_FAILURE":
            self._progress(f"✗ {step} failed")


def _progress_logger(progress: Progress) -> dg.LoggerDefinition:
    @dg.logger(description="compact progress for the command line")
    def progress_logger(_init_context: dg.InitLoggerContext) -> logging.Logger:
        log = logging.getLogger("c360.progress")
        log.setLevel(logging.DEBUG)
        log.handlers = [_ProgressHandler(progress)]
        log.propagate = False
        return log

    return progress_logger


def _instance() -> dg.DagsterInstance:
    """The persistent instance under DAGSTER_HOME when set (runs show in the UI), else ephemeral."""
    try:
        return dg.DagsterInstance.get()
    except Exception:
        return dg.DagsterInstance.ephemeral()


def _failure_reason(result: dg.ExecuteInProcessResult) -> tuple[str, tuple[str, ...]]:
    failed: list[str] = []
    reasons: list[str] = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            step = event.step_key or "?"
            failed.append(step)
            error = getattr(event.event_specific_data, "error", None)
            message = error.message.strip().splitlines()[0] if error and error.message else "unknown error"
            # dagster wraps user errors; the original cause carries the useful sentence
            cause = getattr(error, "cause", None)
            while cause is not None:
                if cause.message:
                    message = cause.message.strip().splitlines()[0]
                cause = getattr(cause, "cause", None)
            reasons.append(f"step {step}: {message}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            evaluation = getattr(data, "evaluation", data)
            if getattr(evaluation, "passed", True) is False and getattr(evaluation, "severity", None) in (
                None,
                dg.AssetCheckSeverity.ERROR,
            ):
                key = evaluation.asset_check_key
                reasons.append(f"check {key.asset_key.to_user_string()}:{key.name} failed")
    checks = [r for r in reasons if r.startswith("check ")]
    if checks:
        # A failed blocking check fails its step too; the check is the reason, not the step's traceback.
        reasons = [*checks, f"stopped at: {', '.join(dict.fromkeys(failed))}"] if failed else checks
    if not reasons:
        reasons.append("the run did not succeed (see the Dagster UI for details)")
    return "; ".join(reasons), tuple(failed)


def run_pipeline(
    settings: Settings,
    start: date,
    end: date,
    *,
    progress: Progress | None = None,
    selection: list[dg.AssetKey] | None = None,
    instance: dg.DagsterInstance | None = None,
) -> RunOutcome:
    """Materialize the whole job (or a selection) for the days start..end in one run."""
    defs = build_definitions(settings)
    job = defs.resolve_job_def(ALL_JOB)
    run_config: dict = {}
    if progress is not None:
        # Only the compact progress logger: Dagster's console logger prints every event.
        job = job.with_logger_defs({"progress": _progress_logger(progress)})
        run_config = {"loggers": {"progress": {}}}
    result = job.execute_in_process(
        run_config=run_config,
        instance=instance or _instance(),
        raise_on_error=False,
        asset_selection=selection,
        tags={
            ASSET_PARTITION_RANGE_START_TAG: start.isoformat(),
            ASSET_PARTITION_RANGE_END_TAG: end.isoformat(),
        },
    )
    steps = {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS" and event.step_key
    }
    if result.success:
        return RunOutcome(True, result.run_id, step_seconds=steps)
    reason, failed = _failure_reason(result)
    return RunOutcome(False, result.run_id, reason, failed, step_seconds=steps)
