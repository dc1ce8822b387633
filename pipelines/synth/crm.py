"""CRM entities: customers (with consent history), products, orders with lines, support contacts.

Everything is drawn as whole numpy arrays from one seeded generator; no per-row Python.
Spend is long-tailed (Pareto weights per customer), a share of customers churn and some come
back, and a quarter never order (prospects).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from pipelines.synth.vocab import (
    BRANDS,
    CATEGORIES,
    CITIES,
    DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCT_NOUNS,
    ascii_fold,
)

CHANNELS = np.array(["web", "mobile_app", "store", "call_center"])
CHANNEL_P = [0.5, 0.2, 0.22, 0.08]
WEEKDAY_W = np.array([1.0, 1.0, 1.05, 1.1, 1.2, 1.35, 0.9])  # Mon..Sun
HOUR_W = np.array([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 4, 4.5, 5, 5.5, 5, 4.5, 4.5, 5, 5.5, 6.5, 7.5, 8, 7, 5, 2.5])


@dataclass
class Crm:
    customers: pl.DataFrame  # one row per customer, with consent change columns
    products: pl.DataFrame
    orders: pl.DataFrame  # one row per order (order day version)
    lines: pl.DataFrame
    interactions: pl.DataFrame
    cookies: pl.DataFrame  # anonymous_id -> customer_id (None for anonymous visitors)


def _epoch(d: date) -> int:
    return (d - date(1970, 1, 1)).days * 86400


def sample_times(rng: np.random.Generator, n: int, start: date, days: int) -> np.ndarray:
    """Seconds since epoch with a weekly and a daily rhythm."""
    day_idx = np.arange(days)
    weekday = np.array([(start + timedelta(days=int(i))).weekday() for i in day_idx])
    p_day = WEEKDAY_W[weekday] / WEEKDAY_W[weekday].sum()
    d = rng.choice(days, size=n, p=p_day)
    h = rng.choice(24, size=n, p=HOUR_W / HOUR_W.sum())
    secs = rng.integers(0, 3600, size=n)
    return _epoch(start) + d * 86400 + h * 3600 + secs


def ids(prefix: str, n: int, width: int) -> pl.Series:
    """Sequential ids like C0000001, built by polars rather than a Python loop."""
    return prefix + pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(width)


def make_customers(rng: np.random.Generator, n: int, start: date, days: int) -> pl.DataFrame:
    idx = np.arange(1, n + 1)
    first = rng.choice(len(FIRST_NAMES), n)
    last = rng.choice(len(LAST_NAMES), n)
    city = rng.choice(len(CITIES), n)
    first_names = np.array(FIRST_NAMES, dtype=object)[first]
    last_names = np.array(LAST_NAMES, dtype=object)[last]
    first_ascii = np.array([ascii_fold(x).lower() for x in FIRST_NAMES], dtype=object)[first]
    last_ascii = np.array([ascii_fold(x).lower().replace(" ", "") for x in LAST_NAMES], dtype=object)[last]
    start_s = _epoch(start)
    # 60 % were customers before the period, 40 % sign up during it.
    before = rng.random(n) < 0.6
    created = np.where(
        before,
        start_s - rng.integers(86400, 730 * 86400, n),
        sample_times(rng, n, start, days),
    )
    consent_type = rng.choice(np.array(["explicit", "implicit", "none"]), n, p=[0.55, 0.25, 0.2])
    opt_in = (consent_type != "none") & (rng.random(n) < 0.9)
    # ~6 % change their email consent during the period (given or withdrawn).
    change_at = np.where(rng.random(n) < 0.06, sample_times(rng, n, start, days), -1)
    change_at = np.where(change_at > created, change_at, -1)
    birth = (date(1940, 1, 1) - date(1970, 1, 1)).days + rng.integers(0, 365 * 65, n)
    cities = np.array([c[0] for c in CITIES], dtype=object)[city]
    countries = np.array([c[1] for c in CITIES], dtype=object)[city]
    postal = np.array([c[2] for c in CITIES], dtype=object)[city]
    domain = np.array(DOMAINS, dtype=object)[rng.choice(len(DOMAINS), n)]
    return pl.DataFrame(
        {
            "customer_id": ids("C", n, 7),
            "first_name": first_names,
            "last_name": last_names,
            "email_local": first_ascii + "." + last_ascii + np.char.mod("%d", idx % 1000).astype(object),
            "domain": domain,
            "phone": np.char.add("+33 6 ", np.char.mod("%08d", rng.integers(0, 10**8, n))).astype(object),
            "birth_days": birth,
            "gender": rng.choice(np.array(["F", "M", "X"]), n, p=[0.5, 0.47, 0.03]),
            "postal_code": postal + np.char.mod("%03d", rng.integers(0, 1000, n)).astype(object),
            "city": cities,
            "country": countries,
            "created_s": created,
            "acquisition_channel": rng.choice(np.array(["organic", "paid_search", "social", "referral", "store", "email"]), n),
            "loyalty_tier": rng.choice(np.array(["", "bronze", "silver", "gold"]), n, p=[0.4, 0.3, 0.2, 0.1]),
            "email_consent_type": consent_type,
            "email_opt_in": opt_in,
            "sms_opt_in": rng.random(n) < 0.3,
            "consent_change_s": change_at,
        }
    ).with_columns(email=pl.col("email_local") + "@" + pl.col("domain"))


def make_products(rng: np.random.Generator, n: int) -> pl.DataFrame:
    cat = rng.choice(len(CATEGORIES), n)
    noun = rng.choice(len(PRODUCT_NOUNS), n)
    brand = rng.choice(len(BRANDS), n)
    price = np.round(np.exp(rng.normal(3.3, 0.8, n)), 2) + 0.99
    return pl.DataFrame(
        {
            "product_id": ids("P", n, 5),
            "name": np.array(BRANDS, dtype=object)[brand] + " " + np.array(PRODUCT_NOUNS, dtype=object)[noun]
            + " " + np.char.mod("%d", rng.integers(100, 999, n)).astype(object),
            "category": np.array(CATEGORIES, dtype=object)[cat],
            "brand": np.array(BRANDS, dtype=object)[brand],
            "list_price": np.round(price, 2),
        }
    )


def make_orders(
    rng: np.random.Generator, customers: pl.DataFrame, products: pl.DataFrame, n_orders: int, start: date, days: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    n_cust = customers.height
    created = customers["created_s"].to_numpy()
    start_s, end_s = _epoch(start), _epoch(start) + days * 86400
    # A quarter never buy; the rest buy with Pareto weights (a few customers make most revenue).
    buyer = rng.random(n_cust) >= 0.25
    weight = np.where(buyer, rng.pareto(1.3, n_cust) + 0.05, 0.0)
    cust = rng.choice(n_cust, n_orders, p=weight / weight.sum())
    ts = sample_times(rng, n_orders, start, days)
    # Orders before sign-up move after it; those past the end wrap back into the period.
    ts = np.where(ts < created[cust], created[cust] + rng.integers(600, 7 * 86400, n_orders), ts)
    ts = np.where(ts >= end_s, start_s + (ts - start_s) % (days * 86400), ts)
    ts = np.maximum(ts, created[cust] + 60)
    # 30 % of buyers churn at some day; after it only one order in ten survives (they come back).
    churn_at = np.where(rng.random(n_cust) < 0.3, start_s + rng.integers(0, days * 86400, n_cust), end_s + 1)
    after = ts > churn_at[cust]
    moved = after & (rng.random(n_orders) > 0.1)
    span = np.maximum(churn_at[cust] - np.maximum(created[cust], start_s), 3600)
    ts = np.where(moved, np.maximum(created[cust], start_s) + (rng.random(n_orders) * span).astype(np.int64), ts)
    ts = np.clip(ts, start_s, end_s - 1)
    ts = np.maximum(ts, created[cust] + 60)
    order_idx = np.argsort(ts, kind="stable")
    cust, ts = cust[order_idx], ts[order_idx]
    n = len(ts)
    channel = rng.choice(CHANNELS, n, p=CHANNEL_P)
    status = rng.choice(np.array(["completed", "cancelled", "returned"]), n, p=[0.88, 0.05, 0.07])
    return_s = ts + rng.integers(2 * 86400, 20 * 86400, n)
    # A return after the period is simply not known yet.
    status = np.where((status == "returned") & (return_s >= end_s), "completed", status)
    # Lines: 1-5 per order, products by popularity (Zipf-like).
    n_lines = np.minimum(rng.geometric(0.55, n), 5)
    line_order = np.repeat(np.arange(n), n_lines)
    first_of = np.cumsum(n_lines) - n_lines
    line_no = np.arange(len(line_order)) - first_of[line_order] + 1
    pop = 1.0 / np.arange(1, products.height + 1) ** 0.9
    prod = rng.choice(products.height, len(line_order), p=pop / pop.sum())
    list_price = products["list_price"].to_numpy()[prod]
    unit_price = np.round(list_price * rng.choice([1.0, 1.0, 1.0, 0.9, 0.8], len(prod)), 2)
    qty = rng.choice([1, 1, 1, 1, 2, 2, 3, 4], len(prod))
    discount = np.where(rng.random(len(prod)) < 0.15, np.round(unit_price * qty * 0.1, 2), 0.0)
    line_total = np.round(unit_price * qty - discount, 2)
    totals = np.round(np.bincount(line_order, weights=line_total, minlength=n), 2)
    orders = pl.DataFrame(
        {
            "order_id": ids("O", n, 8),
            "cust_idx": cust,
            "customer_id": customers["customer_id"].to_numpy()[cust],
            "order_s": ts,
            "channel": channel,
            "status": status,
            "return_s": return_s,
            "currency": "EUR",
            "total_amount": totals,
        }
    )
    lines = pl.DataFrame(
        {
            "order_idx": line_order,
            "order_id": orders["order_id"].to_numpy()[line_order],
            "line_no": line_no,
            "product_id": products["product_id"].to_numpy()[prod],
            "quantity": qty,
            "unit_price": unit_price,
            "discount_amount": discount,
        }
    )
    return orders, lines


def make_interactions(rng: np.random.Generator, customers: pl.DataFrame, start: date, days: int) -> pl.DataFrame:
    n = max(customers.height // 4, 10)
    cust = rng.choice(customers.height, n)
    created = customers["created_s"].to_numpy()[cust]
    opened = np.maximum(sample_times(rng, n, start, days), created + 3600)
    end_s = _epoch(start) + days * 86400
    opened = np.where(opened >= end_s, end_s - rng.integers(3600, 86400, n), opened)
    closed = opened + rng.integers(300, 5 * 86400, n)
    sat = rng.choice(np.array(["", "1", "2", "3", "4", "5"]), n, p=[0.4, 0.05, 0.07, 0.13, 0.2, 0.15])
    return pl.DataFrame(
        {
            "interaction_id": ids("I", n, 8),
            "customer_id": customers["customer_id"].to_numpy()[cust],
            "channel": rng.choice(np.array(["phone", "email", "chat", "store"]), n),
            "type": rng.choice(np.array(["complaint", "question", "assistance", "feedback"]), n, p=[0.2, 0.4, 0.3, 0.1]),
            "opened_s": opened,
            "closed_s": np.where(closed < end_s, closed, -1),
            "satisfaction": sat,
        }
    )
