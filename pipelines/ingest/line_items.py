"""The `line_items` layout: one CSV per day where each row is one order line (like the UCI
Online Retail export), from which the standard CRM raw tables are derived.

A contract with `layout: line_items` declares one table whose columns are named
invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id,
country (mapped to the file's headers with `source:`). The loader derives:

  crm_order_lines  one row per valid file line (line_no = order of the line in its invoice);
                   the file's rejected lines go to quarantine.crm_order_lines, and its audit
                   row carries the file's rows_read = rows_loaded + rows_quarantined
  crm_orders       one per invoice: total_amount = sum(quantity * unit_price); order_ts = first
                   line; status 'completed', or 'returned' for a credit note (invoice_no starting
                   with 'C')
  crm_products     one per stock_code: last description and last unit_price of the day
  crm_customers    one per customer_id: country of its last line, created_at = first purchase
  crm_interactions none (the table exists, empty)

A 'C' invoice of a UCI-style file is a credit note: goods of an earlier invoice given back, with
negative quantities. Its sale is the earlier invoice (still completed), so the credit note must be
subtracted from net revenue, not ignored as a cancellation would be. It is stored as an order with
status 'returned' and its negative total, lines with their negative quantities: the dbt marts read
"returned with a negative total" as a credit note (dbt_project/macros/order_revenue.sql: net
revenue = completed minus returned). The standard one-file-per-entity contracts never deliver
negative totals (their rule is total_amount >= 0), so the sign cannot be mistaken for anything else.
Same raw tables and columns as the `files` layout, so dbt works unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from pipelines.ingest.contracts import Column, ContractError, TableContract

LINE_COLUMNS = (
    "invoice_no",
    "stock_code",
    "description",
    "quantity",
    "invoice_date",
    "unit_price",
    "customer_id",
    "country",
)
REQUIRED_LINE_COLUMNS = ("invoice_no", "stock_code", "quantity", "invoice_date", "unit_price")

# The standard raw columns (mirror pipelines/contracts/crm.yml; a test keeps them equal).
_V, _TS, _D = "VARCHAR", "TIMESTAMP", "DECIMAL(12,2)"
STANDARD: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "customers": (
        "crm_customers",
        [
            ("customer_id", _V),
            ("email", _V),
            ("first_name", _V),
            ("last_name", _V),
            ("phone", _V),
            ("birth_date", "DATE"),
            ("gender", _V),
            ("postal_code", _V),
            ("city", _V),
            ("country", _V),
            ("created_at", _TS),
            ("updated_at", _TS),
            ("acquisition_channel", _V),
            ("loyalty_tier", _V),
            ("email_opt_in", "BOOLEAN"),
            ("email_consent_type", _V),
            ("sms_opt_in", "BOOLEAN"),
            ("consent_updated_at", _TS),
        ],
    ),
    "products": (
        "crm_products",
        [("product_id", _V), ("name", _V), ("category", _V), ("brand", _V), ("list_price", _D)],
    ),
    "orders": (
        "crm_orders",
        [
            ("order_id", _V),
            ("customer_id", _V),
            ("order_ts", _TS),
            ("channel", _V),
            ("status", _V),
            ("currency", _V),
            ("total_amount", "DECIMAL(14,2)"),
        ],
    ),
    "order_lines": (
        "crm_order_lines",
        [
            ("order_id", _V),
            ("line_no", "INTEGER"),
            ("product_id", _V),
            ("quantity", "INTEGER"),
            ("unit_price", _D),
            ("discount_amount", _D),
        ],
    ),
    "interactions": (
        "crm_interactions",
        [
            ("interaction_id", _V),
            ("customer_id", _V),
            ("channel", _V),
            ("type", _V),
            ("opened_at", _TS),
            ("closed_at", _TS),
            ("satisfaction", "INTEGER"),
        ],
    ),
}
_PK = {
    "customers": ("customer_id",),
    "products": ("product_id",),
    "orders": ("order_id",),
    "order_lines": ("order_id", "line_no"),
    "interactions": ("interaction_id",),
}


def derive_tables(path: Path, tables: dict[str, TableContract]) -> dict[str, TableContract]:
    """Replace the one line-level table by the derived standard tables."""
    if len(tables) != 1:
        raise ContractError(
            f"{path}: tables: layout line_items takes exactly one table (the line-level file)"
        )
    ((name, line),) = tables.items()
    if line.format != "csv":
        raise ContractError(f"{path}: tables.{name}.format: layout line_items reads csv files")
    missing = [c for c in REQUIRED_LINE_COLUMNS if c not in line.column_names]
    unknown = [c for c in line.column_names if c not in LINE_COLUMNS]
    if missing or unknown:
        raise ContractError(
            f"{path}: tables.{name}.columns: layout line_items needs columns named "
            f"{', '.join(LINE_COLUMNS)} (map file headers with source:); "
            f"missing {missing or 'none'}, unknown {unknown or 'none'}"
        )
    out: dict[str, TableContract] = {}
    for entity, (raw_table, cols) in STANDARD.items():
        out[entity] = replace(
            line,
            name=entity,
            raw_table=raw_table,
            columns=tuple(Column(n, t, n) for n, t in cols),
            primary_key=_PK[entity],
            depends_on=("customers",) if entity in {"orders", "interactions"} else (),
            delivery="snapshot" if entity in {"customers", "products"} else "changes",
            immutable=False,
            derive=entity,
            line_table=line,
        )
    return out


def _derive_sql(entity: str, line: TableContract) -> str:
    """SELECT over _final t (valid lines) giving the entity's columns + _line_number, in order."""
    has = set(line.column_names)
    cust = "t.customer_id" if "customer_id" in has else "NULL"
    if entity == "order_lines":
        return """SELECT t.invoice_no, CAST(row_number() OVER (PARTITION BY t.invoice_no ORDER BY t._line_number)
                       AS INTEGER), t.stock_code, CAST(t.quantity AS INTEGER), CAST(t.unit_price AS DECIMAL(12,2)),
                       CAST(0 AS DECIMAL(12,2)), t._line_number
                   FROM _final t WHERE t._reject IS NULL"""
    if entity == "orders":
        return f"""SELECT t.invoice_no, arg_min({cust}, t._line_number), CAST(min(t.invoice_date) AS TIMESTAMP),
                       NULL, CASE WHEN starts_with(t.invoice_no, 'C') THEN 'returned' ELSE 'completed' END,
                       NULL, CAST(sum(t.quantity * t.unit_price) AS DECIMAL(14,2)), min(t._line_number)
                   FROM _final t WHERE t._reject IS NULL GROUP BY t.invoice_no"""
    if entity == "products":
        desc = "t.description" if "description" in has else "NULL"
        return f"""SELECT t.stock_code, arg_max({desc}, t._line_number) FILTER (WHERE {desc} IS NOT NULL),
                       NULL, NULL, CAST(arg_max(t.unit_price, t._line_number) AS DECIMAL(12,2)),
                       max(t._line_number)
                   FROM _final t WHERE t._reject IS NULL GROUP BY t.stock_code"""
    if entity == "customers":
        country = "t.country" if "country" in has else "NULL"
        nulls = ", ".join(["NULL"] * 8)
        return f"""SELECT {cust}, {nulls}, arg_max({country}, t._line_number),
                       CAST(min(t.invoice_date) AS TIMESTAMP), NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       min(t._line_number)
                   FROM _final t WHERE t._reject IS NULL AND {cust} IS NOT NULL GROUP BY {cust}"""
    raise ValueError(entity)


def ingest_derived(
    con: duckdb.DuckDBPyConnection,
    table: TableContract,
    inbox_dir: Path,
    day: date,
    *,
    future_tolerance_days: int,
    tmp_dir: Path,
):
    """Load one derived raw table from the day's line-level file (one transaction per day)."""
    from pipelines.ingest import audit
    from pipelines.ingest.load import (
        Delivery,
        FileLoad,
        LoadResult,
        check_staged,
        delete_partitions,
        drop_temp,
        ensure_raw_table,
        insert_rejected,
        register_files,
        stage_files,
    )
    from pipelines.ingest.quarantine import insert_structural_rejects, stage_raw_records
    from pipelines.ingest.textfile import ReadFile, sha256_of

    assert table.line_table is not None and table.derive is not None
    line = table.line_table
    ensure_raw_table(con, table)
    rel = line.delivered_file(inbox_dir, day)  # plain or gzip-compressed, None if absent
    result = LoadResult(table.raw_table, day)
    loaded_at = datetime.now(UTC)
    # Staging numbers lines with row_number() OVER (): it needs the file's order.
    con.execute("SET preserve_insertion_order = true")
    con.execute("BEGIN TRANSACTION")
    try:
        delete_partitions(con, table.raw_table, [day])
        if rel is not None and table.derive != "interactions":
            path = inbox_dir / rel
            sha = sha256_of(path)
            register_files(con, [Delivery(0, day, rel, path, sha)], future_tolerance_days)
            stage_files(con, [ReadFile(0, path, rel)], line, tmp_dir)
            check_staged(con, line, future_tolerance_days)
            cols = ", ".join([c.name for c in table.columns] + ["_ln"])
            con.execute(
                f"INSERT INTO raw.{table.raw_table} SELECT d.* EXCLUDE (_ln), ?, d._ln, ?, ? "
                f"FROM ({_derive_sql(table.derive, line)}) d({cols})",
                [rel, loaded_at, day],
            )
            derived = int(
                con.execute(
                    f"SELECT count(*) FROM raw.{table.raw_table} WHERE _partition = ?", [day]
                ).fetchall()[0][0]
            )
            note: str | None
            if table.derive == "order_lines":
                # The file's rejected lines are quarantined once, with the order lines.
                insert_structural_rejects(con, table.raw_table, loaded_at)
                stage_raw_records(con, "SELECT _f, _line_number, _span FROM _final WHERE _reject IS NOT NULL")
                insert_rejected(con, table.raw_table, loaded_at)
                quarantined = int(
                    con.execute(
                        "SELECT (SELECT count(*) FROM _final WHERE _reject IS NOT NULL) "
                        "+ (SELECT count(*) FROM _rejects)"
                    ).fetchall()[0][0]
                )
                counts = (derived + quarantined, derived, quarantined, 0)
                note = None
            else:
                counts = (derived, derived, 0, 0)
                note = "derived from the line-level file; its line-level audit is under crm_order_lines"
            audit.record(
                con,
                table.raw_table,
                day,
                rel,
                counts,
                sha,
                loaded_at,
                "loaded" if table.derive == "order_lines" else "derived",
                note,
            )
            result.files.append(FileLoad(rel, *counts, sha, "loaded" if note is None else "derived", note))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("SET preserve_insertion_order = false")
        drop_temp(con)
    return result
