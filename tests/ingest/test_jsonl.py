"""Clickstream JSON Lines: invalid JSON, duplicates within and across files, re-delivery."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from pipelines.ingest import IngestError, ingest_table
from tests.ingest.conftest import quarantine, snapshot

D1, D2, D3 = date(2025, 9, 1), date(2025, 9, 2), date(2025, 9, 3)


def test_events_reasons_and_counts(con, contracts, inbox: Path) -> None:
    events = contracts["clickstream"].tables["events"]
    (f,) = ingest_table(con, events, inbox, D1).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (8, 2, 6)
    assert quarantine(con, "clickstream_events") == [
        (2, "invalid_json", None, "rejected"),
        (3, "duplicate_key", "event_id", "rejected"),
        (4, "missing_required", "anonymous_id", "rejected"),
        (5, "invalid_value", "event_type", "rejected"),
        (7, "invalid_json", None, "rejected"),
        (8, "invalid_type", "event_ts", "rejected"),
    ]
    rows = con.execute(
        "SELECT event_id, CAST(event_ts AS VARCHAR), ip, revenue, _line_number FROM raw.clickstream_events ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("e1", "2025-09-01 08:00:00+00", "2001:db8::1", None, 1),
        ("e6", "2025-09-01 23:59:00+00", None, pytest.approx(120.5), 6),
    ]
    bad = con.execute(
        "SELECT raw_record FROM quarantine.clickstream_events WHERE _line_number = 2"
    ).fetchone()[0]
    assert bad == '{"event_id":"e2","event_type":"page_view",'


def test_duplicate_across_files_and_late_event(con, contracts, inbox: Path) -> None:
    events = contracts["clickstream"].tables["events"]
    ingest_table(con, events, inbox, D1)
    (f,) = ingest_table(con, events, inbox, D2).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (2, 1, 1)
    reason, detail = con.execute(
        "SELECT reason, detail FROM quarantine.clickstream_events WHERE _partition = ?", [D2]
    ).fetchone()
    assert reason == "duplicate_key" and "events-2025-09-01.jsonl.gz" in detail
    # The late event (event_ts on 1 Sep) is loaded in the partition of the file it came in.
    assert (
        con.execute("SELECT _partition FROM raw.clickstream_events WHERE event_id = 'e9'").fetchone()[0] == D2
    )
    # Re-loading day 2 again: same result (the day-1 copy still wins).
    before = snapshot(con, "clickstream_events")
    ingest_table(con, events, inbox, D2)
    assert snapshot(con, "clickstream_events") == before


def test_redelivered_file_is_not_doubled(con, contracts, inbox: Path) -> None:
    events = contracts["clickstream"].tables["events"]
    ingest_table(con, events, inbox, D1)
    shutil.copy(
        inbox / "clickstream/events-2025-09-01.jsonl.gz", inbox / "clickstream/events-2025-09-03.jsonl.gz"
    )
    (f,) = ingest_table(con, events, inbox, D3).files
    assert f.status == "duplicate_delivery" and (f.rows_read, f.rows_loaded) == (0, 0)
    assert "events-2025-09-01.jsonl.gz" in f.note
    assert con.execute("SELECT count(*) FROM raw.clickstream_events").fetchone()[0] == 2
    assert con.execute("SELECT status FROM audit.load_log WHERE partition = ?", [D3]).fetchone()[0] == (
        "duplicate_delivery"
    )


def test_truncated_gzip_raises_and_loads_nothing(con, contracts, inbox: Path) -> None:
    path = inbox / "clickstream/events-2025-09-01.jsonl.gz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IngestError, match=r"clickstream/events-2025-09-01\.jsonl\.gz: not a complete gzip"):
        ingest_table(con, contracts["clickstream"].tables["events"], inbox, D1)
    assert con.execute("SELECT count(*) FROM raw.clickstream_events").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM audit.load_log").fetchone()[0] == 0
