"""`c360 generate`: seeded sample data for all sources, with planted defects and their ground truth.

Same seed, same bytes: one numpy generator drives everything, gzip headers carry no time,
and nothing reads the clock. Defects are planted on disjoint rows so every count in
`_manifest.json` is exact: tests reconcile quarantine against it.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.settings import TIERS, Settings
from pipelines.synth.crm import _epoch, make_customers, make_interactions, make_orders, make_products
from pipelines.synth.web import make_cookies, make_events, make_log_lines

Progress = Callable[[str], None]

RATES = {
    "orders_unknown_customer": 0.003,
    "orders_future": 0.0005,
    "orders_missing_ts": 0.0005,
    "lines_negative_qty": 0.002,
    "customers_bad_email": 0.01,
    "events_late": 0.01,
    "events_duplicate": 0.005,
    "events_invalid_json": 0.001,
    "events_missing_id": 0.001,
    "events_future": 0.0002,
    "log_malformed": 0.002,
}
BAD_EMAILS = np.array(["{l}@@{d}", "{l}.{d}", "{l}@", "@{d}", "{l} @{d}"])
CRM_COLUMNS = {
    "customers": [
        "customer_id", "email", "first_name", "last_name", "phone", "birth_date", "gender", "postal_code", "city",
        "country", "created_at", "updated_at", "acquisition_channel", "loyalty_tier", "email_opt_in",
        "email_consent_type", "sms_opt_in", "consent_updated_at",
    ],
    "orders": ["order_id", "customer_id", "order_ts", "channel", "status", "currency", "total_amount"],
    "order_lines": ["order_id", "line_no", "product_id", "quantity", "unit_price", "discount_amount"],
    "products": ["product_id", "name", "category", "brand", "list_price"],
    "interactions": ["interaction_id", "customer_id", "channel", "type", "opened_at", "closed_at", "satisfaction"],
}
EVENT_COLUMNS = [
    "event_id", "event_type", "event_ts", "anonymous_id", "user_id", "page_url", "referrer", "utm_source",
    "utm_medium", "utm_campaign", "product_id", "order_id", "revenue", "ip", "user_agent",
]


@dataclass(frozen=True)
class GenerateSummary:
    tier: str
    files: int
    customers: int
    orders: int
    events: int
    log_lines: int
    defects: int

    def __str__(self) -> str:
        return (
            f"{self.files} files: {self.customers:,} customers, {self.orders:,} orders, {self.events:,} events, "
            f"{self.log_lines:,} log lines, {self.defects:,} planted defects (see _manifest.json)"
        )


class _Manifest:
    def __init__(self) -> None:
        self.files: dict[str, dict] = {}
        self.defects: dict[tuple[str, str], Counter] = {}

    def file(self, rel: str, table: str, rows: int) -> None:
        self.files[rel] = {"table": table, "rows": int(rows)}

    def defect(self, table: str, reason: str, rel: str, n: int) -> None:
        if n:
            self.defects.setdefault((table, reason), Counter())[rel] += int(n)

    def to_json(self, head: dict) -> dict:
        return {
            **head,
            "files": dict(sorted(self.files.items())),
            "defects": [
                {"table": t, "reason": r, "count": sum(c.values()), "by_file": dict(sorted(c.items()))}
                for (t, r), c in sorted(self.defects.items())
            ],
        }


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _gzip(text: str) -> bytes:
    # mtime=0 and no file name: the same text always gives the same bytes.
    return gzip.compress(text.encode("utf-8"), compresslevel=1, mtime=0)


def _pick(rng: np.random.Generator, pool: np.ndarray, rate: float, taken: np.ndarray) -> np.ndarray:
    """Indices from pool at the given rate, disjoint from those already taken."""
    free = pool[~taken[pool]]
    n = min(round(len(pool) * rate), len(free))
    chosen = np.sort(rng.choice(free, n, replace=False)) if n else np.array([], dtype=np.int64)
    taken[chosen] = True
    return chosen


def _fmt_ts(col: str, fmt: str) -> pl.Expr:
    return pl.from_epoch(pl.col(col), time_unit="s").dt.strftime(fmt)


def generate(
    settings: Settings, tier: str, seed: int, out_dir: Path | None = None, progress: Progress | None = None
) -> GenerateSummary:
    say = progress or (lambda _m: None)
    spec = TIERS[tier]
    out = Path(out_dir or settings.inbox_dir)
    start, days = settings.start_date, spec.days
    rng = np.random.default_rng(seed)
    for sub in ("crm", "clickstream", "weblogs"):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    m = _Manifest()
    day_list = [start + timedelta(days=i) for i in range(days)]
    start_s = _epoch(start)

    say("customers, products, orders")
    customers = make_customers(rng, spec.customers, start, days)
    products = make_products(rng, max(200, spec.customers // 25))
    orders, lines = make_orders(rng, customers, products, spec.orders, start, days)
    interactions = make_interactions(rng, customers, start, days)

    # ---- CRM defects on disjoint orders (never on returned ones: they are delivered twice)
    taken = (orders["status"] == "returned").to_numpy().copy()
    pool = np.arange(orders.height)
    unknown = _pick(rng, pool, RATES["orders_unknown_customer"], taken)
    future = _pick(rng, pool, RATES["orders_future"], taken)
    missing_ts = _pick(rng, pool, RATES["orders_missing_ts"], taken)
    defective = np.zeros(orders.height, dtype=bool)
    defective[np.concatenate([unknown, future, missing_ts])] = True
    cust_id = orders["customer_id"].to_numpy().astype(object)
    cust_id[unknown] = np.char.mod("C9%06d", rng.integers(0, 10**6, len(unknown))).astype(object)
    orders = orders.with_columns(
        customer_id=pl.Series(cust_id),
        defect=pl.Series(np.where(np.isin(pool, unknown), "unknown_reference", np.where(np.isin(pool, future), "future_timestamp", np.where(np.isin(pool, missing_ts), "missing_required", "")))),
        web_ok=pl.Series(~defective),
    )
    line_taken = defective[lines["order_idx"].to_numpy()].copy()
    neg = _pick(rng, np.arange(lines.height), RATES["lines_negative_qty"], line_taken)
    qty = lines["quantity"].to_numpy().copy()
    qty[neg] = -qty[neg]
    lines = lines.with_columns(quantity=pl.Series(qty), neg=pl.Series(np.isin(np.arange(lines.height), neg)))
    bad_email = rng.random(customers.height) < RATES["customers_bad_email"]
    pattern = BAD_EMAILS[rng.integers(0, len(BAD_EMAILS), customers.height)]
    local = customers["email_local"].to_numpy().astype(str)
    dom = customers["domain"].to_numpy().astype(str)
    broken = np.char.replace(np.char.replace(pattern, "{l}", local), "{d}", dom)
    customers = customers.with_columns(
        email=pl.Series(np.where(bad_email, broken.astype(object), customers["email"].to_numpy())),
        bad_email=pl.Series(bad_email),
    )

    say("CRM files")
    _write_crm(out, m, day_list, customers, products, orders, lines, interactions)

    say("clickstream events")
    cookies = make_cookies(rng, customers)
    orders_for_web = orders.with_columns(cust_idx=pl.col("cust_idx"))
    events = make_events(
        rng, spec.clickstream_events, start, days, customers, cookies, orders_for_web, lines,
        products["product_id"].to_numpy(),
    )
    log = make_log_lines(rng, events, spec.log_lines, start, days)
    n_events = _write_clickstream(out, m, rng, events, start_s, day_list)
    say("web server logs")
    n_log = _write_weblogs(out, m, rng, log, start_s, day_list)

    manifest = m.to_json(
        {
            "tier": tier,
            "seed": seed,
            "start_date": start.isoformat(),
            "days": days,
            "late_events": m.late_events,  # type: ignore[attr-defined]
            "rates": RATES,
        }
    )
    (out / "_manifest.json").write_text(json.dumps(manifest, indent=1))
    return GenerateSummary(
        tier=tier,
        files=len(m.files),
        customers=customers.height,
        orders=orders.height,
        events=n_events,
        log_lines=n_log,
        defects=sum(d["count"] for d in manifest["defects"]),
    )


def _csv_text(df: pl.DataFrame, sep: str = ",") -> str:
    return df.write_csv(separator=sep, line_terminator="\n", null_value="")


def _write_crm(
    out: Path,
    m: _Manifest,
    day_list: list[date],
    customers: pl.DataFrame,
    products: pl.DataFrame,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    interactions: pl.DataFrame,
) -> None:
    eu_date, eu_ts, iso_ts = "%d/%m/%Y", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"
    products_csv = _csv_text(products.select(CRM_COLUMNS["products"]).with_columns(pl.col("list_price").round(2)))
    cust = customers.with_columns(
        birth_date=pl.from_epoch(pl.col("birth_days"), time_unit="d").dt.strftime(eu_date),
        created_at=_fmt_ts("created_s", eu_ts),
        email_opt_in_s=pl.col("email_opt_in"),
    )
    o_day = (orders["order_s"] // 86400).to_numpy()
    r_day = (orders["return_s"] // 86400).to_numpy()
    orders = orders.with_columns(
        order_ts=pl.when(pl.col("defect") == "missing_required").then(pl.lit(""))
        .when(pl.col("defect") == "future_timestamp").then(_fmt_ts("order_s", "2099-%m-%d %H:%M:%S"))
        .otherwise(_fmt_ts("order_s", iso_ts)),
        total_amount=pl.col("total_amount").round(2),
    )
    first_status = pl.when(pl.col("status") == "returned").then(pl.lit("completed")).otherwise(pl.col("status"))
    line_day = o_day[lines["order_idx"].to_numpy()]
    i_day = (interactions["opened_s"] // 86400).to_numpy()
    inter = interactions.with_columns(
        opened_at=_fmt_ts("opened_s", iso_ts),
        closed_at=pl.when(pl.col("closed_s") >= 0).then(_fmt_ts("closed_s", iso_ts)).otherwise(pl.lit("")),
    )
    for day in day_list:
        folder = f"crm/{day.isoformat()}"
        day_no = (day - date(1970, 1, 1)).days
        end_s = (day_no + 1) * 86400
        # customers: full snapshot of everyone known by the end of the day, consent as of then
        snap = cust.filter(pl.col("created_s") < end_s)
        changed = (pl.col("consent_change_s") >= 0) & (pl.col("consent_change_s") < end_s)
        snap = snap.with_columns(
            email_opt_in=pl.when(changed).then(~pl.col("email_opt_in_s")).otherwise(pl.col("email_opt_in_s")),
            consent_updated_at=pl.when(changed).then(_fmt_ts("consent_change_s", eu_ts)).otherwise(pl.col("created_at")),
            updated_at=pl.when(changed).then(_fmt_ts("consent_change_s", eu_ts)).otherwise(pl.col("created_at")),
        ).with_columns(
            email_consent_type=pl.when(pl.col("email_opt_in") & (pl.col("email_consent_type") == "none"))
            .then(pl.lit("explicit")).otherwise(pl.col("email_consent_type")),
        )
        text = _csv_text(snap.select(CRM_COLUMNS["customers"]).with_columns(
            pl.col("email_opt_in").cast(pl.String).str.to_lowercase(), pl.col("sms_opt_in").cast(pl.String).str.to_lowercase()
        ), sep=";")
        _write(out / folder / "customers.csv", text.encode("cp1252"))
        m.file(f"{folder}/customers.csv", "crm_customers", snap.height)
        m.defect("crm_customers", "invalid_email", f"{folder}/customers.csv", int(snap["bad_email"].sum()))

        _write(out / folder / "products.csv", products_csv.encode("utf-8"))
        m.file(f"{folder}/products.csv", "crm_products", products.height)

        placed = orders.filter(pl.Series(o_day == day_no)).with_columns(status=first_status)
        returned = orders.filter(pl.Series((r_day == day_no) & (orders["status"] == "returned").to_numpy()))
        day_orders = pl.concat([placed, returned]).select([*CRM_COLUMNS["orders"], "defect"])
        _write(out / folder / "orders.csv", _csv_text(day_orders.select(CRM_COLUMNS["orders"])).encode("utf-8"))
        m.file(f"{folder}/orders.csv", "crm_orders", day_orders.height)
        for reason, n in day_orders.filter(pl.col("defect") != "").group_by("defect").len().iter_rows():
            m.defect("crm_orders", reason, f"{folder}/orders.csv", n)

        day_lines = lines.filter(pl.Series(line_day == day_no))
        _write(out / folder / "order_lines.csv", _csv_text(day_lines.select(CRM_COLUMNS["order_lines"])).encode("utf-8"))
        m.file(f"{folder}/order_lines.csv", "crm_order_lines", day_lines.height)
        m.defect("crm_order_lines", "out_of_range", f"{folder}/order_lines.csv", int(day_lines["neg"].sum()))

        day_inter = inter.filter(pl.Series(i_day == day_no)).select(CRM_COLUMNS["interactions"])
        _write(out / folder / "interactions.csv", _csv_text(day_inter).encode("utf-8"))
        m.file(f"{folder}/interactions.csv", "crm_interactions", day_inter.height)


def _write_clickstream(
    out: Path, m: _Manifest, rng: np.random.Generator, events: pl.DataFrame, start_s: int, day_list: list[date]
) -> int:
    n = events.height
    last = len(day_list) - 1
    file_day = ((events["ts_ms"].to_numpy() // 1000 - start_s) // 86400).astype(np.int64)
    taken = np.zeros(n, dtype=bool)
    pool = np.arange(n)
    not_last = pool[file_day < last]
    late = _pick(rng, not_last, RATES["events_late"], taken)
    file_day[late] += 1
    invalid = _pick(rng, pool, RATES["events_invalid_json"], taken)
    missing = _pick(rng, pool, RATES["events_missing_id"], taken)
    future = _pick(rng, pool, RATES["events_future"], taken)
    dups = _pick(rng, pool, RATES["events_duplicate"], taken)
    m.late_events = len(late)  # type: ignore[attr-defined]
    ev = events.with_columns(
        event_ts=pl.from_epoch(pl.col("ts_ms"), time_unit="ms").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
        revenue=pl.when(pl.col("revenue").is_nan()).then(None).otherwise(pl.col("revenue").round(2)),
    )
    kind = np.zeros(n, dtype=np.int8)  # 0 clean, 1 invalid json, 2 missing id, 3 future
    kind[invalid], kind[missing], kind[future] = 1, 2, 3
    ev = ev.with_columns(
        event_id=pl.when(pl.Series(kind == 2)).then(None).otherwise(pl.col("event_id")),
        event_ts=pl.when(pl.Series(kind == 3)).then(pl.col("event_ts").str.replace(r"^\d{4}", "2099")).otherwise(pl.col("event_ts")),
        _file_day=pl.Series(file_day),
        _kind=pl.Series(kind),
        _order=pl.Series(np.arange(n)),
    )
    # Re-sent copies: half in the same file (after the original), half in the next day's file.
    dup_day = file_day[dups] + ((rng.random(len(dups)) < 0.5) & (file_day[dups] < last)).astype(np.int64)
    copies = ev[dups].with_columns(_file_day=pl.Series(dup_day), _order=pl.Series(np.arange(len(dups)) + n))
    allev = pl.concat([ev, copies]).sort("_file_day", "_order")
    parts = allev.partition_by("_file_day", as_dict=True)
    empty = allev.clear()
    total = 0
    for i, day in enumerate(day_list):
        rel = f"clickstream/events-{day.isoformat()}.jsonl.gz"
        part = parts.get((i,), empty)
        text = part.select(EVENT_COLUMNS).write_ndjson()
        bad = np.nonzero(part["_kind"].to_numpy() == 1)[0]
        if len(bad):
            rows = text.split("\n")
            for j in bad:  # a handful of lines per file: truncated mid-object
                rows[j] = rows[j][: len(rows[j]) // 2]
            text = "\n".join(rows)
        _write(out / rel, _gzip(text))
        m.file(rel, "clickstream_events", part.height)
        kinds = part["_kind"].to_numpy()
        m.defect("clickstream_events", "invalid_json", rel, int((kinds == 1).sum()))
        m.defect("clickstream_events", "missing_required", rel, int((kinds == 2).sum()))
        m.defect("clickstream_events", "future_timestamp", rel, int((kinds == 3).sum()))
        m.defect("clickstream_events", "duplicate_key", rel, int((part["_order"].to_numpy() >= n).sum()))
        total += part.height
    return total


def _write_weblogs(
    out: Path, m: _Manifest, rng: np.random.Generator, log: pl.DataFrame, start_s: int, day_list: list[date]
) -> int:
    n = log.height
    day = ((log["ts"].to_numpy() - start_s) // 86400).astype(np.int64)
    line = log.with_columns(
        line=pl.concat_str(
            [
                pl.col("ip"), pl.lit(" - - ["),
                pl.from_epoch(pl.col("ts"), time_unit="s").dt.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                pl.lit('] "'), pl.col("method"), pl.lit(" "), pl.col("path"), pl.lit(' HTTP/1.1" '),
                pl.col("status").cast(pl.String), pl.lit(" "), pl.col("bytes").cast(pl.String),
                pl.lit(' "'), pl.col("referrer"), pl.lit('" "'), pl.col("user_agent"), pl.lit('"'),
            ]
        ),
        _day=pl.Series(day),
    )
    malformed = np.zeros(n, dtype=bool)
    malformed[_pick(rng, np.arange(n), RATES["log_malformed"], np.zeros(n, dtype=bool))] = True
    line = line.with_columns(
        line=pl.when(pl.Series(malformed)).then(pl.col("line").str.slice(0, pl.col("line").str.len_chars() // 2)).otherwise(pl.col("line")),
        _bad=pl.Series(malformed),
    )
    parts = line.partition_by("_day", as_dict=True)
    empty = line.clear()
    written = 0
    for i, d in enumerate(day_list):
        rel = f"weblogs/access-{d.isoformat()}.log.gz"
        part = parts.get((i,), empty)
        _write(out / rel, _gzip("\n".join(part["line"].to_list()) + ("\n" if part.height else "")))
        m.file(rel, "weblog_hits", part.height)
        m.defect("weblog_hits", "malformed_line", rel, int(part["_bad"].sum()))
        written += part.height
    return written
