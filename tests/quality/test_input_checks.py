"""Input checks gate the run: a planted defect fails the check and stops what depends on it."""

from __future__ import annotations

import dataclasses
import gzip
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.ingest import ingest_table, load_contracts
from pipelines.quality.input_checks import Thresholds, run_input_checks
from pipelines.runner import run_pipeline
from pipelines.settings import PACKAGE_DIR, Settings
from pipelines.synth import generate

THRESHOLDS = Thresholds(
    max_quarantine_share=0.05,
    quarantine_allowance_rows=2,
    min_row_count_ratio=0.2,
    max_row_count_ratio=5.0,
    min_rows_for_ratio=100,
    min_valid_email_share=0.95,
    sample_size=5,
    validation_chunk_rows=500_000,
)


@pytest.fixture
def xs(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path, tier="XS", duckdb_memory_limit="1GB")
    generate(settings, "XS", 3, out_dir=settings.inbox_dir)
    return settings


def _blank_customer_ids(path: Path, every: int) -> int:
    """Empty the customer_id of every n-th data line; returns how many were blanked."""
    lines = path.read_bytes().decode("cp1252").split("\n")
    blanked = 0
    for i in range(1, len(lines)):
        if lines[i] and i % every == 0:
            lines[i] = ";" + lines[i].split(";", 1)[1]
            blanked += 1
    path.write_bytes("\n".join(lines).encode("cp1252"))
    return blanked


def test_quarantine_share_over_the_limit_fails_and_blocks_downstream(xs: Settings) -> None:
    blanked = _blank_customer_ids(xs.inbox_dir / "crm/2025-09-02/customers.csv", every=5)
    assert blanked > 10
    outcome = run_pipeline(xs, date(2025, 9, 1), date(2025, 9, 2), instance=dg.DagsterInstance.ephemeral())
    assert not outcome.success
    assert "check raw/crm_customers:input_expectations failed" in outcome.reason
    con = duckdb.connect(str(xs.build_db), read_only=True)
    try:
        # the customers themselves were loaded (and the bad rows quarantined) ...
        assert (
            con.execute(
                "SELECT count(*) FROM quarantine.crm_customers WHERE reason = 'missing_required'"
            ).fetchall()[0][0]
            == blanked
        )
        # ... but orders, which depend on customers, never ran
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
            ).fetchall()
        }
    finally:
        con.close()
    assert "crm_orders" not in tables and "crm_interactions" not in tables
    assert "clickstream_events" in tables, "independent sources still load"


def test_clean_days_pass_and_a_collapsed_day_fails_the_volume_gate(xs: Settings) -> None:
    contracts = load_contracts(PACKAGE_DIR / "contracts")
    events = contracts["clickstream"].tables["events"]
    con = duckdb.connect()
    try:
        for d in (1, 2, 3):
            ingest_table(con, events, xs.inbox_dir, date(2025, 9, d))
        days = [date(2025, 9, d) for d in (1, 2, 3)]
        report = run_input_checks(
            con, events, days, THRESHOLDS, future_tolerance_days=1, inbox_dir=xs.inbox_dir
        )
        assert report.passed, report.failures
        assert report.rows_validated > 3000 and report.evaluated > 10
        # day 3 delivered truncated: keep 5 % of its rows
        con.execute(
            "DELETE FROM raw.clickstream_events WHERE _partition = DATE '2025-09-03' AND hash(event_id) % 20 <> 0"
        )
        con.execute(
            "UPDATE audit.load_log SET rows_loaded = (SELECT count(*) FROM raw.clickstream_events "
            "WHERE _partition = DATE '2025-09-03') WHERE partition = DATE '2025-09-03'"
        )
        report = run_input_checks(
            con, events, days, THRESHOLDS, future_tolerance_days=1, inbox_dir=xs.inbox_dir
        )
    finally:
        con.close()
    assert not report.passed
    assert [f["check"] for f in report.failures] == ["row_count_change"]
    assert report.failures[0]["day"] == "2025-09-03" and report.failures[0]["ratio"] < 0.2


def test_expectation_failures_carry_samples(xs: Settings) -> None:
    contracts = load_contracts(PACKAGE_DIR / "contracts")
    orders = contracts["crm"].tables["orders"]
    con = duckdb.connect()
    try:
        ingest_table(con, contracts["crm"].tables["customers"], xs.inbox_dir, date(2025, 9, 1))
        ingest_table(con, orders, xs.inbox_dir, date(2025, 9, 1))
        # a value the contract does not accept, smuggled past ingest
        con.execute(
            "UPDATE raw.crm_orders SET status = 'lost_in_post' WHERE rowid IN (SELECT rowid FROM raw.crm_orders LIMIT 3)"
        )
        report = run_input_checks(
            con, orders, [date(2025, 9, 1)], THRESHOLDS, future_tolerance_days=1, inbox_dir=xs.inbox_dir
        )
    finally:
        con.close()
    assert not report.passed
    (failure,) = report.failures
    assert failure["check"] == "ExpectColumnValuesToBeInSet(status)"
    assert failure["unexpected"] == 3 and failure["sample"] == ["lost_in_post"] * 3


def test_chunked_validation_finds_the_same_defects_as_one_batch(xs: Settings) -> None:
    contracts = load_contracts(PACKAGE_DIR / "contracts")
    events = contracts["clickstream"].tables["events"]
    days = [date(2025, 9, d) for d in (1, 2, 3)]
    con = duckdb.connect()
    try:
        for day in days:
            ingest_table(con, events, xs.inbox_dir, day)
        for day, bad in ((1, 2), (3, 3)):
            con.execute(
                f"UPDATE raw.clickstream_events SET event_type = 'teleport' WHERE rowid IN ("
                f"SELECT rowid FROM raw.clickstream_events WHERE _partition = DATE '2025-09-0{day}' LIMIT {bad})"
            )
        one_batch = run_input_checks(
            con, events, days, THRESHOLDS, future_tolerance_days=1, inbox_dir=xs.inbox_dir
        )
        per_day = run_input_checks(
            con,
            events,
            days,
            dataclasses.replace(THRESHOLDS, validation_chunk_rows=1),
            future_tolerance_days=1,
            inbox_dir=xs.inbox_dir,
        )
    finally:
        con.close()
    for report in (one_batch, per_day):
        failed = {f["check"]: f for f in report.failures}
        assert set(failed) == {"ExpectColumnValuesToBeInSet(event_type)"}
        assert failed["ExpectColumnValuesToBeInSet(event_type)"]["unexpected"] == 5
        assert failed["ExpectColumnValuesToBeInSet(event_type)"]["sample"][:1] == ["teleport"]
    assert per_day.rows_validated == one_batch.rows_validated > 3000


def test_timestamps_after_the_delivery_day_plus_tolerance_fail_with_samples(xs: Settings) -> None:
    """Ingest quarantines future rows; the suite catches any that reach raw another way.

    Day 2025-09-01 with tolerance 1: the limit is (day + 1 + 1) at 00:00 UTC = 2025-09-03 00:00 UTC,
    inclusive. Three rows are moved: one exactly to the limit (passes), two past it (fail).
    With tolerance 3 (limit 2025-09-05 00:00) the later one, 2025-09-05 10:00, still fails.
    """
    contracts = load_contracts(PACKAGE_DIR / "contracts")
    events = contracts["clickstream"].tables["events"]
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        ingest_table(con, events, xs.inbox_dir, date(2025, 9, 1))
        for i, ts in enumerate(("2025-09-03 00:00:00", "2025-09-03 00:00:01", "2025-09-05 10:00:00")):
            con.execute(
                "UPDATE raw.clickstream_events SET event_ts = ?::TIMESTAMPTZ WHERE rowid = "
                "(SELECT rowid FROM raw.clickstream_events ORDER BY event_id LIMIT 1 OFFSET ?)",
                [f"{ts}+00", i],
            )
        day = [date(2025, 9, 1)]
        strict = run_input_checks(
            con, events, day, THRESHOLDS, future_tolerance_days=1, inbox_dir=xs.inbox_dir
        )
        lenient = run_input_checks(
            con, events, day, THRESHOLDS, future_tolerance_days=3, inbox_dir=xs.inbox_dir
        )
    finally:
        con.close()
    # Sample values are UTC wall-clock (GX hands them over as numpy datetimes), in row order.
    assert [(f["check"], f["unexpected"], sorted(f["sample"])) for f in strict.failures] == [
        (
            "not_future(event_ts, tolerance 1 day(s))",
            2,
            [
                "2025-09-03 00:00:01 (limit 2025-09-03 00:00:00)",
                "2025-09-05 10:00:00 (limit 2025-09-03 00:00:00)",
            ],
        )
    ]
    assert [(f["check"], f["unexpected"], f["sample"]) for f in lenient.failures] == [
        ("not_future(event_ts, tolerance 3 day(s))", 1, ["2025-09-05 10:00:00 (limit 2025-09-05 00:00:00)"])
    ]


def test_a_day_without_a_file_fails_as_a_missing_delivery(xs: Settings) -> None:
    """Days 1 and 3 delivered, day 2's events file never came (day 2's CRM files did): the
    volume gate alone compares day 3 with day 1 and passes. A day with no file from any
    source (a closed shop's day in a line-level export) is no missing delivery."""
    contracts = load_contracts(PACKAGE_DIR / "contracts")
    events = contracts["clickstream"].tables["events"]
    (xs.inbox_dir / "clickstream" / "events-2025-09-02.jsonl.gz").unlink()
    days = [date(2025, 9, d) for d in (1, 2, 3)]
    con = duckdb.connect()
    try:
        for day in days:
            ingest_table(con, events, xs.inbox_dir, day)
        report = run_input_checks(
            con, events, days, THRESHOLDS, future_tolerance_days=1, inbox_dir=xs.inbox_dir
        )
        shutil.rmtree(xs.inbox_dir / "crm" / "2025-09-02")  # now nobody delivered anything on day 2
        (xs.inbox_dir / "weblogs" / "access-2025-09-02.log.gz").unlink()
        closed_day = run_input_checks(
            con, events, days, THRESHOLDS, future_tolerance_days=1, inbox_dir=xs.inbox_dir
        )
    finally:
        con.close()
    assert report.failures == [
        {
            "check": "missing_delivery",
            "day": "2025-09-02",
            "expected_file": "clickstream/events-2025-09-02.jsonl.gz",
        }
    ]
    assert closed_day.passed, closed_day.failures


def test_a_gzipped_file_is_no_missing_delivery(xs: Settings) -> None:
    """Day 2's customers came as customers.csv.gz: delivered, even where this run loaded nothing for it."""
    customers = load_contracts(PACKAGE_DIR / "contracts")["crm"].tables["customers"]
    plain = xs.inbox_dir / "crm" / "2025-09-02" / "customers.csv"
    plain.with_name("customers.csv.gz").write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    days = [date(2025, 9, d) for d in (1, 2, 3)]
    con = duckdb.connect()
    try:
        for day in (days[0], days[2]):
            ingest_table(con, customers, xs.inbox_dir, day)
        report = run_input_checks(
            con, customers, days, THRESHOLDS, future_tolerance_days=1, inbox_dir=xs.inbox_dir
        )
        plain.with_name("customers.csv.gz").unlink()
        missing = run_input_checks(
            con, customers, days, THRESHOLDS, future_tolerance_days=1, inbox_dir=xs.inbox_dir
        )
    finally:
        con.close()
    assert "missing_delivery" not in {f["check"] for f in report.failures}, report.failures
    assert {
        "check": "missing_delivery",
        "day": "2025-09-02",
        "expected_file": str(plain.relative_to(xs.inbox_dir)),
    } in missing.failures
