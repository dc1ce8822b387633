"""Snapshot of the asset graph: what operators see in the UI must not change by accident."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.definitions import ALL_JOB, build_definitions
from pipelines.settings import Settings

RAW = {
    "raw/crm_customers",
    "raw/crm_products",
    "raw/crm_orders",
    "raw/crm_order_lines",
    "raw/crm_interactions",
    "raw/clickstream_events",
    "raw/weblog_hits",
}


def test_asset_graph_snapshot(tmp_path: Path) -> None:
    defs = build_definitions(Settings(data_dir=tmp_path))
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys >= RAW
    for key in RAW:
        node = graph.get(dg.AssetKey.from_user_string(key))
        assert node.group_name == "ingest"
        assert defs.resolve_assets_def(node.key).op.pool == "duckdb_writer", (
            "every writer of build.duckdb shares the one-writer pool"
        )
        assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition)
    orders = graph.get(dg.AssetKey.from_user_string("raw/crm_orders"))
    assert dg.AssetKey.from_user_string("raw/crm_customers") in orders.parent_keys
    job = defs.resolve_job_def(ALL_JOB)
    assert job.executor_def.name == "in_process"


def test_lineage_starts_at_the_inbox_folders(tmp_path: Path) -> None:
    graph = build_definitions(Settings(data_dir=tmp_path)).resolve_asset_graph()
    inbox = {k.to_user_string() for k in graph.get_all_asset_keys() if k.path[0] == "inbox"}
    assert inbox == {"inbox/crm", "inbox/clickstream", "inbox/weblogs"}
    assert (
        dg.AssetKey(["inbox", "weblogs"])
        in graph.get(dg.AssetKey.from_user_string("raw/weblog_hits")).parent_keys
    )
    assert not graph.get(dg.AssetKey(["inbox", "crm"])).is_executable  # files are delivered, not built


def test_every_singular_dbt_test_is_an_asset_check(tmp_path: Path) -> None:
    """dagster-dbt turns a dbt test into a check only when it can attach it to one asset: a singular
    test reading several models must name it (config meta.dagster.ref), or it silently vanishes
    from the UI and from the gate. Every file of dbt_project/tests/ must come out as a check."""
    settings = Settings(data_dir=tmp_path)
    checks = build_definitions(settings).resolve_asset_graph().asset_check_keys
    by_name = {key.name: key.asset_key.to_user_string() for key in checks}
    singular = sorted(p.stem for p in (settings.dbt_project_dir / "tests").glob("*.sql"))
    assert [name for name in singular if name not in by_name] == []
    # the multi-model business rules, each on the asset named in its meta
    expected = {
        "customer_360_one_row_per_customer": "marts/customer_360",
        "customer_360_revenue_reconciles": "marts/customer_360",
        "rfm_segments_match_customer_360": "marts/customer_360",
        "audiences_only_consenting": "marts/audiences",
        "dim_customers_history_periods": "marts/dim_customers_history",
        "identity_shared_cookies_never_merged": "intermediate/int_identity_map",
        "web_customers_are_current": "marts/fct_sessions",
        "web_page_views_counted_once": "marts/fct_page_views",
        "web_traffic_daily_reconciles": "marts/web_traffic_daily",
    }
    assert {name: by_name.get(name) for name in expected} == expected
