"""The one place that reads the environment.

Every path, date and threshold the pipeline uses comes from a `Settings` object. It is
built from environment variables (with defaults) by `Settings.from_env()` when
definitions or the CLI start, then handed to Dagster resources; no other module reads
`os.environ`. Tests build `Settings(...)` directly with a temporary data directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent
# The project's Dagster instance: `make ui`, `make run` and `c360` all use it, so every run
# (command line, UI, schedule, sensor) lands in one run history.
DEFAULT_DAGSTER_HOME = PROJECT_DIR / ".dagster_home"
DAGSTER_YAML = PROJECT_DIR / "dagster.yaml"
# First line of the project's dagster.yaml: copies that still carry it are refreshed on upgrade.
MANAGED_MARKER = "# c360-managed:"


@dataclass(frozen=True)
class Tier:
    """Size of a generated data set (DESIGN.md, scale tiers)."""

    name: str
    customers: int
    orders: int
    clickstream_events: int
    log_lines: int
    days: int
    # The generator builds and writes clickstream and web logs this many days at a time (0: all
    # days at once), so its memory is one block's. Another block size draws other random
    # numbers: XS, S and M stay one block, so their files keep the bytes they always had.
    block_days: int = 0
    # The CRM's daily full customer snapshots are delivered gzipped (customers.csv.gz): at tier
    # L they are about 50 GB of CSV over the year.
    gzip_customers: bool = False


TIERS: dict[str, Tier] = {
    # XS is not in the design card: a few-second tier for tests of the bench harness.
    "XS": Tier("XS", 200, 1_000, 10_000, 5_000, 7),
    "S": Tier("S", 2_000, 10_000, 200_000, 100_000, 30),
    "M": Tier("M", 50_000, 400_000, 5_000_000, 2_000_000, 90),
    "L": Tier("L", 1_000_000, 6_000_000, 30_000_000, 10_000_000, 365, block_days=30, gzip_customers=True),
}


DEFAULT_EXPORT_HASH_KEY = "c360-local-dev-key"
HASH_KEY_ENV = "C360_EXPORT_HASH_KEY"
# Mart columns that hold personal data (names as in DESIGN.md / the dbt marts).
DEFAULT_PII_COLUMNS: tuple[str, ...] = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "full_name",
    "address",
    "ip",
    "client_ip",
    "ip_address",
)


def _env_bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{key}={raw!r} is not a boolean (expected true/false)")


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
    duckdb_memory_limit: str = "3GB"
    duckdb_threads: int = 2
    dbt_threads: int = 1
    # dagster-dbt gives every dbt invocation its own target folder (manifest, compiled SQL,
    # logs: ~14 MB at tier M); the newest this many are kept for debugging, older ones deleted.
    dbt_keep_run_targets: int = 10
    # Clickstream events may arrive up to this many days late (in a later day's file).
    late_arrival_days: int = 1
    # A timestamp later than the file's day plus this tolerance is "in the future".
    future_tolerance_days: int = 1
    # Ingest reads a range of days in passes of about this many MB of text (gzip counted at its
    # expanded size): large enough that per-pass costs vanish, small enough that a pass fits in
    # DuckDB's memory_limit without spilling (tier M clickstream: 30.4 s in one pass, 22.4 s in
    # passes of 30 days, BENCHMARKS.md).
    ingest_batch_mb: int = 256
    # Parquet exports replace personal data with a keyed hash (the datamart keeps it). The
    # default key only makes the hashes stable on one machine: set C360_EXPORT_HASH_KEY in
    # any shared deployment, or anyone can hash a known email and look it up.
    export_pseudonymize: bool = True
    export_hash_key: str = field(default=DEFAULT_EXPORT_HASH_KEY, repr=False)
    # True when the key came from C360_EXPORT_HASH_KEY: resources then pass it by reference.
    export_hash_key_from_env: bool = field(default=False, compare=False, repr=False)
    export_pii_columns: tuple[str, ...] = DEFAULT_PII_COLUMNS
    # The daily schedule's time (cron, UTC) and how often the inbox sensor looks for new days.
    schedule_cron: str = "0 6 * * *"
    inbox_sensor_interval_seconds: int = 60
    # A file modified less than this long ago may still be being copied: the sensor waits.
    inbox_settle_seconds: int = 30
    # Dagster's instance directory (absolute): run history, event logs, schedules.
    dagster_home: Path = DEFAULT_DAGSTER_HOME
    # Where operators open the Dagster UI (`make ui`): run links in `c360 run` and `c360 status`.
    ui_url: str = "http://127.0.0.1:3000"
    # On-disk format of the published datamart: readable by DuckDB 1.4 and later (the DuckDB
    # CLI 1.x, DBeaver's driver), although the pipeline itself runs DuckDB 2.x.
    datamart_storage_version: str = "v1.4.0"
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

    def run_url(self, run_id: str) -> str:
        """The run's page in the Dagster UI."""
        return f"{self.ui_url.rstrip('/')}/runs/{run_id}"

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
            dbt_keep_run_targets=_env_int(env, "C360_DBT_KEEP_RUN_TARGETS", defaults.dbt_keep_run_targets),
            late_arrival_days=_env_int(env, "C360_LATE_ARRIVAL_DAYS", defaults.late_arrival_days),
            future_tolerance_days=_env_int(env, "C360_FUTURE_TOLERANCE_DAYS", defaults.future_tolerance_days),
            ingest_batch_mb=_env_int(env, "C360_INGEST_BATCH_MB", defaults.ingest_batch_mb),
            export_pseudonymize=_env_bool(env, "C360_EXPORT_PSEUDONYMIZE", defaults.export_pseudonymize),
            export_hash_key=env.get(HASH_KEY_ENV) or defaults.export_hash_key,
            export_hash_key_from_env=bool(env.get(HASH_KEY_ENV)),
            export_pii_columns=tuple(
                c.strip()
                for c in env.get("C360_EXPORT_PII_COLUMNS", ",".join(defaults.export_pii_columns)).split(",")
                if c.strip()
            ),
            schedule_cron=env.get("C360_SCHEDULE_CRON", defaults.schedule_cron),
            inbox_sensor_interval_seconds=_env_int(
                env, "C360_INBOX_SENSOR_INTERVAL_SECONDS", defaults.inbox_sensor_interval_seconds
            ),
            inbox_settle_seconds=_env_int(env, "C360_INBOX_SETTLE_SECONDS", defaults.inbox_settle_seconds),
            dagster_home=Path(env.get("DAGSTER_HOME") or defaults.dagster_home).resolve(),
            ui_url=env.get("C360_UI_URL", defaults.ui_url),
            datamart_storage_version=env.get(
                "C360_DATAMART_STORAGE_VERSION", defaults.datamart_storage_version
            ),
        )


def prepare_dagster_home(settings: Settings, env: MutableMapping[str, str] | None = None) -> Path:
    """Make settings.dagster_home a usable Dagster instance directory and point DAGSTER_HOME at it.

    Without this, a command-line run with DAGSTER_HOME unset would go to a throwaway
    instance: invisible in the UI, and the inbox sensor would run those days again.
    dagster.yaml is copied in when missing, and refreshed when the copy still starts with
    the managed marker (so a project upgrade reaches existing homes); an operator who
    removes the marker keeps their edits. The variable is set because dagster.yaml reads
    it for its storage directory.
    """
    env = os.environ if env is None else env
    home = settings.dagster_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    copy = home / "dagster.yaml"
    current = copy.read_text() if copy.exists() else None
    if current is None or (current.startswith(MANAGED_MARKER) and current != DAGSTER_YAML.read_text()):
        shutil.copyfile(DAGSTER_YAML, copy)
    env["DAGSTER_HOME"] = str(home)
    return home
