"""Input checks on every raw table: great-expectations suites plus whole-file SQL gates.

The expectations come from the source contracts (required → not null, primary key → unique
per day, accepted values, ranges, email shape, timestamps not after the delivery day plus
the future tolerance), so a rule is written once. Three gates are aggregates that no
row-level rule sees, computed from the load audit: a day of the run with files in the
inbox but no load and no file for the table (missing delivery), the share of a file's rows sent to quarantine, and the
day-over-day change in volume (a truncated or doubled delivery). Thresholds live in
thresholds.yml; the future tolerance is the pipeline setting C360_FUTURE_TOLERANCE_DAYS
(the same value ingest quarantines with), passed in. Each table's checks become one blocking Dagster
asset check: a failure stops everything downstream in the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines.ingest.contracts import TableContract
from pipelines.partitions import inbox_days
from pipelines.quality.gx_runner import Expectation, ExpectationOutcome, validate_frame

THRESHOLDS_FILE = Path(__file__).with_name("thresholds.yml")
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


@dataclass(frozen=True)
class Thresholds:
    max_quarantine_share: float
    quarantine_allowance_rows: int
    min_row_count_ratio: float
    max_row_count_ratio: float
    min_rows_for_ratio: int
    min_valid_email_share: float
    sample_size: int
    validation_chunk_rows: int


def load_thresholds(raw_table: str, path: Path = THRESHOLDS_FILE) -> Thresholds:
    doc = yaml.safe_load(path.read_text()) or {}
    values = {**doc.get("defaults", {}), **(doc.get("tables", {}) or {}).get(raw_table, {})}
    try:
        return Thresholds(**values)
    except TypeError as exc:
        raise ValueError(f"{path.name}: thresholds for {raw_table} are incomplete or unknown: {exc}") from exc


@dataclass
class CheckReport:
    raw_table: str
    passed: bool
    failures: list[dict[str, Any]] = field(default_factory=list)
    evaluated: int = 0
    rows_validated: int = 0


FUTURE_LIMIT_PREFIX = "_future_limit__"


def future_limit_sql(column_type: str, tolerance_days: int) -> str:
    """The latest acceptable value: (delivery day + 1 + tolerance) at 00:00 UTC, in the column's type.

    The same limit ingest quarantines with (pipelines/ingest/rules.py), so this is a second
    line of defence: it catches future rows that reached raw by another way.
    """
    midnight = f"(_partition + to_days({1 + int(tolerance_days)}))"
    if column_type == "DATE":
        return f"CAST({midnight} AS DATE)"
    if column_type == "TIMESTAMPTZ":
        return f"timezone('UTC', CAST({midnight} AS TIMESTAMP))"
    return f"CAST({midnight} AS TIMESTAMP)"


def derived_columns(table: TableContract, tolerance_days: int) -> dict[str, str]:
    """Columns computed in SQL for the suite (name -> expression): each not_future column's limit."""
    return {
        f"{FUTURE_LIMIT_PREFIX}{col.name}": future_limit_sql(col.type, tolerance_days)
        for col in table.columns
        if col.rule("not_future") is not None
    }


def expectations_for(table: TableContract, thresholds: Thresholds, tolerance_days: int) -> list[Expectation]:
    exps: list[Expectation] = []
    for col in table.columns:
        if col.required:
            exps.append(Expectation("ExpectColumnValuesToNotBeNull", {"column": col.name}))
        for rule in col.rules:
            if rule.check == "accepted_values":
                exps.append(
                    Expectation(
                        "ExpectColumnValuesToBeInSet",
                        {"column": col.name, "value_set": list(rule.params["values"])},
                    )
                )
            elif rule.check == "min":
                exps.append(
                    Expectation(
                        "ExpectColumnValuesToBeBetween",
                        {"column": col.name, "min_value": rule.params["value"]},
                    )
                )
            elif rule.check == "range":
                exps.append(
                    Expectation(
                        "ExpectColumnValuesToBeBetween",
                        {
                            "column": col.name,
                            "min_value": rule.params.get("min"),
                            "max_value": rule.params.get("max"),
                        },
                    )
                )
            elif rule.check == "email":
                exps.append(
                    Expectation(
                        "ExpectColumnValuesToMatchRegex",
                        {"column": col.name, "regex": _EMAIL, "mostly": thresholds.min_valid_email_share},
                    )
                )
            elif rule.check == "not_future":
                exps.append(
                    Expectation(
                        "ExpectColumnPairValuesAToBeGreaterThanB",
                        {
                            "column_A": f"{FUTURE_LIMIT_PREFIX}{col.name}",
                            "column_B": col.name,
                            "or_equal": True,
                            "ignore_row_if": "either_value_is_missing",
                        },
                        name=f"not_future({col.name}, tolerance {tolerance_days} day(s))",
                    )
                )
    if table.primary_key:
        exps.append(
            Expectation(
                "ExpectCompoundColumnsToBeUnique", {"column_list": [*table.primary_key, "_partition"]}
            )
        )
    return exps


def _validated_days(table: TableContract, days: list[date]) -> list[date]:
    # A snapshot repeats yesterday's rows: validating the newest day covers what is new.
    return days[-1:] if table.delivery == "snapshot" else days


def _day_chunks(day_rows: list[tuple[date, int]], max_rows: int) -> list[list[date]]:
    """Consecutive days grouped so each group holds at most max_rows (a bigger day stands alone)."""
    chunks: list[list[date]] = []
    size = 0
    for day, rows in day_rows:
        if not chunks or size + rows > max_rows:
            chunks.append([])
            size = 0
        chunks[-1].append(day)
        size += rows
    return chunks


def _merge(
    per_chunk: list[list[ExpectationOutcome]], rows: int, sample_size: int
) -> list[ExpectationOutcome]:
    """One outcome per expectation over all chunks: fails if any chunk failed, counts summed."""
    merged: list[ExpectationOutcome] = []
    for outcomes in zip(*per_chunk, strict=True):
        unexpected = sum(o.unexpected_count or 0 for o in outcomes)
        merged.append(
            ExpectationOutcome(
                expectation=outcomes[0].expectation,
                success=all(o.success for o in outcomes),
                unexpected_count=unexpected,
                unexpected_percent=100.0 * unexpected / rows if rows else 0.0,
                sample=[v for o in outcomes for v in o.sample][:sample_size],
            )
        )
    return merged


def _validate_in_chunks(
    con: duckdb.DuckDBPyConnection,
    table: TableContract,
    days: list[date],
    expectations: list[Expectation],
    thresholds: Thresholds,
    report: CheckReport,
    derived: dict[str, str],
) -> list[ExpectationOutcome]:
    """Validate the days' rows a few days at a time, reading only the columns the suite uses.

    A 90-day backfill of 5 million events as one pandas frame took gigabytes; a chunk of
    whole days (uniqueness is per day, so no key spans chunks) bounds memory by
    `validation_chunk_rows`. A `mostly` threshold then applies per chunk: stricter, never looser.
    """
    if not expectations or not days:
        return []
    used = {e.params[k] for e in expectations for k in ("column", "column_A", "column_B") if k in e.params}
    used |= {c for e in expectations for c in e.params.get("column_list", [])}
    selected = [f'"{c}"' for c in [*table.column_names, "_partition"] if c in used | {"_partition"}]
    selected += [f'{sql} AS "{name}"' for name, sql in derived.items() if name in used]
    cols = ", ".join(selected)
    day_rows = con.execute(
        f"SELECT _partition, count(*) FROM raw.{table.raw_table} WHERE _partition BETWEEN ? AND ? "
        "GROUP BY 1 ORDER BY 1",
        [days[0], days[-1]],
    ).fetchall()
    per_chunk: list[list[ExpectationOutcome]] = []
    for chunk in _day_chunks(day_rows, thresholds.validation_chunk_rows):
        frame = con.execute(
            f"SELECT {cols} FROM raw.{table.raw_table} WHERE _partition BETWEEN ? AND ?",
            [chunk[0], chunk[-1]],
        ).df()
        report.rows_validated += len(frame)
        per_chunk.append(validate_frame(table.raw_table, frame, expectations, thresholds.sample_size))
        del frame
    return _merge(per_chunk, report.rows_validated, thresholds.sample_size) if per_chunk else []


def run_input_checks(
    con: duckdb.DuckDBPyConnection,
    table: TableContract,
    days: list[date],
    thresholds: Thresholds,
    *,
    future_tolerance_days: int,
    inbox_dir: Path,
) -> CheckReport:
    """Run the table's suite and gates on the run's days.

    A missing delivery is a run day with files in inbox_dir, but neither a load of this
    table in the audit nor its file. A day nobody delivered anything for (a shop's closed
    day in a line-level export) is none; neither is a derived table's day whose line-level
    file is there (the line-items layout leaves some derived tables empty).
    """
    report = CheckReport(table.raw_table, passed=True)
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = ?",
        [table.raw_table],
    ).fetchall()[0][0]
    if not exists or not days:
        return report
    check_days = _validated_days(table, days)
    expectations = expectations_for(table, thresholds, future_tolerance_days)
    derived = derived_columns(table, future_tolerance_days)
    for outcome in _validate_in_chunks(con, table, check_days, expectations, thresholds, report, derived):
        report.evaluated += 1
        if not outcome.success:
            report.failures.append(
                {
                    "check": outcome.expectation.label,
                    "unexpected": outcome.unexpected_count,
                    "unexpected_percent": round(outcome.unexpected_percent or 0.0, 3),
                    "sample": outcome.sample,
                }
            )
    # A delivered day of the run without a file for this table, whatever the volume gate says.
    loaded = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT partition FROM audit.load_log WHERE raw_table = ? AND partition BETWEEN ? AND ?",
            [table.raw_table, days[0], days[-1]],
        ).fetchall()
    }
    delivered_days = set(inbox_days(inbox_dir))
    for day in (d for d in days if d in delivered_days):
        report.evaluated += 1
        if day not in loaded and not table.delivered_files(inbox_dir, day):
            report.failures.append(
                {"check": "missing_delivery", "day": day.isoformat(), "expected_file": table.file_for(day)}
            )
    # Quarantine share per file.
    for source_file, read, quarantined in con.execute(
        "SELECT source_file, rows_read, rows_quarantined FROM audit.load_log "
        "WHERE raw_table = ? AND partition BETWEEN ? AND ? AND rows_read > 0",
        [table.raw_table, days[0], days[-1]],
    ).fetchall():
        report.evaluated += 1
        share = quarantined / read
        # A tiny file (a quiet day's support contacts) says little through a share: one bad
        # row of five is 20 %. A few rows per file are always allowed.
        if share > thresholds.max_quarantine_share and quarantined > thresholds.quarantine_allowance_rows:
            report.failures.append(
                {
                    "check": "quarantine_share",
                    "file": source_file,
                    "share": round(share, 4),
                    "limit": thresholds.max_quarantine_share,
                    "hint": f"c360 quarantine {table.raw_table}",
                }
            )
    # Day-over-day volume, against the previous delivered day (which may be before the range).
    rows = con.execute(
        """SELECT partition, rows_loaded, lag(rows_loaded) OVER (ORDER BY partition) AS previous
        FROM (SELECT partition, sum(rows_loaded) AS rows_loaded FROM audit.load_log
              WHERE raw_table = ? AND partition <= ? AND status = 'loaded' GROUP BY partition)""",
        [table.raw_table, days[-1]],
    ).fetchall()
    for partition, loaded, previous in rows:
        if partition < days[0] or previous is None or previous < thresholds.min_rows_for_ratio:
            continue
        report.evaluated += 1
        ratio = loaded / previous
        if not thresholds.min_row_count_ratio <= ratio <= thresholds.max_row_count_ratio:
            report.failures.append(
                {
                    "check": "row_count_change",
                    "day": partition.isoformat(),
                    "rows": int(loaded),
                    "previous_day_rows": int(previous),
                    "ratio": round(ratio, 3),
                    "bounds": [thresholds.min_row_count_ratio, thresholds.max_row_count_ratio],
                }
            )
    report.passed = not report.failures
    return report
