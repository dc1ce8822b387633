"""The publish asset in a real in-process run: gated on this run's check evaluations."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from publish_testkit import CUSTOMERS, ORDERS, fill_build

from pipelines.partitions import daily_partitions
from pipelines.publish import EXPORTS_ASSET_KEY, PUBLISH_ASSET_KEY, build_publish_asset, build_publish_checks
from pipelines.resources import PipelineSettingsResource, WarehouseResource
from pipelines.settings import Settings

MART = dg.AssetKey(["marts", "fct_orders"])


def _defs(
    settings: Settings,
    *,
    check_passes: bool = True,
    blocking: bool = True,
    extra_expected: tuple[dg.AssetCheckKey, ...] = (),
) -> dg.Definitions:
    partitions_def = daily_partitions(settings)

    @dg.asset(
        key=MART,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb_writer",
    )
    def fct_orders(warehouse: WarehouseResource) -> None:
        fill_build(settings)  # stands in for dbt: the whole marts schema

    @dg.asset_check(asset=MART, name="row_count", blocking=blocking)
    def row_count() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=check_passes)

    publish_asset = build_publish_asset(
        [MART], [row_count.check_key, *extra_expected], partitions_def=partitions_def
    )
    return dg.Definitions(
        assets=[fct_orders, publish_asset],
        asset_checks=[row_count, *build_publish_checks()],
        jobs=[dg.define_asset_job("all", selection=dg.AssetSelection.all())],
        resources={
            "warehouse": WarehouseResource.from_settings(settings),
            "settings": PipelineSettingsResource.from_settings(settings),
        },
        executor=dg.in_process_executor,
    )


def _run(settings: Settings, **kwargs: object) -> dg.ExecuteInProcessResult:
    job = _defs(settings, **kwargs).resolve_job_def("all")  # type: ignore[arg-type]
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        tags={ASSET_PARTITION_RANGE_START_TAG: "2025-09-01", ASSET_PARTITION_RANGE_END_TAG: "2025-09-03"},
    )


@pytest.fixture
def fresh(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(data_dir=tmp_path / "data", duckdb_memory_limit="512MB", duckdb_threads=1)


def test_publish_asset_publishes_after_checks_pass(fresh: Settings) -> None:
    result = _run(fresh)
    assert result.success
    mats = [m for m in result.get_asset_materialization_events() if m.asset_key == PUBLISH_ASSET_KEY]
    # one step for the whole range (single-run backfill), materializing the range's partitions
    assert len({m.step_key for m in mats}) == 1
    meta = mats[0].materialization.metadata
    assert meta["run_id"].value == result.run_id
    assert meta["checks_passed"].value == 1
    assert meta["row_counts"].value == {
        "audiences": CUSTOMERS // 2,
        "customer_360": CUSTOMERS,
        "dim_empty": 0,
        "fct_orders": ORDERS,
        "fct_page_views": 3_000,
    }
    assert meta["datamart"].value == str(fresh.datamart_db)
    assert meta["exports"].value == str(fresh.exports_dir)
    # The exports are their own asset, materialized by the same step, downstream of the datamart.
    exports = [m for m in result.get_asset_materialization_events() if m.asset_key == EXPORTS_ASSET_KEY]
    assert len(exports) == len(mats) == 3  # one per day of the range 2025-09-01..03, like the datamart
    assert {m.step_key for m in exports} == {mats[0].step_key}
    assert exports[0].materialization.metadata["row_counts"].value == meta["row_counts"].value
    # After the swap, both are re-counted against the build: the published row counts are checks.
    evaluations = {
        e.asset_check_key.asset_key: e
        for e in result.get_asset_check_evaluations()
        if e.asset_check_key.name == "row_counts_match_build"
    }
    assert set(evaluations) == {PUBLISH_ASSET_KEY, EXPORTS_ASSET_KEY}
    for evaluation in evaluations.values():
        assert evaluation.passed
        assert evaluation.metadata["rows"].value == CUSTOMERS // 2 + CUSTOMERS + ORDERS + 3_000
        assert evaluation.metadata["mismatches"].value == []
        assert evaluation.metadata["published_run"].value == result.run_id
    con = duckdb.connect(str(fresh.datamart_db), read_only=True)
    assert con.execute("select run_id, checks_passed from meta.publication").fetchall() == [
        (result.run_id, ["marts/fct_orders:row_count"])
    ]
    con.close()


def _publish_step_error(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failures] == ["publish"]
    error = failures[0].event_specific_data.error  # type: ignore[union-attr]
    text = error.message
    while error.cause is not None:
        error = error.cause
        text += error.message
    return text


def test_failed_non_blocking_check_is_caught_by_publish(fresh: Settings) -> None:
    """Dagster lets the step run (the check does not block): publish's own audit refuses."""
    result = _run(fresh, check_passes=False, blocking=False)
    assert not result.success
    assert "not publishing: 1 check(s) failed: marts/fct_orders:row_count" in _publish_step_error(result)
    assert not fresh.datamart_db.exists()
    assert not fresh.exports_dir.exists()


def test_expected_check_that_did_not_run_refuses_publish(fresh: Settings) -> None:
    missing = dg.AssetCheckKey(MART, "reconciliation")
    result = _run(fresh, extra_expected=(missing,))
    assert not result.success
    assert "1 expected check(s) did not run: marts/fct_orders:reconciliation" in _publish_step_error(result)
    assert not fresh.datamart_db.exists()


def test_failed_blocking_check_stops_publish(fresh: Settings) -> None:
    result = _run(fresh, check_passes=False, blocking=True)
    assert not result.success
    materialized = {m.asset_key for m in result.get_asset_materialization_events()}
    assert PUBLISH_ASSET_KEY not in materialized
    assert not fresh.datamart_db.exists()
    assert not fresh.exports_dir.exists()
