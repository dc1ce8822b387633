"""CRM orders and their lines: who buys, when, through which channel, for how much.

Customers are drawn by their Pareto engagement (prospects never), so a fifth of them
make most of the revenue; amounts are long-tailed through lognormal prices and
geometric basket sizes. Some customers churn mid-period (most of their later orders
vanish, a few come back). Totals are computed from the lines in integer cents, so
total_amount == sum(quantity * unit_price - discount_amount) exactly.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.synth.products import popularity
from pipelines.synth.timeline import DAY, epoch_s, ids, sample_times

CHANNELS = np.array(["web", "mobile_app", "store", "call_center"])
CHANNEL_P = [0.5, 0.2, 0.22, 0.08]
ORDER_COLUMNS = ["order_id", "customer_id", "order_ts", "channel", "status", "currency", "total_amount"]
LINE_COLUMNS = ["order_id", "line_no", "product_id", "quantity", "unit_price", "discount_amount"]


def _order_times(
    rng: np.random.Generator, customers: pl.DataFrame, cust: np.ndarray, start: date, days: int
) -> np.ndarray:
    """Order times with the period rhythm, after sign-up, thinned after a customer churns."""
    n_cust, n = customers.height, len(cust)
    created = customers["created_s"].to_numpy()[cust]
    start_s, end_s = epoch_s(start), epoch_s(start) + days * DAY
    ts = sample_times(rng, n, start, days)
    ts = np.where(ts < created, created + rng.integers(600, 7 * DAY, n), ts)
    ts = np.where(ts >= end_s, start_s + (ts - start_s) % (days * DAY), ts)
    # 30 % of customers churn at some point; after it only one order in ten survives.
    churn_at = np.where(rng.random(n_cust) < 0.3, start_s + rng.integers(0, days * DAY, n_cust), end_s + 1)[
        cust
    ]
    moved = (ts > churn_at) & (rng.random(n) > 0.1)
    first = np.maximum(created, start_s)
    span = np.maximum(churn_at - first, 3600)
    ts = np.where(moved, first + (rng.random(n) * span).astype(np.int64), ts)
    # After sign-up, inside the period (customers never sign up in the period's last two hours).
    return np.minimum(np.maximum(np.clip(ts, start_s, end_s - 1), created + 60), end_s - 1)


def make_orders(
    rng: np.random.Generator,
    customers: pl.DataFrame,
    products: pl.DataFrame,
    n_orders: int,
    start: date,
    days: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Orders (one row each, with return time) and their lines, ids in time order."""
    weight = customers["engagement"].to_numpy() * customers["buyer"].to_numpy()
    cust = rng.choice(customers.height, n_orders, p=weight / weight.sum())
    ts = _order_times(rng, customers, cust, start, days)
    order = np.argsort(ts, kind="stable")
    cust, ts = cust[order], ts[order]
    n = len(ts)
    end_s = epoch_s(start) + days * DAY
    status = rng.choice(np.array(["completed", "cancelled", "returned"]), n, p=[0.88, 0.05, 0.07])
    return_s = ts + rng.integers(2 * DAY, 20 * DAY, n)
    # A return after the period is not known yet.
    status = np.where((status == "returned") & (return_s >= end_s), "completed", status)
    n_lines = np.minimum(rng.geometric(0.55, n), 6)
    line_order = np.repeat(np.arange(n), n_lines)
    line_no = np.arange(len(line_order)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    prod = rng.choice(products.height, len(line_order), p=popularity(products.height))
    list_cents = np.round(products["list_price"].to_numpy()[prod] * 100).astype(np.int64)
    unit_cents = np.round(list_cents * rng.choice([1.0, 1.0, 1.0, 0.9, 0.8], len(prod))).astype(np.int64)
    qty = rng.choice([1, 1, 1, 1, 2, 2, 3, 4], len(prod))
    disc_cents = np.where(rng.random(len(prod)) < 0.15, (unit_cents * qty) // 10, 0)
    total_cents = np.bincount(line_order, weights=unit_cents * qty - disc_cents, minlength=n).astype(np.int64)
    order_ids = ids("O", n, 8)
    orders = pl.DataFrame(
        {
            "order_id": order_ids,
            "cust_idx": cust,
            "customer_id": customers["customer_id"].to_numpy()[cust],
            "order_s": ts,
            "channel": rng.choice(CHANNELS, n, p=CHANNEL_P),
            "status": status,
            "return_s": return_s,
            "currency": "EUR",
            "total_cents": total_cents,
        }
    )
    lines = pl.DataFrame(
        {
            "order_idx": line_order,
            "order_id": order_ids.to_numpy()[line_order],
            "line_no": line_no,
            "product_id": products["product_id"].to_numpy()[prod],
            "quantity": qty,
            "unit_cents": unit_cents,
            "disc_cents": disc_cents,
        }
    )
    return orders, lines


def cents(col: str) -> pl.Expr:
    """Integer cents as a '.'-decimal text with 2 places (exact, no float rounding)."""
    c = pl.col(col)
    sign = pl.when(c < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return sign + (c.abs() // 100).cast(pl.String) + "." + (c.abs() % 100).cast(pl.String).str.zfill(2)
