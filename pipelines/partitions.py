"""The daily partitioning shared by every partitioned asset, and date helpers around it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from pipelines.settings import Settings

_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    """One partition per delivery day, from the configured start date."""
    return dg.DailyPartitionsDefinition(start_date=settings.start_date.isoformat())


def inbox_days(inbox_dir: Path) -> list[date]:
    """Days that have at least one delivered file in the inbox (by the date in its path).

    A folder alone is no delivery: `crm/2025-09-03/` created before its files are copied in
    does not make the day due.
    """
    if not inbox_dir.exists():
        return []
    days: set[date] = set()
    for path in inbox_dir.rglob("*"):
        if path.name.startswith("_") or path.name.startswith(".") or not path.is_file():
            continue
        match = _DATE_IN_NAME.search(str(path.relative_to(inbox_dir)))
        if match:
            try:
                days.add(date.fromisoformat(match.group(1)))
            except ValueError:
                continue
    return sorted(days)


def day_range(start: date, end: date) -> list[date]:
    """Inclusive list of days from start to end."""
    if end < start:
        raise ValueError(f"end date {end} is before start date {start}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
