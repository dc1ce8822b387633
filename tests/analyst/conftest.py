"""Analyst tests read the tier S datamart that the session fixture `tier_s` publishes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest


@dataclass
class Mart:
    """Independent read-only access to the published datamart, to compute expected values."""

    path: Path

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        return self.rows(sql, params)[0][0]


@pytest.fixture(scope="session")
def mart(tier_s) -> Mart:
    return Mart(tier_s.settings.datamart_db)


@pytest.fixture
def published_env(tier_s, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point C360_DATA_DIR (read by Settings.from_env in the CLI and notebooks) at the tier S run."""
    monkeypatch.setenv("C360_DATA_DIR", str(tier_s.settings.data_dir))
    return tier_s.settings.data_dir
