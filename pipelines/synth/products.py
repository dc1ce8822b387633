"""CRM product catalogue: a small full snapshot, the same every day.

Prices are lognormal (many cheap items, a few expensive ones) and popularity is
Zipf-like, so top-category and recommendation marts have something to find.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.synth.timeline import ids, pick_from
from pipelines.synth.vocab import BRANDS, CATEGORIES, PRODUCT_NOUNS

COLUMNS = ["product_id", "name", "category", "brand", "list_price"]


def make_products(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """n products; row order is popularity rank (P00001 sells most)."""
    noun = rng.choice(len(PRODUCT_NOUNS), n)
    brand = rng.choice(len(BRANDS), n)
    price = np.round(np.exp(rng.normal(3.3, 0.8, n)), 0) - 0.01
    return pl.DataFrame(
        {
            "product_id": ids("P", n, 5),
            "name": pick_from(BRANDS, brand)
            + " "
            + pick_from(PRODUCT_NOUNS, noun)
            + " "
            + np.char.mod("%d", rng.integers(100, 999, n)).astype(object),
            "category": pick_from(CATEGORIES, rng.choice(len(CATEGORIES), n)),
            "brand": pick_from(BRANDS, brand),
            "list_price": np.maximum(price, 0.99),
        }
    )


def popularity(n: int) -> np.ndarray:
    """Zipf-like probability of each product rank."""
    pop = 1.0 / np.arange(1, n + 1) ** 0.9
    return pop / pop.sum()
