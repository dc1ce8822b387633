"""Access logs: combined and common formats, IPv6, escapes, malformed lines, the real sample."""

from __future__ import annotations

import dataclasses
import gzip
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pipelines.ingest import ingest_table
from tests.ingest.conftest import FIXTURES, quarantine

DAY = date(2015, 5, 17)
REAL_LOG = Path(__file__).resolve().parents[3] / "shared" / "data" / "real" / "apache-combined-2015-05.log.gz"


def test_combined_format(con, contracts, inbox: Path) -> None:
    (f,) = ingest_table(con, contracts["weblogs"].tables["hits"], inbox, DAY).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (5, 4, 1)
    assert quarantine(con, "weblog_hits") == [(3, "malformed_line", None, "rejected")]
    rows = con.execute(
        "SELECT ip, auth_user, request_ts, method, path, protocol, status, bytes, referrer, user_agent "
        "FROM raw.weblog_hits ORDER BY _line_number"
    ).fetchall()
    assert rows[0] == (
        "83.149.9.216",
        None,
        datetime(2015, 5, 17, 10, 5, 3, tzinfo=UTC),
        "GET",
        "/presentations/logstash/images/kibana.png",
        "HTTP/1.1",
        200,
        203023,
        "http://semicomplete.com/presentations/",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1)",
    )
    assert rows[1][:3] == ("2001:db8:85a3::8a2e:370:7334", "frank", datetime(2015, 5, 17, 8, 6, tzinfo=UTC))
    assert rows[1][6:9] == (302, None, None)  # bytes '-' and referrer '-' are NULL
    assert rows[2][4] == '/blog/?q="quoted"' and rows[2][9].endswith('"x"')
    assert rows[3][3:6] == (None, None, None) and rows[3][6] == 408  # request "-"


def test_common_format(con, contracts, tmp_path: Path) -> None:
    inbox = tmp_path / "common"
    (inbox / "weblogs").mkdir(parents=True)
    (inbox / "weblogs/access-2015-05-17.log.gz").write_bytes(
        gzip.compress((FIXTURES / "access-common-2015-05-17.log").read_bytes())
    )
    hits = dataclasses.replace(contracts["weblogs"].tables["hits"], log_format="common")
    (f,) = ingest_table(con, hits, inbox, DAY).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (3, 2, 1)
    assert quarantine(con, "weblog_hits") == [(3, "malformed_line", None, "rejected")]
    assert con.execute(
        "SELECT ip, auth_user, status, bytes, referrer FROM raw.weblog_hits ORDER BY 1"
    ).fetchall() == [("127.0.0.1", "alice", 200, 2326, None), ("::1", None, 404, None, None)]


def test_real_apache_log(con, contracts, tmp_path: Path) -> None:
    if not REAL_LOG.exists():
        pytest.skip(f"real sample {REAL_LOG} not found (see shared/data/README.md)")
    inbox = tmp_path / "real"
    (inbox / "weblogs").mkdir(parents=True)
    (inbox / "weblogs/access-2015-05-17.log.gz").write_bytes(REAL_LOG.read_bytes())
    hits = contracts["weblogs"].tables["hits"]
    # The sample spans 17-20 May: tolerate 3 days so only the malformed line is quarantined.
    (f,) = ingest_table(con, hits, inbox, DAY, future_tolerance_days=3).files
    assert f.rows_read == 10_000
    assert f.rows_loaded >= 9_990 and f.rows_quarantined == 1
    assert quarantine(con, "weblog_hits")[0][1] == "malformed_line"
    assert (
        con.execute(
            "SELECT count(*) FROM raw.weblog_hits WHERE request_ts IS NULL OR status IS NULL"
        ).fetchone()[0]
        == 0
    )
