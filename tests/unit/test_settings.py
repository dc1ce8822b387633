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
    assert (s.customers, s.orders, s.clickstream_events, s.log_lines, s.days) == (
        2_000,
        10_000,
        200_000,
        100_000,
        30,
    )
    assert (m.customers, m.orders, m.clickstream_events, m.log_lines, m.days) == (
        50_000,
        400_000,
        5_000_000,
        2_000_000,
        90,
    )
    assert (big.customers, big.orders, big.days) == (1_000_000, 6_000_000, 365)


def test_every_setting_survives_the_trip_through_the_dagster_resource(tmp_path: Path) -> None:
    """A field missing from PipelineSettingsResource would silently fall back to its default in runs."""
    import dataclasses

    from pipelines.resources import PipelineSettingsResource

    custom = Settings(
        data_dir=tmp_path,
        tier="S",
        seed=9,
        end_date=date(2025, 9, 9),
        duckdb_memory_limit="1GB",
        duckdb_threads=1,
        dbt_threads=2,
        dbt_keep_run_targets=3,
        late_arrival_days=3,
        future_tolerance_days=2,
        ingest_batch_mb=7,
        export_pseudonymize=False,
        export_hash_key="k",
        export_pii_columns=("email",),
        schedule_cron="5 4 * * *",
        inbox_sensor_interval_seconds=7,
        inbox_settle_seconds=3,
        dagster_home=tmp_path / "dh",
        ui_url="http://ops.example:3333",
        datamart_storage_version="v1.5.0",
    )
    defaults = Settings()
    changed = {
        f.name for f in dataclasses.fields(Settings) if getattr(custom, f.name) != getattr(defaults, f.name)
    }
    untested = (
        {f.name for f in dataclasses.fields(Settings)} - changed - {"extra", "export_hash_key_from_env"}
    )
    assert untested == {
        "contracts_dir",
        "dbt_project_dir",
        "models_dir",
        "start_date",
    }  # paths/dates checked below
    assert PipelineSettingsResource.from_settings(custom).get() == custom


def test_the_export_key_from_the_environment_travels_by_reference() -> None:
    import dagster as dg

    from pipelines.resources import PipelineSettingsResource

    settings = Settings.from_env({"C360_EXPORT_HASH_KEY": "s3cret"})
    assert settings.export_hash_key == "s3cret" and "s3cret" not in repr(settings)
    resource = PipelineSettingsResource.from_settings(settings)
    assert resource.export_hash_key == dg.EnvVar("C360_EXPORT_HASH_KEY")


def test_dagster_home_defaults_to_the_projects_own_absolute_dir(tmp_path: Path, monkeypatch) -> None:
    """Unset DAGSTER_HOME must not mean a throwaway instance: runs would vanish from the UI."""
    from pipelines.settings import PROJECT_DIR

    assert Settings.from_env({}).dagster_home == PROJECT_DIR / ".dagster_home"
    monkeypatch.chdir(tmp_path)
    relative = Settings.from_env({"DAGSTER_HOME": "dh"}).dagster_home
    assert relative == tmp_path / "dh" and relative.is_absolute()  # Dagster refuses relative homes


def test_prepare_dagster_home_copies_dagster_yaml_once_and_points_the_variable_at_it(tmp_path: Path) -> None:
    from pipelines.settings import DAGSTER_YAML, MANAGED_MARKER, prepare_dagster_home

    settings = Settings(data_dir=tmp_path / "data", dagster_home=tmp_path / "home")
    env: dict[str, str] = {}
    assert prepare_dagster_home(settings, env) == tmp_path / "home"
    assert env == {"DAGSTER_HOME": str(tmp_path / "home")}
    assert (tmp_path / "home" / "dagster.yaml").read_text() == DAGSTER_YAML.read_text()
    (tmp_path / "home" / "dagster.yaml").write_text(f"{MANAGED_MARKER} an older project version\n")
    prepare_dagster_home(settings, env)
    assert (tmp_path / "home" / "dagster.yaml").read_text() == DAGSTER_YAML.read_text()  # upgraded
    (tmp_path / "home" / "dagster.yaml").write_text("# the operator's own\n")
    prepare_dagster_home(settings, env)
    assert (tmp_path / "home" / "dagster.yaml").read_text() == "# the operator's own\n"  # never overwritten


def test_command_line_runs_go_to_the_persistent_instance(tmp_path: Path, monkeypatch) -> None:
    """What run_pipeline and `c360 status` open when no instance is given: the settings' home, on disk."""
    from pipelines.status import open_instance

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = Settings(data_dir=tmp_path / "data", dagster_home=tmp_path / "home")
    instance = open_instance(settings)
    try:
        assert not instance.is_ephemeral
        assert Path(instance.root_directory) == tmp_path / "home"
        assert instance.get_settings("telemetry") == {"enabled": False}  # the project's dagster.yaml
    finally:
        instance.dispose()
