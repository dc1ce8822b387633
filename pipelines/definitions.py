"""The one Definitions object: every part's assets and checks, resources, jobs.

Each part (ingest, transform, quality, scoring, publish, automation) exposes its own
definitions; this module only merges them and attaches resources and the executor once.
Settings are read when Dagster loads the definitions (lazily, via @dg.definitions), not
at import; tests call build_definitions() with their own Settings.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from pipelines.automation import build_daily_schedule, build_inbox_sensor
from pipelines.ingest.assets import build_ingest_assets
from pipelines.ingest.contracts import all_tables, load_contracts
from pipelines.partitions import daily_partitions
from pipelines.publish import build_publish_asset, build_publish_checks
from pipelines.quality.checks import build_input_checks
from pipelines.quality.reconciliation import build_reconciliation_checks
from pipelines.resources import PipelineSettingsResource, WarehouseResource
from pipelines.settings import Settings
from pipelines.transform import build_dbt_assets, dbt_resource

ALL_JOB = "c360_all"
RECONCILED_MART = dg.AssetKey(["marts", "customer_360"])
STITCHED_MART = dg.AssetKey(["marts", "fct_sessions"])


def _sources(settings: Settings) -> dict[str, str]:
    """raw table -> source name (crm, clickstream, weblogs), from the contracts."""
    return {t.raw_table: t.source for t in all_tables(load_contracts(settings.contracts_dir))}


def inbox_specs(settings: Settings) -> list[dg.AssetSpec]:
    """The inbox folders as external assets: the lineage graph starts at the files."""
    return [
        dg.AssetSpec(
            key=dg.AssetKey(["inbox", source]),
            group_name="inbox",
            description=f"Files delivered to {settings.inbox_dir / source} (see the {source} contract).",
            kinds={"file"},
        )
        for source in sorted(set(_sources(settings).values()))
    ]


def with_inbox_lineage(
    ingest: Sequence[dg.AssetsDefinition], settings: Settings
) -> list[dg.AssetsDefinition]:
    source_of = _sources(settings)

    def add_inbox(spec: dg.AssetSpec) -> dg.AssetSpec:
        source = source_of.get(spec.key.path[-1])
        if source is None:  # a table derived from another raw table (line-items profile)
            return spec
        return spec.replace_attributes(deps=[*spec.deps, dg.AssetDep(dg.AssetKey(["inbox", source]))])

    return list(dg.map_asset_specs(add_inbox, list(ingest)))


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions_def = daily_partitions(settings)
    ingest = with_inbox_lineage(build_ingest_assets(partitions_def, settings.contracts_dir), settings)
    input_checks = build_input_checks(settings.contracts_dir)
    dbt_datamart = build_dbt_assets(settings, partitions_def)
    marts = [k for k in dbt_datamart.keys if dbt_datamart.group_names_by_key.get(k) == "marts"]
    reconciliation = build_reconciliation_checks() if {RECONCILED_MART, STITCHED_MART} <= set(marts) else []
    checks = [*input_checks, *reconciliation]
    # Publish only if every check of the run passed: input checks, reconciliations, every dbt test.
    expected_checks = [key for c in checks for key in c.check_keys] + list(dbt_datamart.check_keys)
    publish = build_publish_asset(marts, expected_checks, partitions_def)
    # Run after the swap (they re-count what is served), so they are not among publish's gate.
    publish_checks = build_publish_checks()
    assets = [*inbox_specs(settings), *ingest, dbt_datamart, publish]
    all_job = dg.define_asset_job(
        ALL_JOB,
        selection=dg.AssetSelection.all(),
        description="Ingest every source, build the datamart, check and publish, for a range of days.",
    )
    ingest_keys = [key for a in ingest for key in a.keys]
    return dg.Definitions(
        assets=assets,
        asset_checks=[*checks, *publish_checks],
        jobs=[all_job],
        schedules=[build_daily_schedule(ALL_JOB, settings, ingest_keys)],
        sensors=[build_inbox_sensor(ALL_JOB, settings, ingest_keys)],
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
