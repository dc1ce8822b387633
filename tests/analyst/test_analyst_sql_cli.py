"""`c360 sql` on the tier S datamart: formats, limits, read-only, one-line errors, the prompt."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines.analyst.options import TABLE_ROWS
from pipelines.analyst.sql import interactive
from pipelines.cli import main
from pipelines.settings import TIERS, Settings

pytestmark = pytest.mark.slow


def c360(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["sql", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_shows_exact_values_of_a_known_query(published_env, capsys) -> None:
    code, out, err = c360(
        capsys, "SELECT count(*) AS customers, count(DISTINCT country) > 1 AS many FROM customer_360"
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["customers", "many"]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split() == [str(TIERS["S"].customers), "true"]
    assert lines[3] == "(1 row)"


def test_table_is_truncated_with_a_note_on_rows_shown(published_env, mart, capsys) -> None:
    orders = mart.scalar("SELECT count(*) FROM marts.fct_orders")
    code, out, _ = c360(capsys, "SELECT order_id, net_amount FROM marts.fct_orders ORDER BY order_id")
    lines = out.splitlines()
    assert code == 0 and orders > TABLE_ROWS
    assert len(lines) == 2 + TABLE_ROWS + 1
    assert lines[-1] == f"({TABLE_ROWS} of {orders:,} rows shown)"
    first = mart.rows("SELECT order_id, net_amount FROM marts.fct_orders ORDER BY order_id LIMIT 1")[0]
    assert lines[2].split() == [first[0], str(first[1])]
    # numbers are right-aligned: every amount ends in the same column
    assert len({len(line) for line in lines[2:-1]}) == 1


def test_wide_rows_drop_columns_with_a_note(published_env, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = c360(capsys, "SELECT * FROM customer_360 ORDER BY customer_id", "--limit", "3")
    lines = out.splitlines()
    assert code == 0
    assert max(len(line) for line in lines[:-1]) <= 80
    assert lines[-1].startswith(f"(3 of {TIERS['S'].customers:,} rows shown; ")
    assert "more columns not shown (" in lines[-1]


def test_csv_to_stdout_with_limit_matches_the_datamart(published_env, mart, capsys) -> None:
    code, out, _ = c360(
        capsys,
        "SELECT channel, sum(net_amount) AS revenue FROM fct_orders GROUP BY 1 ORDER BY 1",
        "--format",
        "csv",
    )
    assert code == 0
    got = list(csv.DictReader(io.StringIO(out)))
    want = mart.rows("SELECT channel, sum(net_amount) FROM marts.fct_orders GROUP BY 1 ORDER BY 1")
    assert [(r["channel"], Decimal(r["revenue"])) for r in got] == want
    code, out, _ = c360(capsys, "SELECT * FROM fct_orders", "--format", "csv", "--limit", "3")
    assert code == 0 and len(out.splitlines()) == 4


def test_json_and_output_file(published_env, mart, capsys, tmp_path: Path) -> None:
    target = tmp_path / "pareto.json"
    code, out, _ = c360(capsys, "--query", "pareto_share", "--format", "json", "--output", str(target))
    assert (code, out) == (0, "")
    [row] = json.loads(target.read_text())
    assert row["paying_customers"] == mart.scalar(
        "SELECT count(*) FROM marts.customer_360 WHERE net_revenue > 0"
    )
    assert float(row["net_revenue"]) == float(mart.scalar("SELECT sum(net_revenue) FROM marts.customer_360"))
    assert 0.2 <= row["top_20pct_revenue_share"] <= 1


def test_parquet_needs_output_and_keeps_rows_and_types(published_env, mart, capsys, tmp_path: Path) -> None:
    code, _, err = c360(capsys, "SELECT * FROM fct_orders", "--format", "parquet")
    assert code == 1 and err == "c360 sql: --format parquet needs --output FILE\n"
    target = tmp_path / "orders.parquet"
    code, out, _ = c360(capsys, "SELECT * FROM marts.fct_orders", "--format", "parquet", "-o", str(target))
    assert (code, out) == (0, "")
    table = pq.read_table(target)
    assert table.num_rows == mart.scalar("SELECT count(*) FROM marts.fct_orders")
    assert table.schema.field("net_amount").type.scale == 2, "decimals stay decimals"
    assert table.column_names[0] == "order_id"
    broken = tmp_path / "broken.parquet"
    code, _, err = c360(
        capsys, "SELECT error('boom') FROM range(3)", "--format", "parquet", "-o", str(broken)
    )
    assert code == 1 and err == "c360 sql: Invalid Input Error: boom\n"
    assert not broken.exists(), "a failed query leaves no half-written file"


def test_unpublished_datamart_is_one_line_pointing_to_make_run(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
    code, out, err = c360(capsys, "SELECT 1")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "make run" in err and "no published datamart" in err
    assert not (tmp_path / "warehouse").exists(), "a failed query must not create the warehouse"
    code, out, err = c360(capsys)  # the prompt refuses before asking for input
    assert (code, out) == (1, "") and "make run" in err and err.count("\n") == 1


def test_sql_errors_are_one_line_without_traceback(published_env, capsys) -> None:
    code, _, err = c360(capsys, "SELECT * FROM no_such_table")
    assert code == 1 and err.startswith("c360 sql: Catalog Error: ") and err.count("\n") == 1
    code, _, err = c360(capsys, "SELEC 1")
    assert code == 1 and err.startswith("c360 sql: Parser Error: ") and "Traceback" not in err


def test_datamart_is_opened_read_only(published_env, tier_s, capsys) -> None:
    path = tier_s.settings.datamart_db
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    code, _, err = c360(capsys, "CREATE TABLE marts.scratch AS SELECT 1 AS x")
    assert code == 1 and "read-only" in err
    code, _, err = c360(capsys, "DELETE FROM marts.fct_orders")
    assert code == 1 and "read-only" in err
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not path.with_name(path.name + ".wal").exists()


def test_interactive_prompt(tier_s, mart) -> None:
    script = iter(
        [
            ".tables",
            ".schema customer_360",
            "SELECT count(*) AS n",
            "FROM customer_360;",
            "SELEC 1;",
            ".schema nope",
            ".quit",
            "SELECT 'never reached';",
        ]
    )
    out, err = io.StringIO(), io.StringIO()
    code = interactive(tier_s.settings, out, err, read=lambda _prompt: next(script), width=200)
    text = out.getvalue()
    assert code == 0
    assert "marts.customer_360" in text and "meta.publication" in text
    assert "Non-cancelled orders (completed + returned)." in text, ".schema shows meanings from the dbt YAML"
    assert f"\n{TIERS['S'].customers}\n(1 row)" in text
    assert "never reached" not in text
    assert err.getvalue().splitlines() == [
        'error: Parser Error: syntax error at or near "SELEC"',
        "error: no table 'nope' in the datamart (see .tables)",
    ]
    assert mart.scalar("SELECT count(*) FROM marts.customer_360") == TIERS["S"].customers


def test_real_entry_point_in_a_subprocess(published_env) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sql", "SELECT 42 AS answer", "--format", "csv"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (0, "answer\n42\n"), done.stderr


def _publish_stub(path: Path, run_id: str) -> None:
    """A minimal datamart file (what publish writes, reduced to meta.publication)."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA meta")
        con.execute("CREATE TABLE meta.publication AS SELECT ? AS run_id", [run_id])


def test_prompt_holds_no_connection_between_statements_and_sees_a_new_publish(tmp_path: Path) -> None:
    """Open, query, close: a publish (atomic rename) between two statements is picked up, never blocked."""
    settings = Settings(data_dir=tmp_path)
    settings.warehouse_dir.mkdir()
    _publish_stub(settings.datamart_db, "run-one")
    staged = settings.warehouse_dir / ".datamart-next.duckdb"

    def publish_between_statements() -> str:
        # Opening the served file read-write fails if the prompt still holds it open (same process).
        with duckdb.connect(str(settings.datamart_db)) as con:
            assert con.execute("SELECT run_id FROM meta.publication").fetchall() == [("run-one",)]
        _publish_stub(staged, "run-two")
        os.replace(staged, settings.datamart_db)
        return "SELECT run_id FROM meta.publication;"

    script = iter([lambda: "SELECT run_id FROM publication;", publish_between_statements, lambda: ".quit"])
    out, err = io.StringIO(), io.StringIO()
    assert interactive(settings, out, err, read=lambda _prompt: next(script)()) == 0
    lines = out.getvalue().splitlines()
    assert "run-one" in lines and "run-two" in lines
    assert lines.index("run-one") < lines.index("run-two")
    assert err.getvalue() == ""
