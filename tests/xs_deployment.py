"""A tiny deployment for tests that drive the real processes (`c360`, `dagster dev`).

Tier XS generated into its own data dir, a DAGSTER_HOME with the project's dagster.yaml,
and the environment that points the child processes at both.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pipelines.settings import PROJECT_DIR, Settings
from pipelines.synth import generate

XS_SEED = 7


def xs_deployment(root: Path) -> tuple[Settings, dict[str, str]]:
    settings = Settings(data_dir=root / "data", tier="XS", seed=XS_SEED, duckdb_memory_limit="1GB")
    generate(settings, "XS", XS_SEED, out_dir=settings.inbox_dir)
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_DIR / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "C360_DATA_DIR": str(settings.data_dir),
        "C360_TIER": "XS",
        "C360_DUCKDB_MEMORY_LIMIT": "1GB",
        "DO_NOT_TRACK": "1",
    }
    return settings, env
