"""The sample-data generator: deterministic, sized, one story across sources, honest manifest.

Most checks run on tier XS (a fraction of a second to generate), twice: as XS is (one
block), and built in blocks of two days with gzipped customer snapshots, the way tier L
is. The size check runs tier S. Each check recomputes from the files themselves what the
manifest claims.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.settings import TIERS, Settings
from pipelines.synth import GenerateSummary, generate

# Same patterns as the ingest (pipelines/ingest): a line that does not match is malformed.
_Q = r'"((?:[^"\\]|\\.)*)"'
COMBINED = re.compile(
    r"^(\S+) (\S+) (\S+) \[([^\]]+)\] " + _Q + r" (\d{3}) (\d+|-) " + _Q + " " + _Q + r"\s*$"
)
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


# Tier XS, and XS as tier L builds it: clickstream and logs in blocks of days, customers gzipped.
VARIANTS = {
    "XS": TIERS["XS"],
    "XS-blocks": replace(TIERS["XS"], name="XS-blocks", block_days=2, gzip_customers=True),
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def tier(request: pytest.FixtureRequest) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(TIERS, request.param, VARIANTS[request.param])
        yield request.param


@pytest.fixture(scope="module")
def xs(tmp_path_factory: pytest.TempPathFactory, tier: str) -> Path:
    out = tmp_path_factory.mktemp("xs")
    lines: list[str] = []
    summary = generate(Settings(data_dir=out), tier, 7, out_dir=out, progress=lines.append)
    assert isinstance(summary, GenerateSummary)
    assert len(lines) >= 5, "one progress line per step"
    return out


@pytest.fixture(scope="module")
def manifest(xs: Path) -> dict:
    return json.loads((xs / "_manifest.json").read_text())


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _text_lines(path: Path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()


def _bytes(path: Path) -> bytes:
    """A file's content, decompressed if it was delivered gzipped."""
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def _customer_files(folder: Path) -> list[Path]:
    """Each day's customer snapshot, plain or gzipped (one per day either way)."""
    return sorted((folder / "crm").glob("*/customers.csv*"))


def _json_or_none(line: str) -> dict | None:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


def _events(folder: Path) -> list[tuple[str, int, dict | None]]:
    """(file, line number, parsed object or None) for every clickstream line, files in day order."""
    out = []
    for path in sorted((folder / "clickstream").glob("*.jsonl.gz")):
        rel = f"clickstream/{path.name}"
        out += [(rel, i, _json_or_none(line)) for i, line in enumerate(_text_lines(path))]
    return out


def _crm(folder: Path, name: str) -> pl.DataFrame:
    """Every day's file of a CRM table (plain or gzipped), with `_file` its inbox-relative name."""
    sep, encoding = (";", "cp1252") if name == "customers" else (",", "utf-8")
    return pl.concat(
        [
            pl.read_csv(
                _bytes(p).decode(encoding).encode("utf-8"), separator=sep, infer_schema=False
            ).with_columns(_file=pl.lit(str(p.relative_to(folder))))
            for p in sorted((folder / "crm").glob(f"*/{name}.csv*"))
        ]
    )


def _defects(manifest: dict) -> dict[tuple[str, str], dict]:
    return {(d["table"], d["reason"]): d for d in manifest["defects"]}


# ---- determinism -----------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(xs: Path, tier: str, tmp_path: Path) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    generate(Settings(data_dir=again), tier, 7, out_dir=again)
    generate(Settings(data_dir=other), tier, 8, out_dir=other)
    assert _digest(again) == _digest(xs)
    assert _digest(other) != _digest(xs)


def test_gzip_headers_carry_no_time(xs: Path) -> None:
    for path in xs.rglob("*.gz"):
        assert path.read_bytes()[4:8] == b"\0\0\0\0", path


def test_default_out_dir_is_the_inbox(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    summary = generate(settings, "XS", 1)
    assert (settings.inbox_dir / "_manifest.json").exists()
    assert summary.out_dir == settings.inbox_dir
    with pytest.raises(ValueError, match="unknown tier"):
        generate(settings, "XXL", 1)


# ---- sizes -----------------------------------------------------------------------------


@pytest.mark.slow
def test_tier_s_sizes_within_five_percent(tmp_path: Path) -> None:
    spec = TIERS["S"]
    summary = generate(Settings(data_dir=tmp_path), "S", 42, out_dir=tmp_path)
    manifest = json.loads((tmp_path / "_manifest.json").read_text())
    rows = manifest["rows_written"]
    assert abs(rows["clickstream_events"] / spec.clickstream_events - 1) < 0.05
    assert abs(rows["weblog_hits"] / spec.log_lines - 1) < 0.05
    assert summary.orders == spec.orders
    assert _crm(tmp_path, "orders")["order_id"].n_unique() == spec.orders
    last = sorted((tmp_path / "crm").iterdir())[-1] / "customers.csv"
    assert pl.read_csv(last, separator=";", encoding="cp1252", infer_schema=False).height == spec.customers
    assert len(manifest["files"]) == spec.days * 7
    assert manifest["days"] == spec.days and manifest["start_date"] == "2025-09-01"


# ---- formats ---------------------------------------------------------------------------


def test_customers_file_is_european_cp1252_with_accents(xs: Path) -> None:
    raw = _bytes(_customer_files(xs)[-1])
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # accented names in cp1252 are not valid UTF-8
    text = raw.decode("cp1252")
    rows = [line.split(";") for line in text.splitlines()]
    header = rows[0]
    assert header == [
        "customer_id", "email", "first_name", "last_name", "phone", "birth_date", "gender", "postal_code", "city",
        "country", "created_at", "updated_at", "acquisition_channel", "loyalty_tier", "email_opt_in",
        "email_consent_type", "sms_opt_in", "consent_updated_at",
    ]  # fmt: skip
    assert all(len(r) == len(header) for r in rows)
    assert any(ch in text for ch in "éüñøç")
    created = [r[header.index("created_at")] for r in rows[1:]]
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", c) for c in created)
    births = {r[header.index("birth_date")] for r in rows[1:]} - {""}
    assert births and all(re.fullmatch(r"\d\d/\d\d/\d{4}", b) for b in births)
    assert {r[header.index("email_opt_in")] for r in rows[1:]} == {"true", "false"}


def test_other_crm_files_have_contract_headers(xs: Path) -> None:
    day = sorted((xs / "crm").iterdir())[3]
    headers = {
        p.name: p.read_text("utf-8").splitlines()[0]
        for p in day.iterdir()
        if not p.name.startswith("customers.csv")
    }
    assert headers["orders.csv"] == "order_id,customer_id,order_ts,channel,status,currency,total_amount"
    assert headers["order_lines.csv"] == "order_id,line_no,product_id,quantity,unit_price,discount_amount"
    assert headers["products.csv"] == "product_id,name,category,brand,list_price"
    assert (
        headers["interactions.csv"]
        == "interaction_id,customer_id,channel,type,opened_at,closed_at,satisfaction"
    )
    orders = _crm(xs, "orders")
    assert set(orders["channel"]) == {"web", "store", "call_center", "mobile_app"}
    assert set(orders["status"]) == {"completed", "cancelled", "returned"}
    assert orders["order_id"].str.contains(r"^O\d{8}$").all()


def test_clickstream_and_log_formats(xs: Path) -> None:
    good = [e for _, _, e in _events(xs) if e and e.get("event_ts") and not e["event_ts"].startswith("2099")]
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)", e["event_ts"]) for e in good
    )
    assert {e["event_ts"][-1] == "Z" for e in good} == {True, False}, "both UTC and local offsets occur"
    log = [line for p in sorted((xs / "weblogs").glob("*.gz")) for line in _text_lines(p)]
    agents = " ".join(line.rsplit('"', 2)[-2] for line in log if COMBINED.match(line))
    for bot in ("Googlebot", "bingbot", "AhrefsBot", "spider", "Crawler"):
        assert bot in agents
    assert any(re.match(r"^[0-9a-f]+:[0-9a-f:]+ ", line) for line in log), "IPv6 clients"
    assert any(re.search(r'" [45]\d\d ', line) for line in log), "4xx/5xx"
    assert any(re.search(r"GET /static/\S+\.(css|js|png|jpg) ", line) for line in log), "static assets"


# ---- one story across sources ----------------------------------------------------------


def test_purchases_are_crm_orders_with_the_same_revenue(xs: Path) -> None:
    events = [e for _, _, e in _events(xs) if e and e.get("event_type") == "purchase"]
    orders = _crm(xs, "orders").unique("order_id", keep="first")
    by_id = {r["order_id"]: r for r in orders.iter_rows(named=True)}
    assert events
    for e in events:
        order = by_id[e["order_id"]]
        assert order["channel"] in {"web", "mobile_app"}
        assert order["customer_id"] == e["user_id"]
        assert f"{e['revenue']:.2f}" == order["total_amount"]
    web = orders.filter(pl.col("channel").is_in(["web", "mobile_app"]))
    assert len({e["order_id"] for e in events}) >= 0.98 * web.height, (
        "nearly every web order has its purchase"
    )
    store_ids = set(orders.filter(pl.col("channel").is_in(["store", "call_center"]))["order_id"])
    assert not store_ids & {e["order_id"] for e in events}


def test_logged_in_users_are_customers_and_stay_logged_in(xs: Path) -> None:
    customers = set(_crm(xs, "customers")["customer_id"])
    events = [e for _, _, e in _events(xs) if e]
    users = {e["user_id"] for e in events if e.get("user_id")}
    assert users and users <= customers
    logins = [e for e in events if e.get("event_type") in ("login", "signup")]
    assert logins and all(e["user_id"] for e in logins)


def test_weblog_has_a_line_for_every_tracked_page(xs: Path) -> None:
    hits = Counter()
    for p in sorted((xs / "weblogs").glob("*.gz")):
        for line in _text_lines(p):
            m = COMBINED.match(line)
            if m:
                ts = m.group(4)  # 01/Sep/2025:13:45:12 +0000
                hits[(m.group(1), ts, m.group(5).split(" ")[1])] += 1
    from datetime import datetime

    pages, missing = 0, 0
    seen: set[str] = set()
    for _, _, e in _events(xs):
        if not e or e.get("event_type") not in ("page_view", "product_view") or e.get("event_id") in seen:
            continue
        if not e.get("event_ts") or e["event_ts"].startswith("2099") or not e.get("event_id"):
            continue
        seen.add(e["event_id"])
        utc = (
            datetime.fromisoformat(e["event_ts"].replace("Z", "+00:00"))
            .astimezone()
            .astimezone(datetime.fromisoformat("2025-01-01T00:00:00+00:00").tzinfo)
        )
        key = (
            e["ip"],
            utc.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            e["page_url"].split("shop.example.com", 1)[1],
        )
        pages += 1
        missing += hits[key] == 0
    # The only pages without a parsable line are those whose line was planted malformed.
    malformed = sum(
        d["count"]
        for d in json.loads((xs / "_manifest.json").read_text())["defects"]
        if d["table"] == "weblog_hits"
    )
    assert pages > 100
    assert missing <= malformed


def test_order_totals_are_the_sum_of_their_lines(xs: Path) -> None:
    def cents(col: str) -> pl.Expr:
        return (pl.col(col).cast(pl.Float64) * 100).round(0).cast(pl.Int64)

    orders = _crm(xs, "orders").unique("order_id").select("order_id", t=cents("total_amount"))
    lines = _crm(xs, "order_lines").with_columns(
        q=pl.col("quantity").cast(pl.Int64).abs(), u=cents("unit_price"), d=cents("discount_amount")
    )
    sums = lines.group_by("order_id").agg(s=(pl.col("q") * pl.col("u") - pl.col("d")).sum())
    both = orders.join(sums, on="order_id", how="left")
    assert both["s"].null_count() == 0
    assert (both["t"] == both["s"]).all()


def test_returns_come_back_later_with_the_same_order_id(xs: Path) -> None:
    orders = _crm(xs, "orders")
    returned = orders.filter(pl.col("status") == "returned")
    assert returned.height > 0
    first = orders.join(returned.select("order_id", ret_file="_file"), on="order_id").filter(
        pl.col("status") == "completed"
    )
    assert first.height == returned.height
    assert (first["_file"] < first["ret_file"]).all()


def test_consent_changes_over_time(xs: Path) -> None:
    customers = _crm(xs, "customers")
    flips = customers.group_by("customer_id").agg(pl.col("email_opt_in").n_unique().alias("n"))
    assert (flips["n"] > 1).any(), "some customer gives or withdraws email consent in the period"
    assert customers["first_name"].str.contains("[éüñøçëÅÖ]").any()


def test_spend_is_long_tailed(tmp_path: Path, xs: Path) -> None:
    orders = _crm(xs, "orders").unique("order_id")
    spend = (
        orders.group_by("customer_id")
        .agg(pl.col("total_amount").cast(pl.Float64).sum())
        .sort("total_amount", descending=True)
    )
    customers = _crm(xs, "customers")["customer_id"].n_unique()
    top = spend.head(customers // 5)["total_amount"].sum()
    assert top / spend["total_amount"].sum() > 0.5, "the top 20 % make most of the revenue"
    assert spend.height < customers, "some customers never order (prospects)"


# ---- the manifest tells the truth ------------------------------------------------------


def test_manifest_rows_match_every_file(xs: Path, manifest: dict) -> None:
    assert set(manifest["files"]) == {
        str(p.relative_to(xs)) for p in xs.rglob("*") if p.is_file() and p.name != "_manifest.json"
    }
    for rel, info in manifest["files"].items():
        text = _bytes(xs / rel).decode("cp1252")  # CRM customers are cp1252, the rest ASCII or UTF-8
        n = len([x for x in text.splitlines() if x])
        assert n - (1 if rel.endswith((".csv", ".csv.gz")) else 0) == info["rows"], rel
    written = manifest["rows_written"]
    bad = Counter()
    for d in manifest["defects"]:
        bad[d["table"]] += d["count"]
        assert d["count"] == sum(d["by_file"].values())
    assert manifest["totals"] == {t: written[t] - bad[t] for t in written}
    nullified = _defects(manifest)[("crm_customers", "invalid_email")]["count"]  # loaded with email NULL
    assert manifest["expected_raw"] == {
        **manifest["totals"],
        "crm_customers": manifest["totals"]["crm_customers"] + nullified,
    }


def test_clickstream_defects_match_the_files(xs: Path, manifest: dict) -> None:
    found: dict[str, Counter] = {
        r: Counter() for r in ("invalid_json", "missing_required", "future_timestamp", "duplicate_key")
    }
    late = 0
    seen: set[str] = set()
    for rel, _, e in _events(xs):
        if e is None:
            found["invalid_json"][rel] += 1
        elif not e.get("event_id") or not e.get("event_ts") or not e.get("anonymous_id"):
            found["missing_required"][rel] += 1
        elif e["event_ts"].startswith("2099"):
            found["future_timestamp"][rel] += 1
        elif e["event_id"] in seen:
            found["duplicate_key"][rel] += 1
        else:
            seen.add(e["event_id"])
            from datetime import UTC, datetime

            own_day = (
                datetime.fromisoformat(e["event_ts"].replace("Z", "+00:00"))
                .astimezone(UTC)
                .date()
                .isoformat()
            )
            late += own_day < rel[len("clickstream/events-") : -len(".jsonl.gz")]
    defects = _defects(manifest)
    for reason, by_file in found.items():
        assert sum(by_file.values()) > 0, reason
        assert defects[("clickstream_events", reason)]["by_file"] == dict(by_file), reason
    assert late == manifest["late_events"] > 0
    assert sum(manifest["late_events_by_file"].values()) == late


def test_crm_and_log_defects_match_the_files(xs: Path, manifest: dict) -> None:
    defects = _defects(manifest)
    customers = _crm(xs, "customers")
    bad_email = customers.filter(
        ~pl.col("email").map_elements(lambda s: bool(EMAIL.match(s)), return_dtype=pl.Boolean)
    )
    assert (
        dict(Counter(bad_email["_file"].to_list())) == defects[("crm_customers", "invalid_email")]["by_file"]
    )

    orders = _crm(xs, "orders")
    known = set(customers["customer_id"])
    unknown = orders.filter(~pl.col("customer_id").is_in(list(known)))
    assert (
        dict(Counter(unknown["_file"].to_list())) == defects[("crm_orders", "unknown_reference")]["by_file"]
    )
    future = orders.filter(pl.col("order_ts").str.starts_with("2099"))
    assert future.height == defects.get(("crm_orders", "future_timestamp"), {"count": 0})["count"]
    empty_ts = orders.filter(pl.col("order_ts").is_null())
    assert empty_ts.height == defects.get(("crm_orders", "missing_required"), {"count": 0})["count"]

    lines = _crm(xs, "order_lines")
    negative = lines.filter(pl.col("quantity").cast(pl.Int64) < 0)
    assert (
        dict(Counter(negative["_file"].to_list())) == defects[("crm_order_lines", "out_of_range")]["by_file"]
    )
    inter = _crm(xs, "interactions")
    assert (
        inter.filter(pl.col("opened_at").is_null()).height
        == defects[("crm_interactions", "missing_required")]["count"]
    )

    malformed = Counter()
    for p in sorted((xs / "weblogs").glob("*.gz")):
        malformed[f"weblogs/{p.name}"] += sum(1 for line in _text_lines(p) if not COMBINED.match(line))
    assert +malformed == defects[("weblog_hits", "malformed_line")]["by_file"]


def test_files_list_their_rows_in_time_order(xs: Path) -> None:
    """Within each day's file, events (late ones first) and log lines come in time order, also
    where a block of days ends and the next one's rows join the rows it left for that day."""
    seen: set[str] = set()
    by_file: dict[str, list[datetime]] = {}
    for rel, _, e in _events(xs):
        if not e or not e.get("event_id") or not e.get("event_ts") or e["event_ts"].startswith("2099"):
            continue  # planted defects
        if e["event_id"] in seen:
            continue  # a re-sent copy: after the originals, in its original's order
        seen.add(e["event_id"])
        ts = datetime.fromisoformat(e["event_ts"].replace("Z", "+00:00")).astimezone(UTC)
        by_file.setdefault(rel, []).append(ts)
    assert len(by_file) == TIERS["XS"].days
    for rel, times in by_file.items():
        assert times == sorted(times), rel
    for path in sorted((xs / "weblogs").glob("*.gz")):
        stamps = [
            datetime.strptime(m.group(4), "%d/%b/%Y:%H:%M:%S %z")
            for m in map(COMBINED.match, _text_lines(path))
            if m
        ]
        assert stamps and stamps == sorted(stamps), path.name
        assert {t.date().isoformat() for t in stamps} == {path.name[len("access-") : -len(".log.gz")]}


def test_customer_snapshots_are_gzipped_only_when_the_tier_says(xs: Path, tier: str) -> None:
    names = {p.name for p in _customer_files(xs)}
    assert names == {"customers.csv.gz" if TIERS[tier].gzip_customers else "customers.csv"}
