"""Great Expectations 1.x, called directly (the Dagster GX integration stops below 1.0).

Batches are pandas frames read from DuckDB one table range at a time: measured here, the
GX SQL path through duckdb_engine fails on DuckDB 2.x, and GX does not take polars.

GX's pandas engine fingerprints every batch under 1 GB by hashing all its cells into an md5
batch marker (`pandas_data_fingerprint`), twice per validation: once for the Batch and again
when `Batch.validate` rebuilds it. Nothing reads that marker and no expectation depends on it,
but it took half the tier M clickstream check (5.3 s of 11.2 s), so the context turns it off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# GX sends usage analytics by default; nothing here may wait on the network.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass(frozen=True)
class Expectation:
    """One expectation by GX class name, e.g. ("ExpectColumnValuesToNotBeNull", {"column": "x"})."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    # How the check is named in metadata when the GX class name says little (pair expectations).
    name: str | None = None

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        target = self.params.get("column") or ",".join(self.params.get("column_list", []))
        return f"{self.kind}({target})" if target else self.kind


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: Expectation
    success: bool
    unexpected_count: int | None
    unexpected_percent: float | None
    sample: list[Any]


_CONTEXT = None


def _context():  # GX's context type is internal
    """One ephemeral context per process: creating one costs about a second."""
    global _CONTEXT
    if _CONTEXT is None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        _CONTEXT = gx.get_context(mode="ephemeral")
        _CONTEXT.variables.progress_bars = ProgressBarsConfig(globally=False)
        _skip_batch_fingerprint()
    return _CONTEXT


def _skip_batch_fingerprint() -> None:
    """Batches at or above HASH_THRESHOLD bytes get no fingerprint: make that every batch.

    A module constant of GX 1.x, not an API. If a release drops it, checks stay correct but
    slow; tests/quality/test_gx_runner.py then fails instead of letting that pass unseen.
    """
    from great_expectations.execution_engine import pandas_execution_engine

    if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        pandas_execution_engine.HASH_THRESHOLD = 0


def validate_frame(
    name: str, frame: pd.DataFrame, expectations: list[Expectation], sample_size: int = 10
) -> list[ExpectationOutcome]:
    """Validate a pandas frame against expectations; one outcome per expectation."""
    import great_expectations as gx

    if not expectations:
        return []
    ctx = _context()
    source_name = f"src_{name}"
    try:
        source = ctx.data_sources.get(source_name)
    except (KeyError, ValueError, LookupError):
        source = ctx.data_sources.add_pandas(source_name)
    try:
        asset = source.get_asset(name)
    except LookupError:
        asset = source.add_dataframe_asset(name)
    try:
        batch_def = asset.get_batch_definition("whole")
    except (KeyError, ValueError, LookupError):
        batch_def = asset.add_batch_definition_whole_dataframe("whole")
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    suite = gx.ExpectationSuite(name=f"{name}_suite")
    for i, exp in enumerate(expectations):
        # GX reorders results; the index in meta ties each result to its expectation.
        suite.add_expectation(getattr(gx.expectations, exp.kind)(**exp.params, meta={"c360_index": i}))
    result = batch.validate(
        suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": sample_size}
    )
    by_index = {int(res.expectation_config.meta["c360_index"]): res for res in result.results}
    outcomes = []
    for i, exp in enumerate(expectations):
        res = by_index[i]
        details = res.result or {}
        sample = details.get("partial_unexpected_list") or []
        outcomes.append(
            ExpectationOutcome(
                expectation=exp,
                success=bool(res.success),
                unexpected_count=details.get("unexpected_count"),
                unexpected_percent=details.get("unexpected_percent"),
                sample=[_show(v) for v in sample[:sample_size]],
            )
        )
    return outcomes


def _show(value: Any) -> str:
    """A sample value as a person reads it; a pair expectation's (A, B) as "B (A)"."""
    if isinstance(value, tuple | list) and len(value) == 2:
        return f"{_show(value[1])} (limit {_show(value[0])})"
    if isinstance(value, np.datetime64):
        return str(pd.Timestamp(value))
    return str(value)
