from datetime import date
from pathlib import Path

import pytest

from pipelines.settings import TIERS, Settings


def test_defaults_put_everything_under_the_data_dir(tmp_path: Path) -> None:
    s = Settings.from_env({"C360_DATA_DIR": str(tmp_path)})
    assert s.inbox_dir == tmp_path / "inbox"
    assert s.build_db == tmp_path / "warehouse" / "build.duckdb"
    assert s.datamart_db == tmp_path / "warehouse" / "datamart.duckdb"
    assert s.exports_dir == tmp_path / "exports"
    assert s.tier == "M" and s.seed == 42
    assert s.start_date == date(2025, 9, 1)


def test_environment_overrides_are_typed() -> None:
    s = Settings.from_env(
        {"C360_TIER": "s", "C360_SEED": "7", "C360_START_DATE": "2024-01-31", "C360_DUCKDB_THREADS": "1"}
    )
    assert (s.tier, s.seed, s.start_date, s.duckdb_threads) == ("S", 7, date(2024, 1, 31), 1)
    assert s.tier_spec == TIERS["S"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"C360_TIER": "XXL"}, "C360_TIER='XXL' is not one of"),
        ({"C360_SEED": "seven"}, "C360_SEED='seven' is not a whole number"),
        ({"C360_START_DATE": "01/09/2025"}, "C360_START_DATE='01/09/2025' is not a date"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_tier_sizes_follow_the_design_card() -> None:
    s, m, big = TIERS["S"], TIERS["M"], TIERS["L"]
    assert (s.customers, s.orders, s.clickstream_events, s.log_lines, s.days) == (2_000, 10_000, 200_000, 100_000, 30)
    assert (m.customers, m.orders, m.clickstream_events, m.log_lines, m.days) == (50_000, 400_000, 5_000_000, 2_000_000, 90)
    assert (big.customers, big.orders, big.days) == (1_000_000, 6_000_000, 365)
