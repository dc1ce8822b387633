"""The cached SQLite storage keeps Dagster's layout: what it writes, stock Dagster reads."""

from pathlib import Path

import dagster as dg
import yaml

from pipelines.instance_storage import CachedSqliteEventLogStorage, storage_config
from pipelines.settings import DAGSTER_YAML

DAYS = dg.DailyPartitionsDefinition(start_date="2025-09-01", end_date="2025-09-06")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def upstream(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"days": len(context.partition_keys)})


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run(), deps=[upstream])
def downstream() -> dg.MaterializeResult:
    return dg.MaterializeResult()


def _home(path: Path, storage: dict) -> Path:
    path.mkdir()
    (path / "dagster.yaml").write_text(yaml.safe_dump({"telemetry": {"enabled": False}, "storage": storage}))
    return path


def test_project_instance_uses_the_cached_storage() -> None:
    assert yaml.safe_load(DAGSTER_YAML.read_text())["storage"] == storage_config({"env": "DAGSTER_HOME"})


def test_runs_written_through_the_cache_read_back_by_stock_dagster(tmp_path: Path) -> None:
    home = _home(tmp_path / "home", storage_config(str(tmp_path / "home")))
    job = dg.Definitions(assets=[upstream, downstream], jobs=[dg.define_asset_job("both")]).resolve_job_def(
        "both"
    )
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, CachedSqliteEventLogStorage)
        result = job.execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": "2025-09-01",
                "dagster/asset_partition_range_end": "2025-09-05",
            },
        )
        assert result.success
        run_id = result.run_id

    stock = _home(tmp_path / "stock", {"sqlite": {"base_dir": str(home)}})
    with dg.DagsterInstance.from_config(str(stock)) as instance:
        assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
        for key in ("upstream", "downstream"):
            materialized = instance.get_materialized_partitions(dg.AssetKey(key))
            assert materialized == {f"2025-09-0{d}" for d in range(1, 6)}
        planned = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        )
        assert len(planned.records) == 10  # 2 assets × 5 days, as stock Dagster records them
