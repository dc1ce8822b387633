"""Blocking Dagster asset checks built from the input checks, one per raw table.

No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.
"""

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from pipelines.ingest.contracts import TableContract, load_contracts
from pipelines.partitions import day_range
from pipelines.quality.input_checks import load_thresholds, run_input_checks
from pipelines.resources import PipelineSettingsResource, WarehouseResource

CHECK_NAME = "input_expectations"


def run_days(tags: dict[str, str]) -> list[date] | None:
    """Days of the run, from its partition tags (a range run or a single-partition run)."""
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if start and end:
        return day_range(date.fromisoformat(start), date.fromisoformat(end))
    single = tags.get("dagster/partition")
    return [date.fromisoformat(single)] if single else None


def _build_one(table: TableContract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", table.raw_table]),
        name=CHECK_NAME,
        blocking=True,
        pool="duckdb_writer",
        description=(
            f"great-expectations suite from the {table.source} contract on the run's rows of raw.{table.raw_table}, "
            "plus not-future timestamps, missing deliveries, quarantine share per file and day-over-day "
            "volume (thresholds.yml). Blocking."
        ),
    )
    def _check(
        context: dg.AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        settings: PipelineSettingsResource,
    ) -> dg.AssetCheckResult:
        s = settings.get()
        live = load_contracts(s.contracts_dir)
        contract = next(
            (t for c in live.values() for t in c.tables.values() if t.raw_table == table.raw_table), None
        )
        if contract is None:
            return dg.AssetCheckResult(passed=True, metadata={"note": "no contract: nothing loaded"})
        thresholds = load_thresholds(table.raw_table)
        with warehouse.connect() as con:
            days = run_days(dict(context.run.tags))
            if days is None:
                found = con.execute(
                    "SELECT DISTINCT partition FROM audit.load_log WHERE raw_table = ? ORDER BY 1",
                    [table.raw_table],
                ).fetchall()
                days = [r[0] for r in found]
            report = run_input_checks(
                con,
                contract,
                days,
                thresholds,
                future_tolerance_days=s.future_tolerance_days,
                inbox_dir=s.inbox_dir,
            )
        summary = (
            f"{report.evaluated} checks on {report.rows_validated:,} rows, {len(report.failures)} failed"
        )
        context.log.info(f"raw.{table.raw_table}: {summary}")
        return dg.AssetCheckResult(
            passed=report.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=summary,
            metadata={
                "checks_evaluated": report.evaluated,
                "rows_validated": report.rows_validated,
                "failed": dg.MetadataValue.json(report.failures[:20]),
                "days": f"{days[0]} .. {days[-1]}" if days else "none",
            },
        )

    return _check


def build_input_checks(contracts_dir: Path) -> Sequence[dg.AssetChecksDefinition]:
    contracts = load_contracts(contracts_dir)
    return [_build_one(t) for c in contracts.values() for t in c.tables.values()]
