"""The `c360 sql` options, apart from `sql.py` so building the CLI parser does not import DuckDB."""

from __future__ import annotations

import argparse
from pathlib import Path

FORMATS = ("table", "csv", "json", "parquet")
# Rows a table shows when no --limit is given: a terminal, not a data export.
TABLE_ROWS = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "query", nargs="?", metavar="SQL", help="SQL to run; none opens an interactive prompt"
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    parser.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write to this file (required for parquet)"
    )
    parser.add_argument(
        "--limit", type=int, metavar="N", help=f"at most this many rows (table default {TABLE_ROWS})"
    )
    parser.add_argument(
        "--query", "-q", dest="named", metavar="NAME", help="run a query of the library, e.g. best_customers"
    )
