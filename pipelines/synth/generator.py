"""`c360 generate`: build every source from one seed, plant defects, write files and manifest.

Each part draws from its own child of one SeedSequence, so changing (say) the weblog
mix does not reshuffle the customers; nothing reads the clock. Sizes come from the tier
(settings.TIERS); clickstream and log line counts include planted re-sends and defects.

The CRM is built whole (a million customers and six million orders fit in memory); the
clickstream and the logs, which dominate, are built, planted and written a block of
days at a time (the tier's block_days), so memory holds one block of events.
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
from pipelines.synth.timeline import day_blocks, epoch_s, split_by_weight

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
    writers.write_crm(out, m, days, cust, prod, planted.orders, planted.lines, inter, spec.gzip_customers)

    say("building clickstream sessions")
    cookies = clickstream.make_cookies(rng["cookies"], cust)
    web_orders = (
        planted.orders.filter(pl.col("channel").is_in(["web", "mobile_app"]) & pl.col("web_ok"))
        .join(
            lines.filter(pl.col("line_no") == 1).select("order_id", "product_id"), on="order_id", how="left"
        )
        .with_row_index("order_idx")
        .with_columns(prod_idx=pl.col("product_id").str.slice(1).cast(pl.Int64) - 1)
        .select("order_idx", "order_id", "cust_idx", "order_s", "total_cents", "prod_idx")
    )
    n_customers, n_orders = cust.height, ords.height
    # What the events need of the CRM; the rest can go.
    cust = cust.select("customer_id", "created_s", "acquisition_channel", "engagement")
    del ords, lines, inter, planted
    # Re-sent copies add events: draw fewer originals so the written total hits the tier. The
    # CRM fixes the purchase and sign-up sessions; browsing makes up the rest, spread over the
    # blocks like the browsing of one block over the days (by day weight), as are the log lines.
    n_clean = round(spec.clickstream_events / (1 + defects.RATES["events_duplicate_key"]))
    n_browse = max(n_clean - clickstream.fixed_events(cust, web_orders, start), 0)
    blocks = day_blocks(n_days, spec.block_days)
    sizes = zip(
        split_by_weight(n_browse, start, blocks), split_by_weight(spec.log_lines, start, blocks), strict=True
    )
    n_events = n_log = id_base = 0
    events_pending = log_pending = None
    for block, (block_browse, block_lines) in zip(blocks, sizes, strict=True):
        span = "" if block.whole else f"days {block.first + 1}-{block.end} of {n_days}: "
        if not block.whole:
            say(f"{span}building clickstream sessions")
        events = clickstream.make_events(
            rng["events"],
            block_browse,
            start,
            n_days,
            cust,
            cookies,
            web_orders,
            prod,
            products.popularity(prod.height),
            block=block,
            id_base=id_base,
        )
        id_base += 3 * events.height
        pages = weblogs.tracked_pages(events)  # all the logs need: the events themselves can go
        planted_events, late = defects.plant_events(rng["plant_events"], events, epoch_s(start), n_days)
        m.late_events += late
        del events
        say(f"{span}writing clickstream ({planted_events.height:,} lines)")
        written, events_pending = writers.write_clickstream(
            out, m, planted_events, days, block, events_pending
        )
        n_events += written
        del planted_events  # the largest frame: free it before the logs are built

        say(f"{span}building web server logs")
        rows = weblogs.make_log_rows(rng["log"], pages, block_lines, start, n_days, block)
        del pages
        say(f"{span}writing web server logs ({rows.height:,} lines)")
        written, log_pending = writers.write_weblogs(out, m, rng["plant_log"], rows, days, block, log_pending)
        n_log += written
        del rows
    assert events_pending is not None and log_pending is not None
    assert events_pending.height == log_pending.height == 0, "rows left after the period's last day"

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
        customers=n_customers,
        orders=n_orders,
        events=n_events,
        log_lines=n_log,
        defects=sum(d["count"] for d in manifest["defects"]),
    )
