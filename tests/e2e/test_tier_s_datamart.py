"""Tier S through the whole job: the published datamart and exports reconcile with raw."""

from __future__ import annotations

import hashlib
import json
import re

import duckdb
import polars as pl
import pyarrow.dataset as ds


def test_customer_360_has_every_customer_and_reconciles_revenue_to_the_cent(tier_s) -> None:
    with duckdb.connect(str(tier_s.settings.build_db), read_only=True) as con:
        raw_customers, raw_revenue = con.execute(
            """SELECT (SELECT count(DISTINCT customer_id) FROM raw.crm_customers),
                      (SELECT sum(total_amount) FROM (SELECT * FROM raw.crm_orders
                         QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _partition DESC, _line_number DESC) = 1)
                       WHERE status = 'completed')"""
        ).fetchall()[0]
    with duckdb.connect(str(tier_s.settings.datamart_db), read_only=True) as mart:
        rows, distinct, revenue, segmented = mart.execute(
            "SELECT count(*), count(DISTINCT customer_id), sum(net_revenue), count(rfm_segment) FROM marts.customer_360"
        ).fetchall()[0]
        buyers = mart.execute(
            "SELECT count(*) FROM marts.customer_360 WHERE orders_completed > 0"
        ).fetchall()[0][0]
    assert rows == distinct == raw_customers == 2000
    assert revenue == raw_revenue
    assert segmented == buyers > 0, "every customer with a completed order has an RFM segment"


def test_exports_match_the_datamart_and_their_manifest(tier_s) -> None:
    exports = tier_s.settings.exports_dir
    manifest = json.loads((exports / "_manifest.json").read_text())
    with duckdb.connect(str(tier_s.settings.datamart_db), read_only=True) as mart:
        for table in ("customer_360", "rfm_segments", "fct_orders"):
            expected = mart.execute(f"SELECT count(*) FROM marts.{table}").fetchall()[0][0]
            assert ds.dataset(exports / table, format="parquet").count_rows() == expected
            assert (
                pl.scan_parquet(exports / table / "**/*.parquet").select(pl.len()).collect().item()
                == expected
            )
            assert manifest["tables"][table]["rows"] == expected
            pub_run = mart.execute("SELECT run_id FROM meta.publication").fetchall()[0][0]
    assert manifest["run_id"] == pub_run


def _key_columns(schema: list[dict]) -> list[str]:
    """Ids, dates and measures: what a BI dashboard joins and sums on."""
    keep = []
    for col in schema:
        name, dtype = col["name"], col["type"].upper()
        if (
            name.endswith("_id")
            or name.endswith("_date")
            or dtype.startswith(("DECIMAL", "BIGINT", "INTEGER"))
        ):
            keep.append(name)
    return keep


def _fingerprint(values: list) -> str:
    """Order-free checksum of a column: sha256 over its sorted, normalised values."""
    text = sorted("∅" if v is None else str(v.isoformat() if hasattr(v, "isoformat") else v) for v in values)
    return hashlib.sha256("\n".join(text).encode()).hexdigest()


def test_every_export_reads_the_same_in_pyarrow_polars_and_the_datamart(tier_s) -> None:
    exports = tier_s.settings.exports_dir
    manifest = json.loads((exports / "_manifest.json").read_text())
    with duckdb.connect(str(tier_s.settings.datamart_db), read_only=True) as mart:
        published = dict(mart.execute("SELECT table_name, row_count FROM meta.publication_tables").fetchall())
        assert set(manifest["tables"]) == set(published)
        for table, entry in manifest["tables"].items():
            files = sorted((exports / table).rglob("*.parquet"))
            assert [f.relative_to(exports).as_posix() for f in files] == entry["files"]
            arrow = ds.dataset(exports / table, format="parquet", partitioning="hive").to_table()
            frame = pl.read_parquet(files, hive_partitioning=False)
            assert arrow.num_rows == frame.height == published[table] == entry["rows"], table
            assert frame.columns == [c["name"] for c in entry["schema"]], table
            for column in _key_columns(entry["schema"]):
                if column in entry["pseudonymized"]:
                    continue
                in_mart = [r[0] for r in mart.execute(f'SELECT "{column}" FROM marts."{table}"').fetchall()]
                expected = _fingerprint(in_mart)
                assert _fingerprint(arrow.column(column).to_pylist()) == expected, (
                    f"{table}.{column} (pyarrow)"
                )
                assert _fingerprint(frame[column].to_list()) == expected, f"{table}.{column} (polars)"


def test_exports_carry_no_readable_personal_data(tier_s) -> None:
    exports = tier_s.settings.exports_dir
    manifest = json.loads((exports / "_manifest.json").read_text())
    pii = set(tier_s.settings.export_pii_columns)
    hashed_values = 0
    for table, entry in manifest["tables"].items():
        names = {c["name"] for c in entry["schema"]}
        assert set(entry["pseudonymized"]) == names & pii, table
        for column in entry["pseudonymized"]:
            values = ds.dataset(exports / table, format="parquet").to_table(columns=[column]).column(column)
            present = [v for v in values.to_pylist() if v is not None]
            assert all(re.fullmatch(r"[0-9a-f]{64}", v) for v in present), f"{table}.{column} is not hashed"
            hashed_values += len(present)
    assert "email" in manifest["tables"]["customer_360"]["pseudonymized"] and hashed_values > 1000
    with duckdb.connect(str(tier_s.settings.datamart_db), read_only=True) as mart:
        plain = mart.execute("SELECT count(*) FROM marts.customer_360 WHERE email LIKE '%@%'").fetchall()[0][
            0
        ]
    assert plain > 1000, "the analysts' datamart keeps the real emails"


def test_share_of_clickstream_sessions_stitched_to_a_customer_is_reported(tier_s) -> None:
    """The warn-only check fct_sessions:stitching_coverage, on the tier S build: a real share."""
    from pipelines.quality.reconciliation import min_stitched_session_share, stitching_coverage

    floor = min_stitched_session_share()
    with duckdb.connect(str(tier_s.settings.build_db), read_only=True) as con:
        outcome = stitching_coverage(con, floor)
    meta = outcome.metadata
    print(
        f"\ntier S stitching coverage: {meta['stitched_sessions']} of {meta['sessions']} clickstream "
        f"sessions stitched to a customer = {meta['stitched_share']:.2%} (floor {floor:.0%})"
    )
    assert meta["sessions"] > 1000
    assert 0 < meta["stitched_sessions"] < meta["sessions"]
    assert isinstance(meta["stitched_share"], float)
    assert meta["stitched_share"] == round(meta["stitched_sessions"] / meta["sessions"], 4)
    # The generator logs in a share of visitors; anonymous browsing keeps it well below 1.
    assert 0.2 <= meta["stitched_share"] <= 0.95
    assert outcome.passed
    with duckdb.connect(str(tier_s.settings.datamart_db), read_only=True) as mart:
        published = mart.execute(
            "SELECT count(customer_id) FROM marts.fct_sessions WHERE source = 'clickstream'"
        ).fetchall()[0][0]
    assert published == meta["stitched_sessions"], "the published datamart carries the same stitching"
