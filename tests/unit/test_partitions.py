from datetime import date
from pathlib import Path

import pytest

from pipelines.partitions import day_range, inbox_days


def test_inbox_days_reads_dates_from_folders_and_file_names(tmp_path: Path) -> None:
    for rel in [
        "crm/2025-09-02/customers.csv",
        "crm/2025-09-01/orders.csv",
        "clickstream/events-2025-09-03.jsonl.gz",
        "weblogs/access-2025-09-01.log.gz",
        "_manifest.json",
        "weblogs/README",
        "crm/2025-13-45/broken.csv",  # not a real date: ignored
    ]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    assert inbox_days(tmp_path) == [date(2025, 9, 1), date(2025, 9, 2), date(2025, 9, 3)]


def test_an_empty_day_folder_is_no_delivery(tmp_path: Path) -> None:
    (tmp_path / "crm" / "2025-09-01").mkdir(parents=True)
    (tmp_path / "crm" / "2025-09-02").mkdir(parents=True)
    (tmp_path / "crm" / "2025-09-02" / "orders.csv").write_text("x")
    assert inbox_days(tmp_path) == [date(2025, 9, 2)]


def test_inbox_days_of_a_missing_inbox_is_empty(tmp_path: Path) -> None:
    assert inbox_days(tmp_path / "nope") == []


def test_day_range_is_inclusive_and_rejects_reversed_ranges() -> None:
    assert day_range(date(2025, 9, 30), date(2025, 10, 2)) == [
        date(2025, 9, 30),
        date(2025, 10, 1),
        date(2025, 10, 2),
    ]
    with pytest.raises(ValueError, match="before start"):
        day_range(date(2025, 9, 2), date(2025, 9, 1))
