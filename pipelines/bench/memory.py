"""DuckDB memory_limit strings as bytes, to set measured peaks beside the configured limit."""

from __future__ import annotations

import re

import psutil

# DuckDB's units: KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB powers of 1024.
_UNITS = {
    "b": 1,
    "k": 1000, "kb": 1000, "kib": 1024,
    "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
    "g": 1000**3, "gb": 1000**3, "gib": 1024**3,
    "t": 1000**4, "tb": 1000**4, "tib": 1024**4,
}  # fmt: skip
_LIMIT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z%]*)\s*$")


def limit_bytes(limit: str, total_memory: int | None = None) -> int | None:
    """Bytes of a DuckDB memory_limit ('4GB', '3.5GiB', '80%'); None when it cannot be read."""
    match = _LIMIT.match(limit)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2).lower()
    if unit == "%":
        total = total_memory if total_memory is not None else psutil.virtual_memory().total
        return int(total * number / 100)
    factor = _UNITS.get(unit or "b")
    return int(number * factor) if factor else None


def gib(n: int | None) -> float | None:
    return round(n / 1024**3, 2) if n is not None else None
