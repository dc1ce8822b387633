"""SQL that types the staged text fields and gives each row at most one reason.

Why SQL: every check is a column expression evaluated by DuckDB over the whole file at
once; no Python loop touches rows. One reason per row, the first that applies in
REASON_PRIORITY order (then in contract column order):

  missing_required, invalid_type, invalid_value, invalid_email (on_fail: reject),
  out_of_range, future_timestamp, unknown_reference, duplicate_key

Rules with `on_fail: nullify` (the email check) do not reject: the row is loaded with the
field set NULL and a quarantine row with action 'repaired' keeps the original value.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.ingest.contracts import Column, TableContract

REASON_PRIORITY = (
    "missing_required",
    "invalid_type",
    "invalid_value",
    "invalid_email",
    "out_of_range",
    "future_timestamp",
    "unknown_reference",
    "duplicate_key",
)
EMAIL_PATTERN = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"


def lit(value: object) -> str:
    """A SQL literal for a contract constant (numbers and strings from validated YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def q(name: str) -> str:
    return '"' + name + '"'


def text_expr(col: Column) -> str:
    """The field as delivered, '' read as absent (CSV cannot tell them apart)."""
    return f"NULLIF(s.{q('f_' + col.name)}, '')"


def typed_expr(col: Column, table: TableContract) -> str:
    """try_* conversion of the text: NULL when the text does not convert."""
    v = f"trim({text_expr(col)})"
    t = col.type
    if t == "VARCHAR":
        return text_expr(col)
    if t == "DATE":
        return f"CAST(try_strptime({v}, {lit(table.date_format)}) AS DATE)"
    if t in {"TIMESTAMP", "TIMESTAMPTZ"}:
        if table.timestamp_format.lower() in {"iso8601", "iso-8601"}:
            return f"try_cast({v} AS {t})"
        return f"CAST(try_strptime({v}, {lit(table.timestamp_format)}) AS {t})"
    if t == "BOOLEAN":
        return f"try_cast(lower({v}) AS BOOLEAN)"
    if t.startswith("DECIMAL") or t == "DOUBLE":
        if table.decimal_separator == ",":
            v = f"replace({v}, ',', '.')"
        return f"try_cast({v} AS {t})"
    return f"try_cast({v} AS {t})"


def _format_hint(col: Column, table: TableContract) -> str:
    if col.type == "DATE":
        return f" (format {table.date_format})"
    if col.type in {"TIMESTAMP", "TIMESTAMPTZ"}:
        return f" (format {table.timestamp_format})"
    if col.type.startswith("DECIMAL") and table.decimal_separator == ",":
        return " (decimal comma)"
    return ""


def future_limit(col: Column) -> str:
    """The row's future limit: (delivery day + 1 + tolerance days) at 00:00 UTC.

    The loader computes it per file (columns _limit_date/_limit_ts/_limit_tstz of _typed),
    so one pass checks files of many days.
    """
    if col.type == "DATE":
        return "t._limit_date"
    if col.type == "TIMESTAMPTZ":
        return "t._limit_tstz"
    return "t._limit_ts"


@dataclass(frozen=True)
class Check:
    reason: str
    column: str
    condition: str  # SQL over t.<typed>, t.<f_text> and reference joins
    detail: str  # SQL expression producing the human text
    repair: bool = False  # on_fail: nullify


@dataclass(frozen=True)
class Reference:
    alias: str
    column: str
    raw_table: str
    ref_column: str


def build_checks(table: TableContract, tolerance_days: int) -> tuple[list[Check], list[Reference]]:
    """Every row check of a table, in REASON_PRIORITY order, and the reference lookups.

    Checks that depend on the delivery day read it from the row (t._partition).
    """
    by_reason: dict[str, list[Check]] = {r: [] for r in REASON_PRIORITY}
    repairs: list[Check] = []
    refs: list[Reference] = []
    for col in table.columns:
        c, f = f"t.{q(col.name)}", f"t.{q('f_' + col.name)}"
        shown = f"'''' || {f} || ''''"
        if col.required:
            by_reason["missing_required"].append(
                Check("missing_required", col.name, f"{f} IS NULL", lit(f"{col.name} is empty"))
            )
        if col.type != "VARCHAR":
            by_reason["invalid_type"].append(
                Check(
                    "invalid_type",
                    col.name,
                    f"{f} IS NOT NULL AND {c} IS NULL",
                    f"{lit(col.name + ': ')} || {shown} || {lit(' is not a valid ' + col.type + _format_hint(col, table))}",
                )
            )
        for rule in col.rules:
            target: list[Check]
            if rule.check == "accepted_values":
                values = ", ".join(lit(v) for v in rule.params["values"])
                check = Check(
                    "invalid_value",
                    col.name,
                    f"{c} NOT IN ({values})",
                    f"{lit(col.name + ': ')} || {shown} || {lit(' is not one of ' + values)}",
                )
            elif rule.check == "email":
                check = Check(
                    "invalid_email",
                    col.name,
                    f"NOT regexp_full_match({c}, {lit(EMAIL_PATTERN)})",
                    f"{lit(col.name + ': ')} || {shown} || ' is not an e-mail address'",
                )
            elif rule.check in {"min", "max", "range"}:
                lo = rule.params.get("value") if rule.check == "min" else rule.params.get("min")
                hi = rule.params.get("value") if rule.check == "max" else rule.params.get("max")
                conds = ([f"{c} < {lit(lo)}"] if lo is not None else []) + (
                    [f"{c} > {lit(hi)}"] if hi is not None else []
                )
                bounds = " and ".join(
                    ([f">= {lo}"] if lo is not None else []) + ([f"<= {hi}"] if hi is not None else [])
                )
                check = Check(
                    "out_of_range",
                    col.name,
                    "(" + " OR ".join(conds) + ")",
                    f"{lit(col.name + ': ')} || {shown} || {lit(' is not ' + bounds)}",
                )
            elif rule.check == "not_future":
                check = Check(
                    "future_timestamp",
                    col.name,
                    f"{c} > {future_limit(col)}",
                    f"{lit(col.name + ': ')} || {shown} || ' is after the delivery day ' || CAST(t._partition AS VARCHAR) "
                    f"|| {lit(f' + {tolerance_days} day(s) tolerance')}",
                )
            elif rule.check == "references":
                alias = f"ref_{len(refs)}"
                ref_table = table.source_tables.get(rule.params["table"], rule.params["table"])
                refs.append(Reference(alias, col.name, ref_table, str(rule.params.get("column", col.name))))
                check = Check(
                    "unknown_reference",
                    col.name,
                    f"{c} IS NOT NULL AND ({alias}.p IS NULL OR {alias}.p > t._partition)",
                    f"{lit(col.name + ': ')} || {shown} || {lit(' is not in any ' + ref_table + ' file loaded up to ')} "
                    "|| CAST(t._partition AS VARCHAR)",
                )
            else:  # pragma: no cover - contracts.py validates the check names
                continue
            # Rules look at a value that exists and has the right type; absent/invalid are earlier reasons.
            check = Check(
                check.reason, check.column, f"({c} IS NOT NULL AND {check.condition})", check.detail
            )
            if rule.on_fail == "nullify":
                target = repairs
                check = Check(check.reason, check.column, check.condition, check.detail, repair=True)
            else:
                target = by_reason[check.reason]
            target.append(check)
    ordered = [chk for r in REASON_PRIORITY for chk in by_reason[r]]
    return ordered + repairs, refs


def reject_case(checks: list[Check]) -> str:
    """A CASE giving struct(reason, column_name, detail) of the first failing reject check."""
    whens = [
        f"WHEN {chk.condition} THEN {{'reason': {lit(chk.reason)}, 'column_name': {lit(chk.column)}, "
        f"'detail': {chk.detail}}}"
        for chk in checks
        if not chk.repair
    ]
    if not whens:
        return "NULL::STRUCT(reason VARCHAR, column_name VARCHAR, detail VARCHAR)"
    return "CASE " + " ".join(whens) + " END"
