"""dbt in Dagster: one @dbt_assets running `dbt build` over the run's range of days.

The dbt sources `raw.<table>` map to the ingest assets' keys ["raw", <table>] (the default
translator's source key), so raw → staging → marts is one lineage graph, and dbt tests
show as asset checks. A run over many days is one dbt invocation with the window passed
as vars (min_date inclusive, max_date exclusive), never one dbt start-up per day.
No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
"""

import importlib.metadata
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from packaging import version

from pipelines.resources import PipelineSettingsResource
from pipelines.settings import PACKAGE_DIR, Settings

DBT_TARGET_DIR = "target"


def dbt_env(settings: Settings) -> dict[str, str]:
    """What profiles.yml reads: the build database and limits of this deployment."""
    return {
        "C360_BUILD_DB": str(settings.build_db),
        "C360_DBT_THREADS": str(settings.dbt_threads),
        "C360_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "C360_DUCKDB_THREADS": str(settings.duckdb_threads),
        "C360_TMP_DIR": str(settings.tmp_dir),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


@contextmanager
def _patched_env(values: dict[str, str]) -> Iterator[None]:
    """dagster-dbt passes os.environ to the dbt process; set ours for the call only."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


STANDARD_CONTRACTS_DIR = PACKAGE_DIR / "contracts"


def ensure_source_tables(settings: Settings) -> list[str]:
    """Create, empty, every dbt source table no contract of this deployment loads.

    The dbt sources are the raw tables of the standard contracts (`pipelines/contracts`). A
    deployment may lack a source (a shop with only the line-level CRM export, no tracker, no
    web logs): its raw tables are created empty with the standard columns, so the datamart
    builds with empty session and traffic facts instead of failing. Tables that exist are
    left alone. Returns the tables created.
    """
    import duckdb

    from pipelines.ingest.contracts import all_tables, load_contracts
    from pipelines.ingest.load import ensure_raw_table, ensure_schemas

    created: list[str] = []
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.build_db)) as con:
        existing = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
            ).fetchall()
        }
        missing = [
            t for t in all_tables(load_contracts(STANDARD_CONTRACTS_DIR)) if t.raw_table not in existing
        ]
        if missing:
            ensure_schemas(con)
            for table in missing:
                ensure_raw_table(con, table)
                created.append(table.raw_table)
    return created


def _newest_mtime(project_dir: Path) -> float:
    newest = 0.0
    for sub in ("models", "macros", "seeds", "snapshots", "tests"):
        for path in (project_dir / sub).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml"):
        path = project_dir / name
        if path.exists():
            newest = max(newest, path.stat().st_mtime)
    return newest


def ensure_manifest(settings: Settings) -> Path:
    """Parse the dbt project once when its manifest is missing or older than the sources."""
    project_dir = settings.dbt_project_dir
    manifest = project_dir / DBT_TARGET_DIR / "manifest.json"
    if manifest.exists() and manifest.stat().st_mtime >= _newest_mtime(project_dir):
        return manifest
    from dbt.cli.main import dbtRunner

    with _patched_env(dbt_env(settings)):
        result = dbtRunner().invoke(
            ["parse", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--quiet"]
        )
    if not result.success or not manifest.exists():
        raise RuntimeError(f"dbt parse failed for {project_dir}: {result.exception}")
    return manifest


def _last_written(folder: Path) -> float:
    """dbt appends to the folder's dbt.log all through a run: an in-flight run is always newest."""
    try:
        return max(path.stat().st_mtime for path in (folder, folder / "dbt.log") if path.exists())
    except (OSError, ValueError):  # removed meanwhile by another run's pruning
        return 0.0


def prune_run_targets(target_dir: Path, prefix: str, keep: int) -> list[Path]:
    """Delete all but the newest `keep` per-invocation target folders `<prefix>-*`.

    dagster-dbt writes each `dbt build` to a folder of its own under target/ (so concurrent
    runs cannot clobber each other's manifest); nothing removes them, and a daily schedule
    would grow the project by gigabytes a year. The newest are kept for debugging a run.
    Returns the folders deleted.
    """
    runs = sorted((p for p in target_dir.glob(f"{prefix}-*") if p.is_dir()), key=_last_written, reverse=True)
    for old in runs[max(keep, 0) :]:
        shutil.rmtree(old, ignore_errors=True)
    return runs[max(keep, 0) :]


class C360DbtTranslator(DagsterDbtTranslator):
    """Groups come from `meta.dagster.group` in the dbt YAML (the default behaviour)."""


def build_dbt_assets(settings: Settings, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    manifest = ensure_manifest(settings)
    translator = C360DbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    @dbt_assets(
        manifest=manifest,
        dagster_dbt_translator=translator,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb_writer",
        name="dbt_datamart",
    )
    def dbt_datamart(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: PipelineSettingsResource
    ) -> Iterator:
        window = context.partition_time_window
        dbt_vars = {
            "min_date": window.start.date().isoformat(),
            "max_date": window.end.date().isoformat(),
        }
        created = ensure_source_tables(settings.get())
        if created:
            context.log.info(f"no contract loads {', '.join(created)}: created empty for dbt")
        context.log.info(f"dbt build for [{dbt_vars['min_date']}, {dbt_vars['max_date']})")
        try:
            with _patched_env(dbt_env(settings.get())):
                yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()
        finally:
            pruned = prune_run_targets(
                settings.get().dbt_project_dir / DBT_TARGET_DIR,
                context.op_execution_context.op.name,
                settings.get().dbt_keep_run_targets,
            )
            if pruned:
                context.log.info(f"removed {len(pruned)} old dbt target folder(s) beyond the newest kept")

    return dbt_datamart


class VenvDbtCliResource(DbtCliResource):
    """dagster-dbt, before every `dbt build`, asks `dbt --version` in a subprocess (4.6 s on a
    slow VM: dbt's imports, before dbt starts its own) and builds a dbt adapter in-process. The
    dbt beside this Python is the installed dbt-core package, whose version is in the package
    metadata; the adapter serves calls this project does not make.

    Both override private members of dagster-dbt (pinned in constraints.txt): re-check them when
    upgrading it; tests/unit/test_dbt_targets.py fails if either comes back."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        """No in-process dbt adapter (1.7 s a build: profile, project and every macro loaded).

        dagster-dbt uses it only for `fetch_row_counts()` / `fetch_column_metadata()`, which this
        project does not call: dbt's own run results carry what the UI shows. With None, those
        two calls would do nothing rather than fail.
        """
        return None


def dbt_resource(settings: Settings) -> DbtCliResource:
    """The dbt installed beside this Python (the project's venv), whether or not it is on PATH,
    without colour codes: its output lands in the UI's logs and, filtered, on a terminal."""
    executable = Path(sys.executable).parent / "dbt"
    return VenvDbtCliResource(
        project_dir=str(settings.dbt_project_dir),
        profiles_dir=str(settings.dbt_project_dir),
        dbt_executable=str(executable) if executable.exists() else "dbt",
        global_config_flags=["--no-use-colors"],
    )
