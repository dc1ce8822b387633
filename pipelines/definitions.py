"""The one Definitions object: every part's assets and checks, resources, jobs.

Each part (ingest, transform, quality, scoring, publish, automation) exposes its own
definitions; this module only merges them and attaches resources and the executor once.
Settings are read when Dagster loads the definitions (lazily, via @dg.definitions), not
at import; tests call build_definitions() with their own Settings.
"""

from __future__ import annotations

import dagster as dg

from pipelines.ingest.assets import build_ingest_assets
from pipelines.partitions import daily_partitions
from pipelines.publish import build_publish_asset
from pipelines.quality.checks import build_input_checks
from pipelines.resources import PipelineSettingsResource, WarehouseResource
from pipelines.settings import Settings
from pipelines.transform import build_dbt_assets, dbt_resource

ALL_JOB = "c360_all"


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions_def = daily_partitions(settings)
    ingest = build_ingest_assets(partitions_def, settings.contracts_dir)
    input_checks = build_input_checks(settings.contracts_dir)
    dbt_datamart = build_dbt_assets(settings, partitions_def)
    marts = [k for k in dbt_datamart.keys if dbt_datamart.group_names_by_key.get(k) == "marts"]
    # Publish only if every check of the run passed: the input checks and every dbt test.
    expected_checks = [key for c in input_checks for key in c.check_keys] + list(dbt_datamart.check_keys)
    publish = build_publish_asset(marts, expected_checks, partitions_def)
    assets = [*ingest, dbt_datamart, publish]
    all_job = dg.define_asset_job(
        ALL_JOB,
        selection=dg.AssetSelection.all(),
        description="Ingest every source, build the datamart, check and publish, for a range of days.",
    )
    return dg.Definitions(
        assets=assets,
        asset_checks=input_checks,
        jobs=[all_job],
        resources={
            "warehouse": WarehouseResource.from_settings(settings),
            "settings": PipelineSettingsResource.from_settings(settings),
            "dbt": dbt_resource(settings),
        },
        # DuckDB allows one writer per file: steps of a run execute one after another.
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
