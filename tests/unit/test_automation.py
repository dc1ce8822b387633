"""The daily schedule and the inbox sensor: which days they start, and that none starts twice."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from pipelines.automation import SCHEDULE_NAME, SENSOR_NAME, missing_files, ready_days
from pipelines.definitions import ALL_JOB, build_definitions
from pipelines.ingest.contracts import all_tables, load_contracts
from pipelines.settings import Settings

D1, D2, D3 = date(2025, 9, 1), date(2025, 9, 2), date(2025, 9, 3)


def _deliver(settings: Settings, day: date, only: int | None = None) -> list[str]:
    """Write the day's contract files (empty: the sensor looks at names and ages only)."""
    paths = sorted(t.file_for(day) for t in all_tables(load_contracts(settings.contracts_dir)))
    for rel in paths[:only]:
        target = settings.inbox_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"")
    return paths


def _instance(tmp_path: Path) -> dg.DagsterInstance:
    """A throwaway instance with an instance ref (schedules need one). Deliberately not used as
    a context manager: Dagster 1.13's __exit__ leaves its defs-state storage installed in a
    context variable, which breaks every later Definitions load in this process."""
    home = tmp_path / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.local_temp(tempdir=str(home))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, inbox_settle_seconds=0)


def test_a_day_is_ready_when_complete_or_when_a_later_day_arrived(settings: Settings) -> None:
    assert len(_deliver(settings, D1)) == 7  # one file per raw table of the default contracts
    day2 = _deliver(settings, D2, only=2)
    assert ready_days(settings) == [D1]  # D2 is the newest day and incomplete: wait
    assert missing_files(settings, D2) == day2[2:]
    _deliver(settings, D3, only=1)
    assert ready_days(settings) == [D1, D2]  # a later day arrived: D2's missing files are not coming


def test_a_gzipped_file_counts_as_delivered(settings: Settings) -> None:
    """Any contract file may come gzip-compressed (`<path>.gz`): the day is complete all the same."""
    paths = _deliver(settings, D1)
    csv = [rel for rel in paths if rel.endswith(".csv")]
    for rel in csv:
        target = settings.inbox_dir / rel
        target.rename(target.with_name(target.name + ".gz"))
    assert csv and missing_files(settings, D1) == []
    assert ready_days(settings) == [D1]


def test_files_still_being_copied_do_not_make_a_day_ready(settings: Settings) -> None:
    _deliver(settings, D1)
    waiting = Settings(data_dir=settings.data_dir, inbox_settle_seconds=30)
    assert ready_days(waiting) == []
    for path in settings.inbox_dir.rglob("*.*"):
        os.utime(path, (time.time() - 60, time.time() - 60))
    assert ready_days(waiting) == [D1]


def _sensor_tick(settings: Settings, instance: dg.DagsterInstance, cursor: str | None):  # type: ignore[no-untyped-def]
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))


def test_inbox_sensor_requests_one_run_per_new_day_and_never_twice(settings: Settings) -> None:
    _deliver(settings, D1)
    _deliver(settings, D2)
    instance = _instance(settings.data_dir)
    first = _sensor_tick(settings, instance, None)
    assert [r.partition_key for r in first.run_requests] == ["2025-09-01", "2025-09-02"]
    assert [r.run_key for r in first.run_requests] == ["inbox:2025-09-01", "inbox:2025-09-02"]
    again = _sensor_tick(settings, instance, first.cursor)
    assert again.run_requests == [] and "no new complete day" in (again.skip_message or "")
    _deliver(settings, D3)
    third = _sensor_tick(settings, instance, again.cursor or first.cursor)
    assert [r.partition_key for r in third.run_requests] == ["2025-09-03"]


def test_inbox_sensor_skips_days_already_loaded_by_make_run(settings: Settings) -> None:
    _deliver(settings, D1)
    _deliver(settings, D2)
    defs = build_definitions(settings)
    ingest_keys = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "raw"]
    instance = _instance(settings.data_dir)
    for key in ingest_keys:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition="2025-09-01"))
    tick = _sensor_tick(settings, instance, None)
    assert [r.partition_key for r in tick.run_requests] == ["2025-09-02"]


def test_daily_schedule_runs_yesterday_once(settings: Settings) -> None:
    defs = build_definitions(settings)
    schedule = defs.resolve_schedule_def(SCHEDULE_NAME)
    at = datetime(2025, 9, 3, 6, 0, tzinfo=UTC)
    repo = defs.get_repository_def()
    instance = _instance(settings.data_dir)
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=at, repository_def=repo)
    skipped = schedule.evaluate_tick(context)
    assert skipped.run_requests == [] and "no files for 2025-09-02" in (skipped.skip_message or "")
    _deliver(settings, D2)
    tick = schedule.evaluate_tick(
        dg.build_schedule_context(instance=instance, scheduled_execution_time=at, repository_def=repo)
    )
    assert [(r.partition_key, r.run_key) for r in tick.run_requests] == [
        ("2025-09-02", "schedule:2025-09-02")
    ]
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


# ---- both on: the schedule and the sensor never start the same day twice ---------------------


def _launched(instance: dg.DagsterInstance, tags: dict[str, str], status: dg.DagsterRunStatus) -> str:
    """What the daemon does with a run request: a run of the whole job, in the given state."""
    from dagster._core.remote_origin import (
        RegisteredCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.test_utils import create_run_for_test

    origin = RemoteJobOrigin(  # a queued run must say where its code lives
        repository_origin=RemoteRepositoryOrigin(
            code_location_origin=RegisteredCodeLocationOrigin("pipelines.definitions"),
            repository_name="__repository__",
        ),
        job_name=ALL_JOB,
    )
    run = create_run_for_test(instance, job_name=ALL_JOB, tags=tags, status=status, remote_job_origin=origin)
    return run.run_id


def _schedule_tick(settings: Settings, instance: dg.DagsterInstance, at: datetime):  # type: ignore[no-untyped-def]
    defs = build_definitions(settings)
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=at, repository_def=defs.get_repository_def()
    )
    return defs.resolve_schedule_def(SCHEDULE_NAME).evaluate_tick(context)


AT_D3 = datetime(2025, 9, 3, 6, 0, tzinfo=UTC)  # the schedule's tick on D3 runs D2


def test_the_schedule_skips_a_day_the_sensor_already_started(settings: Settings) -> None:
    _deliver(settings, D1)
    _deliver(settings, D2)
    instance = _instance(settings.data_dir)
    sensor = _sensor_tick(settings, instance, None)
    assert [r.partition_key for r in sensor.run_requests] == ["2025-09-01", "2025-09-02"]
    runs = {
        r.partition_key: _launched(
            instance, {"dagster/partition": r.partition_key}, dg.DagsterRunStatus.QUEUED
        )
        for r in sensor.run_requests
    }
    queued = _schedule_tick(settings, instance, AT_D3)
    assert queued.run_requests == []
    assert queued.skip_message == f"2025-09-02: run {runs['2025-09-02']} is QUEUED"

    instance.delete_run(runs["2025-09-02"])
    started = _launched(instance, {"dagster/partition": "2025-09-02"}, dg.DagsterRunStatus.STARTED)
    assert _schedule_tick(settings, instance, AT_D3).skip_message == f"2025-09-02: run {started} is STARTED"

    instance.report_run_failed(instance.get_run_by_id(started))  # a failed day may be run again
    retry = _schedule_tick(settings, instance, AT_D3)
    assert [r.partition_key for r in retry.run_requests] == ["2025-09-02"]


def test_the_sensor_skips_a_day_the_schedule_already_started(settings: Settings) -> None:
    _deliver(settings, D1)
    _deliver(settings, D2)
    instance = _instance(settings.data_dir)
    (request,) = _schedule_tick(settings, instance, AT_D3).run_requests
    assert request.partition_key == "2025-09-02"
    _launched(instance, {"dagster/partition": "2025-09-02"}, dg.DagsterRunStatus.STARTING)
    sensor = _sensor_tick(settings, instance, None)  # a fresh cursor: only the instance knows
    assert [r.partition_key for r in sensor.run_requests] == ["2025-09-01"]


def test_a_command_line_range_run_takes_its_days_from_both(settings: Settings) -> None:
    """`c360 run --from D1 --to D2` records one range run in the same instance."""
    for day in (D1, D2, D3):
        _deliver(settings, day)
    instance = _instance(settings.data_dir)
    range_tags = {
        "dagster/asset_partition_range_start": "2025-09-01",
        "dagster/asset_partition_range_end": "2025-09-02",
    }
    run_id = _launched(instance, range_tags, dg.DagsterRunStatus.SUCCESS)
    assert [r.partition_key for r in _sensor_tick(settings, instance, None).run_requests] == ["2025-09-03"]
    assert _schedule_tick(settings, instance, AT_D3).skip_message == f"2025-09-02: run {run_id} is SUCCESS"
