"""Build the dbt project over the hand-made raw fixture in a temporary DuckDB file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT = ROOT / "dbt_project"
FIXTURES = ROOT / "tests" / "fixtures" / "dbt"


def _dbt_executable() -> str:
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


class DbtWarehouse:
    """A tmp DuckDB with the raw fixture loaded and a private dbt target/log directory."""

    def __init__(self, workdir: Path, fixture: str | None, copy_of: Path | None = None) -> None:
        self.workdir = workdir
        self.db = workdir / "build.duckdb"
        if copy_of is not None:
            shutil.copyfile(copy_of, self.db)
        else:
            with duckdb.connect(str(self.db)) as con:
                con.execute((FIXTURES / str(fixture)).read_text())

    def execute(self, sql: str) -> None:
        """Write to the warehouse (load a day, plant a defect)."""
        with duckdb.connect(str(self.db)) as con:
            con.execute(sql)

    def dbt(self, *args: str, vars: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "C360_BUILD_DB": str(self.db),
            "C360_DBT_THREADS": "1",
            "C360_DUCKDB_MEMORY_LIMIT": "1GB",
            "C360_TMP_DIR": str(self.workdir / "tmp"),
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        cmd = [
            _dbt_executable(),
            *args,
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(self.workdir / "target"),
            "--log-path",
            str(self.workdir / "logs"),
        ]
        if vars:
            cmd += ["--vars", json.dumps(vars)]
        result = subprocess.run(cmd, env=env, cwd=self.workdir, capture_output=True, text=True, timeout=600)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
        return result

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            cur = con.execute(sql, params or [])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture(scope="module")
def dbt_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., DbtWarehouse]:
    """make(fixture) loads a raw fixture; make(copy_of=warehouse) copies a built one."""

    def make(fixture: str | None = None, copy_of: DbtWarehouse | None = None) -> DbtWarehouse:
        source = copy_of.db if copy_of is not None else None
        return DbtWarehouse(tmp_path_factory.mktemp("dbt"), fixture, copy_of=source)

    return make
