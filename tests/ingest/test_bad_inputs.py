"""The bad-input suite of issue 4: what the user sees for each defect, and that no good row is lost.

Every case asserts the exact outcome: either one IngestError line naming the file and the
problem (nothing of the table's load is written, the previous load stays), or the exact
quarantine rows and reason codes with exact loaded counts, and rows read = loaded +
quarantined for every file in audit.load_log. The expected values are computed by hand
from the tiny fixtures (tests/fixtures/ingest, or written inline below).

| case | outcome | where |
|---|---|---|
| empty file: CSV of 0 bytes | IngestError `empty file` | test_csv.py::test_empty_file_raises |
| empty file: CSV header only | 0 rows read, not an error | test_csv.py::test_header_only_file_is_zero_rows |
| empty file: `.gz` of 0 bytes, CSV of blank lines | IngestError | here: test_empty_file |
| empty file: gzip of no content | 0 rows, an audit row 'loaded' | here: test_empty_file |
| truncated gzip (clickstream) | IngestError `not a complete gzip` | test_jsonl.py::test_truncated_gzip_raises_and_loads_nothing |
| truncated gzip (web log), previous load kept | IngestError | here: test_truncated_gzip_keeps_the_previous_load |
| truncated gzip through the whole job | run fails naming the file, nothing published | here: test_whole_job_... |
| wrong encoding: cp1252 file declared utf-8 | IngestError | test_csv.py::test_wrong_encoding_raises_and_keeps_previous_load |
| wrong encoding: byte invalid in cp1252 | IngestError with byte and offset | test_csv.py::test_undecodable_byte_for_declared_encoding |
| wrong encoding: latin-1 byte in utf-8 JSONL / log | IngestError with the line | here: test_wrong_encoding |
| missing required column (dropped) | IngestError | test_csv.py::test_missing_required_column_raises_and_loads_nothing |
| missing required column (renamed) | IngestError listing the header found | here: test_schema_drift |
| schema drift: reordered, extra, renamed optional column | loaded, audit note names the drift | here: test_schema_drift |
| same file twice, on another day | `duplicate_delivery`, 0 rows | test_jsonl.py::test_redelivered_file_is_not_doubled |
| same file twice, in one backfill range | `duplicate_delivery`, 0 rows | here: test_same_file_twice_in_one_backfill |
| same partition re-run | identical tables | test_csv.py::test_reingesting_a_partition_changes_nothing |
| snapshot with yesterday's bytes | loaded (a snapshot, not a re-delivery) | test_csv.py::test_unchanged_snapshot_is_loaded_for_each_day |
| day delivered out of order (CRM) | same tables as in order | here: test_crm_day_out_of_order_equals_in_order |
| day delivered out of order (events) | each event once, first loaded wins | here: test_events_day_out_of_order_keep_each_event_once |
| negative amount | `out_of_range` | test_csv.py::test_orders_reference_future_range_and_types (O6), test_quoted_multiline_field_... (P3) |
| absurd amounts (overflow, NaN, inf, 1e15, "1,000.00") | `invalid_type` / `out_of_range` | here: test_absurd_amounts |
| unknown customer id (orders) | `unknown_reference` | test_csv.py::test_orders_reference_future_range_and_types (O2) |
| unknown customer id (interactions), customer quarantined | `unknown_reference` / loaded | here: test_unknown_customer_ids |
| customer delivered only on a later day | `unknown_reference` | here: test_crm_day_out_of_order_equals_in_order |
| future timestamps (CRM, local time) | `future_timestamp` | test_csv.py (customers C003, orders O3) |
| future timestamps at the boundary, zones, tolerance 0 | `future_timestamp` | here: test_future_timestamps_in_logs, test_future_timestamps_in_events |
| a 10 MB single line (CSV, JSONL, log) | IngestError naming the line and its size | here: test_ten_megabyte_line |
| CSV with a quoted field over lines | loaded, physical line numbers | test_csv.py::test_quoted_multiline_field_keeps_physical_line_numbers |
| CSV doubled quotes, delimiter in quotes, stray quote | loaded exactly | here: test_csv_quotes_and_embedded_newlines |
| CSV unterminated quote | one quarantined record holding every line it swallowed | here: test_csv_unterminated_quote_keeps_the_swallowed_lines |
| CSV quote closed on a later line (alone, or before a quoted line break) | one quarantined record with both lines, later rows on their own lines | here: test_csv_quote_closed_on_a_later_line_loses_no_line, test_csv_swallowed_line_then_a_multiline_field |
| CSV blank lines inside a quoted field and between records | loaded on their physical lines | here: test_csv_blank_lines_inside_and_between_multiline_records |
| log line with a bad escape | `malformed_line`; other escapes loaded exactly | here: test_log_line_with_bad_escape |
| log: malformed line, IPv6, `\\"` escapes | `malformed_line` | test_weblogs.py::test_combined_format |
| JSONL invalid line, not an object | `invalid_json` | test_jsonl.py::test_events_reasons_and_counts |
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.ingest import IngestError, ingest_range, ingest_table
from pipelines.runner import run_pipeline
from tests.ingest.conftest import quarantine, snapshot
from tests.publish.publish_testkit import checksums, no_leftovers
from tests.xs_deployment import xs_deployment

D1, D2 = date(2025, 9, 1), date(2025, 9, 2)
LOG_DAY = date(2015, 5, 17)
ORDERS_HEADER = "order_id,customer_id,order_ts,channel,status,currency,total_amount"
PRODUCTS_HEADER = "product_id,name,category,brand,list_price"
MAX_LINE = 4_194_304  # the readers' max_line_size


def audit(con: duckdb.DuckDBPyConnection, raw_table: str) -> list[tuple]:
    """(partition, source_file, read, loaded, quarantined, status, note) of a table's audit rows,
    after asserting rows read = loaded + quarantined for every one of them."""
    rows = con.execute(
        "SELECT partition, source_file, rows_read, rows_loaded, rows_quarantined, status, note "
        "FROM audit.load_log WHERE raw_table = ? ORDER BY partition, source_file",
        [raw_table],
    ).fetchall()
    for row in rows:
        assert row[2] == row[3] + row[4], f"rows lost in {row[1]}: {row}"
    return rows


def nothing_loaded(con: duckdb.DuckDBPyConnection, raw_table: str) -> bool:
    """True when the failed load left no trace: no raw, quarantine or audit rows for the table."""
    tables = {
        r[0] for r in con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()
    }
    counts = [
        con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in (f"raw.{raw_table}", f"quarantine.{raw_table}")
        if t in tables
    ]
    if "audit.load_log" in tables:
        counts.append(
            con.execute("SELECT count(*) FROM audit.load_log WHERE raw_table = ?", [raw_table]).fetchone()[0]
        )
    return sum(counts) == 0


def _events_inbox(inbox: Path, day: date, text: str | bytes) -> Path:
    path = inbox / "clickstream" / f"events-{day.isoformat()}.jsonl.gz"
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data, compresslevel=1))
    return path


def _log_inbox(inbox: Path, day: date, text: str | bytes) -> Path:
    path = inbox / "weblogs" / f"access-{day.isoformat()}.log.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data, compresslevel=1))
    return path


def _event(event_id: str, ts: str = "2025-09-01T10:00:00Z", **extra: str) -> str:
    fields = {"event_id": event_id, "event_type": "page_view", "event_ts": ts, "anonymous_id": "a1", **extra}
    return "{" + ",".join(f'"{k}":"{v}"' for k, v in fields.items()) + "}"


def _hit(ip: str, ts: str, request: str = "GET / HTTP/1.1", agent: str = "ua") -> str:
    return f'{ip} - - [{ts}] "{request}" 200 5 "-" "{agent}"'


# --- empty file ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "rel", "content", "error"),
    [
        ("events", "clickstream/events-2025-09-01.jsonl.gz", b"", "empty file (0 bytes)"),
        ("hits", "weblogs/access-2015-05-17.log.gz", b"", "empty file (0 bytes)"),
        ("orders", "crm/2025-09-01/orders.csv", b"\n\n", "empty file (no header line)"),
        ("events", "clickstream/events-2025-09-01.jsonl.gz", gzip.compress(b""), None),
    ],
    ids=["zero-byte-gz-jsonl", "zero-byte-gz-log", "csv-of-blank-lines", "gzip-of-nothing"],
)
def test_empty_file(
    con, contracts, inbox: Path, table: str, rel: str, content: bytes, error: str | None
) -> None:
    source = {"events": "clickstream", "hits": "weblogs", "orders": "crm"}[table]
    contract = contracts[source].tables[table]
    day = LOG_DAY if source == "weblogs" else D1
    (inbox / rel).write_bytes(content)
    if error:
        with pytest.raises(IngestError) as exc:
            ingest_table(con, contract, inbox, day)
        assert str(exc.value) == f"{rel}: {error}"
        assert nothing_loaded(con, contract.raw_table)
    else:
        # A compressed file with no lines is a day without events: loaded as 0 rows, and audited.
        (f,) = ingest_table(con, contract, inbox, day).files
        assert (f.rows_read, f.rows_loaded, f.rows_quarantined, f.status) == (0, 0, 0, "loaded")
        assert audit(con, contract.raw_table) == [(day, rel, 0, 0, 0, "loaded", None)]


# --- truncated gzip --------------------------------------------------------------------------


def test_truncated_gzip_keeps_the_previous_load(con, contracts, inbox: Path) -> None:
    hits = contracts["weblogs"].tables["hits"]
    ingest_table(con, hits, inbox, LOG_DAY)
    before = snapshot(con, "weblog_hits")
    assert audit(con, "weblog_hits") == [
        (LOG_DAY, "weblogs/access-2015-05-17.log.gz", 5, 4, 1, "loaded", None)
    ]
    path = inbox / "weblogs/access-2015-05-17.log.gz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 12])  # the deflate end and the gzip trailer are gone
    with pytest.raises(IngestError) as exc:
        ingest_table(con, hits, inbox, LOG_DAY)
    assert str(exc.value).startswith("weblogs/access-2015-05-17.log.gz: not a complete gzip file (")
    assert "\n" not in str(exc.value)
    assert snapshot(con, "weblog_hits") == before


# --- wrong encoding --------------------------------------------------------------------------


def test_wrong_encoding(con, contracts, inbox: Path) -> None:
    """A latin-1 'é' in a file whose contract says utf-8: the file and the line are named."""
    good = _event("e1").encode() + b"\n"
    _events_inbox(inbox, D1, good + b'{"event_id":"e2","page_url":"/caf\xe9"}\n' + good)
    with pytest.raises(IngestError) as exc:
        ingest_table(con, contracts["clickstream"].tables["events"], inbox, D1)
    assert str(exc.value) == (
        "clickstream/events-2025-09-01.jsonl.gz: bytes that are not valid UTF-8 (line 2): "
        "declare the file's encoding in its contract"
    )
    assert nothing_loaded(con, "clickstream_events")

    line = _hit("1.1.1.1", "17/May/2015:10:00:00 +0000").encode() + b"\n"
    _log_inbox(
        inbox,
        LOG_DAY,
        line + line + b'1.1.1.2 - - [17/May/2015:10:00:00 +0000] "GET /caf\xe9" 200 5 "-" "-"\n',
    )
    with pytest.raises(IngestError) as exc:
        ingest_table(con, contracts["weblogs"].tables["hits"], inbox, LOG_DAY)
    assert str(exc.value) == (
        "weblogs/access-2015-05-17.log.gz: bytes that are not valid UTF-8 (line 3): "
        "declare the file's encoding in its contract"
    )
    assert nothing_loaded(con, "weblog_hits")


# --- missing required column, schema drift ---------------------------------------------------


def _rewrite_orders(inbox: Path, header: str, row: Callable[[list[str]], list[str]]) -> None:
    """Rewrite the fixture orders.csv: a new header, each data line through `row(fields)`."""
    path = inbox / "crm/2025-09-01/orders.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([header] + [",".join(row(line.split(","))) for line in lines[1:]]) + "\n")


# The fixture's orders O1 and O4 are valid (channels web and mobile_app); six lines are quarantined.
FIXTURE_ORDER_REASONS = [
    (3, "unknown_reference", "customer_id", "rejected"),
    (4, "future_timestamp", "order_ts", "rejected"),
    (6, "invalid_value", "status", "rejected"),
    (7, "out_of_range", "total_amount", "rejected"),
    (8, "invalid_type", "total_amount", "rejected"),
    (9, "missing_required", "customer_id", "rejected"),
]


@pytest.mark.parametrize(
    ("header", "row", "channels", "note"),
    [
        # columns in another order: matched by name, nothing to report
        (
            "total_amount,order_id,customer_id,order_ts,channel,status,currency",
            lambda f: [f[6], *f[:6]],
            ["web", "mobile_app"],
            None,
        ),
        (
            ORDERS_HEADER + ",coupon",
            lambda f: [*f, "SUMMER"],
            ["web", "mobile_app"],
            "schema drift: column(s) not in the contract, ignored: coupon",
        ),
        # an optional column renamed: its values are not guessed, the drift is reported
        (
            ORDERS_HEADER.replace("channel", "sales_channel"),
            lambda f: f,
            [None, None],
            "schema drift: column(s) not in the contract, ignored: sales_channel; "
            "contract column(s) absent, loaded as NULL: channel",
        ),
    ],
    ids=["reordered", "extra-column", "renamed-optional-column"],
)
def test_schema_drift(con, contracts, inbox: Path, header, row, channels, note) -> None:
    ingest_table(con, contracts["crm"].tables["customers"], inbox, D1)
    _rewrite_orders(inbox, header, row)
    (f,) = ingest_table(con, contracts["crm"].tables["orders"], inbox, D1).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined, f.note) == (8, 2, 6, note)
    assert quarantine(con, "crm_orders") == FIXTURE_ORDER_REASONS
    assert con.execute(
        "SELECT order_id, channel, CAST(total_amount AS VARCHAR) FROM raw.crm_orders ORDER BY 1"
    ).fetchall() == [("O1", channels[0], "120.50"), ("O4", channels[1], "30.00")]
    assert audit(con, "crm_orders") == [(D1, "crm/2025-09-01/orders.csv", 8, 2, 6, "loaded", note)]


def test_renamed_required_column_raises(con, contracts, inbox: Path) -> None:
    ingest_table(con, contracts["crm"].tables["customers"], inbox, D1)
    _rewrite_orders(inbox, ORDERS_HEADER.replace("total_amount", "amount"), lambda f: f)
    with pytest.raises(IngestError) as exc:
        ingest_table(con, contracts["crm"].tables["orders"], inbox, D1)
    assert str(exc.value) == (
        "crm/2025-09-01/orders.csv: missing required column(s) total_amount in the header "
        "(found: order_id, customer_id, order_ts, channel, status, currency, amount)"
    )
    assert nothing_loaded(con, "crm_orders")


# --- the same file twice, a day out of order -------------------------------------------------


def test_same_file_twice_in_one_backfill(con, contracts, inbox: Path) -> None:
    """A backfill over two days whose log files have the same bytes loads the rows once."""
    hits = contracts["weblogs"].tables["hits"]
    day2 = LOG_DAY + timedelta(days=1)
    shutil.copy(inbox / "weblogs/access-2015-05-17.log.gz", inbox / "weblogs/access-2015-05-18.log.gz")
    first, second = ingest_range(con, hits, inbox, [day2, LOG_DAY])  # results come in day order
    assert [(f.rows_read, f.rows_loaded, f.status) for f in first.files] == [(5, 4, "loaded")]
    note = "same content as weblogs/access-2015-05-17.log.gz (partition 2015-05-17), already loaded: skipped"
    assert [(f.rows_read, f.rows_loaded, f.status, f.note) for f in second.files] == [
        (0, 0, "duplicate_delivery", note)
    ]
    assert con.execute("SELECT _partition, count(*) FROM raw.weblog_hits GROUP BY 1").fetchall() == [
        (LOG_DAY, 4)
    ]
    assert audit(con, "weblog_hits") == [
        (LOG_DAY, "weblogs/access-2015-05-17.log.gz", 5, 4, 1, "loaded", None),
        (day2, "weblogs/access-2015-05-18.log.gz", 0, 0, 0, "duplicate_delivery", note),
    ]


def _crm_two_days(inbox: Path) -> None:
    """Day 2: the customers snapshot with C007 replaced by a new C008, two orders. Day 1's
    orders gain O9 for C008, a customer that only exists from day 2 on."""
    day1, day2 = inbox / "crm/2025-09-01", inbox / "crm/2025-09-02"
    day2.mkdir()
    (day2 / "customers.csv").write_bytes((day1 / "customers.csv").read_bytes().replace(b"C007;", b"C008;"))
    (day2 / "orders.csv").write_text(
        ORDERS_HEADER + "\n"
        "O10,C008,2025-09-02 10:00:00,web,completed,EUR,1.00\n"
        "O11,C001,2025-09-02 11:00:00,store,completed,EUR,2.00\n"
    )
    with open(day1 / "orders.csv", "a") as fh:
        fh.write("O9,C008,2025-09-01 17:00:00,web,completed,EUR,9.00\n")


def test_crm_day_out_of_order_equals_in_order(con, contracts, inbox: Path, tmp_path: Path) -> None:
    _crm_two_days(inbox)
    customers, orders = contracts["crm"].tables["customers"], contracts["crm"].tables["orders"]
    for day in (D2, D1):  # day 2 arrives (and is loaded) first
        ingest_table(con, customers, inbox, day)
        ingest_table(con, orders, inbox, day)
    # O9's customer C008 was delivered on day 2 only: unknown on day 1, whatever the load order.
    assert quarantine(con, "crm_orders") == [
        *FIXTURE_ORDER_REASONS,
        (10, "unknown_reference", "customer_id", "rejected"),
    ]
    assert con.execute("SELECT order_id, _partition FROM raw.crm_orders ORDER BY 1").fetchall() == [
        ("O1", D1),
        ("O10", D2),
        ("O11", D2),
        ("O4", D1),
    ]
    assert [row[:6] for row in audit(con, "crm_orders")] == [
        (D1, "crm/2025-09-01/orders.csv", 9, 2, 7, "loaded"),
        (D2, "crm/2025-09-02/orders.csv", 2, 2, 0, "loaded"),
    ]
    assert [row[:6] for row in audit(con, "crm_customers")] == [
        (D1, "crm/2025-09-01/customers.csv", 9, 3, 6, "loaded"),
        (D2, "crm/2025-09-02/customers.csv", 9, 3, 6, "loaded"),
    ]
    in_order = duckdb.connect(str(tmp_path / "in_order.duckdb"))
    try:
        for day in (D1, D2):
            ingest_table(in_order, customers, inbox, day)
            ingest_table(in_order, orders, inbox, day)
        for raw_table in ("crm_customers", "crm_orders"):
            assert snapshot(con, raw_table) == snapshot(in_order, raw_table)
    finally:
        in_order.close()


def test_events_day_out_of_order_keep_each_event_once(con, contracts, inbox: Path) -> None:
    """Day 2's file (e6 re-sent, late e9) is loaded before day 1's: no event is lost or
    doubled; the re-sent e6 stays where it was first loaded (the contract: first loaded wins)."""
    events = contracts["clickstream"].tables["events"]
    ingest_table(con, events, inbox, D2)
    ingest_table(con, events, inbox, D1)
    assert con.execute(
        "SELECT event_id, _partition, _line_number FROM raw.clickstream_events ORDER BY 1"
    ).fetchall() == [("e1", D1, 1), ("e6", D2, 1), ("e9", D2, 2)]
    assert quarantine(con, "clickstream_events") == [
        (2, "invalid_json", None, "rejected"),
        (3, "duplicate_key", "event_id", "rejected"),
        (4, "missing_required", "anonymous_id", "rejected"),
        (5, "invalid_value", "event_type", "rejected"),
        (6, "duplicate_key", "event_id", "rejected"),
        (7, "invalid_json", None, "rejected"),
        (8, "invalid_type", "event_ts", "rejected"),
    ]
    assert con.execute(
        "SELECT detail FROM quarantine.clickstream_events WHERE _line_number = 6"
    ).fetchone() == ("key 'e6' already loaded from clickstream/events-2025-09-02.jsonl.gz",)
    assert [row[:5] for row in audit(con, "clickstream_events")] == [
        (D1, "clickstream/events-2025-09-01.jsonl.gz", 8, 1, 7),
        (D2, "clickstream/events-2025-09-02.jsonl.gz", 2, 2, 0),
    ]
    # Re-running either day keeps that state (idempotent).
    before = snapshot(con, "clickstream_events")
    ingest_table(con, events, inbox, D2)
    ingest_table(con, events, inbox, D1)
    assert snapshot(con, "clickstream_events") == before


# --- amounts, customer ids, timestamps -------------------------------------------------------


def test_absurd_amounts(con, contracts, inbox: Path) -> None:
    (inbox / "crm/2025-09-01/orders.csv").write_text(
        ORDERS_HEADER
        + "\n"
        + "".join(
            f"A{i},C001,2025-09-01 10:00:00,web,completed,EUR,{amount}\n"
            for i, amount in enumerate(
                [
                    "1e15",  # line 2: more digits than DECIMAL(14,2) holds
                    "999999999999.99",  # 3: the largest that fits: loaded (no upper bound in the contract)
                    "1000000000000.00",  # 4: one cent more: does not fit
                    "NaN",  # 5
                    "inf",  # 6
                    "-0.01",  # 7
                    "12.345",  # 8: rounded to the cent
                    '"1,000.00"',  # 9: a thousands separator is not a number
                    "0",  # 10
                    "-99999999999999",  # 11: negative and too large: the type fails first
                ]
            )
        )
    )
    ingest_table(con, contracts["crm"].tables["customers"], inbox, D1)
    (f,) = ingest_table(con, contracts["crm"].tables["orders"], inbox, D1).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (10, 3, 7)
    assert con.execute(
        "SELECT _line_number, reason, column_name, detail FROM quarantine.crm_orders ORDER BY 1"
    ).fetchall() == [
        (2, "invalid_type", "total_amount", "total_amount: '1e15' is not a valid DECIMAL(14,2)"),
        (4, "invalid_type", "total_amount", "total_amount: '1000000000000.00' is not a valid DECIMAL(14,2)"),
        (5, "invalid_type", "total_amount", "total_amount: 'NaN' is not a valid DECIMAL(14,2)"),
        (6, "invalid_type", "total_amount", "total_amount: 'inf' is not a valid DECIMAL(14,2)"),
        (7, "out_of_range", "total_amount", "total_amount: '-0.01' is not >= 0"),
        (9, "invalid_type", "total_amount", "total_amount: '1,000.00' is not a valid DECIMAL(14,2)"),
        (11, "invalid_type", "total_amount", "total_amount: '-99999999999999' is not a valid DECIMAL(14,2)"),
    ]
    assert con.execute(
        "SELECT order_id, CAST(total_amount AS VARCHAR), _line_number FROM raw.crm_orders ORDER BY _line_number"
    ).fetchall() == [("A1", "999999999999.99", 3), ("A6", "12.35", 8), ("A8", "0.00", 10)]
    assert audit(con, "crm_orders") == [(D1, "crm/2025-09-01/orders.csv", 10, 3, 7, "loaded", None)]


def test_unknown_customer_ids(con, contracts, inbox: Path) -> None:
    """Support contacts reference customers like orders do. C003 was delivered (and
    quarantined for its future created_at): known. C999 and c001 (ids are case-sensitive) were not."""
    (inbox / "crm/2025-09-01/interactions.csv").write_text(
        "interaction_id,customer_id,channel,type,opened_at,closed_at,satisfaction\n"
        "I1,C001,phone,complaint,2025-09-01 09:00:00,2025-09-01 09:10:00,4\n"
        "I2,C999,email,question,2025-09-01 10:00:00,,\n"
        "I3,C003,chat,assistance,2025-09-01 11:00:00,,5\n"
        "I4,c001,store,feedback,2025-09-01 12:00:00,,\n"
        "I5,C001,store,feedback,2025-09-01 13:00:00,,6\n"
    )
    ingest_table(con, contracts["crm"].tables["customers"], inbox, D1)
    (f,) = ingest_table(con, contracts["crm"].tables["interactions"], inbox, D1).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (5, 2, 3)
    assert con.execute(
        "SELECT _line_number, reason, column_name, detail FROM quarantine.crm_interactions ORDER BY 1"
    ).fetchall() == [
        (
            3,
            "unknown_reference",
            "customer_id",
            "customer_id: 'C999' is not in any crm_customers file loaded up to 2025-09-01",
        ),
        (
            5,
            "unknown_reference",
            "customer_id",
            "customer_id: 'c001' is not in any crm_customers file loaded up to 2025-09-01",
        ),
        (6, "out_of_range", "satisfaction", "satisfaction: '6' is not >= 1 and <= 5"),
    ]
    assert con.execute("SELECT interaction_id FROM raw.crm_interactions ORDER BY 1").fetchall() == [
        ("I1",),
        ("I3",),
    ]
    assert audit(con, "crm_interactions")[0][2:5] == (5, 2, 3)


@pytest.mark.parametrize(
    ("tolerance", "loaded", "future"),
    [(1, [1, 2, 5, 6], [3, 4]), (0, [5, 6], [1, 2, 3, 4])],
    ids=["tolerance-1-day", "tolerance-0"],
)
def test_future_timestamps_in_logs(con, contracts, inbox: Path, tolerance, loaded, future) -> None:
    """The limit is the delivery day + 1 + tolerance at 00:00 UTC, compared in UTC."""
    lines = [
        _hit("10.0.0.1", "19/May/2015:00:00:00 +0000"),  # exactly the limit (tolerance 1)
        _hit("10.0.0.2", "19/May/2015:01:59:59 +0200"),  # 18 May 23:59:59 UTC
        _hit("10.0.0.3", "19/May/2015:00:00:01 +0000"),  # one second after the limit
        _hit("10.0.0.4", "18/May/2015:23:00:00 -0200"),  # 19 May 01:00 UTC
        _hit("10.0.0.5", "17/May/2015:23:59:59 +0000"),  # the delivery day itself
        _hit("10.0.0.6", "01/Jan/2001:00:00:00 +0000"),  # old is not rejected
    ]
    _log_inbox(inbox, LOG_DAY, "\n".join(lines) + "\n")
    hits = contracts["weblogs"].tables["hits"]
    (f,) = ingest_table(con, hits, inbox, LOG_DAY, future_tolerance_days=tolerance).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (6, len(loaded), len(future))
    assert quarantine(con, "weblog_hits") == [
        (n, "future_timestamp", "request_ts", "rejected") for n in future
    ]
    assert [
        n for (n,) in con.execute("SELECT _line_number FROM raw.weblog_hits ORDER BY 1").fetchall()
    ] == loaded
    detail = con.execute("SELECT detail FROM quarantine.weblog_hits WHERE _line_number = 3").fetchone()[0]
    assert detail == (
        f"request_ts: '19/May/2015:00:00:01 +0000' is after the delivery day 2015-05-17 + {tolerance} day(s) tolerance"
    )


def test_future_timestamps_in_events(con, contracts, inbox: Path) -> None:
    text = "\n".join(
        [
            _event("e1", "2025-09-03T00:00:00Z"),  # the limit itself
            _event("e2", "2025-09-03T00:00:00.001Z"),
            _event("e3", "2025-09-03T01:00:00+01:00"),  # = the limit
            _event("e4", "2025-09-02T23:30:00-01:00"),  # 3 Sep 00:30 UTC
            _event("e5", "2026-09-01T10:00:00Z"),  # a clock a year ahead
        ]
    )
    _events_inbox(inbox, D1, text + "\n")
    (f,) = ingest_table(con, contracts["clickstream"].tables["events"], inbox, D1).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (5, 2, 3)
    assert quarantine(con, "clickstream_events") == [
        (2, "future_timestamp", "event_ts", "rejected"),
        (4, "future_timestamp", "event_ts", "rejected"),
        (5, "future_timestamp", "event_ts", "rejected"),
    ]
    assert con.execute("SELECT event_id FROM raw.clickstream_events ORDER BY 1").fetchall() == [
        ("e1",),
        ("e3",),
    ]


# --- a 10 MB single line ---------------------------------------------------------------------

TEN_MB = "x" * (10 * 1024 * 1024)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "log"])
def test_ten_megabyte_line(con, contracts, inbox: Path, fmt: str) -> None:
    """A line over the reader's 4 MB limit: one line naming the file, the line and its size;
    the file's previous load stays (here: none)."""
    if fmt == "csv":
        big = f"P2,{TEN_MB},kitchen,Acme,1.00"
        rel = "crm/2025-09-01/products.csv"
        (inbox / rel).write_text(
            f"{PRODUCTS_HEADER}\nP1,Mug,kitchen,Acme,4.50\n{big}\nP3,Cup,kitchen,Acme,2.00\n"
        )
        table, day, line = contracts["crm"].tables["products"], D1, 3
    elif fmt == "jsonl":
        big = _event("e2", page_url="/" + TEN_MB)
        rel = "clickstream/events-2025-09-01.jsonl.gz"
        _events_inbox(inbox, D1, f"{_event('e1')}\n{big}\n{_event('e3')}\n")
        table, day, line = contracts["clickstream"].tables["events"], D1, 2
    else:
        big = _hit("1.1.1.2", "17/May/2015:10:00:00 +0000", f"GET /{TEN_MB} HTTP/1.1")
        rel = "weblogs/access-2015-05-17.log.gz"
        good = _hit("1.1.1.1", "17/May/2015:10:00:00 +0000")
        _log_inbox(inbox, LOG_DAY, f"{good}\n{good}\n{good}\n{big}\n")
        table, day, line = contracts["weblogs"].tables["hits"], LOG_DAY, 4
    with pytest.raises(IngestError) as exc:
        ingest_table(con, table, inbox, day)
    assert str(exc.value) == (
        f"{rel}: a line of {len(big)} bytes (line {line}), over the maximum line size of {MAX_LINE} bytes"
    )
    assert nothing_loaded(con, table.raw_table)


# --- CSV quoting, log escapes ----------------------------------------------------------------


def test_csv_quotes_and_embedded_newlines(con, contracts, inbox: Path) -> None:
    (inbox / "crm/2025-09-01/products.csv").write_text(
        f"{PRODUCTS_HEADER}\n"
        'P1,"Mug ""XL"", blue",kitchen,Acme,4.50\n'  # doubled quotes and the delimiter inside quotes
        'P2,"Two\nlines ""and"" quotes\nthree",kitchen,Acme,1.00\n'  # physical lines 3-5
        'P3,Plate,kitchen,"Acme, Inc.",2.00\n'
        'P4,Bad "quote" inside,kitchen,Acme,3.00\n'  # a stray quote in an unquoted field: kept as is
        "P5,Cup,kitchen,Acme,\n"
    )
    (f,) = ingest_table(con, contracts["crm"].tables["products"], inbox, D1).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (5, 5, 0)
    assert con.execute(
        "SELECT product_id, name, brand, CAST(list_price AS VARCHAR), _line_number FROM raw.crm_products ORDER BY 1"
    ).fetchall() == [
        ("P1", 'Mug "XL", blue', "Acme", "4.50", 2),
        ("P2", 'Two\nlines "and" quotes\nthree', "Acme", "1.00", 3),
        ("P3", "Plate", "Acme, Inc.", "2.00", 6),
        ("P4", 'Bad "quote" inside', "Acme", "3.00", 7),
        ("P5", "Cup", "Acme", None, 8),
    ]
    assert audit(con, "crm_products") == [(D1, "crm/2025-09-01/products.csv", 5, 5, 0, "loaded", None)]


def test_csv_unterminated_quote_keeps_the_swallowed_lines(con, contracts, inbox: Path) -> None:
    """An opening quote that never closes makes the rest of the file one record (CSV rules):
    it is quarantined once, and its raw_record holds every physical line it swallowed."""
    (inbox / "crm/2025-09-01/products.csv").write_text(
        f"{PRODUCTS_HEADER}\n"
        'P1,"Two\nlines",kitchen,Acme,4.50\n'
        "P2,Plate,kitchen,Acme,2.00\n"
        'P3,"Unclosed,kitchen,Acme,3.00\n'
        "P4,Cup,kitchen,Acme,1.00\n"
    )
    (f,) = ingest_table(con, contracts["crm"].tables["products"], inbox, D1).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (3, 2, 1)
    assert con.execute("SELECT product_id, _line_number FROM raw.crm_products ORDER BY 1").fetchall() == [
        ("P1", 2),
        ("P2", 4),
    ]
    assert con.execute(
        "SELECT _line_number, reason, detail, raw_record FROM quarantine.crm_products"
    ).fetchall() == [
        (
            5,
            "wrong_column_count",
            "UNQUOTED VALUE: Value with unterminated quote found.",
            'P3,"Unclosed,kitchen,Acme,3.00\nP4,Cup,kitchen,Acme,1.00',
        )
    ]


def _products(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple]]:
    """(product_id, name, line) in raw and (line, reason, raw_record) in quarantine, by line."""
    raw = con.execute("SELECT product_id, name, _line_number FROM raw.crm_products ORDER BY 3").fetchall()
    rejected = con.execute(
        "SELECT _line_number, reason, raw_record FROM quarantine.crm_products ORDER BY 1"
    ).fetchall()
    return raw, rejected


def test_csv_quote_closed_on_a_later_line_loses_no_line(con, contracts, inbox: Path) -> None:
    # Line 3 opens a quote that line 4 closes ("Cup"): DuckDB rejects lines 3-4 as ONE record
    # (its csv_line holds both) and reads on at line 5. Placing records by DuckDB's own record
    # texts (not by counting quotes) keeps line 4 in quarantine and P4 on line 5.
    (inbox / "crm/2025-09-01/products.csv").write_text(
        f"{PRODUCTS_HEADER}\n"
        "P1,Mug,kitchen,Acme,1.00\n"
        'P2,"Unclosed,kitchen,Acme,3.00\n'
        'P3,"Cup",kitchen,Acme,1.00\n'
        "P4,Bowl,kitchen,Acme,2.00\n"
    )
    result = ingest_table(con, contracts["crm"].tables["products"], inbox, D1)
    assert [(f.rows_read, f.rows_loaded, f.rows_quarantined) for f in result.files] == [(3, 2, 1)]
    raw, rejected = _products(con)
    assert raw == [("P1", "Mug", 2), ("P4", "Bowl", 5)]
    assert rejected == [
        (3, "wrong_column_count", 'P2,"Unclosed,kitchen,Acme,3.00\nP3,"Cup",kitchen,Acme,1.00'),
    ]


def test_csv_swallowed_line_then_a_multiline_field(con, contracts, inbox: Path) -> None:
    # The same two-line reject (lines 3-4), then a legitimate quoted line break (P5 on lines
    # 6-7): records are laid end to end, 1 + 2 + 1 + 2 + 1 lines after the header.
    (inbox / "crm/2025-09-01/products.csv").write_text(
        f"{PRODUCTS_HEADER}\n"
        "P1,Mug,kitchen,Acme,1.00\n"
        'P2,"Unclosed,kitchen,Acme,3.00\n'
        'P3,"Cup",kitchen,Acme,1.00\n'
        "P4,Bowl,kitchen,Acme,2.00\n"
        'P5,"Two\nlines",kitchen,Acme,4.00\n'
        "P6,Pan,kitchen,Acme,5.00\n"
    )
    result = ingest_table(con, contracts["crm"].tables["products"], inbox, D1)
    assert [(f.rows_read, f.rows_loaded, f.rows_quarantined) for f in result.files] == [(5, 4, 1)]
    raw, rejected = _products(con)
    assert raw == [("P1", "Mug", 2), ("P4", "Bowl", 5), ("P5", "Two\nlines", 6), ("P6", "Pan", 8)]
    assert [r[:2] for r in rejected] == [(3, "wrong_column_count")]


def test_csv_blank_lines_inside_and_between_multiline_records(con, contracts, inbox: Path) -> None:
    # Line 3 is blank inside P1's quoted field (part of the record), line 6 is a blank line
    # between records (skipped), and P2 on line 5 lacks columns: P3 is on line 7.
    (inbox / "crm/2025-09-01/products.csv").write_text(
        f'{PRODUCTS_HEADER}\nP1,"Two\n\nlines",kitchen,Acme,1.00\nP2,Bad\n\nP3,Cup,kitchen,Acme,1.00\n'
    )
    result = ingest_table(con, contracts["crm"].tables["products"], inbox, D1)
    assert [(f.rows_read, f.rows_loaded, f.rows_quarantined) for f in result.files] == [(3, 2, 1)]
    raw, rejected = _products(con)
    assert raw == [("P1", "Two\n\nlines", 2), ("P3", "Cup", 7)]
    assert rejected == [(5, "wrong_column_count", "P2,Bad")]


def test_log_line_with_bad_escape(con, contracts, inbox: Path) -> None:
    ts = "17/May/2015:10:00:00 +0000"
    lines = [
        _hit("1.1.1.1", ts),
        # a TLS handshake sent to the HTTP port: Apache logs the bytes as \x escapes
        f'1.1.1.2 - - [{ts}] "\\x16\\x03\\x01\\x00\\xa5" 400 166 "-" "-"',
        _hit("1.1.1.3", ts, "GET /b\\ HTTP/1.1"),  # a backslash before a space: kept
        _hit("1.1.1.4", ts, "GET /c\\\\ HTTP/1.1", 'ua \\"q\\"'),  # \\ and \" undone
        _hit("1.1.1.5", ts, 'GET /d?x=\\"y HTTP/1.1'),
        _hit("1.1.1.6", ts, "GET /e HTTP/1.1\\"),  # the escape eats the closing quote: malformed
        _hit("1.1.1.7", ts),
    ]
    _log_inbox(inbox, LOG_DAY, "\n".join(lines) + "\n")
    (f,) = ingest_table(con, contracts["weblogs"].tables["hits"], inbox, LOG_DAY).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (7, 6, 1)
    assert con.execute(
        "SELECT _line_number, reason, column_name, detail, raw_record FROM quarantine.weblog_hits"
    ).fetchall() == [(6, "malformed_line", None, "does not match the combined log format", lines[5])]
    assert con.execute(
        "SELECT _line_number, ip, request, method, path, protocol, status, user_agent FROM raw.weblog_hits ORDER BY 1"
    ).fetchall() == [
        (1, "1.1.1.1", "GET / HTTP/1.1", "GET", "/", "HTTP/1.1", 200, "ua"),
        (2, "1.1.1.2", "\\x16\\x03\\x01\\x00\\xa5", None, None, None, 400, None),
        (3, "1.1.1.3", "GET /b\\ HTTP/1.1", "GET", "/b\\", "HTTP/1.1", 200, "ua"),
        (4, "1.1.1.4", "GET /c\\ HTTP/1.1", "GET", "/c\\", "HTTP/1.1", 200, 'ua "q"'),
        (5, "1.1.1.5", 'GET /d?x="y HTTP/1.1', "GET", '/d?x="y', "HTTP/1.1", 200, "ua"),
        (7, "1.1.1.7", "GET / HTTP/1.1", "GET", "/", "HTTP/1.1", 200, "ua"),
    ]
    assert audit(con, "weblog_hits") == [
        (LOG_DAY, "weblogs/access-2015-05-17.log.gz", 7, 6, 1, "loaded", None)
    ]


# --- through the whole job -------------------------------------------------------------------


@pytest.mark.slow
def test_whole_job_a_bad_input_fails_the_run_and_publishes_nothing(tmp_path: Path) -> None:
    """Tier XS: days 1-2 published; day 3's clickstream file arrives truncated. The run fails
    with one line naming the table, the day, the file and the problem; the served datamart
    and every export file are byte-for-byte unchanged; days 1-2 keep their rows."""
    settings, _env = xs_deployment(tmp_path)
    first = run_pipeline(settings, D1, D2, instance=dg.DagsterInstance.ephemeral())
    assert first.success, first.reason
    before = checksums(settings)
    assert len(before) > 10  # the datamart, the manifest and every export file
    with duckdb.connect(str(settings.build_db), read_only=True) as build:
        events_before = build.execute(
            "SELECT _partition, count(*) FROM raw.clickstream_events GROUP BY 1 ORDER BY 1"
        ).fetchall()

    day3 = date(2025, 9, 3)
    path = settings.inbox_dir / "clickstream/events-2025-09-03.jsonl.gz"
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    failed = run_pipeline(settings, day3, day3, instance=dg.DagsterInstance.ephemeral())
    assert not failed.success
    assert failed.failed_steps == ("raw__clickstream_events",)
    assert failed.reason == (
        "step raw__clickstream_events: raw.clickstream_events 2025-09-03: "
        "clickstream/events-2025-09-03.jsonl.gz: not a complete gzip file "
        f"(IO Error: Unexpected end of GZIP stream: {path})"
    )
    assert checksums(settings) == before, "a failed run must not touch the served datamart or exports"
    assert no_leftovers(settings) == []
    with duckdb.connect(str(settings.build_db), read_only=True) as build:
        assert (
            build.execute(
                "SELECT _partition, count(*) FROM raw.clickstream_events GROUP BY 1 ORDER BY 1"
            ).fetchall()
            == events_before
        )
        assert build.execute(
            "SELECT count(*) FROM audit.load_log WHERE raw_table = 'clickstream_events' AND partition = ?",
            [day3],
        ).fetchone() == (0,)
        mismatched = build.execute(
            "SELECT count(*) FROM audit.load_log WHERE rows_read <> rows_loaded + rows_quarantined"
        ).fetchone()
    assert mismatched == (0,)

    # The source re-delivers the whole file: day 3 loads every line and is published.
    path.write_bytes(good)
    lines = sum(1 for line in gzip.decompress(good).decode().splitlines() if line.strip())
    fixed = run_pipeline(settings, day3, day3, instance=dg.DagsterInstance.ephemeral())
    assert fixed.success, fixed.reason
    assert checksums(settings) != before
    with duckdb.connect(str(settings.build_db), read_only=True) as build:
        read, loaded, quarantined = build.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined FROM audit.load_log "
            "WHERE raw_table = 'clickstream_events' AND partition = ?",
            [day3],
        ).fetchone()
        in_raw = build.execute(
            "SELECT count(*) FROM raw.clickstream_events WHERE _partition = ?", [day3]
        ).fetchone()[0]
    assert read == lines and read == loaded + quarantined and in_raw == loaded
