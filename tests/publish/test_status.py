"""`c360 status`: published version from the datamart itself, runs from the Dagster instance.

The runs here are real in-process runs of a tiny job recorded in a temporary instance, the
same records the UI, the schedule, the sensor and `c360 run` leave.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from pipelines.publish import publish
from pipelines.settings import Settings
from pipelines.status import format_status, read_status

ORDERS = dg.AssetKey(["raw", "crm_orders"])
FAILED = [
    {
        "check": "ExpectColumnValuesToBeInSet(status)",
        "unexpected": 3,
        "sample": ["lost_in_post", "lost_in_post"],
    },
    {"check": "missing_delivery", "day": "2025-09-07", "expected_file": "crm/2025-09-07/orders.csv"},
]


def _run(instance: dg.DagsterInstance, *, passes: bool) -> dg.ExecuteInProcessResult:
    """raw/crm_orders with its blocking input check, and a mart downstream of it, for 2025-09-07."""
    partitions = dg.DailyPartitionsDefinition(start_date="2025-09-01")

    @dg.asset(key=ORDERS, partitions_def=partitions)
    def crm_orders() -> None:
        pass

    @dg.asset_check(asset=ORDERS, name="input_expectations", blocking=True)
    def input_expectations() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            passed=passes,
            description="9 checks on 120 rows, 2 failed",
            metadata={"rows_validated": 120, "failed": dg.MetadataValue.json([] if passes else FAILED)},
        )

    @dg.asset(key=["marts", "fct_orders"], deps=[ORDERS], partitions_def=partitions)
    def fct_orders() -> None:
        pass

    defs = dg.Definitions(
        assets=[crm_orders, fct_orders],
        asset_checks=[input_expectations],
        jobs=[dg.define_asset_job("c360_all", selection=dg.AssetSelection.all())],
    )
    return defs.resolve_job_def("c360_all").execute_in_process(
        instance=instance, partition_key="2025-09-07", raise_on_error=False
    )


@pytest.fixture
def instance(tmp_path: Path) -> dg.DagsterInstance:
    # Not a context manager: Dagster 1.13's __exit__ leaves its state storage installed.
    home = tmp_path / "dagster_home"
    home.mkdir()
    return dg.DagsterInstance.local_temp(tempdir=str(home))


def test_status_before_anything(settings: Settings, instance: dg.DagsterInstance) -> None:
    status = read_status(settings, instance)
    assert status["published"] is None
    assert status["exports"] is None
    assert status["last_run"] is None
    assert status["published_is_older_than_last_run"] is False
    assert format_status(status).splitlines() == [
        f"published: nothing yet ({settings.datamart_db} does not exist)",
        "exports:   nothing yet",
        "last run:  none recorded",
    ]


def test_status_shows_a_failed_runs_checks_with_their_metadata(
    settings: Settings, instance: dg.DagsterInstance
) -> None:
    good = _run(instance, passes=True)
    assert good.success
    result = publish(settings, good.run_id, ["a:1", "b:2"])
    status = read_status(settings, instance)
    assert status["published"]["run_id"] == good.run_id
    assert status["last_run"]["run_id"] == good.run_id and status["last_run"]["success"] is True
    assert status["exports_match_datamart"] is True
    assert status["published_is_older_than_last_run"] is False
    assert "note:" not in format_status(status)

    bad = _run(instance, passes=False)
    assert not bad.success
    status = read_status(settings, instance)
    assert status["published"]["run_id"] == good.run_id  # the failed run published nothing
    assert status["published_is_older_than_last_run"] is True
    last = status["last_run"]
    assert (last["run_id"], last["status"], last["days"]) == (bad.run_id, "FAILURE", "2025-09-07")
    assert last["failed_checks"] == [
        {
            "check": "raw/crm_orders:input_expectations",
            "description": "9 checks on 120 rows, 2 failed",
            "metadata": {"rows_validated": 120, "failed": FAILED},
        }
    ]
    text = format_status(status).splitlines()
    assert text[0] == (
        f"published: run {good.run_id} at {result.published_at.isoformat()}, 5 tables, 4,300 rows, 2 checks passed"
    )
    assert text[1].split() == ["audiences", "100"]
    start = text.index(next(line for line in text if line.startswith("last run:")))
    assert text[start].startswith(f"last run:  {bad.run_id} FAILED at 20")
    assert text[start].endswith(" for 2025-09-07, by command line or UI")
    # The blocking check fails its own step; the mart downstream never runs.
    assert text[start + 1 :] == [
        "  failed check raw/crm_orders:input_expectations: 9 checks on 120 rows, 2 failed",
        # the event log stores metadata and JSON objects with sorted keys
        "    failed: check=ExpectColumnValuesToBeInSet(status), sample=[lost_in_post, lost_in_post], unexpected=3",
        "    failed: check=missing_delivery, day=2025-09-07, expected_file=crm/2025-09-07/orders.csv",
        "    rows_validated: 120",
        "  failed steps: raw__crm_orders_input_expectations",
        "  reason: check raw/crm_orders:input_expectations failed; stopped at: raw__crm_orders_input_expectations",
        f"  see: http://127.0.0.1:3000/runs/{bad.run_id} (`make ui`)",
        "note: the published datamart is from an earlier run than the last run",
    ]


def test_status_lists_runs_in_progress_whoever_started_them(
    settings: Settings, instance: dg.DagsterInstance
) -> None:
    run = create_run_for_test(
        instance,
        job_name="c360_all",
        status=dg.DagsterRunStatus.STARTED,
        tags={"dagster/partition": "2025-09-08", "dagster/sensor_name": "c360_inbox"},
    )
    status = read_status(settings, instance)
    assert status["last_run"] is None
    assert format_status(status).splitlines()[-1] == (
        f"running:   {run.run_id} STARTED for 2025-09-08, by sensor c360_inbox: http://127.0.0.1:3000/runs/{run.run_id}"
    )


def test_failure_reasons_lose_dagsters_class_prefix() -> None:
    from pipelines.status import clean_message

    raised = (
        "dagster._core.definitions.events.Failure: raw.crm_orders 2025-09-03: crm/x.csv: empty file\nStack..."
    )
    assert clean_message(raised) == "raw.crm_orders 2025-09-03: crm/x.csv: empty file"
    assert clean_message("duckdb.IOException: disk full") == "duckdb.IOException: disk full"  # not Dagster's
