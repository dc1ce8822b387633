"""Dagster assets: one per raw table, daily-partitioned, a date range loaded in one run.

The list of assets (and their deps, from contract `depends_on`) comes from the contracts
folder at definition time; the contracts themselves are read again at execution from
settings.contracts_dir, so a user's contract edits apply to the next run.

A run over a range of days (a backfill arrives as one run: single-run backfill policy)
loads all the range's files of the table in one set-based pass and one transaction
(load.ingest_range): all-or-nothing for the range. If one file cannot be read, the asset
fails naming it and every day of the range keeps its previous load; a re-run of the
range gives the same tables (the load replaces its partitions).
"""

from datetime import date
from pathlib import Path

import dagster as dg

from pipelines.ingest.contracts import SourceContract, all_tables, load_contracts, table_for_raw
from pipelines.ingest.errors import IngestError
from pipelines.ingest.load import LoadResult, ingest_range
from pipelines.resources import PipelineSettingsResource, WarehouseResource
from pipelines.settings import PACKAGE_DIR

DEFAULT_CONTRACTS_DIR = PACKAGE_DIR / "contracts"
_FILE_COLUMNS = [
    "day",
    "source_file",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "rows_repaired",
    "status",
]


def _metadata(results: list[LoadResult]) -> dict[str, object]:
    """Totals, the files table and a per-day breakdown (a missing file is 'no file', 0 rows)."""
    rows: list[dict[str, object]] = []
    for r in results:
        if not r.files:
            rows.append(
                {
                    "day": r.partition.isoformat(),
                    "source_file": "",
                    "rows_read": 0,
                    "rows_loaded": 0,
                    "rows_quarantined": 0,
                    "rows_repaired": 0,
                    "status": "no file",
                }
            )
        for f in r.files:
            rows.append(
                {
                    "day": r.partition.isoformat(),
                    "source_file": f.source_file,
                    "rows_read": f.rows_read,
                    "rows_loaded": f.rows_loaded,
                    "rows_quarantined": f.rows_quarantined,
                    "rows_repaired": f.rows_repaired,
                    "status": f.status,
                }
            )
    schema = dg.TableSchema(
        columns=[dg.TableColumn(c, "int" if c.startswith("rows") else "string") for c in _FILE_COLUMNS]
    )
    by_day = "\n".join(
        ["| day | file | read | loaded | quarantined | repaired | status |", "|---|---|---|---|---|---|---|"]
        + [
            f"| {r['day']} | {r['source_file'] or '-'} | {r['rows_read']} | {r['rows_loaded']} | "
            f"{r['rows_quarantined']} | {r['rows_repaired']} | {r['status']} |"
            for r in rows
        ]
    )
    return {
        "rows_read": sum(r.rows_read for r in results),
        "rows_loaded": sum(r.rows_loaded for r in results),
        "rows_quarantined": sum(r.rows_quarantined for r in results),
        "rows_repaired": sum(r.rows_repaired for r in results),
        "files": dg.MetadataValue.table(
            records=[
                dg.TableRecord(data={k: v for k, v in row.items() if row["source_file"]})
                for row in rows
                if row["source_file"]
            ],
            schema=schema,
        ),
        "days": dg.MetadataValue.md(by_day),
        "days_without_file": sum(1 for r in results if not r.files),
    }


def _partition_days(context: dg.AssetExecutionContext) -> list[date]:
    return [date.fromisoformat(key) for key in context.partition_keys]


def _ingest_asset(
    raw_table: str,
    source: SourceContract,
    deps: list[dg.AssetKey],
    partitions_def: dg.PartitionsDefinition,
) -> dg.AssetsDefinition:
    table = source.by_raw_table()[raw_table]

    @dg.asset(
        key=["raw", raw_table],
        group_name="ingest",
        kinds={"duckdb"},
        pool="duckdb_writer",
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=deps,
        description=(
            f"{source.description}: `{table.path}` ({table.format}) loaded into raw.{raw_table}; "
            f"rejected rows in quarantine.{raw_table}, one audit.load_log row per file."
        ),
        metadata={"contract": Path(source.contract_file).name, "path_pattern": table.path},
    )
    def _asset(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        settings: PipelineSettingsResource,
    ) -> dg.MaterializeResult:
        s = settings.get()
        contract = table_for_raw(load_contracts(s.contracts_dir), raw_table)
        if contract is None:
            raise dg.Failure(description=f"no contract in {s.contracts_dir} declares raw_table {raw_table}")
        days = _partition_days(context)
        with warehouse.connect() as con:
            try:
                results = ingest_range(
                    con,
                    contract,
                    s.inbox_dir,
                    days,
                    future_tolerance_days=s.future_tolerance_days,
                    tmp_dir=s.tmp_dir / "ingest",
                    batch_bytes=s.ingest_batch_mb << 20,
                )
            except IngestError as exc:
                span = days[0].isoformat() + (f"..{days[-1].isoformat()}" if len(days) > 1 else "")
                raise dg.Failure(description=f"raw.{raw_table} {span}: {exc}") from None
        for result in results:
            day = result.partition
            if not result.files:
                context.log.info(f"{day}: no file {' nor '.join(contract.file_names(day))}, 0 rows")
            for f in result.files:
                context.log.info(
                    f"{day}: {f.source_file}: read {f.rows_read}, loaded {f.rows_loaded}, "
                    f"quarantined {f.rows_quarantined}, repaired {f.rows_repaired}"
                    + (f" ({f.note})" if f.note else "")
                )
        return dg.MaterializeResult(metadata=_metadata(results))

    return _asset


def build_ingest_assets(
    partitions_def: dg.PartitionsDefinition, contracts_dir: Path | None = None
) -> list[dg.AssetsDefinition]:
    """One asset per raw table declared by the contracts (default: pipelines/contracts)."""
    contracts = load_contracts(contracts_dir or DEFAULT_CONTRACTS_DIR)
    assets = []
    for source in contracts.values():
        for table in source.tables.values():
            deps = [dg.AssetKey(["raw", source.tables[d].raw_table]) for d in table.depends_on]
            assets.append(_ingest_asset(table.raw_table, source, deps, partitions_def))
    assert len({a.key for a in assets}) == len(all_tables(contracts))
    return assets
