"""The web server's view of the same traffic: access log rows before formatting.

The server logs every page the tracker saw (same ip and user agent, the same second,
path = the page URL's path and query) plus what the tracker never sees: static assets
fetched right after a page, search-engine bots and crawlers (some hammering the site
without assets), vulnerability probes, 4xx/5xx errors and visitors blocking the tracker.
That makes bot filtering and log-vs-tracker reconciliation real problems for the marts.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.synth.clickstream import BROWSER_UAS, SITE
from pipelines.synth.timeline import DAY, Block, epoch_s, pick_from, sample_times

ASSETS = [
    "/static/app.css",
    "/static/app.js",
    "/static/logo.png",
    "/static/hero.jpg",
    "/favicon.ico",
    "/static/fonts/inter.woff2",
]
BOT_UAS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "python-requests/2.31.0",
    "SiteCrawler/1.0 (+http://example.org/crawler)",
    "Mozilla/5.0 (compatible; generic-spider/2.3)",
]
BOT_PATHS = [
    "/robots.txt",
    "/sitemap.xml",
    "/",
    "/category/home",
    "/category/garden",
    "/feed.xml",
    "/product/P00001",
]
PROBE_PATHS = [
    "/wp-login.php",
    "/.env",
    "/admin/config.php",
    "/product/P99999",
    "/api/cart",
    "/category/fashion",
    "/",
]
# Share of the non-page lines that are assets, bot hits, a crawler burst, and untracked visitors.
MIX = {"asset": 0.5, "bot": 0.2, "burst": 0.1, "untracked": 0.2}


def _frame(ts: np.ndarray, ip, path, status, referrer, ua, kind: str) -> pl.DataFrame:
    n = len(ts)
    return pl.DataFrame(
        {
            "ts": ts.astype(np.int64),
            "ip": pl.Series(ip, dtype=pl.String) if not isinstance(ip, pl.Series) else ip,
            "path": pl.Series(path, dtype=pl.String) if not isinstance(path, pl.Series) else path,
            "status": np.broadcast_to(status, n).astype(np.int16),
            "referrer": np.broadcast_to(np.asarray(referrer, dtype=object), n),
            "user_agent": pl.Series(ua, dtype=pl.String) if not isinstance(ua, pl.Series) else ua,
            "kind": kind,
        }
    )


def tracked_pages(events: pl.DataFrame) -> pl.DataFrame:
    """The page loads the tracker saw (the server logged each of them), with what the log needs."""
    return events.filter(pl.col("event_type").is_in(["page_view", "product_view"])).select(
        "ts_ms", "ip", "page_url", "referrer", "user_agent"
    )


def make_log_rows(
    rng: np.random.Generator,
    events: pl.DataFrame,
    n_lines: int,
    start: date,
    days: int,
    block: Block | None = None,
) -> pl.DataFrame:
    """Log rows (ts seconds, ip, method, path, status, bytes, referrer, user_agent, kind) sorted by time.

    `events` are the clean clickstream events or already tracked_pages(events). With a
    block: `events` are that block's, and the untracked traffic is drawn on its days.
    """
    pages = tracked_pages(events) if "event_type" in events.columns else events
    page_rows = pl.DataFrame(
        {
            "ts": pages["ts_ms"] // 1000,
            "ip": pages["ip"],
            "path": pages["page_url"].str.slice(len(SITE)),
            "status": pl.Series(np.full(pages.height, 200, dtype=np.int16)),
            "referrer": pages["referrer"].fill_null("-"),
            "user_agent": pages["user_agent"],
            "kind": "page",
        }
    )
    extra = max(n_lines - page_rows.height, n_lines // 10)
    n = {k: int(extra * v) for k, v in MIX.items()}
    n["untracked"] = extra - n["asset"] - n["bot"] - n["burst"]
    src = rng.integers(0, max(pages.height, 1), n["asset"])
    page_ts = pages["ts_ms"].to_numpy() // 1000
    assets = _frame(
        page_ts[src] + rng.integers(0, 3, n["asset"]),
        pages["ip"].gather(src),
        pick_from(ASSETS, rng.integers(0, len(ASSETS), n["asset"])),
        rng.choice([200, 200, 200, 304], n["asset"]),
        SITE + "/",
        pages["user_agent"].gather(src),
        "asset",
    )
    nb = n["bot"]
    bot_ip = np.where(
        rng.random(nb) < 0.1,
        "2001:4860:4801:" + np.char.mod("%x", rng.integers(1, 4096, nb)).astype(object) + "::1",
        "66.249."
        + np.char.mod("%d", rng.integers(64, 80, nb)).astype(object)
        + "."
        + np.char.mod("%d", rng.integers(1, 254, nb)).astype(object),
    )
    bots = _frame(
        sample_times(rng, nb, start, days, block),
        bot_ip,
        pick_from(BOT_PATHS, rng.integers(0, len(BOT_PATHS), nb)),
        rng.choice([200, 200, 200, 301, 404], nb),
        "-",
        pick_from(BOT_UAS, rng.integers(0, len(BOT_UAS), nb)),
        "bot",
    )
    # One aggressive crawler per few days: a burst of requests a few per second, no assets.
    nc = n["burst"]
    n_bursts = max((block.days if block is not None else days) // 3, 1)
    burst_start = sample_times(rng, n_bursts, start, days, block)
    which = np.sort(rng.integers(0, n_bursts, nc))
    pos = np.arange(nc) - np.searchsorted(which, which)
    crawler_ip = pick_from(["5.188.62.14", "45.134.26.99", "2a03:b0c0:3:d0::1f2:7001"], which % 3)
    burst = _frame(
        burst_start[which] + pos // 4,
        crawler_ip,
        "/product/P" + np.char.mod("%05d", rng.integers(1, 2000, nc)).astype(object),
        rng.choice([200, 200, 200, 404, 429, 503], nc),
        "-",
        pick_from(BOT_UAS[5:], which % 3),
        "bot",
    )
    nu = n["untracked"]
    un_ip = (
        "185."
        + np.char.mod("%d", rng.integers(0, 255, nu)).astype(object)
        + "."
        + np.char.mod("%d", rng.integers(0, 255, nu)).astype(object)
        + ".7"
    )
    untracked = _frame(
        sample_times(rng, nu, start, days, block),
        un_ip,
        pick_from(PROBE_PATHS, rng.integers(0, len(PROBE_PATHS), nu)),
        rng.choice([200, 200, 404, 404, 500, 403, 502], nu),
        "-",
        pick_from(BROWSER_UAS, rng.integers(0, len(BROWSER_UAS), nu)),
        "untracked",
    )
    out = pl.concat([page_rows, assets, bots, burst, untracked], how="vertical_relaxed")
    end_s = epoch_s(start) + days * DAY
    size = out.height
    return out.with_columns(
        ts=pl.col("ts").clip(epoch_s(start), end_s - 1),
        method=pl.when(pl.col("path") == "/api/cart").then(pl.lit("POST")).otherwise(pl.lit("GET")),
        bytes=pl.when(pl.col("status") == 304).then(0).otherwise(pl.Series(rng.integers(200, 60_000, size))),
    ).sort("ts", maintain_order=True)
