"""CRM customers: profiles, consent history and engagement, plus the daily snapshot view.

The CRM delivers a full snapshot every day, so a customer is one row here with the
times of its changes (consent given or withdrawn, a move to another city), and
`snapshot()` renders the state as of the end of any day. That gives dbt snapshots
(SCD2) real history to capture. `engagement` (Pareto) drives both how often a customer
orders and how often they browse, so the top 20 % dominate revenue in every source.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.synth.timeline import DAY, epoch_s, ids, pick_from, sample_times
from pipelines.synth.vocab import CITIES, DOMAINS, FIRST_NAMES, LAST_NAMES, PHONE_PREFIX, ascii_fold

EU_DATE, EU_TS = "%d/%m/%Y", "%d/%m/%Y %H:%M:%S"
COLUMNS = [
    "customer_id", "email", "first_name", "last_name", "phone", "birth_date", "gender", "postal_code", "city",
    "country", "created_at", "updated_at", "acquisition_channel", "loyalty_tier", "email_opt_in",
    "email_consent_type", "sms_opt_in", "consent_updated_at",
]  # fmt: skip
PROSPECT_SHARE = 0.25  # customers who never order


def _changes(
    rng: np.random.Generator, n: int, rate: float, start: date, days: int, after: np.ndarray
) -> np.ndarray:
    """Time of a change for a share of customers (-1 = none), never before `after`."""
    at = np.where(rng.random(n) < rate, sample_times(rng, n, start, days), -1)
    return np.where(at > after, at, -1)


def make_customers(rng: np.random.Generator, n: int, start: date, days: int) -> pl.DataFrame:
    """One row per customer with every attribute and change time needed for any day's snapshot."""
    first = rng.choice(len(FIRST_NAMES), n)
    last = rng.choice(len(LAST_NAMES), n)
    city = rng.choice(len(CITIES), n)
    new_city = (city + rng.integers(1, len(CITIES), n)) % len(CITIES)
    first_ascii = pick_from([ascii_fold(x).lower() for x in FIRST_NAMES], first)
    last_ascii = pick_from([ascii_fold(x).lower().replace(" ", "") for x in LAST_NAMES], last)
    start_s = epoch_s(start)
    # 60 % were customers before the period, 40 % sign up during it.
    end_s = start_s + days * DAY
    created = np.where(
        rng.random(n) < 0.6,
        start_s - rng.integers(DAY, 730 * DAY, n),
        np.minimum(sample_times(rng, n, start, days), end_s - 2 * 3600),
    )
    consent_type = rng.choice(np.array(["explicit", "implicit", "none"]), n, p=[0.55, 0.25, 0.2])
    opt_in = (consent_type != "none") & (rng.random(n) < 0.9)
    # ~6 % change their email consent in the period; a third of them change their mind again.
    change1 = _changes(rng, n, 0.06, start, days, created)
    change2 = np.where(change1 >= 0, _changes(rng, n, 0.33, start, days, change1), -1)
    moved = _changes(rng, n, 0.03, start, days, created)
    country = pick_from([c[1] for c in CITIES], city)
    prefix = np.vectorize(PHONE_PREFIX.get, otypes=[object])(country)
    phone = prefix + " " + np.char.mod("%08d", rng.integers(0, 10**8, n)).astype(object)
    phone = np.where(rng.random(n) < 0.05, "", phone)
    birth = (date(1940, 1, 1) - date(1970, 1, 1)).days + rng.integers(0, 365 * 65, n)
    buyer = rng.random(n) >= PROSPECT_SHARE
    zip_tail = np.char.mod("%03d", rng.integers(0, 1000, n)).astype(object)
    return pl.DataFrame(
        {
            "customer_id": ids("C", n, 7),
            "first_name": pick_from(FIRST_NAMES, first),
            "last_name": pick_from(LAST_NAMES, last),
            "email": first_ascii
            + "."
            + last_ascii
            + np.char.mod("%d", np.arange(n) % 1000).astype(object)
            + "@"
            + pick_from(DOMAINS, rng.choice(len(DOMAINS), n)),
            "phone": phone,
            "birth_days": np.where(rng.random(n) < 0.1, np.iinfo(np.int32).min, birth),
            "gender": rng.choice(np.array(["F", "M", "X", ""]), n, p=[0.48, 0.44, 0.02, 0.06]),
            "city0": pick_from([c[0] for c in CITIES], city),
            "country0": country,
            "postal0": pick_from([c[2] for c in CITIES], city) + zip_tail,
            "city1": pick_from([c[0] for c in CITIES], new_city),
            "country1": pick_from([c[1] for c in CITIES], new_city),
            "postal1": pick_from([c[2] for c in CITIES], new_city) + zip_tail,
            "moved_s": moved,
            "created_s": created,
            "acquisition_channel": rng.choice(
                np.array(["organic", "paid_search", "social", "referral", "store", "email"]),
                n,
                p=[0.3, 0.2, 0.15, 0.1, 0.2, 0.05],
            ),
            "loyalty_tier": rng.choice(np.array(["", "bronze", "silver", "gold"]), n, p=[0.4, 0.3, 0.2, 0.1]),
            "email_consent_type": consent_type,
            "email_opt_in": opt_in,
            "sms_opt_in": rng.random(n) < 0.3,
            "consent1_s": change1,
            "consent2_s": change2,
            "buyer": buyer,
            # Pareto weights: a few customers make most of the orders and visits.
            "engagement": np.where(buyer, rng.pareto(1.3, n) + 0.05, 0.02),
        }
    )


def _ts(col: str, fmt: str) -> pl.Expr:
    return pl.from_epoch(pl.col(col), time_unit="s").dt.strftime(fmt)


def prepare(customers: pl.DataFrame) -> pl.DataFrame:
    """Format every date once (not once per daily snapshot): text columns the snapshots pick from."""
    return customers.with_columns(
        birth_date=pl.when(pl.col("birth_days") > -100_000)
        .then(pl.from_epoch("birth_days", time_unit="d").dt.strftime(EU_DATE))
        .otherwise(pl.lit("")),
        created_at=_ts("created_s", EU_TS),
        consent1_at=_ts("consent1_s", EU_TS),
        consent2_at=_ts("consent2_s", EU_TS),
        moved_at=_ts("moved_s", EU_TS),
    )


def snapshot(customers: pl.DataFrame, end_s: int) -> pl.DataFrame:
    """Customers created before end_s as the CRM shows them then, in contract columns (text).

    `customers` must have gone through prepare().
    """
    c1 = (pl.col("consent1_s") >= 0) & (pl.col("consent1_s") < end_s)
    c2 = (pl.col("consent2_s") >= 0) & (pl.col("consent2_s") < end_s)
    mv = (pl.col("moved_s") >= 0) & (pl.col("moved_s") < end_s)
    consent_s = (
        pl.when(c2)
        .then(pl.col("consent2_s"))
        .when(c1)
        .then(pl.col("consent1_s"))
        .otherwise(pl.col("created_s"))
    )
    consent_at = pl.when(c2).then("consent2_at").when(c1).then("consent1_at").otherwise("created_at")
    opt = pl.col("email_opt_in") ^ c1 ^ c2
    return customers.filter(pl.col("created_s") < end_s).select(
        "customer_id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "birth_date",
        "gender",
        postal_code=pl.when(mv).then("postal1").otherwise("postal0"),
        city=pl.when(mv).then("city1").otherwise("city0"),
        country=pl.when(mv).then("country1").otherwise("country0"),
        created_at="created_at",
        updated_at=pl.when(mv & (pl.col("moved_s") > consent_s)).then("moved_at").otherwise(consent_at),
        acquisition_channel="acquisition_channel",
        loyalty_tier="loyalty_tier",
        email_opt_in=pl.when(opt).then(pl.lit("true")).otherwise(pl.lit("false")),
        # Giving consent through the preference centre is explicit.
        email_consent_type=pl.when(opt & (pl.col("email_consent_type") == "none"))
        .then(pl.lit("explicit"))
        .otherwise("email_consent_type"),
        sms_opt_in=pl.when("sms_opt_in").then(pl.lit("true")).otherwise(pl.lit("false")),
        consent_updated_at=consent_at,
    )
