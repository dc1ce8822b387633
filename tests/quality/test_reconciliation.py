"""Cross-layer reconciliation checks: pass on a consistent warehouse, fail on each planted defect."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.quality.reconciliation import (
    min_stitched_session_share,
    reconcile_customers,
    reconcile_ingest,
    reconcile_revenue,
    stitching_coverage,
)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """Two customers; order o1 completed then returned (latest version wins), o2 completed."""
    c = duckdb.connect()
    c.execute("create schema raw; create schema audit; create schema marts")
    c.execute(
        """create table audit.load_log as select * from (values
             ('crm_orders', 'orders-1.csv', 3, 2, 1, 'loaded'),
             ('crm_orders', 'orders-2.csv', 1, 1, 0, 'loaded'),
             ('crm_orders', 'orders-2.csv', 1, 0, 0, 'duplicate_delivery'),
             ('crm_customers', 'customers-1.csv', 2, 2, 0, 'loaded'))
           t(raw_table, source_file, rows_read, rows_loaded, rows_quarantined, status)"""
    )
    c.execute(
        """create table raw.crm_orders as select * from (values
             ('o1', 'c1', 'completed', 10.25::decimal(14,2), date '2025-09-01', 1),
             ('o2', 'c2', 'completed', 5.10::decimal(14,2), date '2025-09-01', 2),
             ('o1', 'c1', 'returned', 10.25::decimal(14,2), date '2025-09-02', 1))
           t(order_id, customer_id, status, total_amount, _partition, _line_number)"""
    )
    c.execute("create table raw.crm_customers as select * from (values ('c1'), ('c2')) t(customer_id)")
    c.execute(
        "create table marts.fct_orders as select * from (values ('o1', 0.00), ('o2', 5.10)) t(order_id, net_amount)"
    )
    c.execute(
        "create table marts.customer_360 as select * from (values ('c1', 0.00), ('c2', 5.10)) t(customer_id, net_revenue)"
    )
    return c


def test_a_consistent_warehouse_reconciles(con: duckdb.DuckDBPyConnection) -> None:
    assert reconcile_ingest(con).passed
    revenue = reconcile_revenue(con)
    assert revenue.passed and revenue.metadata["raw_net_revenue"] == 5.10  # o1's latest version is a return
    assert reconcile_customers(con).passed


def test_a_row_lost_between_file_and_table_fails(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("delete from raw.crm_orders where order_id = 'o2'")
    outcome = reconcile_ingest(con)
    assert not outcome.passed
    assert outcome.metadata["tables_not_matching_audit"] == [
        {"table": "crm_orders", "rows": 2, "audit_loaded": 3}
    ]


def test_a_file_whose_counts_do_not_add_up_fails(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update audit.load_log set rows_quarantined = 0 where source_file = 'orders-1.csv'")
    outcome = reconcile_ingest(con)
    assert not outcome.passed
    assert [f["file"] for f in outcome.metadata["files_unbalanced"]] == ["orders-1.csv"]


def test_a_cent_of_revenue_drift_fails(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update marts.customer_360 set net_revenue = 5.11 where customer_id = 'c2'")
    outcome = reconcile_revenue(con)
    assert not outcome.passed and outcome.metadata["customer_360_net"] == 5.11


def test_a_missing_or_invented_customer_fails(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update marts.customer_360 set customer_id = 'c9' where customer_id = 'c2'")
    outcome = reconcile_customers(con)
    assert not outcome.passed
    assert outcome.metadata["missing_from_customer_360"] == 1 and outcome.metadata["not_in_crm"] == 1


def test_stitching_coverage_reports_the_share_and_warns_below_the_floor(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(
        """create table marts.fct_sessions as select * from (values
             ('s1', 'c1', 'clickstream'), ('s2', null, 'clickstream'), ('s3', null, 'clickstream'),
             ('s4', null, 'clickstream'), ('s5', null, 'weblogs')) t(session_id, customer_id, source)"""
    )
    assert stitching_coverage(con, 0.2).metadata == {
        "sessions": 4,
        "stitched_sessions": 1,
        "stitched_share": 0.25,
        "min_share": 0.2,
    }
    assert stitching_coverage(con, 0.2).passed
    assert not stitching_coverage(con, 0.3).passed
    assert min_stitched_session_share() == 0.2


def test_a_credit_note_is_subtracted_from_raw_revenue(con: duckdb.DuckDBPyConnection) -> None:
    """A credit note of a line-level export (status returned, negative total) gives 2.00 back:
    raw net = o2 5.10 - 2.00 = 3.10 (o1 nets to 0); marts that ignore it no longer reconcile."""
    con.execute(
        "insert into raw.crm_orders values ('c3', 'c2', 'returned', -2.00::decimal(14,2), date '2025-09-02', 2)"
    )
    outcome = reconcile_revenue(con)
    assert not outcome.passed and outcome.metadata["raw_net_revenue"] == 3.10
    con.execute("insert into marts.fct_orders values ('c3', -2.00)")
    con.execute("update marts.customer_360 set net_revenue = 3.10 where customer_id = 'c2'")
    assert reconcile_revenue(con).passed
