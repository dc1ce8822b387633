"""Turn query results into text: an aligned table for people, CSV and JSON for programs.

Kept apart from `sql.py` so the formatting rules (truncation, alignment, how values are
spelled) are testable without a database.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

NULL = "NULL"
ELLIPSIS = "…"
MAX_CELL_WIDTH = 40
GAP = "  "
# Hidden columns named in the truncation note before "...".
HIDDEN_NAMES = 6


def cell_text(value: Any) -> str:
    """How one value is written in the table and in CSV: ISO dates, plain decimals, JSON for nested."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", " ").replace("\t", " ")
    return text if len(text) <= width else text[: width - 1] + ELLIPSIS


def format_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    total: int,
    *,
    max_width: int = 120,
    max_cell_width: int = MAX_CELL_WIDTH,
) -> str:
    """Aligned columns (numbers right, text left), long cells clipped, columns that do not fit dropped.

    Ends with a note saying how many rows are shown out of `total` and which columns were
    left out, so a truncated view is never mistaken for the whole result.
    """
    if not columns:
        return "(statement executed, no result columns)"
    cells = [[_clip(cell_text(v) if v is not None else NULL, max_cell_width) for v in row] for row in rows]
    headers = [_clip(c, max_cell_width) for c in columns]
    widths = [max([len(headers[i])] + [len(r[i]) for r in cells]) for i in range(len(columns))]
    numeric = [
        any(_is_number(r[i]) for r in rows) and all(_is_number(r[i]) or r[i] is None for r in rows)
        for i in range(len(columns))
    ]

    shown: list[int] = []
    used = 0
    for i, width in enumerate(widths):
        needed = width + (len(GAP) if shown else 0)
        if shown and used + needed > max_width:
            break
        shown.append(i)
        used += needed

    def line(values: Sequence[str]) -> str:
        parts = [values[i].rjust(widths[i]) if numeric[i] else values[i].ljust(widths[i]) for i in shown]
        return GAP.join(parts).rstrip()

    out = [line(headers), GAP.join("-" * widths[i] for i in shown)]
    out += [line(r) for r in cells]
    noun = "row" if total == 1 else "rows"
    note = f"{len(rows):,} of {total:,} {noun} shown" if len(rows) < total else f"{total:,} {noun}"
    hidden = [columns[i] for i in range(len(columns)) if i not in shown]
    if hidden:
        names = ", ".join(hidden[:HIDDEN_NAMES]) + (", ..." if len(hidden) > HIDDEN_NAMES else "")
        note += f"; {len(hidden)} more column{'s' if len(hidden) > 1 else ''} not shown ({names})"
    out.append(f"({note})")
    return "\n".join(out)


def write_csv(out: IO[str], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """RFC 4180 CSV with a header; NULL is an empty field."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell_text(v) for v in row])


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Exact decimals stay exact as long as they fit a double's 15 significant digits.
        return (
            int(value)
            if value == value.to_integral_value() and value.as_tuple().exponent >= 0
            else float(value)
        )
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_json(out: IO[str], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A JSON array of objects, one per row, written as rows arrive (no whole-result copy)."""
    out.write("[")
    for n, row in enumerate(rows):
        out.write(",\n" if n else "\n")
        out.write(json.dumps(dict(zip(columns, row, strict=True)), default=_json_default, ensure_ascii=False))
    out.write("\n]\n")
