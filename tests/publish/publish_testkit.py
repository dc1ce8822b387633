"""Helpers for publish tests: a tiny fake build.duckdb with a `marts` schema (publish needs no dbt)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from pipelines.publish import staged_paths
from pipelines.settings import Settings

# Rows per table for the default fake marts (exact numbers the tests assert on).
ORDERS = 1_000
CUSTOMERS = 200
PAGE_VIEWS = 3_000
TEST_HASH_KEY = "test-secret"


def fill_build(settings: Settings, orders: int = ORDERS, extra_sql: str = "") -> None:
    """(Re)create schema marts in build.duckdb: a partitioned fact, a HUGEINT/ENUM table, a view, a dim."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.build_db))
    try:
        con.execute("drop schema if exists marts cascade")
        con.execute("create schema marts")
        con.execute(
            f"""
            create table marts.fct_orders as
            select i as order_id, (i % {CUSTOMERS})::integer as customer_id,
                   date '2025-09-20' + (i % 20)::integer as order_date,
                   (i % 97 + 0.5)::decimal(18, 2) as total_amount
            from range({orders}) r(i)
            """
        )
        con.execute(
            f"""
            create table marts.fct_page_views as
            select i as page_view_id, timestamptz '2025-09-30 12:00:00+00' + to_hours(i) as viewed_at,
                   '/p/' || (i % 50) as page_url
            from range({PAGE_VIEWS}) r(i)
            """
        )
        con.execute(
            """
            create table marts.customer_360 as
            select c.customer_id, 'c' || c.customer_id as email,
                   sum(o.order_id) as order_id_sum,  -- sum(bigint) is HUGEINT
                   (case when c.customer_id % 2 = 0 then 'gold' else 'silver' end)::enum('gold', 'silver') as tier
            from (select range::integer as customer_id from range(200)) c
            left join marts.fct_orders o using (customer_id)
            group by all
            """
        )
        con.execute("create table marts.dim_empty (id integer, label varchar)")
        con.execute(
            "create view marts.audiences as select customer_id, email from marts.customer_360 where tier = 'gold'"
        )
        if extra_sql:
            con.execute(extra_sql)
    finally:
        con.close()


def make_settings(tmp_path: Path) -> Settings:
    s = Settings(
        data_dir=tmp_path / "data",
        duckdb_memory_limit="512MB",
        duckdb_threads=1,
        export_hash_key=TEST_HASH_KEY,
    )
    fill_build(s)
    return s


def checksums(settings: Settings) -> dict[str, str]:
    """sha256 of the served datamart and of every file reachable under data/exports (through the link)."""
    sums: dict[str, str] = {}
    files = [settings.datamart_db] if settings.datamart_db.exists() else []
    if settings.exports_dir.exists():
        files += sorted(p for p in settings.exports_dir.rglob("*") if p.is_file())
    for p in files:
        sums[str(p.relative_to(settings.data_dir))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return sums


def no_leftovers(settings: Settings) -> list[Path]:
    found = staged_paths(settings)
    found += list(settings.warehouse_dir.glob("*.wal"))
    return found
