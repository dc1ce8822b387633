"""The line_items layout: one transactions.csv per day -> orders, lines, products, customers."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from pipelines.ingest import ingest_table, load_contracts
from pipelines.ingest.contracts import parse_contract
from tests.ingest.conftest import CONTRACTS, FIXTURES, gz, quarantine, snapshot

DAY = date(2025, 9, 1)
PROFILE = CONTRACTS / "profiles" / "line_items" / "crm.yml"


def _inbox(tmp_path: Path) -> Path:
    box = tmp_path / "inbox"
    (box / "crm/2025-09-01").mkdir(parents=True)
    shutil.copy(FIXTURES / "transactions.csv", box / "crm/2025-09-01/transactions.csv")
    return box


def test_profile_gives_the_standard_raw_columns() -> None:
    standard = load_contracts(CONTRACTS)["crm"].tables
    derived = parse_contract(PROFILE).tables
    for name, table in derived.items():
        assert table.raw_table == standard[name].raw_table
        assert [(c.name, c.type) for c in table.columns] == [(c.name, c.type) for c in standard[name].columns]


def test_line_items_derivation(con, tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    tables = parse_contract(PROFILE).tables
    results = {name: ingest_table(con, t, inbox, DAY) for name, t in tables.items()}
    lines = results["order_lines"].files[0]
    assert (lines.rows_read, lines.rows_loaded, lines.rows_quarantined) == (7, 5, 2)
    assert quarantine(con, "crm_order_lines") == [
        (7, "invalid_type", "quantity", "rejected"),
        (8, "missing_required", "customer_id", "rejected"),
    ]
    assert con.execute(
        "SELECT order_id, line_no, product_id, quantity, unit_price, _line_number FROM raw.crm_order_lines ORDER BY ALL"
    ).fetchall() == [
        ("536365", 1, "85123A", 6, Decimal("2.55"), 2),
        ("536365", 2, "71053", 6, Decimal("3.39"), 3),
        ("536366", 1, "22633", 6, Decimal("1.85"), 4),
        ("536367", 1, "84879", 32, Decimal("1.69"), 5),
        ("C536379", 1, "85123A", -2, Decimal("2.65"), 6),  # a credit note line: 2 units given back
    ]
    # By hand: 536365 = 6 x 2.55 + 6 x 3.39 = 15.30 + 20.34 = 35.64; 536366 = 6 x 1.85 = 11.10;
    # 536367 = 32 x 1.69 = 54.08; C536379 is a credit note, -2 x 2.65 = -5.30: status returned with
    # its negative total, so the marts subtract it (13047 nets 54.08 - 5.30 = 48.78), where the old
    # mapping to 'cancelled' counted nothing and left 13047 at 54.08.
    assert con.execute(
        "SELECT order_id, customer_id, order_ts, status, total_amount FROM raw.crm_orders ORDER BY 1"
    ).fetchall() == [
        ("536365", "17850", datetime(2025, 9, 1, 8, 26), "completed", Decimal("35.64")),
        ("536366", "17850", datetime(2025, 9, 1, 8, 28), "completed", Decimal("11.10")),
        ("536367", "13047", datetime(2025, 9, 1, 8, 34), "completed", Decimal("54.08")),
        ("C536379", "13047", datetime(2025, 9, 1, 9, 41), "returned", Decimal("-5.30")),
    ]
    assert con.execute(
        """SELECT customer_id,
                  sum(total_amount) FILTER (WHERE status = 'completed')
                  + coalesce(sum(total_amount) FILTER (WHERE status = 'returned' AND total_amount < 0), 0)
           FROM raw.crm_orders GROUP BY 1 ORDER BY 1"""
    ).fetchall() == [("13047", Decimal("48.78")), ("17850", Decimal("46.74"))]
    assert con.execute("SELECT product_id, name, list_price FROM raw.crm_products ORDER BY 1").fetchall() == [
        ("22633", "HAND WARMER UNION JACK", Decimal("1.85")),
        ("71053", "WHITE METAL LANTERN", Decimal("3.39")),
        ("84879", "ASSORTED COLOUR BIRD ORNAMENT", Decimal("1.69")),
        ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", Decimal("2.65")),
    ]
    assert con.execute(
        "SELECT customer_id, country, created_at FROM raw.crm_customers ORDER BY 1"
    ).fetchall() == [
        ("13047", "France", datetime(2025, 9, 1, 8, 34)),
        ("17850", "United Kingdom", datetime(2025, 9, 1, 8, 26)),
    ]
    assert results["interactions"].files == []
    assert con.execute("SELECT count(*) FROM raw.crm_interactions").fetchone()[0] == 0
    # Idempotent like every other load.
    before = {t.raw_table: snapshot(con, t.raw_table) for t in tables.values()}
    for t in tables.values():
        ingest_table(con, t, inbox, DAY)
    assert {t.raw_table: snapshot(con, t.raw_table) for t in tables.values()} == before


def test_line_level_file_delivered_gzipped(con, tmp_path: Path) -> None:
    """The derived tables find the day's transactions.csv.gz as they find transactions.csv."""
    plain, compressed = _inbox(tmp_path / "plain"), _inbox(tmp_path / "gz")
    rel = "crm/2025-09-01/transactions.csv"
    gz(compressed / rel, compressed / f"{rel}.gz")
    (compressed / rel).unlink()
    tables = parse_contract(PROFILE).tables
    loaded = {}
    for box in (plain, compressed):
        results = {name: ingest_table(con, t, box, DAY) for name, t in tables.items()}
        assert {f.source_file for r in results.values() for f in r.files} == {
            rel if box == plain else f"{rel}.gz"
        }
        loaded[box] = {
            t.raw_table: con.execute(
                f"SELECT * EXCLUDE (_loaded_at, _source_file) FROM raw.{t.raw_table} ORDER BY ALL"
            ).fetchall()
            for t in tables.values()
        }
    assert loaded[plain]["crm_order_lines"] and loaded[compressed] == loaded[plain]
