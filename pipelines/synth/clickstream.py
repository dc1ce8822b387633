"""Clickstream sessions from the site tracker, coherent with the CRM.

Visitors carry a cookie (anonymous_id). Customers' cookies log in (or sign up, at the
customer's creation time), and from that event on the session carries user_id = the CRM
customer_id. Every web/mobile_app order of the CRM is a purchase session ending in a
`purchase` event with the same order_id and revenue. Browsing sessions fill up the rest
of the tier's event budget; who browses follows the same Pareto engagement as who buys.
Store and call-center orders have no clickstream.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.synth.timeline import DAY, Block, epoch_s, pick_from, sample_times

SITE = "https://shop.example.com"
COLUMNS = [
    "event_id", "event_type", "event_ts", "anonymous_id", "user_id", "page_url", "referrer", "utm_source",
    "utm_medium", "utm_campaign", "product_id", "order_id", "revenue", "ip", "user_agent",
]  # fmt: skip
BROWSER_UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 13_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
]
UA_P = [0.35, 0.2, 0.2, 0.2, 0.05]
CAMPAIGNS = [
    ("google", "cpc", "autumn_sale"),
    ("facebook", "social", "new_collection"),
    ("newsletter", "email", "weekly_digest"),
    ("instagram", "social", "influencer_q4"),
    ("bing", "cpc", "brand_terms"),
]
EXTERNAL_REFERRERS = [
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://www.facebook.com/",
    "https://duckduckgo.com/",
]
SEARCH_TERMS = ["lamp", "shoes", "gift", "coffee", "jacket", "headphones"]
CATEGORY_PAGES = ["home", "garden", "fashion", "sports", "kitchen", "books"]
# After the landing page. Page and product views are kept to about a third of all events,
# which is the tier's ratio of log lines to events once assets and bots are added.
BROWSE_TYPES = np.array(
    [
        "page_view",
        "product_view",
        "search",
        "add_to_cart",
        "remove_from_cart",
        "checkout",
        "newsletter_signup",
    ]
)
BROWSE_P = [0.07, 0.15, 0.24, 0.3, 0.15, 0.08, 0.01]
# Purchase session: landing page, login, product, cart, checkout, purchase (seconds before the order).
PURCHASE_STEPS = np.array(["page_view", "login", "product_view", "add_to_cart", "checkout", "purchase"])
PURCHASE_OFFSETS = np.array([-1500, -1380, -1000, -600, -240, 0])


def make_cookies(rng: np.random.Generator, customers: pl.DataFrame) -> pl.DataFrame:
    """Cookies: 1-2 per customer (phone and laptop), plus as many anonymous-only visitors."""
    n = customers.height
    cust_idx = np.repeat(np.arange(n), rng.choice([1, 1, 2], n))
    total = len(cust_idx) + n
    ipv6 = rng.random(total) < 0.05
    octet = [
        np.char.mod("%d", rng.integers(lo, hi, total)).astype(object)
        for lo, hi in ((2, 223), (0, 256), (0, 256), (1, 255))
    ]
    ip4 = octet[0] + "." + octet[1] + "." + octet[2] + "." + octet[3]
    ip6 = (
        "2a01:cb1"
        + np.char.mod("%x", rng.integers(0, 16, total)).astype(object)
        + ":"
        + np.char.mod("%x", rng.integers(0, 65535, total)).astype(object)
        + "::"
        + np.char.mod("%x", rng.integers(1, 65535, total)).astype(object)
    )
    engagement = np.concatenate([customers["engagement"].to_numpy()[cust_idx] + 0.1, np.full(n, 0.3)])
    return pl.DataFrame(
        {
            "anonymous_id": "a" + pl.Series(rng.permutation(total * 7)[:total]).cast(pl.String).str.zfill(9),
            "cust_idx": np.concatenate([cust_idx, np.full(n, -1)]),
            "ip": np.where(ipv6, ip6, ip4),
            "user_agent": pick_from(BROWSER_UAS, rng.choice(len(BROWSER_UAS), total, p=UA_P)),
            "weight": engagement,
        }
    )


def _first_cookie(cookies: pl.DataFrame, n_customers: int) -> np.ndarray:
    """Each customer's first cookie (the one their purchases and sign-up use).

    Customers' cookies come first in `cookies`, grouped by ascending customer index.
    """
    cookie_cust = cookies["cust_idx"].to_numpy()
    owned = cookie_cust[cookie_cust >= 0]
    return np.searchsorted(owned, np.arange(n_customers))


# Page templates: sessions carry an index into PATHS; product, search and category pages get a suffix.
PATHS = ["/", "/account/login", "/cart", "/checkout", "/checkout/confirmation", "/account/signup",
         "/account/welcome", "/product/", "/search?q=", "/category/"]  # fmt: skip
HOME, LOGIN, CART, CHECKOUT, CONFIRMATION, SIGNUP, WELCOME, PRODUCT, SEARCH, CATEGORY = range(len(PATHS))
EVENT_TYPES = ["page_view", "product_view", "search", "add_to_cart", "remove_from_cart", "checkout", "purchase",
               "login", "signup", "newsletter_signup"]  # fmt: skip


EVENT_TYPES_SORTED = sorted(EVENT_TYPES)


def _codes(names: np.ndarray) -> np.ndarray:
    """Event type names as small codes (index into EVENT_TYPES_SORTED): cheap to carry and gather."""
    return np.searchsorted(np.array(EVENT_TYPES_SORTED), names).astype(np.int8)


def _purchase_sessions(rng: np.random.Generator, web_orders: pl.DataFrame, first_cookie: np.ndarray) -> dict:
    k = len(PURCHASE_STEPS)
    n = web_orders.height
    rows, step = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
    cust = web_orders["cust_idx"].to_numpy()[rows]
    return {
        "session": rows,
        "event": _codes(PURCHASE_STEPS)[step],
        "ts_ms": (web_orders["order_s"].to_numpy()[rows] + PURCHASE_OFFSETS[step]) * 1000
        + np.where(step == k - 1, 0, rng.integers(0, 60_000, len(rows))),
        "cookie": first_cookie[cust],
        "cust": np.where(step >= 1, cust, -1),
        "prod": np.where(np.isin(step, [2, 3]), web_orders["prod_idx"].to_numpy()[rows], -1),
        "order": np.where(step == k - 1, web_orders["order_idx"].to_numpy().astype(np.int64)[rows], -1),
        "path": np.array([HOME, LOGIN, PRODUCT, CART, CHECKOUT, CONFIRMATION])[step],
        "detail": np.zeros(len(rows), dtype=np.int64),
    }


SIGNUP_OFFSETS = np.array([-90, 0, 20])


def _first_day(first_s: np.ndarray, start_s: int) -> np.ndarray:
    """Period day of a session's earliest possible event (times before the period are clipped to it)."""
    return np.maximum(first_s - start_s, 0) // DAY


def _signs_up(customers: pl.DataFrame, start_s: int) -> np.ndarray:
    """Customers who sign up on the site in the period (a sign-up in a store has no session)."""
    created = customers["created_s"].to_numpy()
    return (created >= start_s) & (customers["acquisition_channel"] != "store").to_numpy()


def fixed_events(customers: pl.DataFrame, web_orders: pl.DataFrame, start: date) -> int:
    """Events of the purchase and sign-up sessions, which the CRM fixes; browsing makes up the rest."""
    signups = int(_signs_up(customers, epoch_s(start)).sum())
    return len(PURCHASE_STEPS) * web_orders.height + len(SIGNUP_OFFSETS) * signups


def _signup_sessions(
    rng: np.random.Generator,
    customers: pl.DataFrame,
    first_cookie: np.ndarray,
    start_s: int,
    block: Block | None,
) -> dict:
    created = customers["created_s"].to_numpy()
    signs_up = _signs_up(customers, start_s)
    if block is not None and not block.whole:
        day = _first_day(created + SIGNUP_OFFSETS[0], start_s)
        signs_up &= (day >= block.first) & (day < block.end)
    new = np.nonzero(signs_up)[0]
    n = len(new)
    rows, step = np.repeat(np.arange(n), 3), np.tile(np.arange(3), n)
    cust = new[rows]
    return {
        "session": rows,
        "event": _codes(np.array(["page_view", "signup", "page_view"]))[step],
        "ts_ms": (created[cust] + SIGNUP_OFFSETS[step]) * 1000 + rng.integers(0, 1000, len(rows)),
        "cookie": first_cookie[cust],
        "cust": np.where(step >= 1, cust, -1),
        "prod": np.full(len(rows), -1),
        "order": np.full(len(rows), -1),
        "path": np.array([HOME, SIGNUP, WELCOME])[step],
        "detail": np.zeros(len(rows), dtype=np.int64),
    }


def _browse_sessions(
    rng: np.random.Generator,
    n_events: int,
    cookies: pl.DataFrame,
    created: np.ndarray,
    n_products: int,
    product_p: np.ndarray,
    start: date,
    days: int,
    block: Block | None,
) -> dict:
    lengths = rng.geometric(0.16, size=max(n_events // 5, 1))
    lengths = lengths[np.cumsum(lengths) <= n_events]
    if lengths.sum() < n_events:
        lengths = np.append(lengths, n_events - lengths.sum())
    n_s = len(lengths)
    w = cookies["weight"].to_numpy()
    cookie = rng.choice(cookies.height, n_s, p=w / w.sum())
    s_start = sample_times(rng, n_s, start, days, block) * 1000 + rng.integers(0, 1000, n_s)
    rows = np.repeat(np.arange(n_s), lengths)
    pos = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    gaps = rng.exponential(45_000, len(rows)).astype(np.int64)
    gaps[pos == 0] = 0
    csum = np.cumsum(gaps)
    offset = csum - np.repeat(csum[np.cumsum(lengths) - lengths], lengths)
    etype = _codes(BROWSE_TYPES)[rng.choice(len(BROWSE_TYPES), len(rows), p=BROWSE_P)]
    code = dict(zip(EVENT_TYPES_SORTED, range(len(EVENT_TYPES_SORTED)), strict=True))
    etype[pos == 0] = code["page_view"]
    cust_of = cookies["cust_idx"].to_numpy()[cookie]
    # Customers log in on 45 % of their sessions, once they exist.
    logs_in = (
        (rng.random(n_s) < 0.45) & (cust_of >= 0) & (s_start > (created[np.maximum(cust_of, 0)] + 60) * 1000)
    )
    etype = np.where(logs_in[rows] & (pos == 1), code["login"], etype)
    prod = rng.choice(n_products, len(rows), p=product_p)
    on_product = np.isin(etype, [code["product_view"], code["add_to_cart"], code["remove_from_cart"]])
    path = np.where(
        on_product, PRODUCT,
        np.where(etype == code["search"], SEARCH,
        np.where(etype == code["login"], LOGIN,
        np.where(etype == code["checkout"], CHECKOUT,
        np.where(pos == 0, HOME, CATEGORY)))),
    )  # fmt: skip
    return {
        "session": rows,
        "event": etype,
        "ts_ms": s_start[rows] + offset,
        "cookie": cookie[rows],
        "cust": np.where(logs_in[rows] & (pos >= 1), cust_of[rows], -1),
        "prod": np.where(on_product, prod, -1),
        "order": np.full(len(rows), -1),
        "path": path,
        "detail": rng.integers(0, 6, len(rows)),
    }


def _idx(values: np.ndarray) -> pl.Expr:
    """Index column with -1 as null, for gathers that give null."""
    return pl.lit(pl.Series(values)).replace(-1, None)


def make_events(
    rng: np.random.Generator,
    n_browse: int,
    start: date,
    days: int,
    customers: pl.DataFrame,
    cookies: pl.DataFrame,
    web_orders: pl.DataFrame,
    products: pl.DataFrame,
    product_p: np.ndarray,
    block: Block | None = None,
    id_base: int = 0,
) -> pl.DataFrame:
    """Clean events sorted by time: ts_ms (UTC epoch ms), session, revenue_cents, contract text columns.

    A purchase session per web order, a sign-up session per customer signing up online,
    and browsing sessions of n_browse events in all. With a block: only the purchase and
    sign-up sessions whose earliest possible event falls on the block's days (a session's
    events never go back in time, so none lands before the block; a few run past its end),
    and browsing sessions starting on its days. Event ids are id_base plus numbers below
    3 * (events returned), so blocks given consecutive bases never collide.
    """
    start_s = epoch_s(start)
    first_cookie = _first_cookie(cookies, customers.height)
    buying = web_orders
    if block is not None and not block.whole:
        day = _first_day(web_orders["order_s"].to_numpy() + PURCHASE_OFFSETS[0], start_s)
        buying = web_orders.filter(pl.Series((day >= block.first) & (day < block.end)))
    parts = [
        _purchase_sessions(rng, buying, first_cookie),
        _signup_sessions(rng, customers, first_cookie, start_s, block),
    ]
    parts.append(
        _browse_sessions(
            rng,
            n_browse,
            cookies,
            customers["created_s"].to_numpy(),
            products.height,
            product_p,
            start,
            days,
            block,
        )
    )
    offset = 0
    for p in parts:  # three session kinds: give each its own session numbers
        p["session"] = p["session"] + offset
        offset = int(p["session"].max()) + 1 if len(p["session"]) else offset
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    sess = cols["session"]
    first = np.r_[True, sess[1:] != sess[:-1]]
    # Campaign and external referrer on the landing event of some sessions.
    # (negative draws = no campaign / direct traffic; -1 becomes null)
    camp = np.where(
        first, np.maximum(rng.integers(-2 * len(CAMPAIGNS), len(CAMPAIGNS), offset)[sess], -1), -1
    )
    ext = np.where(first, np.maximum(rng.integers(-3, len(EXTERNAL_REFERRERS), offset)[sess], -1), -1)
    product_ids = products["product_id"]
    suffix = (
        pl.when(pl.col("path") == PRODUCT)
        .then(pl.lit(product_ids).gather(pl.col("prod")))
        .when(pl.col("path") == SEARCH)
        .then(pl.lit(pl.Series(SEARCH_TERMS)).gather(pl.col("detail")))
        .when(pl.col("path") == CATEGORY)
        .then(pl.lit(pl.Series(CATEGORY_PAGES)).gather(pl.col("detail")))
        .otherwise(pl.lit(""))
    )
    utm = [pl.lit(pl.Series([c[i] for c in CAMPAIGNS])).gather(pl.col("camp")) for i in range(3)]
    url = pl.lit(SITE) + pl.lit(pl.Series(PATHS)).gather(pl.col("path")) + suffix
    url = (
        pl.when(pl.col("camp").is_not_null())
        .then(url + "?utm_source=" + utm[0] + "&utm_medium=" + utm[1] + "&utm_campaign=" + utm[2])
        .otherwise(url)
    )
    cookie = cols["cookie"]
    events = (
        pl.DataFrame(
            {
                "session": sess,
                "ts_ms": np.clip(cols["ts_ms"], start_s * 1000, (start_s + days * DAY) * 1000 - 1),
                "event": cols["event"],
                "cookie": cookie,
                "cust": cols["cust"],
                "prod": cols["prod"],
                "order": cols["order"],
                "path": cols["path"],
                "detail": cols["detail"],
                "camp": camp,
                "ext": ext,
                "first": first,
            }
        )
        .with_columns(
            pl.col("cust", "prod", "order", "camp", "ext").replace(-1, None),
        )
        .with_columns(
            event_type=pl.lit(pl.Series(EVENT_TYPES_SORTED)).gather(pl.col("event")),
            anonymous_id=pl.lit(cookies["anonymous_id"]).gather(pl.col("cookie")),
            user_id=pl.lit(customers["customer_id"]).gather(pl.col("cust")),
            page_url=url,
            utm_source=utm[0],
            utm_medium=utm[1],
            utm_campaign=utm[2],
            product_id=pl.lit(product_ids).gather(pl.col("prod")),
            order_id=pl.lit(web_orders["order_id"]).gather(pl.col("order")),
            revenue_cents=pl.lit(web_orders["total_cents"]).gather(pl.col("order")),
            ip=pl.lit(cookies["ip"]).gather(pl.col("cookie")),
            user_agent=pl.lit(cookies["user_agent"]).gather(pl.col("cookie")),
        )
        .with_columns(
            # The referrer is the previous page of the session, or an external site on landing.
            referrer=pl.when(pl.col("first"))
            .then(pl.lit(pl.Series(EXTERNAL_REFERRERS)).gather(pl.col("ext")))
            .otherwise(pl.col("page_url").shift(1)),
        )
        .drop("event", "cookie", "cust", "prod", "order", "path", "detail", "camp", "ext", "first")
    )
    events = events.sort("ts_ms", "session")
    n = events.height
    ids = pl.Series(id_base + rng.permutation(n * 3)[:n]).cast(pl.String).str.zfill(10)
    return events.with_columns(event_id="e" + ids)
