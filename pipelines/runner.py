"""Run the whole job in-process for a range of days, with compact progress and a one-line failure reason.

The CLI, the benchmark and end-to-end tests all go through here, so a run from the
command line is the same run the Dagster UI would launch (same job, same range tags), and
it is recorded in the same Dagster instance (settings.dagster_home), so it shows in the UI.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from pipelines.definitions import ALL_JOB, build_definitions
from pipelines.settings import Settings
from pipelines.status import FailedCheck, open_instance, summarize_failure

Progress = Callable[[str], None]
PROGRESS_LOGGER = "c360.progress"


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    run_id: str
    reason: str | None = None
    failed_steps: tuple[str, ...] = ()
    step_seconds: dict[str, float] = field(default_factory=dict)
    failed_checks: tuple[FailedCheck, ...] = ()


# dagster-dbt's own notes on every run: useful in the UI's logs, noise on a terminal.
_DBT_CHATTER = (
    "A dbt subsetted execution is not being performed",
    "Copying `",
    "Running dbt command",
    "Finished dbt command",
    "Logging an `AssetObservation` instead of an `AssetCheckResult`",
)


class _ProgressHandler(logging.Handler):
    """Forwards step starts and the first line of the assets' own log lines, not Dagster's event chatter."""

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
            message = str(meta.get("orig_message") or record.getMessage()).strip()
            if message.startswith(_DBT_CHATTER):
                return
            first = message.splitlines()[0] if message else ""
            self._progress(f"[{step}] {first}" if step else first)
        elif event.event_type_value == "STEP_START":
            self._progress(f"▶ {step}")
        elif event.event_type_value == "STEP_FAILURE":
            self._progress(f"✗ {step} failed")


# "12 of 236 OK created sql view model ...", "13 of 236 FAIL 1 not_null_...": dbt's node results.
_DBT_RESULT = re.compile(r"^(\d+) of (\d+) (OK|PASS|WARN|ERROR|FAIL|SKIP)\b")
_DBT_KEEP = re.compile(
    r"^(Done\. |Completed |Failure in |Error in |Warning in |Database Error|Compilation Error)"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class DbtOutputFilter(io.TextIOBase):
    """Turns dbt's console output (one line per node, written to stdout by dagster-dbt) into compact progress.

    Kept: a progress line every `every` finished nodes and at the end, every node that is
    not OK/PASS, dbt's failure details and its final summary; dbt's timing line ("Finished
    running ... (12.34s).") goes to `verbatim` unchanged, because the bench reads it from the
    run's output. The full output stays in the Dagster UI (the step's stdout) and in
    dbt_project/logs.
    """

    def __init__(self, progress: Progress, verbatim: TextIO, every: int = 50) -> None:
        super().__init__()
        self._progress = progress
        self._verbatim = verbatim
        self._every = every
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._line(_ANSI.sub("", line).rstrip())
        return len(text)

    def _line(self, line: str) -> None:
        match = _DBT_RESULT.match(line)
        if match:
            done, total, status = int(match.group(1)), int(match.group(2)), match.group(3)
            if status not in ("OK", "PASS"):
                self._progress(f"dbt: {line}")
            elif done % self._every == 0 or done == total:
                self._progress(f"dbt: {done}/{total} nodes done")
        elif line.startswith("Finished running "):
            print(line, file=self._verbatim, flush=True)
        elif _DBT_KEEP.match(line.strip()):
            self._progress(f"dbt: {line.strip()}")


@contextlib.contextmanager
def _progress_logging(progress: Progress) -> Iterator[dg.LoggerDefinition]:
    """A Dagster logger for the run, removed afterwards.

    The handler must not outlive the run. Left on the process-global `c360.progress`
    logger, it is reachable from the logging module's registry, which is torn down late at
    interpreter exit; through the handler's class, this module and what it imports stay
    reachable too, DuckDB's extension module is finalized first, and nanobind prints ~40
    lines of "leaked instances" on stderr. Measured: handler attached at exit, the report;
    detached (even if still referenced elsewhere) or a logging.NullHandler instead, none.
    """
    log = logging.getLogger(PROGRESS_LOGGER)
    handler = _ProgressHandler(progress)

    @dg.logger(description="compact progress for the command line")
    def progress_logger(_init_context: dg.InitLoggerContext) -> logging.Logger:
        log.setLevel(logging.DEBUG)
        log.handlers = [handler]
        log.propagate = False
        return log

    try:
        yield progress_logger
    finally:
        log.handlers = []
        handler.close()


def _instance(settings: Settings) -> dg.DagsterInstance:
    """The project's persistent instance (settings.dagster_home): runs show in the UI and in `c360 status`."""
    return open_instance(settings)


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
    tags = {
        ASSET_PARTITION_RANGE_START_TAG: start.isoformat(),
        ASSET_PARTITION_RANGE_END_TAG: end.isoformat(),
    }
    own_instance = instance is None
    instance = _instance(settings) if instance is None else instance
    try:
        with contextlib.ExitStack() as stack:
            run_config: dict = {}
            if progress is not None:
                # Only the compact progress logger: Dagster's console logger prints every event,
                # and dbt's per-node lines become a few progress lines.
                logger_def = stack.enter_context(_progress_logging(progress))
                job = job.with_logger_defs({"progress": logger_def})
                run_config = {"loggers": {"progress": {}}}
                dbt_filter = DbtOutputFilter(progress, verbatim=sys.stdout)
                stack.enter_context(contextlib.redirect_stdout(dbt_filter))
            result = job.execute_in_process(
                run_config=run_config,
                instance=instance,
                raise_on_error=False,
                asset_selection=selection,
                tags=tags,
            )
    finally:
        if own_instance:
            instance.dispose()
    steps = {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS" and event.step_key
    }
    if result.success:
        return RunOutcome(True, result.run_id, step_seconds=steps)
    summary = summarize_failure(result.all_events)
    return RunOutcome(
        False,
        result.run_id,
        summary.reason,
        summary.failed_steps,
        step_seconds=steps,
        failed_checks=summary.failed_checks,
    )
