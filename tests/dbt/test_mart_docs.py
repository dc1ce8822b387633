"""Every published table (schema marts: models and seeds) and every one of its columns has a real
description in the dbt YAML, because docs/analyst-guide.md is generated from it (issue 5): an
empty description is an unexplained column in front of analysts. One case per table, so a
failure names the table."""

from __future__ import annotations

import pytest

from pipelines.analyst.guide import ColumnDoc, TableDoc, load_mart_docs, undocumented
from pipelines.settings import Settings

SETTINGS = Settings()
TABLES = {t.name: t for t in load_mart_docs(SETTINGS)}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_published_table_and_all_its_columns_are_described(name: str) -> None:
    assert TABLES[name].columns, f"{name}: no columns in the YAML"
    assert undocumented(TABLES[name]) == []


def test_every_mart_model_is_in_the_yaml() -> None:
    """A mart without a YAML block would be published without any documentation at all."""
    models = {p.stem for p in (SETTINGS.dbt_project_dir / "models" / "marts").glob("*.sql")}
    assert models - set(TABLES) == set()
    assert "rfm_segment_map" in TABLES  # the published seed is covered too


def test_an_empty_description_is_reported() -> None:
    """The check can fail: a planted table with an empty table and column description."""
    planted = TableDoc(
        name="t",
        description="",
        grain="",
        columns=(ColumnDoc("a", "integer", "the a"), ColumnDoc("b", "varchar", "")),
    )
    assert undocumented(planted) == ["t", "t.b"]
