"""Dagster resources: the only way assets reach settings, the warehouse and the inbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.settings import (
    DEFAULT_DAGSTER_HOME,
    DEFAULT_EXPORT_HASH_KEY,
    DEFAULT_PII_COLUMNS,
    HASH_KEY_ENV,
    Settings,
)


def connect_duckdb(
    path: Path,
    *,
    memory_limit: str,
    threads: int,
    temp_dir: Path,
    read_only: bool = False,
    storage_version: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file with the project's memory and spill settings.

    storage_version (e.g. "v1.4.0") applies to a file this connection creates: older DuckDB
    releases (the DuckDB CLI 1.x, DBeaver's driver) can then open it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp_dir.mkdir(parents=True, exist_ok=True)
    config = {"storage_compatibility_version": storage_version} if storage_version else {}
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET temp_directory = ?", [str(temp_dir)])
    con.execute("SET preserve_insertion_order = false")
    return con


class WarehouseResource(dg.ConfigurableResource):
    """The build database (build.duckdb). One writer at a time: use pool 'duckdb_writer'."""

    database: str
    memory_limit: str = Settings.duckdb_memory_limit
    threads: int = Settings.duckdb_threads
    temp_dir: str

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect_duckdb(
            Path(self.database),
            memory_limit=self.memory_limit,
            threads=self.threads,
            temp_dir=Path(self.temp_dir),
        )
        try:
            yield con
        finally:
            con.close()

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        return cls(
            database=str(settings.build_db),
            memory_limit=settings.duckdb_memory_limit,
            threads=settings.duckdb_threads,
            temp_dir=str(settings.tmp_dir),
        )


class PipelineSettingsResource(dg.ConfigurableResource):
    """Carries Settings into assets (paths, dates, tolerances) as resource config."""

    data_dir: str
    contracts_dir: str
    dbt_project_dir: str
    models_dir: str
    tier: str
    seed: int
    start_date: str
    end_date: str | None = None
    duckdb_memory_limit: str = Settings.duckdb_memory_limit
    duckdb_threads: int = Settings.duckdb_threads
    dbt_threads: int = Settings.dbt_threads
    dbt_keep_run_targets: int = Settings.dbt_keep_run_targets
    late_arrival_days: int = Settings.late_arrival_days
    future_tolerance_days: int = Settings.future_tolerance_days
    ingest_batch_mb: int = Settings.ingest_batch_mb
    export_pseudonymize: bool = True
    # A secret: when it came from the environment it travels as dg.EnvVar, so the UI shows the
    # variable's name, never the key.
    export_hash_key: str = DEFAULT_EXPORT_HASH_KEY
    export_pii_columns: str = ",".join(DEFAULT_PII_COLUMNS)  # comma-separated
    schedule_cron: str = "0 6 * * *"
    inbox_sensor_interval_seconds: int = 60
    inbox_settle_seconds: int = 30
    dagster_home: str = str(DEFAULT_DAGSTER_HOME)
    ui_url: str = "http://127.0.0.1:3000"
    datamart_storage_version: str = "v1.4.0"

    def get(self) -> Settings:
        from datetime import date

        return Settings(
            data_dir=Path(self.data_dir),
            contracts_dir=Path(self.contracts_dir),
            dbt_project_dir=Path(self.dbt_project_dir),
            models_dir=Path(self.models_dir),
            tier=self.tier,
            seed=self.seed,
            start_date=date.fromisoformat(self.start_date),
            end_date=date.fromisoformat(self.end_date) if self.end_date else None,
            duckdb_memory_limit=self.duckdb_memory_limit,
            duckdb_threads=self.duckdb_threads,
            dbt_threads=self.dbt_threads,
            dbt_keep_run_targets=self.dbt_keep_run_targets,
            late_arrival_days=self.late_arrival_days,
            future_tolerance_days=self.future_tolerance_days,
            ingest_batch_mb=self.ingest_batch_mb,
            export_pseudonymize=self.export_pseudonymize,
            export_hash_key=self.export_hash_key,
            export_hash_key_from_env=False,
            export_pii_columns=tuple(c for c in self.export_pii_columns.split(",") if c),
            schedule_cron=self.schedule_cron,
            inbox_sensor_interval_seconds=self.inbox_sensor_interval_seconds,
            inbox_settle_seconds=self.inbox_settle_seconds,
            dagster_home=Path(self.dagster_home),
            ui_url=self.ui_url,
            datamart_storage_version=self.datamart_storage_version,
        )

    @classmethod
    def from_settings(cls, s: Settings) -> PipelineSettingsResource:
        return cls(
            data_dir=str(s.data_dir),
            contracts_dir=str(s.contracts_dir),
            dbt_project_dir=str(s.dbt_project_dir),
            models_dir=str(s.models_dir),
            tier=s.tier,
            seed=s.seed,
            start_date=s.start_date.isoformat(),
            end_date=s.end_date.isoformat() if s.end_date else None,
            duckdb_memory_limit=s.duckdb_memory_limit,
            duckdb_threads=s.duckdb_threads,
            dbt_threads=s.dbt_threads,
            dbt_keep_run_targets=s.dbt_keep_run_targets,
            late_arrival_days=s.late_arrival_days,
            future_tolerance_days=s.future_tolerance_days,
            ingest_batch_mb=s.ingest_batch_mb,
            export_pseudonymize=s.export_pseudonymize,
            export_hash_key=dg.EnvVar(HASH_KEY_ENV) if s.export_hash_key_from_env else s.export_hash_key,
            export_pii_columns=",".join(s.export_pii_columns),
            schedule_cron=s.schedule_cron,
            inbox_sensor_interval_seconds=s.inbox_sensor_interval_seconds,
            inbox_settle_seconds=s.inbox_settle_seconds,
            dagster_home=str(s.dagster_home),
            ui_url=s.ui_url,
            datamart_storage_version=s.datamart_storage_version,
        )
