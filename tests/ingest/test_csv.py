"""CSV ingestion: the cp1252 European customers export and a utf-8 orders export."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest import AmbiguousDeliveryError, IngestError, ingest_table
from tests.ingest.conftest import gz, quarantine, snapshot

DAY = date(2025, 9, 1)


def _customers(con, contracts, inbox):
    return ingest_table(con, contracts["crm"].tables["customers"], inbox, DAY)


def test_customers_counts_reasons_and_repairs(con, contracts, inbox: Path) -> None:
    result = _customers(con, contracts, inbox)
    (f,) = result.files
    assert (f.source_file, f.rows_read, f.rows_loaded, f.rows_quarantined, f.rows_repaired) == (
        "crm/2025-09-01/customers.csv",
        9,
        3,
        6,
        1,
    )
    assert f.rows_read == f.rows_loaded + f.rows_quarantined
    assert quarantine(con, "crm_customers") == [
        (3, "invalid_email", "email", "repaired"),
        (4, "future_timestamp", "created_at", "rejected"),
        (5, "missing_required", "customer_id", "rejected"),
        (6, "wrong_column_count", None, "rejected"),
        (7, "duplicate_key", "customer_id", "rejected"),
        (8, "invalid_type", "birth_date", "rejected"),
        (9, "invalid_value", "email_consent_type", "rejected"),
    ]
    rows = con.execute(
        "SELECT customer_id, email, first_name, last_name, city, birth_date, email_opt_in, _line_number "
        "FROM raw.crm_customers ORDER BY customer_id"
    ).fetchall()
    assert rows == [
        ("C001", "elodie.muller@example.fr", "Élodie", "Müller", "Besançon", date(1985, 4, 3), True, 2),
        ("C002", None, "François", "Lefèvre", "Paris", None, True, 3),
        ("C007", "jeanne.darc@example.fr", "Jeanne", "D’Arc – 5 €", "Orléans", None, False, 10),
    ]
    # The quarantined record is the original line, decoded, with its accents.
    raw_record, detail = con.execute(
        "SELECT raw_record, detail FROM quarantine.crm_customers WHERE reason = 'invalid_email'"
    ).fetchone()
    assert raw_record.startswith("C002;not-an-email;François;Lefèvre;")
    assert "'not-an-email'" in detail
    audit = con.execute(
        "SELECT rows_read, rows_loaded, rows_quarantined, rows_repaired, status FROM audit.load_log"
    ).fetchall()
    assert audit == [(9, 3, 6, 1, "loaded")]


def test_orders_reference_future_range_and_types(con, contracts, inbox: Path) -> None:
    _customers(con, contracts, inbox)
    (f,) = ingest_table(con, contracts["crm"].tables["orders"], inbox, DAY).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (8, 2, 6)
    assert quarantine(con, "crm_orders") == [
        (3, "unknown_reference", "customer_id", "rejected"),
        (4, "future_timestamp", "order_ts", "rejected"),
        (6, "invalid_value", "status", "rejected"),
        (7, "out_of_range", "total_amount", "rejected"),
        (8, "invalid_type", "total_amount", "rejected"),
        (9, "missing_required", "customer_id", "rejected"),
    ]
    # O4's customer C003 was delivered (and quarantined for its date): the reference holds.
    assert con.execute("SELECT order_id FROM raw.crm_orders ORDER BY 1").fetchall() == [("O1",), ("O4",)]


def test_reingesting_a_partition_changes_nothing(con, contracts, inbox: Path) -> None:
    _customers(con, contracts, inbox)
    before = snapshot(con, "crm_customers")
    _customers(con, contracts, inbox)
    assert snapshot(con, "crm_customers") == before


def test_header_only_file_is_zero_rows(con, contracts, inbox: Path) -> None:
    path = inbox / "crm/2025-09-01/orders.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    (f,) = ingest_table(con, contracts["crm"].tables["orders"], inbox, DAY).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (0, 0, 0)


def test_absent_file_is_not_an_error(con, contracts, inbox: Path) -> None:
    result = ingest_table(con, contracts["crm"].tables["products"], inbox, DAY)
    assert result.files == [] and result.rows_read == 0


def _assert_nothing_loaded(con: duckdb.DuckDBPyConnection, raw_table: str) -> None:
    for schema in ("raw", "quarantine"):
        assert con.execute(f"SELECT count(*) FROM {schema}.{raw_table}").fetchone()[0] == 0
    assert (
        con.execute("SELECT count(*) FROM audit.load_log WHERE raw_table = ?", [raw_table]).fetchone()[0] == 0
    )


def test_missing_required_column_raises_and_loads_nothing(con, contracts, inbox: Path) -> None:
    path = inbox / "crm/2025-09-01/orders.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")  # drop total_amount
    with pytest.raises(
        IngestError, match=r"crm/2025-09-01/orders.csv: missing required column\(s\) total_amount"
    ):
        ingest_table(con, contracts["crm"].tables["orders"], inbox, DAY)
    _assert_nothing_loaded(con, "crm_orders")


def test_wrong_encoding_raises_and_keeps_previous_load(con, contracts, inbox: Path) -> None:
    table = contracts["crm"].tables["customers"]
    _customers(con, contracts, inbox)
    before = snapshot(con, "crm_customers")
    as_utf8 = dataclasses.replace(table, encoding="utf-8")  # the file really is cp1252
    with pytest.raises(IngestError) as err:
        ingest_table(con, as_utf8, inbox, DAY)
    # Line 2 is the first with an accented name (cp1252 bytes that are not UTF-8).
    assert str(err.value) == (
        "crm/2025-09-01/customers.csv: bytes that are not valid UTF-8 (line 2): "
        "declare the file's encoding in its contract"
    )
    assert snapshot(con, "crm_customers") == before


def test_undecodable_byte_for_declared_encoding(con, contracts, inbox: Path) -> None:
    path = inbox / "crm/2025-09-01/customers.csv"
    path.write_bytes(path.read_bytes() + b"C009;x@example.fr;\x81bad;;;;;;;;01/01/2024 00:00:00;;;;;;;\r\n")
    with pytest.raises(IngestError, match=r"customers.csv: byte 0x81 at offset \d+ is not valid cp1252"):
        _customers(con, contracts, inbox)
    _assert_nothing_loaded(con, "crm_customers")


def test_empty_file_raises(con, contracts, inbox: Path) -> None:
    (inbox / "crm/2025-09-01/orders.csv").write_text("")
    with pytest.raises(IngestError) as err:
        ingest_table(con, contracts["crm"].tables["orders"], inbox, DAY)
    assert str(err.value) == "crm/2025-09-01/orders.csv: empty file (0 bytes)"
    _assert_nothing_loaded(con, "crm_orders")


def test_quoted_multiline_field_keeps_physical_line_numbers(con, contracts, inbox: Path) -> None:
    path = inbox / "crm/2025-09-01/products.csv"
    path.write_text(
        "product_id,name,category,brand,list_price\n"
        'P1,"Mug\nwith a line break",kitchen,Acme,4.50\n'
        "\n"
        "P2,Too,many,fields,1.00,extra\n"
        "P3,Plate,kitchen,Acme,-1\n"
        "P4,Bowl,kitchen,Acme,3.00\n"
    )
    (f,) = ingest_table(con, contracts["crm"].tables["products"], inbox, DAY).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (4, 2, 2)
    assert con.execute(
        "SELECT product_id, name, _line_number FROM raw.crm_products ORDER BY 1"
    ).fetchall() == [("P1", "Mug\nwith a line break", 2), ("P4", "Bowl", 7)]
    assert quarantine(con, "crm_products") == [
        (5, "wrong_column_count", None, "rejected"),
        (6, "out_of_range", "list_price", "rejected"),
    ]


def test_unchanged_snapshot_is_loaded_for_each_day(con, contracts, inbox: Path) -> None:
    products = contracts["crm"].tables["products"]
    text = "product_id,name,category,brand,list_price\nP1,Mug,kitchen,Acme,4.50\n"
    for day in ("2025-09-01", "2025-09-02"):
        (inbox / f"crm/{day}").mkdir(exist_ok=True)
        (inbox / f"crm/{day}/products.csv").write_text(text)
    ingest_table(con, products, inbox, DAY)
    (f,) = ingest_table(con, products, inbox, date(2025, 9, 2)).files
    assert (f.status, f.rows_loaded) == ("loaded", 1)  # same bytes, but a snapshot: not a re-delivery
    assert con.execute("SELECT count(*) FROM raw.crm_products").fetchone()[0] == 2


def test_a_line_no_record_accounts_for_fails_the_file(con, tmp_path: Path) -> None:
    """The placement guard: if a parser ever skipped a physical line of a multi-line file
    (neither in a row nor in a reject), the file fails instead of losing it silently."""
    from pipelines.ingest.csv_reader import _check_every_line_placed
    from pipelines.ingest.textfile import ReadFile

    # 6 lines: header, a 2-line row at 2, (line 4 unaccounted), a row at 5, a reject at 6.
    con.execute(
        """CREATE TEMP TABLE _fstat AS SELECT 0 AS _f, 6 AS n_lines, 0 AS n_blank, 2 AS n_goods,
           1 AS n_rej, 1 AS rej_lines, false AS single_line"""
    )
    con.execute(
        "CREATE TEMP TABLE _lines AS SELECT 0 AS _f, range + 1 AS _line_number, 'x' AS line FROM range(6)"
    )
    con.execute(
        "CREATE TEMP TABLE _goodpos AS SELECT * FROM (VALUES (0, 1, 2, 2), (0, 2, 5, 1)) t(_f, _k, _line_number, _span)"
    )
    con.execute(
        "CREATE TEMP TABLE _rejpos AS SELECT * FROM (VALUES (0, 5, 6, 1)) t(_f, _rec, _line_number, _span)"
    )
    with pytest.raises(IngestError) as err:
        _check_every_line_placed(con, [ReadFile(0, tmp_path / "p.csv", "crm/2025-09-01/products.csv")])
    assert str(err.value) == (
        "crm/2025-09-01/products.csv: 3 CSV record(s) could not all be placed on its 6 physical lines "
        "(3 placed, 5 lines accounted for): unbalanced quotes? Nothing was loaded."
    )
    # The same file with line 4 inside the first row passes.
    con.execute("UPDATE _goodpos SET _span = 3 WHERE _k = 1")
    _check_every_line_placed(con, [ReadFile(0, tmp_path / "p.csv", "crm/2025-09-01/products.csv")])


def test_redelivered_orders_file_is_not_doubled(con, contracts, inbox: Path) -> None:
    """The 2025-09-01 orders export delivered again, byte for byte, as 2025-09-02's: skipped."""
    _customers(con, contracts, inbox)
    orders = contracts["crm"].tables["orders"]
    ingest_table(con, orders, inbox, DAY)
    day2 = inbox / "crm/2025-09-02"
    day2.mkdir()
    shutil.copy(inbox / "crm/2025-09-01/orders.csv", day2 / "orders.csv")
    (f,) = ingest_table(con, orders, inbox, DAY + timedelta(days=1)).files
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("duplicate_delivery", 0, 0, 0)
    assert (
        f.note == "same content as crm/2025-09-01/orders.csv (partition 2025-09-01), already loaded: skipped"
    )
    # O1 and O4 (the two valid orders of the file, see the test above) once, from day 1.
    assert con.execute("SELECT order_id, _partition FROM raw.crm_orders ORDER BY 1").fetchall() == [
        ("O1", DAY),
        ("O4", DAY),
    ]


# ---- compressed deliveries -----------------------------------------------------------

CUSTOMERS = "crm/2025-09-01/customers.csv"


def _without_sha(audit_rows: list[tuple]) -> list[tuple]:
    """Audit rows less sha256 (of the bytes as delivered, so of the compressed bytes for a .gz)."""
    return [row[:7] + row[8:] for row in audit_rows]


def test_gzipped_customers_day_loads_the_same_rows(con, contracts, inbox: Path, tmp_path: Path) -> None:
    """The same export delivered as customers.csv.gz, no contract change: the same raw rows,
    quarantine and counts, under the name of the file that was actually delivered."""
    _customers(con, contracts, inbox)
    plain = snapshot(con, "crm_customers")
    gz(inbox / CUSTOMERS, inbox / f"{CUSTOMERS}.gz")
    (inbox / CUSTOMERS).unlink()
    with duckdb.connect(str(tmp_path / "gz.duckdb")) as con_gz:
        (f,) = _customers(con_gz, contracts, inbox).files
        compressed = snapshot(con_gz, "crm_customers")
        assert con_gz.execute("SELECT DISTINCT _source_file FROM raw.crm_customers").fetchall() == [
            (f"{CUSTOMERS}.gz",)
        ]
    assert f.source_file == f"{CUSTOMERS}.gz"
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined, f.rows_repaired) == (9, 3, 6, 1)

    def as_plain(rows: list[tuple]) -> list[tuple]:
        return sorted(tuple(CUSTOMERS if v == f"{CUSTOMERS}.gz" else v for v in row) for row in rows)

    assert compressed["raw"] and as_plain(compressed["raw"]) == plain["raw"]
    assert compressed["quarantine"] and as_plain(compressed["quarantine"]) == plain["quarantine"]
    assert _without_sha(as_plain(compressed["audit"])) == _without_sha(plain["audit"])


def test_a_day_delivered_plain_and_gzipped_fails_and_loads_nothing(con, contracts, inbox: Path) -> None:
    gz(inbox / CUSTOMERS, inbox / f"{CUSTOMERS}.gz")
    with pytest.raises(AmbiguousDeliveryError) as err:
        _customers(con, contracts, inbox)
    assert isinstance(err.value, IngestError)  # the ingest asset fails the run with this message
    assert str(err.value) == (
        f"{CUSTOMERS} and {CUSTOMERS}.gz are both in the inbox for 2025-09-01: a day's file is delivered "
        "once, plain or gzip-compressed; remove the one that should not be loaded"
    )
    _assert_nothing_loaded(con, "crm_customers")


def test_a_failed_later_pass_keeps_the_passes_before_it(con, contracts, inbox: Path) -> None:
    """A range read in passes commits each pass: a file that fails on day 3 rolls back its pass
    only; days 1-2 stay loaded, day 3 stays empty, and the next run loads all three as one pass
    would. The UTF-8 copies of the cp1252 files are gone after every pass."""
    from pipelines.ingest.load import ingest_range

    table = contracts["crm"].tables["customers"]
    days = [DAY + timedelta(days=i) for i in range(3)]
    source = inbox / "crm" / DAY.isoformat() / "customers.csv"
    for day in days[1:]:
        (inbox / "crm" / day.isoformat()).mkdir(exist_ok=True)
        shutil.copyfile(source, inbox / "crm" / day.isoformat() / "customers.csv")
    bad = inbox / "crm" / days[2].isoformat() / "customers.csv"
    good = bad.read_bytes()
    bad.write_bytes(good + b"C9;\x81broken\n")  # 0x81 is no cp1252 character
    tmp_dir = inbox.parent / "tmp" / "ingest"
    with pytest.raises(IngestError, match="is not valid cp1252"):
        ingest_range(con, table, inbox, days, tmp_dir=tmp_dir, batch_bytes=1)
    loaded = con.execute("SELECT DISTINCT partition FROM audit.load_log ORDER BY 1").fetchall()
    assert [d for (d,) in loaded] == days[:2]
    assert con.execute(
        "SELECT count(*) FROM raw.crm_customers WHERE _partition = ?", [days[2]]
    ).fetchone() == (0,)
    assert not list(tmp_dir.glob("_utf8_*"))

    bad.write_bytes(good)
    ingest_range(con, table, inbox, days, tmp_dir=tmp_dir, batch_bytes=1)
    in_passes = snapshot(con, "crm_customers")
    ingest_range(con, table, inbox, days, tmp_dir=tmp_dir)  # one pass
    assert snapshot(con, "crm_customers") == in_passes
    assert len(in_passes["audit"]) == 3 and in_passes["raw"]
