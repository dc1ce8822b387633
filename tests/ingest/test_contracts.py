"""Contract loading and validation: errors name the file and the key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipelines.ingest import AmbiguousDeliveryError, ContractError, load_contracts
from tests.ingest.conftest import CONTRACTS


def test_default_contracts_load(contracts) -> None:
    assert set(contracts) == {"crm", "clickstream", "weblogs"}
    customers = contracts["crm"].tables["customers"]
    assert (customers.delimiter, customers.encoding, customers.decimal_separator) == (";", "cp1252", ",")
    assert contracts["crm"].tables["orders"].delimiter == ","  # source defaults merged
    assert contracts["crm"].tables["orders"].column("customer_id").source == "customer_id"
    assert contracts["clickstream"].tables["events"].immutable
    assert contracts["crm"].tables["orders"].depends_on == ("customers",)


def test_a_days_file_may_also_be_delivered_gzipped(contracts, tmp_path: Path) -> None:
    day = date(2025, 9, 1)
    customers = contracts["crm"].tables["customers"]
    events = contracts["clickstream"].tables["events"]
    assert customers.file_names(day) == ("crm/2025-09-01/customers.csv", "crm/2025-09-01/customers.csv.gz")
    assert customers.file_patterns() == ("crm/*/customers.csv", "crm/*/customers.csv.gz")
    assert events.file_names(day) == ("clickstream/events-2025-09-01.jsonl.gz",)  # compressed already
    assert customers.delivered_file(tmp_path, day) is None
    (tmp_path / "crm/2025-09-01").mkdir(parents=True)
    (tmp_path / "crm/2025-09-01/customers.csv.gz").write_bytes(b"")
    assert customers.delivered_file(tmp_path, day) == "crm/2025-09-01/customers.csv.gz"
    (tmp_path / "crm/2025-09-01/customers.csv").write_bytes(b"")
    assert customers.delivered_files(tmp_path, day) == list(customers.file_names(day))
    with pytest.raises(
        AmbiguousDeliveryError, match=r"customers\.csv and crm/2025-09-01/customers\.csv\.gz are both"
    ):
        customers.delivered_file(tmp_path, day)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "source: s\ntables:\n  t: {raw_table: x, path: 'a/{date}.csv', format: xml, columns: []}\n",
            r"bad\.yml: tables\.t\.format: 'xml' is not one of",
        ),
        (
            "source: s\ntables:\n  t: {raw_table: x, path: 'a.csv', format: csv, columns: [{name: a, type: VARCHAR}]}\n",
            r"bad\.yml: tables\.t\.path: must contain \{date\}",
        ),
        (
            "source: s\ntables:\n  t: {raw_table: x, path: 'a/{date}.csv', format: csv, "
            "columns: [{name: a, type: TEXTISH}]}\n",
            r"bad\.yml: tables\.t\.columns\.a: unsupported type",
        ),
        (
            "source: s\ntables:\n  t: {raw_table: x, path: 'a/{date}.csv', format: csv, primary_key: [b], "
            "columns: [{name: a, type: VARCHAR}]}\n",
            r"bad\.yml: tables\.t\.primary_key: 'b' is not a column",
        ),
        (
            "source: s\ntables:\n  t: {raw_table: x, path: 'a/{date}.csv', format: csv, "
            "columns: [{name: a, type: VARCHAR, rules: [{check: references, table: nope}]}]}\n",
            r"bad\.yml: tables\.t\.columns\.a: references unknown table 'nope'",
        ),
        (
            "source: s\ntables:\n  t: {raw_table: 'x; drop', path: 'a/{date}.csv', format: csv, "
            "columns: [{name: a, type: VARCHAR}]}\n",
            r"bad\.yml: tables\.t\.raw_table: must be lower_snake_case",
        ),
        ("source: s\ntables: [\n", r"bad\.yml: not valid YAML"),
    ],
)
def test_invalid_contract_names_file_and_key(tmp_path: Path, yaml_text: str, message: str) -> None:
    (tmp_path / "bad.yml").write_text(yaml_text)
    with pytest.raises(ContractError, match=message):
        load_contracts(tmp_path)


def test_profiles_are_not_read_with_the_defaults() -> None:
    assert (CONTRACTS / "profiles" / "line_items" / "crm.yml").exists()
    assert load_contracts(CONTRACTS)["crm"].layout == "files"
