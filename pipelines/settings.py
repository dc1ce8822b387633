"""The one place that reads the environment.

Every path, date and threshold the pipeline uses comes from a `Settings` object. It is
built from environment variables (with defaults) by `Settings.from_env()` when
definitions or the CLI start, then handed to Dagster resources; no other module reads
`os.environ`. Tests build `Settings(...)` directly with a temporary data directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Tier:
    """Size of a generated data set (DESIGN.md, scale tiers)."""

    name: str
    customers: int
    orders: int
    clickstream_events: int
    log_lines: int
    days: int


TIERS: dict[str, Tier] = {
    # XS is not in the design card: a few-second tier for tests of the bench harness.
    "XS": Tier("XS", 200, 1_000, 10_000, 5_000, 7),
    "S": Tier("S", 2_000, 10_000, 200_000, 100_000, 30),
    "M": Tier("M", 50_000, 400_000, 5_000_000, 2_000_000, 90),
    "L": Tier("L", 1_000_000, 6_000_000, 30_000_000, 10_000_000, 365),
}


def _env_date(env: Mapping[str, str], key: str, default: date | None) -> date | None:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValueError(f"{key}={raw!r} is not a date (expected YYYY-MM-DD)") from exc


def _env_int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{key}={raw!r} is not a whole number") from exc


@dataclass(frozen=True)
class Settings:
    """Paths and parameters of one deployment of the warehouse."""

    data_dir: Path = PROJECT_DIR / "data"
    contracts_dir: Path = PACKAGE_DIR / "contracts"
    dbt_project_dir: Path = PROJECT_DIR / "dbt_project"
    models_dir: Path = PROJECT_DIR / "models"
    tier: str = "M"
    seed: int = 42
    # First day of generated data and of the Dagster daily partitions.
    start_date: date = date(2025, 9, 1)
    # Last day to process; None means "the last day found in the inbox".
    end_date: date | None = None
    # DuckDB resource limits: large tiers spill to temp_dir instead of being killed.
    duckdb_memory_limit: str = "4GB"
    duckdb_threads: int = 2
    dbt_threads: int = 1
    # Clickstream events may arrive up to this many days late (in a later day's file).
    late_arrival_days: int = 1
    # A timestamp later than the file's day plus this tolerance is "in the future".
    future_tolerance_days: int = 1
    extra: Mapping[str, str] = field(default_factory=dict)

    # ---- derived paths -------------------------------------------------------------
    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def tmp_dir(self) -> Path:
        """DuckDB spill directory: on real disk, next to the data."""
        return self.data_dir / "tmp"

    @property
    def build_db(self) -> Path:
        """Written by ingest, dbt and checks; analysts never open it."""
        return self.warehouse_dir / "build.duckdb"

    @property
    def datamart_db(self) -> Path:
        """The published, read-only database analysts query."""
        return self.warehouse_dir / "datamart.duckdb"

    @property
    def tier_spec(self) -> Tier:
        return TIERS[self.tier]

    def with_data_dir(self, data_dir: Path) -> Settings:
        return replace(self, data_dir=Path(data_dir))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from C360_* environment variables (defaults above)."""
        env = os.environ if env is None else env
        defaults = cls()
        tier = env.get("C360_TIER", defaults.tier).upper()
        if tier not in TIERS:
            raise ValueError(f"C360_TIER={tier!r} is not one of {', '.join(TIERS)}")
        return cls(
            data_dir=Path(env.get("C360_DATA_DIR", str(defaults.data_dir))).resolve(),
            contracts_dir=Path(env.get("C360_CONTRACTS_DIR", str(defaults.contracts_dir))).resolve(),
            dbt_project_dir=Path(env.get("C360_DBT_PROJECT_DIR", str(defaults.dbt_project_dir))).resolve(),
            models_dir=Path(env.get("C360_MODELS_DIR", str(defaults.models_dir))).resolve(),
            tier=tier,
            seed=_env_int(env, "C360_SEED", defaults.seed),
            start_date=_env_date(env, "C360_START_DATE", defaults.start_date) or defaults.start_date,
            end_date=_env_date(env, "C360_END_DATE", None),
            duckdb_memory_limit=env.get("C360_DUCKDB_MEMORY_LIMIT", defaults.duckdb_memory_limit),
            duckdb_threads=_env_int(env, "C360_DUCKDB_THREADS", defaults.duckdb_threads),
            dbt_threads=_env_int(env, "C360_DBT_THREADS", defaults.dbt_threads),
            late_arrival_days=_env_int(env, "C360_LATE_ARRIVAL_DAYS", defaults.late_arrival_days),
            future_tolerance_days=_env_int(env, "C360_FUTURE_TOLERANCE_DAYS", defaults.future_tolerance_days),
        )
