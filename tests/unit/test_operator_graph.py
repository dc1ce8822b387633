"""Snapshot of what operators see at the end of the graph: publish, the exports, and their checks.

(The rest of the asset-graph snapshot lives in test_definitions.py.)
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.definitions import ALL_JOB, build_definitions
from pipelines.settings import Settings

DATAMART = dg.AssetKey(["publish", "datamart"])
EXPORTS = dg.AssetKey(["publish", "exports"])


def test_lineage_ends_at_the_exports_downstream_of_the_datamart(tmp_path: Path) -> None:
    defs = build_definitions(Settings(data_dir=tmp_path))
    graph = defs.resolve_asset_graph()
    assert graph.get(EXPORTS).parent_keys == {DATAMART}
    assert graph.get(EXPORTS).child_keys == set()  # the last node: inbox files ... -> exports
    assert graph.get(DATAMART).child_keys == {EXPORTS}
    assert dg.AssetKey(["marts", "customer_360"]) in graph.get(DATAMART).parent_keys
    # one step swaps both: they are materialized together or not at all
    assert defs.resolve_assets_def(EXPORTS) is defs.resolve_assets_def(DATAMART)
    assert defs.resolve_assets_def(EXPORTS).op.pool == "duckdb_writer"
    assert {graph.get(k).group_name for k in (DATAMART, EXPORTS)} == {"publish"}
    assert EXPORTS in defs.resolve_job_def(ALL_JOB).asset_layer.asset_graph.get_all_asset_keys()


def test_published_row_counts_are_blocking_checks_on_both_publish_assets(tmp_path: Path) -> None:
    graph = build_definitions(Settings(data_dir=tmp_path)).resolve_asset_graph()
    keys = {k for k in graph.asset_check_keys if k.asset_key in (DATAMART, EXPORTS)}
    assert keys == {
        dg.AssetCheckKey(DATAMART, "row_counts_match_build"),
        dg.AssetCheckKey(EXPORTS, "row_counts_match_build"),
    }
    assert all(graph.get_check_spec(k).blocking for k in keys)
