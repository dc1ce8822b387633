"""The command line's behaviour on the edges a newcomer hits first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
    return tmp_path


def test_run_with_an_empty_inbox_says_what_to_do(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 1
    assert "c360 generate" in capsys.readouterr().err


def test_generate_if_absent_keeps_matching_data_and_refuses_another_tier(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = data_dir / "inbox"
    inbox.mkdir()
    (inbox / "_manifest.json").write_text(json.dumps({"tier": "M", "seed": 42}))
    assert main(["generate", "--tier", "M", "--seed", "42", "--if-absent"]) == 0
    assert "not regenerated" in capsys.readouterr().out
    assert main(["generate", "--tier", "S", "--seed", "42", "--if-absent"]) == 2
    assert "make clean-data" in capsys.readouterr().err


def test_run_before_the_first_partition_is_refused(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--date", "2020-01-01"]) == 2
    assert "C360_START_DATE" in capsys.readouterr().err


def test_bad_setting_is_one_line(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("C360_TIER", "XXL")
    assert main(["status"]) == 2
    assert capsys.readouterr().err.strip().startswith("c360: C360_TIER='XXL'")
