"""dbt as Dagster runs it: per-run target folders pruned to the newest few, no version subprocess."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.transform import prune_run_targets


def _target(root: Path, name: str, written: float, log_written: float | None = None) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "manifest.json").write_text("{}")
    if log_written is not None:
        (folder / "dbt.log").write_text("...")
        os.utime(folder / "dbt.log", (log_written, log_written))
    os.utime(folder, (written, written))
    return folder


def test_keeps_the_newest_and_deletes_the_rest(tmp_path: Path) -> None:
    for i in range(5):
        _target(tmp_path, f"dbt_datamart-run{i}-abc", written=1_000 + i)
    other = _target(tmp_path, "other_op-run9-abc", written=1)  # another op's folders are not ours
    (tmp_path / "manifest.json").write_text("{}")  # the project's own target files stay

    removed = prune_run_targets(tmp_path, "dbt_datamart", keep=2)

    assert sorted(p.name for p in removed) == [f"dbt_datamart-run{i}-abc" for i in range(3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dbt_datamart-run3-abc",
        "dbt_datamart-run4-abc",
        "manifest.json",
        other.name,
    ]


def test_a_run_still_logging_counts_as_newest(tmp_path: Path) -> None:
    """A long build's folder was created first, but its dbt.log is being appended to."""
    running = _target(tmp_path, "dbt_datamart-long-abc", written=100, log_written=5_000)
    for i in range(3):
        _target(tmp_path, f"dbt_datamart-short{i}-abc", written=1_000 + i, log_written=1_000 + i)

    prune_run_targets(tmp_path, "dbt_datamart", keep=1)

    assert [p.name for p in tmp_path.iterdir()] == [running.name]


def test_keep_zero_removes_all_and_a_missing_target_dir_is_fine(tmp_path: Path) -> None:
    _target(tmp_path, "dbt_datamart-a-1", written=1)
    assert len(prune_run_targets(tmp_path, "dbt_datamart", keep=0)) == 1
    assert list(tmp_path.iterdir()) == []
    assert prune_run_targets(tmp_path / "absent", "dbt_datamart", keep=3) == []


def test_the_venv_dbt_version_is_read_without_a_subprocess(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """dagster-dbt would run `dbt --version` before every build: seconds of dbt imports."""
    import importlib.metadata
    import sys

    import dagster_dbt.core.resource as dbt_core_resource

    from pipelines.settings import Settings
    from pipelines.transform import dbt_resource

    calls: list[list[str]] = []

    def fake_check_output(argv: list[str]) -> bytes:
        calls.append(argv)
        return b"Core:\n  - installed: 1.11.99\n"

    monkeypatch.setattr(dbt_core_resource, "check_output", fake_check_output)
    resource = dbt_resource(Settings())
    assert Path(resource.dbt_executable).parent == Path(sys.executable).parent
    assert str(resource._cli_version) == importlib.metadata.version("dbt-core")
    assert calls == []
    assert "--no-use-colors" in resource.global_config_flags

    # no in-process adapter either: dagster-dbt's would load the profile, project and macros
    import dbt.adapters.factory

    registered: list[object] = []
    monkeypatch.setattr(dbt.adapters.factory, "register_adapter", lambda *a, **k: registered.append(a))
    assert resource._initialize_dbt_core_adapter(["build", "--vars", "{}"]) is None and registered == []

    # a dbt installed elsewhere: ask it, as dagster-dbt does
    other = tmp_path / "bin" / "dbt"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    elsewhere = type(resource)(project_dir=resource.project_dir, dbt_executable=str(other))
    assert str(elsewhere._cli_version) == "1.11.99" and calls == [[str(other), "--version"]]
