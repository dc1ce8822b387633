"""Fixtures for publish tests (helpers live in publish_testkit.py, importable by the tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
from publish_testkit import make_settings

from pipelines.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on tmp_path with build.duckdb holding the fake marts."""
    return make_settings(tmp_path)
