"""The sample-data generator: deterministic, sized, coherent across sources, honest manifest."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.settings import TIERS, Settings
from pipelines.synth import generate
from pipelines.synth.timeline import DAY, Block, day_blocks, epoch_s, sample_times, split_by_weight


@pytest.fixture(scope="module")
def xs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("xs")
    generate(Settings(data_dir=out), "XS", 7, out_dir=out)
    return out


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_bytes(xs: Path, tmp_path: Path) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    generate(Settings(data_dir=again), "XS", 7, out_dir=again)
    generate(Settings(data_dir=other), "XS", 8, out_dir=other)
    assert _digest(again) == _digest(xs)
    assert _digest(other) != _digest(xs)


def _events(folder: Path) -> pl.DataFrame:
    lines = []
    for path in sorted((folder / "clickstream").glob("*.jsonl.gz")):
        lines += [line for line in gzip.decompress(path.read_bytes()).decode().splitlines() if line]
    good = []
    for line in lines:
        try:
            good.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return pl.DataFrame(good, infer_schema_length=None)


def _crm(folder: Path, name: str, **kw) -> pl.DataFrame:
    return pl.concat(
        [pl.read_csv(p, infer_schema=False, **kw) for p in sorted((folder / "crm").glob(f"*/{name}.csv"))]
    )


def test_sizes_follow_the_tier(xs: Path) -> None:
    spec = TIERS["XS"]
    manifest = json.loads((xs / "_manifest.json").read_text())
    rows = {}
    for info in manifest["files"].values():
        rows[info["table"]] = rows.get(info["table"], 0) + info["rows"]
    assert abs(rows["clickstream_events"] - spec.clickstream_events) / spec.clickstream_events < 0.05
    assert abs(rows["weblog_hits"] - spec.log_lines) / spec.log_lines < 0.05
    orders = _crm(xs, "orders").filter(pl.col("status") != "returned")
    assert orders.height == spec.orders
    last_day = sorted((xs / "crm").iterdir())[-1]
    snapshot = pl.read_csv(last_day / "customers.csv", separator=";", encoding="cp1252", infer_schema=False)
    assert snapshot.height <= spec.customers
    assert len(manifest["files"]) == spec.days * 7


def test_customers_file_is_european_cp1252_with_accents(xs: Path) -> None:
    path = sorted((xs / "crm").glob("*/customers.csv"))[-1]
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # accented names in cp1252 are not valid UTF-8
    text = raw.decode("cp1252")
    header = text.splitlines()[0].split(";")
    assert header[:3] == ["customer_id", "email", "first_name"]
    assert any(ch in text for ch in "éüñøçë")
    first_row = text.splitlines()[1].split(";")
    assert first_row[header.index("created_at")][2] == "/"  # dd/mm/yyyy


def test_sources_tell_one_story(xs: Path) -> None:
    events = _events(xs)
    orders = _crm(xs, "orders")
    customers = set(_crm(xs, "customers", separator=";", encoding="cp1252")["customer_id"].to_list())
    purchases = events.filter(pl.col("event_type") == "purchase").unique("event_id")
    joined = purchases.join(orders.unique("order_id"), on="order_id", how="left")
    assert purchases.height > 0
    assert joined["customer_id"].null_count() == 0, "every purchase event is a CRM order"
    assert (joined["user_id"] == joined["customer_id"]).all()
    amounts = joined.select(
        rev=pl.col("revenue").cast(pl.Float64), tot=pl.col("total_amount").cast(pl.Float64)
    )
    assert ((amounts["rev"] - amounts["tot"]).abs() < 0.005).all()
    logged_in = set(events["user_id"].drop_nulls().to_list())
    assert logged_in and logged_in <= customers
    # the web server saw every page the tracker saw (same second, same ip)
    pages = events.filter(pl.col("event_type").is_in(["page_view", "product_view"]))
    log_text = "".join(gzip.decompress(p.read_bytes()).decode() for p in (xs / "weblogs").glob("*.log.gz"))
    sample = pages.head(50)
    for ip, url in zip(sample["ip"].to_list(), sample["page_url"].to_list(), strict=True):
        path = url.split("shop.example.com", 1)[1]
        assert f"{ip} - - [" in log_text and f"GET {path} HTTP/1.1" in log_text


def test_order_totals_are_the_sum_of_their_lines(xs: Path) -> None:
    orders = _crm(xs, "orders").unique("order_id").select("order_id", pl.col("total_amount").cast(pl.Float64))
    lines = _crm(xs, "order_lines").with_columns(
        pl.col("quantity").cast(pl.Int64).abs(),
        pl.col("unit_price").cast(pl.Float64),
        pl.col("discount_amount").cast(pl.Float64),
    )
    sums = lines.group_by("order_id").agg(
        s=(pl.col("quantity") * pl.col("unit_price") - pl.col("discount_amount")).sum()
    )
    both = orders.join(sums, on="order_id")
    assert both.height == orders.height
    assert ((both["total_amount"] - both["s"]).abs() < 0.011).all()


def test_manifest_counts_match_the_files(xs: Path) -> None:
    manifest = json.loads((xs / "_manifest.json").read_text())
    defects = {(d["table"], d["reason"]): d["count"] for d in manifest["defects"]}
    invalid = 0
    for path in (xs / "clickstream").glob("*.jsonl.gz"):
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            try:
                json.loads(line)
            except json.JSONDecodeError:
                invalid += 1
    assert invalid == defects[("clickstream_events", "invalid_json")] > 0
    lines = _crm(xs, "order_lines")
    assert (lines["quantity"].cast(pl.Int64) < 0).sum() == defects[("crm_order_lines", "out_of_range")]
    for rel, info in manifest["files"].items():
        data = (xs / rel).read_bytes()
        text = gzip.decompress(data).decode() if rel.endswith(".gz") else data.decode("cp1252")
        n = len([x for x in text.splitlines() if x])
        assert n - (1 if rel.endswith(".csv") else 0) == info["rows"], rel


def test_day_blocks_cover_the_period_once() -> None:
    whole = [Block(0, 30, 30)]
    assert day_blocks(30, 0) == day_blocks(30, 30) == day_blocks(30, 90) == whole and whole[0].whole
    blocks = day_blocks(7, 2)
    assert [(b.first, b.days, b.end) for b in blocks] == [(0, 2, 2), (2, 2, 4), (4, 2, 6), (6, 1, 7)]
    assert not any(b.whole for b in blocks)
    start = date(2025, 9, 1)
    sizes = split_by_weight(10_000, start, blocks)
    assert sum(sizes) == 10_000 and min(sizes) > 0 and sizes[-1] < sizes[0]  # the last block is 1 day
    assert split_by_weight(10_001, start, whole) == [10_001]
    assert all(b.period == 30 for b in day_blocks(30, 7)) and len(day_blocks(30, 7)) == 5


def test_sample_times_in_a_block_stay_on_its_days() -> None:
    start = date(2025, 9, 1)
    ts = sample_times(np.random.default_rng(0), 5_000, start, 30, Block(10, 5, 30))
    assert set(((ts - epoch_s(start)) // DAY).tolist()) == {10, 11, 12, 13, 14}
    # The whole period as a block draws exactly the numbers no block draws (tiers XS-M keep their bytes).
    plain = sample_times(np.random.default_rng(1), 1_000, start, 30)
    assert (plain == sample_times(np.random.default_rng(1), 1_000, start, 30, Block(0, 30, 30))).all()
