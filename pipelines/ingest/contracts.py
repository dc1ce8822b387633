"""Source contracts: the YAML that says how a source's files look and what a valid row is.

A user plugs in their own exports by writing contracts, never code; so every error here
names the contract file and the key that is wrong. Identifiers (table and column names)
are validated here because the loader puts them into SQL; values never are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from pipelines.ingest.errors import AmbiguousDeliveryError

FORMATS = {"csv", "jsonl", "log"}
LOG_FORMATS = {"combined", "common"}
DELIVERIES = {"snapshot", "changes"}
LAYOUTS = {"files", "line_items"}
RULE_CHECKS = {"email", "not_future", "accepted_values", "min", "max", "range", "references"}
_TYPE = re.compile(
    r"^(VARCHAR|DATE|TIMESTAMP|TIMESTAMPTZ|BOOLEAN|SMALLINT|INTEGER|BIGINT|DOUBLE|DECIMAL\(\d+,\d+\))$"
)
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
# Any file of a contract may also be delivered gzip-compressed under its name plus this suffix;
# the readers decompress by the suffix.
GZIP_SUFFIX = ".gz"

# Dialect keys a source's `defaults:` block or a table may set, with their defaults.
DIALECT_DEFAULTS: dict[str, Any] = {
    "delimiter": ",",
    "quote": '"',
    "encoding": "utf-8",
    "header": True,
    "date_format": "%Y-%m-%d",
    "timestamp_format": "%Y-%m-%d %H:%M:%S",
    "decimal_separator": ".",
    "log_format": "combined",
}
_TABLE_KEYS = {
    "raw_table",
    "path",
    "format",
    "columns",
    "delivery",
    "primary_key",
    "depends_on",
    "immutable",
    "description",
    *DIALECT_DEFAULTS,
}


class ContractError(ValueError):
    """A contract file is not valid; the message names the file and the key."""


@dataclass(frozen=True)
class Rule:
    check: str
    on_fail: str = "reject"  # reject: row to quarantine | nullify: field set NULL, row kept
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    source: str  # the column/field name in the delivered file (defaults to name)
    required: bool = False
    rules: tuple[Rule, ...] = ()

    def rule(self, check: str) -> Rule | None:
        return next((r for r in self.rules if r.check == check), None)


@dataclass(frozen=True)
class TableContract:
    source: str
    name: str
    raw_table: str
    path: str
    format: str
    columns: tuple[Column, ...]
    delivery: str = "changes"
    primary_key: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    # False: a key repeated inside one file is a duplicate; a later file may carry a new version.
    # True (events): a key already loaded for any other partition is a duplicate too (re-send).
    immutable: bool = False
    delimiter: str = ","
    quote: str = '"'
    encoding: str = "utf-8"
    header: bool = True
    date_format: str = "%Y-%m-%d"
    timestamp_format: str = "%Y-%m-%d %H:%M:%S"
    decimal_separator: str = "."
    log_format: str = "combined"
    contract_file: str = ""
    # line_items layout: this raw table is derived from another table's file (see line_items.py).
    derive: str | None = None
    line_table: TableContract | None = None
    # raw table name of each table of the same source, for `references` rules.
    source_tables: dict[str, str] = field(default_factory=dict)

    def file_for(self, day: date) -> str:
        """Inbox-relative path the contract names for a day's file."""
        return self.path.format(date=day.isoformat())

    def file_names(self, day: date) -> tuple[str, ...]:
        """Every inbox-relative name a day's file may be delivered under.

        The contract's path and, unless that names a compressed file already, the same path
        gzip-compressed (`crm/2025-09-01/customers.csv.gz`).
        """
        rel = self.file_for(day)
        return (rel,) if rel.endswith(GZIP_SUFFIX) else (rel, rel + GZIP_SUFFIX)

    def file_patterns(self) -> tuple[str, ...]:
        """Glob patterns (inbox-relative) matching the table's files of any day, under any name."""
        pattern = self.path.replace("{date}", "*")
        return (pattern,) if pattern.endswith(GZIP_SUFFIX) else (pattern, pattern + GZIP_SUFFIX)

    def delivered_files(self, inbox_dir: Path, day: date) -> list[str]:
        """Those of file_names(day) that are in the inbox (two: an ambiguous delivery)."""
        return [rel for rel in self.file_names(day) if (Path(inbox_dir) / rel).is_file()]

    def delivered_file(self, inbox_dir: Path, day: date) -> str | None:
        """Inbox-relative path of the file delivered for a day, plain or compressed; None if absent.

        Raises AmbiguousDeliveryError when it is there under both names: loading either
        could be the wrong one, loading both would count every row twice.
        """
        found = self.delivered_files(inbox_dir, day)
        if len(found) > 1:
            raise AmbiguousDeliveryError(
                f"{' and '.join(found)} are both in the inbox for {day.isoformat()}: a day's file is "
                f"delivered once, plain or gzip-compressed; remove the one that should not be loaded"
            )
        return found[0] if found else None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def dialect(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in DIALECT_DEFAULTS}

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class SourceContract:
    source: str
    description: str
    tables: dict[str, TableContract]
    contract_file: str = ""
    layout: str = "files"

    def by_raw_table(self) -> dict[str, TableContract]:
        return {t.raw_table: t for t in self.tables.values()}


def _fail(path: Path, key: str, problem: str) -> ContractError:
    return ContractError(f"{path}: {key}: {problem}")


def _parse_rule(path: Path, key: str, raw: Any) -> Rule:
    if not isinstance(raw, dict) or "check" not in raw:
        raise _fail(path, key, "each rule needs a 'check'")
    check = raw["check"]
    if check not in RULE_CHECKS:
        raise _fail(path, key, f"unknown check {check!r} (one of {', '.join(sorted(RULE_CHECKS))})")
    on_fail = raw.get("on_fail", "reject")
    if on_fail not in {"reject", "nullify"}:
        raise _fail(path, key, f"on_fail must be reject or nullify, not {on_fail!r}")
    params = {k: v for k, v in raw.items() if k not in {"check", "on_fail"}}
    needed = {
        "accepted_values": ["values"],
        "min": ["value"],
        "max": ["value"],
        "range": ["min", "max"],
        "references": ["table"],
    }
    for need in needed.get(check, []):
        if need not in params:
            raise _fail(path, key, f"check {check} needs '{need}'")
    if check == "accepted_values" and not isinstance(params["values"], list):
        raise _fail(path, key, "accepted_values needs a list of 'values'")
    for num in ("value", "min", "max"):
        if num in params and check != "accepted_values" and not isinstance(params[num], int | float):
            raise _fail(path, key, f"'{num}' must be a number")
    return Rule(check=check, on_fail=on_fail, params=params)


def _parse_column(path: Path, key: str, raw: Any) -> Column:
    if not isinstance(raw, dict) or "name" not in raw or "type" not in raw:
        raise _fail(path, key, "each column needs 'name' and 'type'")
    name = str(raw["name"])
    if not _IDENT.match(name):
        raise _fail(path, key, f"column name {name!r} must be lower_snake_case")
    unknown = set(raw) - {"name", "type", "source", "required", "rules", "description"}
    if unknown:
        raise _fail(path, f"{key}.{name}", f"unknown key(s) {', '.join(sorted(unknown))}")
    col_type = str(raw["type"]).upper().replace(" ", "")
    if not _TYPE.match(col_type):
        raise _fail(path, f"{key}.{name}", f"unsupported type {raw['type']!r}")
    rules = tuple(_parse_rule(path, f"{key}.{name}.rules", r) for r in raw.get("rules", []) or [])
    for rule in rules:
        if rule.check == "email" and col_type != "VARCHAR":
            raise _fail(path, f"{key}.{name}.rules", "email check needs a VARCHAR column")
    return Column(
        name=name,
        type=col_type,
        source=str(raw.get("source", name)),
        required=bool(raw.get("required", False)),
        rules=rules,
    )


def _parse_table(path: Path, source: str, name: str, spec: dict[str, Any]) -> TableContract:
    key = f"tables.{name}"
    unknown = set(spec) - _TABLE_KEYS
    if unknown:
        raise _fail(path, key, f"unknown key(s) {', '.join(sorted(unknown))}")
    for required_key in ("raw_table", "path", "format", "columns"):
        if required_key not in spec:
            raise _fail(path, key, f"missing '{required_key}'")
    if spec["format"] not in FORMATS:
        raise _fail(path, f"{key}.format", f"{spec['format']!r} is not one of {', '.join(sorted(FORMATS))}")
    if not _IDENT.match(str(spec["raw_table"])):
        raise _fail(path, f"{key}.raw_table", "must be lower_snake_case")
    if "{date}" not in str(spec["path"]):
        raise _fail(path, f"{key}.path", "must contain {date} (one file per delivery day)")
    delivery = spec.get("delivery", "changes")
    if delivery not in DELIVERIES:
        raise _fail(path, f"{key}.delivery", f"{delivery!r} is not snapshot or changes")
    immutable = spec.get("immutable", False)
    if not isinstance(immutable, bool):
        raise _fail(path, f"{key}.immutable", "must be true or false")
    dialect = {k: spec.get(k, v) for k, v in DIALECT_DEFAULTS.items()}
    if dialect["log_format"] not in LOG_FORMATS:
        raise _fail(path, f"{key}.log_format", f"{dialect['log_format']!r} is not combined or common")
    if len(str(dialect["delimiter"])) != 1:
        raise _fail(path, f"{key}.delimiter", "must be a single character")
    if len(str(dialect["quote"])) > 1:
        raise _fail(path, f"{key}.quote", "must be one character or empty")
    if dialect["decimal_separator"] not in {".", ","}:
        raise _fail(path, f"{key}.decimal_separator", "must be '.' or ','")
    if not isinstance(spec["columns"], list) or not spec["columns"]:
        raise _fail(path, f"{key}.columns", "must be a non-empty list")
    columns = tuple(_parse_column(path, f"{key}.columns", c) for c in spec["columns"])
    names = [c.name for c in columns]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise _fail(path, f"{key}.columns", f"duplicate column(s) {', '.join(sorted(dup))}")
    primary_key = tuple(spec.get("primary_key", []) or [])
    for pk in primary_key:
        if pk not in names:
            raise _fail(path, f"{key}.primary_key", f"{pk!r} is not a column")
    return TableContract(
        source=source,
        name=name,
        raw_table=str(spec["raw_table"]),
        path=str(spec["path"]),
        format=str(spec["format"]),
        columns=columns,
        delivery=delivery,
        primary_key=primary_key,
        depends_on=tuple(spec.get("depends_on", []) or []),
        immutable=immutable,
        delimiter=str(dialect["delimiter"]),
        quote=str(dialect["quote"]),
        encoding=str(dialect["encoding"]).lower().replace("_", "-"),
        header=bool(dialect["header"]),
        date_format=str(dialect["date_format"]),
        timestamp_format=str(dialect["timestamp_format"]),
        decimal_separator=str(dialect["decimal_separator"]),
        log_format=str(dialect["log_format"]),
        contract_file=str(path),
    )


def parse_contract(path: Path) -> SourceContract:
    """Read and validate one contract file."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or "source" not in doc or "tables" not in doc:
        raise ContractError(f"{path}: needs top-level 'source' and 'tables'")
    source = str(doc["source"])
    if not _IDENT.match(source):
        raise _fail(path, "source", "must be lower_snake_case")
    layout = doc.get("layout", "files")
    if layout not in LAYOUTS:
        raise _fail(path, "layout", f"{layout!r} is not one of {', '.join(sorted(LAYOUTS))}")
    defaults = doc.get("defaults", {}) or {}
    if not isinstance(defaults, dict):
        raise _fail(path, "defaults", "must be a mapping")
    bad_defaults = set(defaults) - set(DIALECT_DEFAULTS) - {"format", "delivery"}
    if bad_defaults:
        raise _fail(path, "defaults", f"unknown key(s) {', '.join(sorted(bad_defaults))}")
    if not isinstance(doc["tables"], dict) or not doc["tables"]:
        raise _fail(path, "tables", "must be a non-empty mapping")
    tables: dict[str, TableContract] = {}
    for name, spec in doc["tables"].items():
        if not _IDENT.match(str(name)):
            raise _fail(path, f"tables.{name}", "table name must be lower_snake_case")
        if not isinstance(spec, dict):
            raise _fail(path, f"tables.{name}", "must be a mapping")
        tables[str(name)] = _parse_table(path, source, str(name), {**defaults, **spec})
    if layout == "line_items":
        from pipelines.ingest.line_items import derive_tables

        tables = derive_tables(path, tables)
    raw_names = {n: t.raw_table for n, t in tables.items()}
    seen: dict[str, str] = {}
    for table in tables.values():
        if table.raw_table in seen:
            raise _fail(
                path,
                f"tables.{table.name}.raw_table",
                f"{table.raw_table!r} is also used by {seen[table.raw_table]}",
            )
        seen[table.raw_table] = table.name
        for dep in table.depends_on:
            if dep not in tables:
                raise _fail(path, f"tables.{table.name}.depends_on", f"{dep!r} is not a table of this source")
        for col in table.columns:
            ref = col.rule("references")
            if ref is None:
                continue
            target = tables.get(ref.params["table"])
            ref_col = ref.params.get("column", col.name)
            if target is None:
                raise _fail(
                    path,
                    f"tables.{table.name}.columns.{col.name}",
                    f"references unknown table {ref.params['table']!r}",
                )
            if ref_col not in target.column_names:
                raise _fail(
                    path,
                    f"tables.{table.name}.columns.{col.name}",
                    f"references unknown column {ref.params['table']}.{ref_col}",
                )
    tables = {n: replace(t, source_tables=raw_names) for n, t in tables.items()}
    return SourceContract(source, str(doc.get("description", "")), tables, str(path), layout)


def load_contracts(contracts_dir: Path) -> dict[str, SourceContract]:
    """Every *.yml directly in the folder (profiles/ and other subfolders are not read)."""
    contracts_dir = Path(contracts_dir)
    if not contracts_dir.is_dir():
        raise ContractError(f"contracts folder {contracts_dir} does not exist")
    out: dict[str, SourceContract] = {}
    for path in sorted(contracts_dir.glob("*.yml")):
        contract = parse_contract(path)
        if contract.source in out:
            raise ContractError(
                f"{path}: source {contract.source!r} is already defined in {out[contract.source].contract_file}"
            )
        out[contract.source] = contract
    return out


def all_tables(contracts: dict[str, SourceContract]) -> list[TableContract]:
    return [t for c in contracts.values() for t in c.tables.values()]


def table_for_raw(contracts: dict[str, SourceContract], raw_table: str) -> TableContract | None:
    """The table contract that fills raw.<raw_table>, whatever source or layout declares it."""
    return next((t for t in all_tables(contracts) if t.raw_table == raw_table), None)
