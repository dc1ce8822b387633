"""Shared fixtures: one tier S data set, generated and ingested once per test session."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from pipelines.settings import Settings

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@dataclass
class TierRun:
    settings: Settings
    manifest: dict
    run_seconds: float


def pytest_sessionstart(session: pytest.Session) -> None:
    """Parse the dbt project once, before pytest-xdist starts its workers.

    Every worker builds Dagster definitions, which parse dbt when the manifest is missing or
    stale; two workers parsing at once could read each other's half-written manifest.
    """
    if hasattr(session.config, "workerinput"):  # a worker: the controller has parsed already
        return
    from pipelines.transform import ensure_manifest

    ensure_manifest(Settings())


@pytest.fixture(scope="session")
def tier_s(tmp_path_factory: pytest.TempPathFactory) -> TierRun:
    """Tier S generated with seed 42 and run through the whole job (ingest, checks, dbt, publish)."""
    import time

    from pipelines.partitions import inbox_days
    from pipelines.runner import run_pipeline
    from pipelines.synth import generate

    data_dir = tmp_path_factory.mktemp("tier_s")
    settings = Settings(data_dir=data_dir, tier="S", seed=42, duckdb_memory_limit="2GB")
    generate(settings, "S", 42, out_dir=settings.inbox_dir)
    days = inbox_days(settings.inbox_dir)
    started = time.perf_counter()
    outcome = run_pipeline(settings, days[0], days[-1], instance=dg.DagsterInstance.ephemeral())
    assert outcome.success, outcome.reason
    manifest = json.loads((settings.inbox_dir / "_manifest.json").read_text())
    return TierRun(settings, manifest, time.perf_counter() - started)


@pytest.fixture
def real_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"real public samples not found at {SHARED_DATA} (see shared/data/README.md)")
    return SHARED_DATA
