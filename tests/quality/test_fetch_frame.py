"""fetch_frame builds through Arrow the same frame `.df()` builds, so GX outcomes cannot change."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest

from pipelines.quality.input_checks import fetch_frame

# Every column type of the source contracts, plus the DATE and TIMESTAMPTZ of the derived limits.
_ROWS = """
    ('a', 1::TINYINT, 2::SMALLINT, 3::INTEGER, 4::BIGINT, 1.5::FLOAT, 1.5::DOUBLE, 0.29::DECIMAL(12,2),
     2.25::DECIMAL(14,2), true, DATE '2025-09-01', TIMESTAMP '2025-09-01 10:00:00',
     TIMESTAMPTZ '2025-09-01 10:00:00+00'),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('c', -5, 6, 7, 8, 2.5, 9.0, 9.99, 123456789012.34, false, DATE '2025-09-02',
     TIMESTAMP '2025-09-02 10:00:00', TIMESTAMPTZ '2025-09-03 00:00:00+00')
"""


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Europe/Berlin'")  # a zone that is not UTC shows a lost time zone
    con.execute(
        f"CREATE TABLE t AS SELECT * FROM (VALUES {_ROWS}) "
        "v(s, ti, si, i, bi, f, dbl, d12, d14, b, dt, ts, tstz)"
    )
    yield con
    con.close()


def _assert_same(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(expected, got, check_exact=True)
    # assert_frame_equal takes None and NaN as equal; a GX sample shows "None" or "nan".
    for name in expected.columns:
        assert [repr(v) for v in expected[name]] == [repr(v) for v in got[name]], name


@pytest.mark.parametrize(
    "where",
    ["s IS NOT NULL OR s IS NULL", "s IS NOT NULL", "s IS NULL", "false"],
    ids=["with-nulls", "no-nulls", "only-nulls", "no-rows"],
)
def test_every_contract_type_converts_as_df_does(con: duckdb.DuckDBPyConnection, where: str) -> None:
    sql = f"SELECT * FROM t WHERE {where} AND ti IS DISTINCT FROM ?"
    _assert_same(con.execute(sql, [99]).df(), fetch_frame(con, sql, [99]))


def test_decimals_are_the_doubles_df_gives(con: duckdb.DuckDBPyConnection) -> None:
    """Arrow's own decimal-to-double cast differs in the last bit for many cents values."""
    con.execute(
        "CREATE TABLE money AS SELECT (i / 100)::DECIMAL(14,2) AS amount, "
        "(i / 7)::DECIMAL(12,2) AS price FROM range(-200000, 200000) r(i)"
    )
    sql = "SELECT amount, price FROM money"
    _assert_same(con.execute(sql).df(), fetch_frame(con, sql, []))


def test_other_types_take_df(con: duckdb.DuckDBPyConnection) -> None:
    sql = "SELECT s, INTERVAL 1 DAY AS iv, 170141183460469231731687303715884105727::HUGEINT AS h FROM t"
    _assert_same(con.execute(sql).df(), fetch_frame(con, sql, []))
