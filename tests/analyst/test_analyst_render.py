"""Formatting rules of `c360 sql` output, without a database."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal

from pipelines.analyst.render import format_table, write_csv, write_json


def test_table_aligns_numbers_right_text_left_and_spells_null() -> None:
    text = format_table(["name", "amount"], [("a", Decimal("1.50")), ("long name", None)], 2)
    assert text.splitlines() == [
        "name       amount",
        "---------  ------",
        "a            1.50",
        "long name    NULL",
        "(2 rows)",
    ]


def test_null_only_column_is_not_taken_for_a_number() -> None:
    text = format_table(["birth_date"], [(None,), (None,)], 2)
    assert text.splitlines()[2] == "NULL"


def test_long_cells_are_clipped_and_missing_rows_and_columns_are_noted() -> None:
    row = ("x" * 100, 1, "b", "c")
    text = format_table(["wide", "n", "col_b", "col_c"], [row], 500, max_width=45)
    lines = text.splitlines()
    assert lines[2].startswith("x" * 39 + "…")
    assert lines[0].split() == ["wide", "n"]
    assert lines[-1] == "(1 of 500 rows shown; 2 more columns not shown (col_b, col_c))"


def test_csv_and_json_keep_values_exact() -> None:
    rows = [("C1", Decimal("87668.65"), date(2025, 9, 30), None, True, datetime(2025, 9, 30, 17, 59, 34))]
    cols = ["id", "revenue", "day", "missing", "flag", "at"]
    out = io.StringIO()
    write_csv(out, cols, rows)
    assert (
        out.getvalue() == "id,revenue,day,missing,flag,at\nC1,87668.65,2025-09-30,,true,2025-09-30 17:59:34\n"
    )
    out = io.StringIO()
    write_json(out, cols, rows)
    assert json.loads(out.getvalue()) == [
        {
            "id": "C1",
            "revenue": 87668.65,
            "day": "2025-09-30",
            "missing": None,
            "flag": True,
            "at": "2025-09-30T17:59:34",
        }
    ]
    out = io.StringIO()
    write_json(out, cols, [])
    assert json.loads(out.getvalue()) == []
