"""`c360 generate`: build every source from one seed, plant defects, write files and manifest.

Each part draws from its own child of one SeedSequence, so changing (say) the weblog
mix does not reshuffle the customers; nothing reads the clock. Sizes come from the tier
(settings.TIERS); clickstream and log line counts include planted re-sends and defects.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.settings import TIERS, Settings
from pipelines.synth import clickstream, customers, defects, orders, products, support, weblogs, writers
from pipelines.synth.manifest import Manifest
from pipelines.synth.timeline import epoch_s

Progress = Callable[[str], None]
STREAMS = [
    "customers",
    "products",
    "orders",
    "support",
    "defects",
    "cookies",
    "events",
    "plant_events",
    "log",
    "plant_log",
]


@dataclass(frozen=True)
class GenerateSummary:
    """What was written, for the CLI line and the benchmark."""

    tier: str
    out_dir: Path
    files: int
    customers: int
    orders: int
    events: int
    log_lines: int
    defects: int

    def __str__(self) -> str:
        return (
            f"{self.files} files in {self.out_dir}: {self.customers:,} customers, {self.orders:,} orders, "
            f"{self.events:,} events, {self.log_lines:,} log lines, {self.defects:,} planted defects (see _manifest.json)"
        )


def generate(
    settings: Settings,
    tier: str,
    seed: int,
    out_dir: Path | None = None,
    progress: Progress | None = None,
) -> GenerateSummary:
    """Write tier `tier` of sample data from `seed` into out_dir (default: the inbox)."""
    say = progress or (lambda _m: None)
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}: expected one of {', '.join(TIERS)}")
    spec = TIERS[tier]
    out = Path(out_dir) if out_dir is not None else settings.inbox_dir
    start, n_days = settings.start_date, spec.days
    days = [start + timedelta(days=i) for i in range(n_days)]
    rng = dict(
        zip(
            STREAMS,
            (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(STREAMS))),
            strict=True,
        )
    )
    for sub in ("crm", "clickstream", "weblogs"):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    m = Manifest()

    say(f"tier {tier}: {spec.customers:,} customers, {spec.orders:,} orders over {n_days} days")
    cust = customers.make_customers(rng["customers"], spec.customers, start, n_days)
    prod = products.make_products(rng["products"], max(200, min(spec.customers // 25, 5000)))
    ords, lines = orders.make_orders(rng["orders"], cust, prod, spec.orders, start, n_days)
    inter = support.make_interactions(rng["support"], cust, ords, start, n_days)

    say("planting CRM defects")
    cust = defects.plant_customers(rng["defects"], cust)
    planted = defects.plant_orders(rng["defects"], ords, lines)
    inter = defects.plant_interactions(rng["defects"], inter)

    say("writing CRM exports")
    writers.write_crm(out, m, days, cust, prod, planted.orders, planted.lines, inter)

    say("building clickstream sessions")
    cookies = clickstream.make_cookies(rng["cookies"], cust)
    web_orders = (
        planted.orders.filter(pl.col("channel").is_in(["web", "mobile_app"]) & pl.col("web_ok"))
        .join(
            lines.filter(pl.col("line_no") == 1).select("order_id", "product_id"), on="order_id", how="left"
        )
        .with_row_index("order_idx")
        .with_columns(prod_idx=pl.col("product_id").str.slice(1).cast(pl.Int64) - 1)
    )
    # Re-sent copies add events: draw fewer originals so the written total hits the tier.
    n_clean = round(spec.clickstream_events / (1 + defects.RATES["events_duplicate_key"]))
    events = clickstream.make_events(
        rng["events"],
        n_clean,
        start,
        n_days,
        cust,
        cookies,
        web_orders,
        prod,
        products.popularity(prod.height),
    )
    pages = weblogs.tracked_pages(events)  # all the logs need: the events themselves can go
    planted_events, m.late_events = defects.plant_events(rng["plant_events"], events, epoch_s(start), n_days)
    del events
    say(f"writing clickstream ({planted_events.height:,} lines)")
    n_events = writers.write_clickstream(out, m, planted_events, days)
    del planted_events  # the largest frame: free it before the logs are built

    say("building web server logs")
    rows = weblogs.make_log_rows(rng["log"], pages, spec.log_lines, start, n_days)
    say(f"writing web server logs ({rows.height:,} lines)")
    n_log = writers.write_weblogs(out, m, rng["plant_log"], rows, days)

    head = {
        "tier": tier,
        "seed": seed,
        "start_date": start.isoformat(),
        "days": n_days,
        "rates": defects.RATES,
    }
    manifest = m.write(out / "_manifest.json", head)
    say("wrote _manifest.json")
    return GenerateSummary(
        tier=tier,
        out_dir=out,
        files=len(m.files),
        customers=cust.height,
        orders=ords.height,
        events=n_events,
        log_lines=n_log,
        defects=sum(d["count"] for d in manifest["defects"]),
    )
