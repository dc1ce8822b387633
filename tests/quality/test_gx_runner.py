"""The GX runner: batches are not fingerprinted, and string storage does not change outcomes."""

from __future__ import annotations

import pandas as pd
import pytest
from great_expectations.execution_engine import pandas_execution_engine

from pipelines.quality.gx_runner import Expectation, validate_frame

EXPECTATIONS = [
    Expectation("ExpectColumnValuesToNotBeNull", {"column": "event_id"}),
    Expectation("ExpectColumnValuesToBeInSet", {"column": "event_type", "value_set": ["view", "buy"]}),
    Expectation(
        "ExpectColumnValuesToMatchRegex",
        {"column": "email", "regex": r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "mostly": 0.95},
    ),
    Expectation("ExpectColumnValuesToBeBetween", {"column": "qty", "min_value": 1, "max_value": 9}),
    Expectation(
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {"column_A": "limit", "column_B": "ts", "or_equal": True, "ignore_row_if": "either_value_is_missing"},
    ),
    Expectation("ExpectCompoundColumnsToBeUnique", {"column_list": ["event_id", "day"]}),
]


def _planted(n: int = 3000) -> pd.DataFrame:
    """Clean rows with a few defects of every kind the suite looks for, and NULLs besides."""
    ts = pd.Timestamp("2025-09-01 12:00", tz="UTC")
    frame = pd.DataFrame(
        {
            "event_id": [f"e{i:06d}" for i in range(n)],
            "event_type": ["view" if i % 3 else "buy" for i in range(n)],
            "email": [f"u{i}@shop.example" for i in range(n)],
            "qty": [1 + i % 9 for i in range(n)],
            "ts": [ts] * n,
            "limit": [pd.Timestamp("2025-09-03", tz="UTC")] * n,
            "day": [pd.Timestamp("2025-09-01")] * n,
        }
    )
    frame.loc[[5, 900], "event_id"] = None
    frame.loc[[10, 11], "event_id"] = "e000012"  # with row 12: three rows of one key
    frame.loc[[7, 1500, 2999], "event_type"] = "teleport"
    frame.loc[[8, 9], "event_type"] = None
    frame.loc[[20, 21, 22], "email"] = "not-an-email"
    frame.loc[[23], "email"] = None
    frame.loc[[30, 31], "qty"] = [0, 10]
    frame.loc[[40, 41], "ts"] = pd.Timestamp("2025-09-03 00:00:01", tz="UTC")
    return frame


def _strings_as(frame: pd.DataFrame, dtype: str) -> pd.DataFrame:
    return frame.astype({c: dtype for c in ("event_id", "event_type", "email")})


def _outcomes(frame: pd.DataFrame) -> list[tuple[str, bool, int | None, list]]:
    return [
        (o.expectation.label, o.success, o.unexpected_count, o.sample)
        for o in validate_frame("planted", frame, EXPECTATIONS, sample_size=5)
    ]


def test_arrow_strings_give_the_outcomes_of_object_strings() -> None:
    """`.df()` and fetch_frame hand GX pyarrow-backed strings (pandas 3): same results as objects."""
    arrow = _outcomes(_strings_as(_planted(), "str"))
    assert [(label, ok, count) for label, ok, count, _ in arrow] == [
        ("ExpectColumnValuesToNotBeNull(event_id)", False, 2),
        ("ExpectColumnValuesToBeInSet(event_type)", False, 3),
        ("ExpectColumnValuesToMatchRegex(email)", True, 3),  # 3 of 2999 non-null: within mostly
        ("ExpectColumnValuesToBeBetween(qty)", False, 2),
        ("ExpectColumnPairValuesAToBeGreaterThanB", False, 2),
        ("ExpectCompoundColumnsToBeUnique(event_id,day)", False, 5),
    ]
    assert arrow == _outcomes(_strings_as(_planted(), "object"))


def test_batches_are_not_fingerprinted(monkeypatch: pytest.MonkeyPatch) -> None:
    """GX hashed every cell of every batch twice for a marker nobody reads (gx_runner docstring)."""
    hashed: list[int] = []
    real = pandas_execution_engine.hash_pandas_dataframe
    monkeypatch.setattr(
        pandas_execution_engine, "hash_pandas_dataframe", lambda df: hashed.append(len(df)) or real(df)
    )
    outcomes = _outcomes(_planted())
    assert len(outcomes) == len(EXPECTATIONS)
    assert hashed == []
