"""The ingest assets materialized in-process on a tmp inbox and a tmp DuckDB file."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from pipelines.ingest.assets import build_ingest_assets
from pipelines.resources import PipelineSettingsResource, WarehouseResource
from pipelines.settings import Settings

warnings.filterwarnings("ignore", category=dg.BetaWarning)


def _setup(tmp_path: Path, inbox: Path) -> tuple[Settings, list[dg.AssetsDefinition], dict]:
    settings = Settings(data_dir=tmp_path / "data", duckdb_memory_limit="1GB")
    shutil.copytree(inbox, settings.inbox_dir)
    assets = build_ingest_assets(dg.DailyPartitionsDefinition(start_date="2025-09-01"))
    resources = {
        "warehouse": WarehouseResource.from_settings(settings),
        "settings": PipelineSettingsResource.from_settings(settings),
    }
    return settings, assets, resources


def test_asset_graph(tmp_path: Path, inbox: Path) -> None:
    _, assets, _ = _setup(tmp_path, inbox)
    by_key = {a.key.to_user_string(): a for a in assets}
    assert set(by_key) == {
        "raw/crm_customers",
        "raw/crm_products",
        "raw/crm_orders",
        "raw/crm_order_lines",
        "raw/crm_interactions",
        "raw/clickstream_events",
        "raw/weblog_hits",
    }
    orders = by_key["raw/crm_orders"]
    assert dg.AssetKey(["raw", "crm_customers"]) in orders.asset_deps[orders.key]
    assert orders.group_names_by_key[orders.key] == "ingest"
    assert orders.backfill_policy == dg.BackfillPolicy.single_run()


def test_materialize_one_partition(tmp_path: Path, inbox: Path) -> None:
    settings, assets, resources = _setup(tmp_path, inbox)
    selected = [a for a in assets if a.key.path[1] in {"crm_customers", "crm_orders", "crm_products"}]
    result = dg.materialize(
        selected, partition_key="2025-09-01", resources=resources, instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    meta = {
        m.asset_key.path[1]: m.metadata
        for m in result.get_asset_materialization_events()
        and [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    }
    assert meta["crm_customers"]["rows_read"].value == 9
    assert meta["crm_customers"]["rows_quarantined"].value == 6
    assert meta["crm_customers"]["rows_repaired"].value == 1
    assert meta["crm_orders"]["rows_loaded"].value == 2
    assert "no file" in meta["crm_products"]["days"].value
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.crm_orders").fetchone()[0] == 2


def test_materialize_a_range_in_one_run(tmp_path: Path, inbox: Path) -> None:
    settings, assets, resources = _setup(tmp_path, inbox)
    events = [a for a in assets if a.key.path[1] == "clickstream_events"]
    result = dg.materialize(
        events,
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        tags={ASSET_PARTITION_RANGE_START_TAG: "2025-09-01", ASSET_PARTITION_RANGE_END_TAG: "2025-09-03"},
    )
    assert result.success
    (mat,) = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()][:1]
    assert mat.metadata["rows_read"].value == 10
    assert mat.metadata["rows_loaded"].value == 3
    assert mat.metadata["days_without_file"].value == 1
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM audit.load_log").fetchone()[0] == 2
