"""Clickstream sessions and the web server's view of the same traffic.

Visitors carry a cookie (anonymous_id); customers' cookies log in (user_id set from the
login on), every web/app order is a purchase session ending on the order's second with
the same order_id and revenue, and the access log gets a line for every page the tracker
saw plus static assets, bots and traffic the tracker never sees (blockers, 404 probes).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.synth.crm import sample_times


def _str(values: np.ndarray) -> pl.Series:
    """Text column from a numpy array that may hold None (object dtype)."""
    return pl.Series(values.tolist() if values.dtype == object else values, dtype=pl.String)

BROWSER_UAS = np.array(
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 13_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    ]
)
BOT_UAS = np.array(
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "python-requests/2.31.0",
        "SiteCrawler/1.0 (spider)",
    ]
)
CAMPAIGNS = [
    ("google", "cpc", "autumn_sale"),
    ("facebook", "social", "new_collection"),
    ("newsletter", "email", "weekly_digest"),
    ("instagram", "social", "influencer_q4"),
    ("bing", "cpc", "brand_terms"),
]
REFERRERS = np.array(["", "https://www.google.com/", "https://www.bing.com/", "https://www.facebook.com/", "https://duckduckgo.com/"])
ASSETS = np.array(["/static/app.css", "/static/app.js", "/static/logo.png", "/static/hero.jpg", "/favicon.ico", "/static/fonts/inter.woff2"])
SITE = "https://shop.example.com"
BROWSE_TYPES = np.array(["page_view", "product_view", "search", "add_to_cart", "remove_from_cart"])
BROWSE_P = [0.14, 0.16, 0.26, 0.30, 0.14]


def make_cookies(rng: np.random.Generator, customers: pl.DataFrame) -> pl.DataFrame:
    """Cookies: 1-2 per customer, plus as many anonymous-only visitors as customers."""
    n = customers.height
    per = rng.choice([1, 1, 2], n)
    cust_idx = np.repeat(np.arange(n), per)
    n_anon = n
    total = len(cust_idx) + n_anon
    ipv6 = rng.random(total) < 0.04
    ip4 = (
        np.char.mod("%d", rng.integers(2, 223, total)).astype(object) + "."
        + np.char.mod("%d", rng.integers(0, 255, total)).astype(object) + "."
        + np.char.mod("%d", rng.integers(0, 255, total)).astype(object) + "."
        + np.char.mod("%d", rng.integers(1, 254, total)).astype(object)
    )
    ip6 = "2001:db8:" + np.char.mod("%x", rng.integers(0, 65535, total)).astype(object) + "::" + np.char.mod(
        "%x", rng.integers(1, 65535, total)
    ).astype(object)
    return pl.DataFrame(
        {
            "anonymous_id": "a" + pl.Series(rng.permutation(total * 7)[:total]).cast(pl.String).str.zfill(9),
            "cust_idx": np.concatenate([cust_idx, np.full(n_anon, -1)]),
            "ip": np.where(ipv6, ip6, ip4),
            "user_agent": BROWSER_UAS[rng.choice(len(BROWSER_UAS), total, p=[0.35, 0.2, 0.2, 0.2, 0.05])],
        }
    )


def make_events(
    rng: np.random.Generator,
    n_events: int,
    start: date,
    days: int,
    customers: pl.DataFrame,
    cookies: pl.DataFrame,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    product_ids: np.ndarray,
) -> pl.DataFrame:
    """Clean events (before defects): one row per event with epoch seconds in `ts_ms`."""
    customer_ids = customers["customer_id"].to_numpy()
    cookie_cust = cookies["cust_idx"].to_numpy()
    # Each customer's first cookie carries their purchases.
    first_cookie = np.full(customers.height, -1)
    has = cookie_cust >= 0
    first_cookie[cookie_cust[has][::-1]] = np.nonzero(has)[0][::-1]

    # ---- purchase sessions: one per web/app order of a known customer ----
    web = orders.filter(pl.col("channel").is_in(["web", "mobile_app"]) & pl.col("web_ok"))
    n_p = web.height
    first_product = lines.group_by("order_id").agg(pl.col("product_id").first())
    web = web.join(first_product, on="order_id", how="left")
    p_steps = np.array(["page_view", "product_view", "add_to_cart", "checkout", "purchase"])
    p_offsets = np.array([-900, -600, -300, -120, 0])
    p_cookie = first_cookie[web["cust_idx"].to_numpy()]
    p_rows = np.repeat(np.arange(n_p), 5)
    p_step = np.tile(np.arange(5), n_p)
    purchase = pl.DataFrame(
        {
            "session": p_rows,
            "event_type": p_steps[p_step],
            "ts_ms": (web["order_s"].to_numpy()[p_rows] + p_offsets[p_step]) * 1000,
            "cookie": p_cookie[p_rows],
            "user_id": _str(customer_ids[web["cust_idx"].to_numpy()][p_rows]),
            "product_id": _str(np.where(np.isin(p_step, [1, 2]), web["product_id"].to_numpy()[p_rows], None)),
            "order_id": _str(np.where(p_step == 4, web["order_id"].to_numpy()[p_rows], None)),
            "revenue": np.where(p_step == 4, web["total_amount"].to_numpy()[p_rows], np.nan),
            "page_url": _str(np.array([SITE + "/", SITE + "/product/", SITE + "/cart", SITE + "/checkout", SITE + "/checkout/confirmation"], dtype=object)[p_step]),
        }
    )

    # ---- browsing sessions fill the rest ----
    remaining = max(n_events - purchase.height, 0)
    n_len = rng.geometric(0.16, size=max(remaining // 5, 1))
    n_len = n_len[np.cumsum(n_len) <= remaining]
    if n_len.sum() < remaining:
        n_len = np.append(n_len, remaining - n_len.sum())
    n_s = len(n_len)
    s_cookie = rng.integers(0, cookies.height, n_s)
    s_start = sample_times(rng, n_s, start, days) * 1000
    rows = np.repeat(np.arange(n_s), n_len)
    pos = np.arange(len(rows)) - np.repeat(np.cumsum(n_len) - n_len, n_len)
    gaps = rng.exponential(45_000, len(rows)).astype(np.int64)
    gaps[pos == 0] = 0
    offset = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[np.cumsum(n_len) - n_len], n_len)
    etype = BROWSE_TYPES[rng.choice(len(BROWSE_TYPES), len(rows), p=BROWSE_P)]
    etype[pos == 0] = "page_view"
    cust_of = cookie_cust[s_cookie][rows]
    logs_in = (rng.random(n_s) < 0.45)[rows] & (cust_of >= 0)
    etype = np.where(logs_in & (pos == 1), "login", etype)
    special = rng.random(len(rows))
    etype = np.where((pos == 2) & (special < 0.01), "newsletter_signup", etype)
    etype = np.where((pos == 2) & (special > 0.995) & (cust_of >= 0), "signup", etype)
    user = np.where(logs_in & (pos >= 1), customer_ids[np.maximum(cust_of, 0)], None)
    prod = product_ids[rng.integers(0, len(product_ids), len(rows))]
    browse = pl.DataFrame(
        {
            "session": rows + n_p,
            "event_type": etype,
            "ts_ms": s_start[rows] + offset,
            "cookie": s_cookie[rows],
            "user_id": _str(user),
            "product_id": _str(np.where(np.isin(etype, ["product_view", "add_to_cart", "remove_from_cart"]), prod, None)),
            "order_id": pl.Series([None] * len(rows), dtype=pl.String),
            "revenue": np.full(len(rows), np.nan),
            "page_url": _str(np.where(
                etype == "product_view",
                SITE + "/product/",
                np.where(etype == "search", SITE + "/search?q=", np.where(pos == 0, SITE + "/", SITE + "/category/")),
            ).astype(object)),
        },
    )
    events = pl.concat([purchase, browse], how="vertical_relaxed")
    n = events.height
    # Campaign and referrer on the landing event of 30 % of sessions.
    n_sessions = n_p + n_s
    camp = rng.integers(-2 * len(CAMPAIGNS), len(CAMPAIGNS), n_sessions)  # negative = none
    ref = rng.integers(0, len(REFERRERS), n_sessions)
    sess = events["session"].to_numpy()
    first = np.r_[True, sess[1:] != sess[:-1]]
    c = camp[sess]
    has_c = first & (c >= 0)
    cc = np.maximum(c, 0)
    src = np.array([x[0] for x in CAMPAIGNS], dtype=object)[cc]
    med = np.array([x[1] for x in CAMPAIGNS], dtype=object)[cc]
    cmp_ = np.array([x[2] for x in CAMPAIGNS], dtype=object)[cc]
    prod_path = events["product_id"].fill_null("").to_numpy()
    page = events["page_url"].to_numpy().astype(object)
    page = np.where(page == SITE + "/product/", page + prod_path, page)
    page = np.where(page == SITE + "/search?q=", page + np.array(["lamp", "shoes", "gift", "coffee"], dtype=object)[rng.integers(0, 4, n)], page)
    page = np.where(page == SITE + "/category/", page + np.array(["home", "garden", "fashion", "sports"], dtype=object)[rng.integers(0, 4, n)], page)
    page = np.where(has_c, page + "?utm_source=" + src + "&utm_medium=" + med + "&utm_campaign=" + cmp_, page)
    cookie_idx = events["cookie"].to_numpy()
    events = events.with_columns(
        page_url=_str(page.astype(object)),
        referrer=_str(np.where(first & (ref[sess] > 0), REFERRERS[ref[sess]], None)),
        utm_source=_str(np.where(has_c, src, None)),
        utm_medium=_str(np.where(has_c, med, None)),
        utm_campaign=_str(np.where(has_c, cmp_, None)),
        anonymous_id=_str(cookies["anonymous_id"].to_numpy()[cookie_idx]),
        ip=_str(cookies["ip"].to_numpy()[cookie_idx].astype(object)),
        user_agent=_str(cookies["user_agent"].to_numpy()[cookie_idx].astype(object)),
    )
    events = events.sort("ts_ms", "session")
    ids = pl.Series(rng.permutation(n * 3)[:n]).cast(pl.String).str.zfill(10)
    return events.with_columns(event_id=("e" + ids))


def make_log_lines(rng: np.random.Generator, events: pl.DataFrame, n_lines: int, start: date, days: int) -> pl.DataFrame:
    """Access log rows (ts seconds, ip, method, path, status, bytes, referrer, ua, kind)."""
    pages = events.filter(pl.col("event_type").is_in(["page_view", "product_view"]))
    path = pages["page_url"].str.replace(r"^https?://[^/]+", "")
    page_rows = pl.DataFrame(
        {
            "ts": pages["ts_ms"] // 1000,
            "ip": pages["ip"],
            "path": path,
            "status": np.full(pages.height, 200),
            "referrer": pages["referrer"].fill_null("-"),
            "user_agent": pages["user_agent"],
            "kind": "page",
        }
    )
    extra = max(n_lines - page_rows.height, n_lines // 10)
    n_assets, n_bots = int(extra * 0.55), int(extra * 0.3)
    n_other = extra - n_assets - n_bots
    a_src = rng.integers(0, pages.height, n_assets) if pages.height else np.zeros(n_assets, dtype=np.int64)
    assets = pl.DataFrame(
        {
            "ts": pages["ts_ms"].to_numpy()[a_src] // 1000 + rng.integers(0, 2, n_assets),
            "ip": pages["ip"].to_numpy()[a_src],
            "path": ASSETS[rng.integers(0, len(ASSETS), n_assets)],
            "status": rng.choice([200, 200, 200, 304], n_assets),
            "referrer": "https://shop.example.com/",
            "user_agent": pages["user_agent"].to_numpy()[a_src],
            "kind": "asset",
        }
    )
    bot_ip = "66.249." + np.char.mod("%d", rng.integers(64, 80, n_bots)).astype(object) + "." + np.char.mod("%d", rng.integers(1, 254, n_bots)).astype(object)
    bots = pl.DataFrame(
        {
            "ts": sample_times(rng, n_bots, start, days),
            "ip": bot_ip,
            "path": np.array(["/robots.txt", "/sitemap.xml", "/", "/category/home", "/product/P00001", "/feed.xml"], dtype=object)[rng.integers(0, 6, n_bots)],
            "status": rng.choice([200, 200, 200, 301, 404], n_bots),
            "referrer": "-",
            "user_agent": BOT_UAS[rng.integers(0, len(BOT_UAS), n_bots)],
            "kind": "bot",
        }
    )
    other_ip = "185." + np.char.mod("%d", rng.integers(0, 255, n_other)).astype(object) + "." + np.char.mod("%d", rng.integers(0, 255, n_other)).astype(object) + ".7"
    other = pl.DataFrame(
        {
            "ts": sample_times(rng, n_other, start, days),
            "ip": other_ip,
            "path": np.array(["/", "/category/fashion", "/wp-login.php", "/.env", "/product/P99999", "/api/cart"], dtype=object)[rng.integers(0, 6, n_other)],
            "status": rng.choice([200, 200, 404, 404, 500, 403], n_other),
            "referrer": "-",
            "user_agent": BROWSER_UAS[rng.integers(0, len(BROWSER_UAS), n_other)],
            "kind": "untracked",
        }
    )
    out = pl.concat([page_rows, assets, bots, other], how="vertical_relaxed")
    n = out.height
    method = np.where(out["path"].to_numpy() == "/api/cart", "POST", "GET")
    return out.with_columns(
        method=pl.Series(method),
        bytes=pl.Series(np.where(out["status"].to_numpy() == 304, 0, rng.integers(200, 60_000, n))),
    ).sort("ts")
