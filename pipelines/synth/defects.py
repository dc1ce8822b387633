"""Planted defects: known rows broken in known ways, so quarantine can be reconciled.

Each defect is planted on a row no other defect touched (one reason per row), at a fixed
rate, from the seeded generator; the writers count them per file into `_manifest.json`.
Reason codes are the ingest's own (pipelines/ingest/rules.py). Returned orders, which
the CRM delivers twice (placed, then returned), are never made defective, so every
defect appears in exactly one file, except the customer snapshot, which repeats a bad
email in every day's file from the customer's creation on (counted per file).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

RATES = {
    "customers_invalid_email": 0.01,
    "orders_unknown_reference": 0.003,
    "orders_future_timestamp": 0.0005,
    "orders_missing_required": 0.0005,
    "lines_out_of_range": 0.002,
    "lines_missing_required": 0.0005,
    "interactions_missing_required": 0.002,
    "events_late": 0.01,
    "events_duplicate_key": 0.005,
    "events_invalid_json": 0.001,
    "events_missing_required": 0.001,
    "events_future_timestamp": 0.0002,
    "log_malformed_line": 0.002,
}
BAD_EMAILS = ["{l}@@{d}", "{l}.{d}", "{l}@", "@{d}", "{l} @{d}", "{l}@{d}."]
FUTURE_YEAR = "2099"
# Event kinds in the `_kind` column of planted events.
CLEAN, INVALID_JSON, MISSING, FUTURE, DUPLICATE = 0, 1, 2, 3, 4


def pick(rng: np.random.Generator, pool: np.ndarray, rate: float, taken: np.ndarray) -> np.ndarray:
    """Sorted indices drawn from pool at `rate` (at least one), never already taken; marks them taken."""
    free = pool[~taken[pool]]
    n = min(max(round(len(pool) * rate), 1 if rate > 0 else 0), len(free))
    chosen = np.sort(rng.choice(free, n, replace=False)) if n else np.array([], dtype=np.int64)
    taken[chosen] = True
    return chosen


def _flag(n: int, idx: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[idx] = True
    return out


def plant_customers(rng: np.random.Generator, customers: pl.DataFrame) -> pl.DataFrame:
    """Malformed emails ("jean.dupont@@mail.fr", "no-at-sign.com") on ~1 % of customers."""
    n = customers.height
    bad = _flag(n, pick(rng, np.arange(n), RATES["customers_invalid_email"], np.zeros(n, dtype=bool)))
    email = customers["email"]
    local, domain = (
        email.str.split_exact("@", 1).struct.field("field_0"),
        email.str.split_exact("@", 1).struct.field("field_1"),
    )
    pattern = pl.Series(np.array(BAD_EMAILS)[rng.integers(0, len(BAD_EMAILS), n)])
    broken = pattern.str.replace("{l}", local, literal=True)
    broken = pl.select(pl.lit(broken).str.replace("{d}", domain, literal=True)).to_series()
    return customers.with_columns(
        email=pl.when(pl.Series(bad)).then(broken).otherwise(email),
        defect=pl.when(pl.Series(bad)).then(pl.lit("invalid_email")).otherwise(pl.lit("")),
    )


@dataclass
class OrderDefects:
    orders: pl.DataFrame  # with `defect` and `web_ok` (has a clickstream purchase)
    lines: pl.DataFrame  # with `defect`


def plant_orders(rng: np.random.Generator, orders: pl.DataFrame, lines: pl.DataFrame) -> OrderDefects:
    """Unknown customers, far-future and empty order times; negative quantities, empty product ids."""
    n = orders.height
    taken = (orders["status"] == "returned").to_numpy().copy()
    pool = np.arange(n)
    unknown = pick(rng, pool, RATES["orders_unknown_reference"], taken)
    future = pick(rng, pool, RATES["orders_future_timestamp"], taken)
    missing = pick(rng, pool, RATES["orders_missing_required"], taken)
    defect = np.full(n, "", dtype=object)
    defect[unknown], defect[future], defect[missing] = (
        "unknown_reference",
        "future_timestamp",
        "missing_required",
    )
    # "C9" + 6 digits: above every tier's customer count, so it is in no customers file.
    ghost = "C9" + pl.Series(rng.integers(0, 10**6, n)).cast(pl.String).str.zfill(6)
    orders = orders.with_columns(
        customer_id=pl.when(pl.Series(_flag(n, unknown))).then(ghost).otherwise(pl.col("customer_id")),
        defect=pl.Series(defect, dtype=pl.String),
        web_ok=pl.Series(defect == ""),
    )
    m = lines.height
    line_taken = (defect != "")[lines["order_idx"].to_numpy()].copy()
    neg = pick(rng, np.arange(m), RATES["lines_out_of_range"], line_taken)
    no_prod = pick(rng, np.arange(m), RATES["lines_missing_required"], line_taken)
    line_defect = np.full(m, "", dtype=object)
    line_defect[neg], line_defect[no_prod] = "out_of_range", "missing_required"
    lines = lines.with_columns(
        quantity=pl.when(pl.Series(_flag(m, neg))).then(-pl.col("quantity")).otherwise(pl.col("quantity")),
        product_id=pl.when(pl.Series(_flag(m, no_prod))).then(pl.lit("")).otherwise(pl.col("product_id")),
        defect=pl.Series(line_defect, dtype=pl.String),
    )
    return OrderDefects(orders, lines)


def plant_interactions(rng: np.random.Generator, interactions: pl.DataFrame) -> pl.DataFrame:
    """A few support contacts exported without their opening time."""
    n = interactions.height
    missing = _flag(
        n, pick(rng, np.arange(n), RATES["interactions_missing_required"], np.zeros(n, dtype=bool))
    )
    return interactions.with_columns(
        defect=pl.when(pl.Series(missing)).then(pl.lit("missing_required")).otherwise(pl.lit(""))
    )


def plant_events(
    rng: np.random.Generator, events: pl.DataFrame, start_s: int, n_days: int
) -> tuple[pl.DataFrame, int]:
    """Assign each event its file day, plant defects and re-sent copies; returns (events, late count).

    Columns added: `_file_day` (0-based file), `_kind` (CLEAN..DUPLICATE), `_variant`
    (which way the line is broken), `_order` (write order inside a file).
    Late events (~1 %) go into the next day's file; re-sent copies land after the
    original, half in the same file and half in the next one.
    """
    n = events.height
    file_day = ((events["ts_ms"].to_numpy() // 1000 - start_s) // 86_400).astype(np.int64)
    last = n_days - 1
    taken = np.zeros(n, dtype=bool)
    pool = np.arange(n)
    late = pick(rng, pool[file_day < last], RATES["events_late"], taken)
    file_day[late] += 1
    kind = np.zeros(n, dtype=np.int8)
    kind[pick(rng, pool, RATES["events_invalid_json"], taken)] = INVALID_JSON
    kind[pick(rng, pool, RATES["events_missing_required"], taken)] = MISSING
    kind[pick(rng, pool, RATES["events_future_timestamp"], taken)] = FUTURE
    dups = pick(rng, pool, RATES["events_duplicate_key"], taken)
    planted = events.with_columns(
        _file_day=pl.Series(file_day),
        _kind=pl.Series(kind),
        _variant=pl.Series(rng.integers(0, 6, n).astype(np.int8)),
        _order=pl.Series(np.arange(n)),
    )
    dup_day = file_day[dups] + ((rng.random(len(dups)) < 0.5) & (file_day[dups] < last)).astype(np.int64)
    copies = planted[dups].with_columns(
        _file_day=pl.Series(dup_day),
        _kind=pl.lit(DUPLICATE, dtype=pl.Int8),
        _order=pl.Series(np.arange(len(dups)) + n),
    )
    out = pl.concat([planted, copies]).sort("_file_day", "_order")
    return out, len(late)


def corrupt_event_lines(line: pl.Expr) -> pl.Expr:
    """Break the JSON text of planted events (columns `_kind`, `_variant` alongside).

    invalid_json: truncated mid-object, Python-style single quotes, or an unquoted
    first key (a trailing comma would not do: DuckDB accepts it). missing_required: event_id / event_ts / anonymous_id null, or the key
    left out entirely. future_timestamp: the year moved to 2099.
    """
    kind, var = pl.col("_kind"), pl.col("_variant") % 3
    absent = pl.col("_variant") >= 3
    missing = pl.when(pl.lit(False)).then(line)
    for i, field in enumerate(("event_id", "event_ts", "anonymous_id")):  # three fields, not rows
        pattern = f'"{field}":"[^"]*"'
        missing = (
            missing.when((var == i) & absent)
            .then(line.str.replace(pattern + ",", ""))
            .when(var == i)
            .then(line.str.replace(pattern, f'"{field}":null'))
        )
    return (
        pl.when(kind == INVALID_JSON)
        .then(
            pl.when(var == 0)
            .then(line.str.slice(0, line.str.len_chars() // 2))
            .when(var == 1)
            .then(line.str.replace_all('"', "'", literal=True))
            .otherwise(line.str.replace('{"', "{", literal=True))
        )
        .when(kind == MISSING)
        .then(missing.otherwise(line))
        .when(kind == FUTURE)
        .then(line.str.replace(r'"event_ts":"\d{4}', f'"event_ts":"{FUTURE_YEAR}'))
        .otherwise(line)
    )


def plant_log_lines(rng: np.random.Generator, line: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """Malformed access-log lines: truncated, garbage, or the request's opening quote lost."""
    n = len(line)
    bad = _flag(n, pick(rng, np.arange(n), RATES["log_malformed_line"], np.zeros(n, dtype=bool)))
    variant = pl.Series(rng.integers(0, 3, n))
    garbage = pl.Series(rng.integers(0, 2**62, n, dtype=np.int64)).cast(pl.String)
    out = pl.select(
        pl.when(pl.Series(~bad))
        .then(pl.lit(line))
        .when(variant == 0)
        .then(pl.lit(line).str.slice(0, pl.lit(line).str.len_chars() // 2))
        .when(variant == 1)
        .then(pl.lit("\\x16\\x03\\x01 garbage ") + garbage)
        .otherwise(pl.lit(line).str.replace('] "', "] ", literal=True))
    ).to_series()
    return out, bad
