"""Write-audit-publish: what gets published, and that a failure changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from publish_testkit import CUSTOMERS, ORDERS, PAGE_VIEWS, TEST_HASH_KEY, checksums, fill_build, no_leftovers

import pipelines.publish as publish_mod
from pipelines.publish import KEEP_VERSIONS, PublishError, publish, versions_dir
from pipelines.settings import DEFAULT_EXPORT_HASH_KEY, Settings

TABLES = {
    "audiences": CUSTOMERS // 2,
    "customer_360": CUSTOMERS,
    "dim_empty": 0,
    "fct_orders": ORDERS,
    "fct_page_views": PAGE_VIEWS,
}
PARTS = {"fct_orders": "order_date", "fct_page_views": "viewed_at"}


def _describe(db: Path, table: str) -> list[tuple[str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [(r[0], r[1]) for r in con.execute(f"describe marts.{table}").fetchall()]
    finally:
        con.close()


def test_publish_writes_datamart_exports_and_manifest(settings: Settings) -> None:
    result = publish(
        settings, "run-a", ["marts/fct_orders:not_null", "marts/customer_360:unique"], partition_columns=PARTS
    )

    assert result.tables == TABLES
    assert result.warnings == ()
    # datamart: same tables, rows, column names and types as build; provenance inside
    con = duckdb.connect(str(settings.datamart_db), read_only=True)
    try:
        assert con.execute(
            "select run_id, checks_passed, tables, total_rows from meta.publication"
        ).fetchall() == [
            ("run-a", ["marts/fct_orders:not_null", "marts/customer_360:unique"], 5, sum(TABLES.values()))
        ]
        assert (
            dict(con.execute("select table_name, row_count from meta.publication_tables").fetchall())
            == TABLES
        )
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema='marts'"
            ).fetchall()
        }
        types = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables where table_schema='marts'"
            ).fetchall()
        )
    finally:
        con.close()
    assert tables == set(TABLES)
    assert types["audiences"] == "BASE TABLE"  # views are materialized: the datamart stands alone
    for table in TABLES:
        assert _describe(settings.datamart_db, table) == _describe(settings.build_db, table)
    assert not list(settings.warehouse_dir.glob("*.wal"))
    assert no_leftovers(settings) == []

    # exports: a stable path through a symlink to one complete version
    exports = settings.exports_dir
    assert exports.is_symlink()
    assert exports.resolve() == result.exports_version_dir
    assert sorted(p.name for p in exports.iterdir()) == ["_manifest.json", *sorted(TABLES)]
    assert sorted(p.name for p in (exports / "fct_orders").iterdir()) == ["month=2025-09", "month=2025-10"]
    months = (
        pl.scan_parquet(exports / "fct_orders" / "**" / "*.parquet", hive_partitioning=True)
        .group_by("month")
        .len()
        .sort("month")
        .collect()
    )
    assert months.rows() == [("2025-09", 550), ("2025-10", 450)]
    assert ds.dataset(exports / "fct_page_views", partitioning="hive").count_rows() == PAGE_VIEWS
    assert ds.dataset(exports / "customer_360").to_table().num_rows == CUSTOMERS

    manifest = json.loads((exports / "_manifest.json").read_text())
    assert manifest["run_id"] == "run-a"
    assert manifest["checks_passed"] == ["marts/fct_orders:not_null", "marts/customer_360:unique"]
    assert manifest["compression"] == "zstd" and manifest["row_group_size"] == 122_880
    assert {t: v["rows"] for t, v in manifest["tables"].items()} == TABLES
    assert manifest["tables"]["customer_360"]["schema"] == [
        {"name": "customer_id", "type": "INTEGER"},
        {"name": "email", "type": "VARCHAR"},
        {"name": "order_id_sum", "type": "DECIMAL(38,0)"},  # HUGEINT cast, not degraded to DOUBLE
        {"name": "tier", "type": "VARCHAR"},  # ENUM
    ]
    assert manifest["tables"]["fct_orders"]["files"] == [
        "fct_orders/month=2025-09/data_0.parquet",
        "fct_orders/month=2025-10/data_0.parquet",
    ]
    assert manifest["tables"]["fct_orders"]["partitioned_by"] == "month(order_date)"
    assert manifest["tables"]["dim_empty"] == {
        "rows": 0,
        "schema": [{"name": "id", "type": "INTEGER"}, {"name": "label", "type": "VARCHAR"}],
        "files": ["dim_empty/data_0.parquet"],
        "partitioned_by": None,
        "pseudonymized": [],
    }
    # the HUGEINT values survive exactly
    con = duckdb.connect()
    got = con.execute(
        f"select sum(order_id_sum) from read_parquet('{exports}/customer_360/*.parquet')"
    ).fetchone()
    assert got == (sum(range(ORDERS)),)


def test_missing_partition_column_exports_unpartitioned_with_warning(settings: Settings) -> None:
    result = publish(settings, "run-a", [], partition_columns={"fct_orders": "no_such_column"})
    assert result.warnings == (
        "fct_orders: partition column 'no_such_column' not found, exported unpartitioned",
    )
    manifest = json.loads((settings.exports_dir / "_manifest.json").read_text())
    assert manifest["tables"]["fct_orders"]["files"] == ["fct_orders/data_0.parquet"]
    assert manifest["warnings"] == list(result.warnings)


def test_republish_swaps_and_keeps_two_versions(settings: Settings) -> None:
    for n, orders in enumerate([10, 20, 30]):
        fill_build(settings, orders=orders)
        publish(settings, f"run-{n}", [], partition_columns=PARTS)
    con = duckdb.connect(str(settings.datamart_db), read_only=True)
    assert con.execute("select run_id from meta.publication").fetchall() == [("run-2",)]
    assert con.execute("select count(*) from marts.fct_orders").fetchall() == [(30,)]
    con.close()
    versions = sorted(p.name for p in versions_dir(settings).iterdir())
    assert len(versions) == KEEP_VERSIONS
    assert [v.rsplit("-", 2)[-2:] for v in versions] == [["run", "1"], ["run", "2"]]
    assert settings.exports_dir.resolve().name == versions[-1]
    assert ds.dataset(settings.exports_dir / "fct_orders", partitioning="hive").count_rows() == 30


def test_real_exports_directory_is_migrated(settings: Settings) -> None:
    settings.exports_dir.mkdir(parents=True)
    (settings.exports_dir / "old.csv").write_text("a\n1\n")
    publish(settings, "run-a", [])
    assert settings.exports_dir.is_symlink()
    legacy = [p for p in versions_dir(settings).iterdir() if p.name.endswith("-legacy")]
    assert [p.joinpath("old.csv").read_text() for p in legacy] == ["a\n1\n"]


def test_stale_wal_of_served_file_is_not_replayed(settings: Settings) -> None:
    publish(settings, "run-a", [])
    wal = settings.datamart_db.with_name("datamart.duckdb.wal")
    wal.write_bytes(b"garbage from some writer")
    publish(settings, "run-b", [])
    assert not wal.exists()
    con = duckdb.connect(str(settings.datamart_db), read_only=True)
    assert con.execute("select run_id from meta.publication").fetchall() == [("run-b",)]
    con.close()


# ---- failures: nothing changes --------------------------------------------------------------


def _short_export(real):  # type: ignore[no-untyped-def]
    """Verification wrapper that first truncates one exported file: the audit must catch it."""

    def wrapper(staged_dir: Path, exports, counts) -> None:  # type: ignore[no-untyped-def]
        victim = staged_dir / "fct_orders" / "month=2025-10" / "data_0.parquet"
        con = duckdb.connect()
        con.execute(
            f"copy (select * from read_parquet('{victim}') limit 1) to '{victim}.tmp' (format parquet)"
        )
        con.close()
        os.replace(f"{victim}.tmp", victim)
        real(staged_dir, exports, counts)

    return wrapper


def _failing_export(real):  # type: ignore[no-untyped-def]
    def wrapper(con, table, *args) -> None:  # type: ignore[no-untyped-def]
        if table == "fct_orders":
            raise duckdb.IOException("No space left on device")
        real(con, table, *args)

    return wrapper


@pytest.mark.parametrize("failure", ["short_export", "export_error", "broken_mart", "exports_swap"])
def test_failure_leaves_served_files_byte_for_byte_unchanged(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    publish(settings, "run-good", ["c:1"], partition_columns=PARTS)
    before = checksums(settings)
    link_before = os.readlink(settings.exports_dir)
    versions_before = sorted(p.name for p in versions_dir(settings).iterdir())
    fill_build(settings, orders=ORDERS + 5)  # the new build differs, so a leak would show

    if failure == "short_export":
        monkeypatch.setattr(publish_mod, "_verify_exports", _short_export(publish_mod._verify_exports))
        expected = (
            "export verification failed: fct_orders: parquet rows duckdb=556 pyarrow=556 != datamart 1005"
        )
    elif failure == "export_error":
        monkeypatch.setattr(publish_mod, "_export_table", _failing_export(publish_mod._export_table))
        expected = "No space left on device"
    elif failure == "broken_mart":
        fill_build(settings, extra_sql="create view marts.broken as select cast('x' as integer) as v")
        expected = "Could not convert string 'x' to INT32"
    else:
        real_replace = os.replace

        def replace(src, dst):  # type: ignore[no-untyped-def]
            if Path(dst) == settings.exports_dir:
                raise OSError("simulated crash of the exports swap")
            return real_replace(src, dst)

        monkeypatch.setattr(publish_mod.os, "replace", replace)
        expected = "simulated crash of the exports swap"

    with pytest.raises(PublishError, match=r"publish failed|verification failed") as info:
        publish(settings, "run-bad", ["c:1"], partition_columns=PARTS)
    assert expected in str(info.value)
    assert checksums(settings) == before
    assert os.readlink(settings.exports_dir) == link_before
    assert sorted(p.name for p in versions_dir(settings).iterdir()) == versions_before
    assert no_leftovers(settings) == []
    con = duckdb.connect(str(settings.datamart_db), read_only=True)
    assert con.execute("select run_id from meta.publication").fetchall() == [("run-good",)]
    con.close()


def test_first_publish_failure_creates_nothing(settings: Settings) -> None:
    fill_build(settings, extra_sql="create view marts.broken as select cast('x' as integer) as v")
    with pytest.raises(PublishError):
        publish(settings, "run-bad", [])
    assert not settings.datamart_db.exists()
    assert not settings.exports_dir.exists() and not settings.exports_dir.is_symlink()
    assert no_leftovers(settings) == []


def test_empty_marts_schema_is_refused(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "data")
    s.warehouse_dir.mkdir(parents=True)
    duckdb.connect(str(s.build_db)).execute("create schema marts").close()
    with pytest.raises(PublishError, match="has no tables: nothing to publish"):
        publish(s, "run-x", [])
    assert not s.datamart_db.exists()
    assert no_leftovers(s) == []


def test_first_publish_crash_at_exports_swap_rolls_back_the_datamart(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace

    def replace(src, dst):  # type: ignore[no-untyped-def]
        if Path(dst) == settings.exports_dir:
            raise OSError("simulated crash of the exports swap")
        return real_replace(src, dst)

    monkeypatch.setattr(publish_mod.os, "replace", replace)
    with pytest.raises(PublishError, match="simulated crash"):
        publish(settings, "run-bad", [])
    assert not settings.datamart_db.exists()
    assert not settings.exports_dir.exists() and not settings.exports_dir.is_symlink()
    assert list(versions_dir(settings).iterdir()) == []
    assert no_leftovers(settings) == []


def test_exports_pseudonymize_personal_columns_with_the_keyed_hash(settings: Settings) -> None:
    publish(settings, "run-p", [], partition_columns=PARTS)

    # Computed independently of the SQL: sha256 over "<key>|<lower(trim(email))>".
    def pseudonym(value: str) -> str:
        return hashlib.sha256(f"{TEST_HASH_KEY}|{value.strip().lower()}".encode()).hexdigest()

    exported = pq.read_table(settings.exports_dir / "customer_360").to_pydict()
    by_customer = dict(zip(exported["customer_id"], exported["email"], strict=True))
    assert by_customer[7] == pseudonym("c7")
    audiences = pq.read_table(settings.exports_dir / "audiences").to_pydict()
    assert set(audiences["email"]) <= set(by_customer.values())  # same pseudonym in every table: joins work
    with duckdb.connect(str(settings.datamart_db), read_only=True) as con:
        assert con.execute("select email from marts.customer_360 where customer_id = 7").fetchall() == [
            ("c7",)
        ]
    manifest = json.loads((settings.exports_dir / "_manifest.json").read_text())
    assert manifest["tables"]["customer_360"]["pseudonymized"] == ["email"]
    assert manifest["tables"]["fct_orders"]["pseudonymized"] == []
    assert TEST_HASH_KEY not in (settings.exports_dir / "_manifest.json").read_text()


def test_exports_keep_personal_columns_when_pseudonymization_is_off(settings: Settings) -> None:
    plain = replace(settings, export_pseudonymize=False)
    result = publish(plain, "run-q", [], partition_columns=PARTS)
    exported = pq.read_table(plain.exports_dir / "customer_360").to_pydict()
    assert dict(zip(exported["customer_id"], exported["email"], strict=True))[7] == "c7"
    assert result.warnings == ()


def test_the_built_in_hash_key_is_flagged(settings: Settings) -> None:
    result = publish(
        replace(settings, export_hash_key=DEFAULT_EXPORT_HASH_KEY), "run-k", [], partition_columns=PARTS
    )
    assert any("C360_EXPORT_HASH_KEY" in w for w in result.warnings)


def test_parquet_files_themselves_are_zstd_with_the_declared_row_groups(settings: Settings) -> None:
    """The footers, not the manifest: what a BI tool actually reads."""
    fill_build(settings, extra_sql="create table marts.big as select range as id from range(300000)")
    publish(settings, "run-pq", [], partition_columns=PARTS)
    files = sorted(settings.exports_dir.rglob("*.parquet"))
    # One file each for audiences, big, customer_360, dim_empty; fct_orders: 2 months (Sep, Oct);
    # fct_page_views: 3,000 hours from 2025-09-30 12:00 = 125 days, to 2026-02-02: 6 months. 4 + 2 + 6 = 12.
    assert len(files) == 12
    for path in files:
        meta = pq.read_metadata(path)
        codecs = {
            meta.row_group(g).column(c).compression
            for g in range(meta.num_row_groups)
            for c in range(meta.num_columns)
        }
        assert codecs <= {"ZSTD"}, (path, codecs)
        assert all(meta.row_group(g).num_rows <= 122_880 for g in range(meta.num_row_groups))
    # 300,000 rows at 122,880 per row group: 122,880 + 122,880 + 54,240 (the rest).
    big = pq.read_metadata(settings.exports_dir / "big" / "data_0.parquet")
    assert [big.row_group(g).num_rows for g in range(big.num_row_groups)] == [122_880, 122_880, 54_240]


def test_hive_readers_see_a_month_column_and_the_manifest_says_so(settings: Settings) -> None:
    publish(settings, "run-m", [], partition_columns=PARTS)
    manifest = json.loads((settings.exports_dir / "_manifest.json").read_text())
    assert (
        manifest["partitioning"]["column"] == "month"
        and "hive_partitioning=false" in manifest["partitioning"]["note"]
    )
    with_hive = pl.scan_parquet(
        settings.exports_dir / "fct_orders" / "**" / "*.parquet", hive_partitioning=True
    )
    assert with_hive.collect_schema().names()[-1] == "month"
    schema = [c["name"] for c in manifest["tables"]["fct_orders"]["schema"]]
    assert "month" not in schema


def test_the_duckdb_cli_1x_opens_the_published_datamart(settings: Settings) -> None:
    """Analysts' tools lag: the DuckDB CLI from PyPI (1.5.x, dev extras) and DBeaver's driver read storage v1.4."""
    import subprocess
    import sys

    cli = Path(sys.executable).parent / "duckdb"
    assert cli.exists(), "the duckdb CLI is missing: `pip install -c constraints.txt -e '.[dev]'` (make venv)"
    version = subprocess.run([str(cli), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1."), version
    publish(settings, "run-cli", [])
    out = subprocess.run(
        [
            str(cli),
            "-readonly",
            "-csv",
            "-noheader",
            str(settings.datamart_db),
            "SELECT count(*) FROM marts.customer_360",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(CUSTOMERS)
