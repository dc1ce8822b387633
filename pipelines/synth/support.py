"""CRM support contacts (interactions): who called, why, and how satisfied they were.

Contacts cluster on customers who returned something (complaints follow returns), the
rest are spread over customers with their engagement, so support load and
satisfaction correlate with churn the way analysts expect.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.synth.timeline import DAY, epoch_s, ids, sample_times

COLUMNS = ["interaction_id", "customer_id", "channel", "type", "opened_at", "closed_at", "satisfaction"]


def make_interactions(
    rng: np.random.Generator, customers: pl.DataFrame, orders: pl.DataFrame, start: date, days: int
) -> pl.DataFrame:
    """About one contact per four customers; a share of returns lead to a complaint."""
    end_s = epoch_s(start) + days * DAY
    n = max(customers.height // 4, 10)
    weight = customers["engagement"].to_numpy() + 0.2
    cust = rng.choice(customers.height, n, p=weight / weight.sum())
    created = customers["created_s"].to_numpy()[cust]
    opened = np.maximum(sample_times(rng, n, start, days), created + 3600)
    kind = rng.choice(
        np.array(["complaint", "question", "assistance", "feedback"]), n, p=[0.15, 0.4, 0.3, 0.15]
    )
    returns = orders.filter((pl.col("status") == "returned") & (pl.col("return_s") < end_s - DAY))
    r_take = returns.filter(pl.Series(rng.random(returns.height) < 0.4))
    cust = np.concatenate([cust, r_take["cust_idx"].to_numpy()])
    opened = np.concatenate([opened, r_take["return_s"].to_numpy() - rng.integers(3600, DAY, r_take.height)])
    kind = np.concatenate([kind, np.full(r_take.height, "complaint")])
    opened = np.where(opened >= end_s, end_s - rng.integers(3600, DAY, len(opened)), opened)
    created = customers["created_s"].to_numpy()[cust]
    opened = np.minimum(np.maximum(opened, created + 60), end_s - 1)  # the customer exists by then
    order = np.argsort(opened, kind="stable")
    cust, opened, kind = cust[order], opened[order], kind[order]
    m = len(opened)
    closed = opened + rng.integers(300, 5 * DAY, m)
    complaint = kind == "complaint"
    sat = np.where(
        complaint,
        rng.choice(np.array(["", "1", "2", "3", "4", "5"]), m, p=[0.35, 0.25, 0.2, 0.1, 0.06, 0.04]),
        rng.choice(np.array(["", "1", "2", "3", "4", "5"]), m, p=[0.4, 0.03, 0.05, 0.12, 0.2, 0.2]),
    )
    return pl.DataFrame(
        {
            "interaction_id": ids("I", m, 8),
            "customer_id": customers["customer_id"].to_numpy()[cust],
            "channel": rng.choice(np.array(["phone", "email", "chat", "store"]), m, p=[0.35, 0.3, 0.25, 0.1]),
            "type": kind,
            "opened_s": opened,
            "closed_s": np.where(closed < end_s, closed, -1),
            "satisfaction": np.where(closed < end_s, sat, ""),
        }
    )
