"""What starts runs without a person: a daily schedule and a sensor on the inbox.

Both request one run of the whole job per delivery day (the partition key is the day),
so the UI shows one run per day and a failed day can be re-executed alone.

When is a day ready? Every contract's file for the day is in the inbox, or a later day
already has files (so whatever is missing for the day is not coming: the run loads what
is there, and the input check's missing_delivery gate fails it, naming the absent file,
so nothing is published from an incomplete day). Files younger than the settle time are ignored, so
a file still being copied never starts a run.

Nothing runs twice, with either or both switched on: the schedule and the sensor skip a
day that is *taken* in this Dagster instance (`days_taken`): a run of the whole job for it
(one day, or a range covering it) is queued, starting, running or succeeded, whoever
started it (the other automation, the UI, or `c360 run`, which records its runs in the
same DAGSTER_HOME), or every ingest asset is materialized for it. The sensor also skips
days it requested before (its cursor), and each request carries a run_key, which the
daemon never launches twice. Both are STOPPED by default: an operator turns them on in
the UI (Automation), so `make ui` on a fresh clone does not start ninety runs by surprise.
"""

import json
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from pipelines.ingest.contracts import all_tables, load_contracts
from pipelines.partitions import inbox_days
from pipelines.quality.checks import run_days
from pipelines.settings import Settings

SCHEDULE_NAME = "c360_daily"
SENSOR_NAME = "c360_inbox"


def _is_settled(path: Path, settle_seconds: int, now: float) -> bool:
    return path.is_file() and now - path.stat().st_mtime >= settle_seconds


def missing_files(settings: Settings, day: date, now: float | None = None) -> list[str]:
    """Contract files for the day that are not (yet, or not completely) in the inbox.

    A file counts as delivered under its contract name or gzip-compressed (`.gz` added);
    a day with both is ready too, and its run fails naming the ambiguous delivery.
    """
    now = time.time() if now is None else now
    tables = all_tables(load_contracts(settings.contracts_dir))
    missing = []
    for t in tables:
        found = t.delivered_files(settings.inbox_dir, day)
        if not found or not all(
            _is_settled(settings.inbox_dir / rel, settings.inbox_settle_seconds, now) for rel in found
        ):
            missing.append(t.file_for(day))
    return sorted(missing)


def ready_days(settings: Settings, now: float | None = None) -> list[date]:
    """Inbox days that can be run now (see the module docstring)."""
    days = inbox_days(settings.inbox_dir)
    if settings.end_date is not None:
        days = [d for d in days if d <= settings.end_date]
    days = [d for d in days if d >= settings.start_date]
    if not days:
        return []
    last = days[-1]
    return [d for d in days if d < last or not missing_files(settings, d, now)]


def _materialized_days(instance: dg.DagsterInstance, asset_keys: Sequence[dg.AssetKey]) -> set[date]:
    """Days every ingest asset has materialized in this instance (an empty list means none)."""
    if not asset_keys:
        return set()
    common: set[str] | None = None
    for key in asset_keys:
        done = set(instance.get_materialized_partitions(key))
        common = done if common is None else common & done
    return {date.fromisoformat(p) for p in common or set()}


# A run in one of these states owns its days: starting another run for them would run them twice.
TAKING_STATUSES = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.SUCCESS,
)


def days_taken(
    instance: dg.DagsterInstance, job_name: str, ingest_keys: Sequence[dg.AssetKey]
) -> dict[date, str]:
    """Days not to start again -> why: a run of the job queued, running or succeeded for them, or loaded."""
    taken = {
        d: "already loaded (every ingest asset materialized)"
        for d in _materialized_days(instance, ingest_keys)
    }
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=job_name, statuses=list(TAKING_STATUSES))
    )
    for record in records:
        run = record.dagster_run
        for day in run_days(dict(run.tags)) or []:
            taken[day] = f"run {run.run_id} is {run.status.value}"
    return taken


def build_inbox_sensor(
    job_name: str, settings: Settings, ingest_keys: Sequence[dg.AssetKey]
) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        job_name=job_name,
        minimum_interval_seconds=settings.inbox_sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"One run of the whole job per new day whose files are complete in {settings.inbox_dir}.",
    )
    def inbox_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        requested = set(json.loads(context.cursor)) if context.cursor else set()
        taken = days_taken(context.instance, job_name, ingest_keys)
        new = [d for d in ready_days(settings) if d.isoformat() not in requested and d not in taken]
        if not new:
            return dg.SkipReason(f"no new complete day in {settings.inbox_dir}")
        requests = [
            dg.RunRequest(
                run_key=f"inbox:{d.isoformat()}", partition_key=d.isoformat(), tags={"c360/trigger": "inbox"}
            )
            for d in new
        ]
        cursor = json.dumps(sorted(requested | {d.isoformat() for d in new}))
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return inbox_sensor


def build_daily_schedule(
    job_name: str, settings: Settings, ingest_keys: Sequence[dg.AssetKey]
) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=SCHEDULE_NAME,
        job_name=job_name,
        cron_schedule=settings.schedule_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Every day: run the whole job for yesterday's delivery, unless a run for it is queued, "
        "running or succeeded, or it is already loaded.",
    )
    def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        scheduled = context.scheduled_execution_time
        day = (scheduled.date() if scheduled else date.today()) - timedelta(days=1)
        if day < settings.start_date:
            return dg.SkipReason(f"{day} is before the first partition {settings.start_date}")
        if day not in inbox_days(settings.inbox_dir):
            return dg.SkipReason(f"no files for {day} in {settings.inbox_dir}")
        taken = days_taken(context.instance, job_name, ingest_keys).get(day)
        if taken:
            return dg.SkipReason(f"{day}: {taken}")
        return dg.RunRequest(run_key=f"schedule:{day.isoformat()}", partition_key=day.isoformat())

    return daily_schedule
