"""Cross-layer reconciliation: what went in comes out, checked after the marts are built.

dbt tests look inside one layer; these look across layers, the way a finance analyst
would before trusting the numbers:

- ingest: every file's rows read = loaded + quarantined, and each raw table holds exactly
  the rows its audit says were loaded (nothing lost or doubled between file and table);
- revenue: raw orders (latest version of each: completed minus returned, cancelled excluded)
  = fct_orders net = customer_360 net, to the cent;
- customers: every CRM customer is exactly one customer_360 row;
- identity reach (severity WARN: reported, never blocks): the share of clickstream
  sessions stitched to a customer.

Each is a blocking asset check (publish waits for them). The queries are plain functions
so tests can run them against a planted defect without Dagster.
No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import yaml

from pipelines.quality.input_checks import THRESHOLDS_FILE
from pipelines.resources import WarehouseResource

CUSTOMER_360 = dg.AssetKey(["marts", "customer_360"])
FCT_ORDERS = dg.AssetKey(["marts", "fct_orders"])
FCT_SESSIONS = dg.AssetKey(["marts", "fct_sessions"])


@dataclass
class Reconciliation:
    passed: bool
    metadata: dict[str, object] = field(default_factory=dict)


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [schema]
    ).fetchall()
    return {r[0] for r in rows}


def reconcile_ingest(con: duckdb.DuckDBPyConnection) -> Reconciliation:
    """Per file: read = loaded + quarantined; per raw table: rows present = rows the audit loaded."""
    unbalanced = con.execute(
        """select raw_table, source_file, rows_read, rows_loaded, rows_quarantined from audit.load_log
           where status = 'loaded' and rows_read <> rows_loaded + rows_quarantined
           order by raw_table, source_file limit 20"""
    ).fetchall()
    raw_tables = _tables(con, "raw")
    audited = con.execute(
        "select raw_table, sum(rows_loaded) from audit.load_log where status in ('loaded', 'derived') group by 1"
    ).fetchall()
    mismatched: list[dict[str, object]] = []
    for raw_table, expected in audited:
        if raw_table not in raw_tables:
            continue
        present = con.execute(f'select count(*) from raw."{raw_table}"').fetchall()[0][0]
        if present != expected:
            mismatched.append({"table": raw_table, "rows": present, "audit_loaded": int(expected)})
    return Reconciliation(
        passed=not unbalanced and not mismatched,
        metadata={
            "files_unbalanced": [
                {"table": t, "file": f, "read": r, "loaded": lo, "quarantined": q}
                for t, f, r, lo, q in unbalanced
            ],
            "tables_not_matching_audit": mismatched,
            "tables_checked": len(audited),
        },
    )


def reconcile_revenue(con: duckdb.DuckDBPyConnection) -> Reconciliation:
    """Net revenue in raw = fct_orders = customer_360, raw being the latest version of each order,
    completed minus returned: a completed order counts its total; a returned order with a
    non-negative total was completed then given back (nets to 0); a credit note (returned, negative
    total: line-level exports) subtracts what it gives back; cancelled orders count nothing."""
    raw, fct, c360 = con.execute(
        """select
             (select coalesce(sum(total_amount), 0) from (
                select status, total_amount from raw.crm_orders
                qualify row_number() over (partition by order_id order by _partition desc, _line_number desc) = 1)
              where status = 'completed' or (status = 'returned' and total_amount < 0)),
             (select coalesce(sum(net_amount), 0) from marts.fct_orders),
             (select coalesce(sum(net_revenue), 0) from marts.customer_360)"""
    ).fetchall()[0]
    raw, fct, c360 = (Decimal(str(v)) for v in (raw, fct, c360))
    return Reconciliation(
        passed=raw == fct == c360,
        metadata={
            "raw_net_revenue": float(raw),
            "fct_orders_net": float(fct),
            "customer_360_net": float(c360),
        },
    )


def reconcile_customers(con: duckdb.DuckDBPyConnection) -> Reconciliation:
    """Every CRM customer is one customer_360 row, and customer_360 invents no one."""
    crm, rows, distinct, missing, extra = con.execute(
        """with crm as (select distinct customer_id from raw.crm_customers)
           select (select count(*) from crm),
                  (select count(*) from marts.customer_360),
                  (select count(distinct customer_id) from marts.customer_360),
                  (select count(*) from crm anti join marts.customer_360 c using (customer_id)),
                  (select count(*) from marts.customer_360 c anti join crm using (customer_id))"""
    ).fetchall()[0]
    return Reconciliation(
        passed=crm == rows == distinct and missing == 0 and extra == 0,
        metadata={
            "crm_customers": crm,
            "customer_360_rows": rows,
            "missing_from_customer_360": missing,
            "not_in_crm": extra,
        },
    )


def stitching_coverage(con: duckdb.DuckDBPyConnection, min_share: float) -> Reconciliation:
    """Share of clickstream sessions attributed to a customer (the identity graph's reach)."""
    sessions, stitched = con.execute(
        "select count(*), count(customer_id) from marts.fct_sessions where source = 'clickstream'"
    ).fetchall()[0]
    share = stitched / sessions if sessions else 0.0
    return Reconciliation(
        passed=sessions == 0 or share >= min_share,
        metadata={
            "sessions": sessions,
            "stitched_sessions": stitched,
            "stitched_share": round(share, 4),
            "min_share": min_share,
        },
    )


def min_stitched_session_share(path: Path = THRESHOLDS_FILE) -> float:
    doc = yaml.safe_load(path.read_text()) or {}
    return float((doc.get("reconciliation") or {})["min_stitched_session_share"])


def _result(
    outcome: Reconciliation, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed,
        severity=severity,
        metadata={
            k: v if isinstance(v, int | float | str) else dg.MetadataValue.json(v)
            for k, v in outcome.metadata.items()
        },
    )


@dataclass(frozen=True)
class _CheckSpec:
    name: str
    asset: dg.AssetKey
    description: str
    run: Callable[[duckdb.DuckDBPyConnection], Reconciliation]
    blocking: bool = True
    additional_deps: tuple[dg.AssetKey, ...] = ()


def _stitching(con: duckdb.DuckDBPyConnection) -> Reconciliation:
    return stitching_coverage(con, min_stitched_session_share())


CHECKS = (
    _CheckSpec(
        "ingest_reconciles",
        CUSTOMER_360,
        "Rows read = loaded + quarantined for every file; each raw table holds exactly what its audit loaded.",
        reconcile_ingest,
    ),
    _CheckSpec(
        "revenue_reconciles",
        CUSTOMER_360,
        "Net revenue: raw orders (latest version, completed minus returned) = fct_orders = customer_360, "
        "to the cent.",
        reconcile_revenue,
        additional_deps=(FCT_ORDERS,),
    ),
    _CheckSpec(
        "customers_reconcile",
        CUSTOMER_360,
        "Every CRM customer is exactly one customer_360 row; no other rows.",
        reconcile_customers,
    ),
    _CheckSpec(
        "stitching_coverage",
        FCT_SESSIONS,
        "WARN, never blocks: share of clickstream sessions stitched to a customer "
        "(thresholds.yml reconciliation.min_stitched_session_share). Reported on every run.",
        _stitching,
        blocking=False,
    ),
)


def _build_check(spec: _CheckSpec) -> dg.AssetChecksDefinition:
    severity = dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN

    @dg.asset_check(
        asset=spec.asset,
        name=spec.name,
        blocking=spec.blocking,
        pool="duckdb_writer",
        additional_deps=list(spec.additional_deps),
        description=spec.description,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            return _result(spec.run(con), severity)

    return _check


def build_reconciliation_checks() -> list[dg.AssetChecksDefinition]:
    return [_build_check(spec) for spec in CHECKS]
