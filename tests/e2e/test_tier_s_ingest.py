"""Tier S through the real ingest assets, reconciled with the generator's ground truth."""

from __future__ import annotations

from collections import Counter
from datetime import date

import dagster as dg
import duckdb

from pipelines.runner import run_pipeline

RAW_TABLES = [
    "crm_customers",
    "crm_products",
    "crm_orders",
    "crm_order_lines",
    "crm_interactions",
    "clickstream_events",
    "weblog_hits",
]


def _con(tier_s) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(tier_s.settings.build_db), read_only=True)


def test_every_planted_defect_is_quarantined_with_its_reason(tier_s) -> None:
    expected: Counter = Counter()
    expected_by_file: Counter = Counter()
    for defect in tier_s.manifest["defects"]:
        expected[(defect["table"], defect["reason"])] += defect["count"]
        for file, n in defect.get("by_file", {}).items():
            expected_by_file[(defect["table"], defect["reason"], file)] += n
    found: Counter = Counter()
    found_by_file: Counter = Counter()
    with _con(tier_s) as con:
        for table in RAW_TABLES:
            for reason, file, n in con.execute(
                f"SELECT reason, _source_file, count(*) FROM quarantine.{table} GROUP BY ALL"
            ).fetchall():
                found[(table, reason)] += n
                found_by_file[(table, reason, file)] += n
    assert sum(expected.values()) > 0, "the generator planted no defects"
    assert found == expected
    assert found_by_file == expected_by_file


def test_rows_read_equal_loaded_plus_quarantined_for_every_file(tier_s) -> None:
    with _con(tier_s) as con:
        audit = con.execute(
            "SELECT raw_table, source_file, rows_read, rows_loaded, rows_quarantined FROM audit.load_log"
        ).fetchall()
        loaded_in_raw = {}
        for table in RAW_TABLES:
            for file, n in con.execute(
                f"SELECT _source_file, count(*) FROM raw.{table} GROUP BY 1"
            ).fetchall():
                loaded_in_raw[(table, file)] = n
    files = tier_s.manifest["files"]
    assert len(audit) == len(files), "every delivered file is in the load audit"
    for table, file, read, loaded, quarantined in audit:
        assert read == loaded + quarantined, file
        assert read == files[file]["rows"], f"{file}: read {read}, generator wrote {files[file]['rows']}"
        assert loaded_in_raw.get((table, file), 0) == loaded, file


def test_late_events_land_on_their_own_day(tier_s) -> None:
    with _con(tier_s) as con:
        late = con.execute(
            "SELECT count(*) FROM raw.clickstream_events WHERE CAST(timezone('UTC', event_ts) AS DATE) < _partition"
        ).fetchall()[0][0]
    assert late == tier_s.manifest["late_events"] > 0


def _fingerprint(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> tuple:
    cols = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "AND column_name <> '_loaded_at' ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
    ]
    col_list = ", ".join(f'"{c}"' for c in cols)
    return con.execute(f"SELECT count(*), sum(hash({col_list})) FROM {schema}.{table}").fetchall()[0]


def test_rematerializing_a_partition_changes_nothing(tier_s) -> None:
    with _con(tier_s) as con:
        before = {(s, t): _fingerprint(con, s, t) for s in ("raw", "quarantine") for t in RAW_TABLES}
        day = con.execute("SELECT max(_partition) - 3 FROM raw.clickstream_events").fetchall()[0][0]
        stamp_sql = "SELECT max(_loaded_at) FROM raw.clickstream_events WHERE _partition = ?"
        stamp_before = con.execute(stamp_sql, [day]).fetchall()[0][0]
    from pipelines.definitions import build_definitions

    keys = [k for k in build_definitions(tier_s.settings).resolve_all_asset_keys() if k.path[0] == "raw"]
    outcome = run_pipeline(tier_s.settings, day, day, selection=keys, instance=dg.DagsterInstance.ephemeral())
    assert outcome.success, outcome.reason
    with _con(tier_s) as con:
        after = {(s, t): _fingerprint(con, s, t) for s in ("raw", "quarantine") for t in RAW_TABLES}
        stamp_after = con.execute(stamp_sql, [day]).fetchall()[0][0]
    assert isinstance(day, date)
    assert stamp_after > stamp_before, "the partition really was loaded again"
    assert after == before


def test_reading_a_range_in_many_passes_gives_the_same_tables_as_one_pass(tier_s, tmp_path) -> None:
    """Three passes per table against one pass over all 30 days: the planted cross-day
    duplicates, late events and unknown references get the same verdicts either way."""
    from pipelines.ingest import ingest_range, load_contracts
    from pipelines.ingest.contracts import table_for_raw
    from pipelines.ingest.load import text_bytes
    from pipelines.partitions import inbox_days
    from tests.ingest.conftest import snapshot

    settings = tier_s.settings
    contracts = load_contracts(settings.contracts_dir)
    days = inbox_days(settings.inbox_dir)
    built = {}
    for label in ("one pass", "three passes"):
        with duckdb.connect(str(tmp_path / f"{label}.duckdb")) as con:
            for raw_table in RAW_TABLES:
                table = table_for_raw(contracts, raw_table)
                files = [settings.inbox_dir / table.file_for(d) for d in days]
                text = sum(text_bytes(f) for f in files if f.exists())
                batch_bytes = 1 << 40 if label == "one pass" else text // 3 + 1
                ingest_range(
                    con, table, settings.inbox_dir, days, tmp_dir=tmp_path / "t", batch_bytes=batch_bytes
                )
            built[label] = {t: snapshot(con, t) for t in RAW_TABLES}
    for raw_table in RAW_TABLES:
        one, many = built["one pass"][raw_table], built["three passes"][raw_table]
        assert one["audit"] == many["audit"], raw_table
        assert one["quarantine"] == many["quarantine"], raw_table
        assert one["raw"] == many["raw"], raw_table
    duplicates = [q for q in built["one pass"]["clickstream_events"]["quarantine"] if "duplicate_key" in q]
    assert duplicates  # the comparison covers cross-day re-sends, not only clean rows
