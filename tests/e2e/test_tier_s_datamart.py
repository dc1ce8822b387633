"""Tier S through the whole job: the published datamart and exports reconcile with raw."""

from __future__ import annotations

import json

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
        buyers = mart.execute("SELECT count(*) FROM marts.customer_360 WHERE orders_completed > 0").fetchall()[0][0]
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
            assert pl.scan_parquet(exports / table / "**/*.parquet").select(pl.len()).collect().item() == expected
            assert manifest["tables"][table]["rows"] == expected
            pub_run = mart.execute("SELECT run_id FROM meta.publication").fetchall()[0][0]
    assert manifest["run_id"] == pub_run
