"""The analyst query library: one `.sql` file per business question, kept as data.

Queries live in `queries/NN_<name>.sql` so analysts can read, copy and run them anywhere
(DuckDB CLI, DBeaver, notebooks); the guide, the tests and the benchmark all load them
from here so there is a single copy. Each file starts with a header:

    -- title: Who are our best customers?
    -- description: One line on what the result means.

followed by one SQL statement against schema `marts` of the published datamart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
_NAME = re.compile(r"^\d{2}_[a-z0-9_]+$")
_HEADER = re.compile(r"^--\s*(title|description):\s*(.+?)\s*$")


@dataclass(frozen=True)
class AnalystQuery:
    """One question: `name` is the file stem (`01_best_customers`), `sql` the statement without header."""

    name: str
    title: str
    description: str
    sql: str


def parse_query(name: str, text: str) -> AnalystQuery:
    """Split the `-- title:` / `-- description:` header from the statement; both are required."""
    header: dict[str, str] = {}
    lines = text.strip().splitlines()
    body_start = 0
    for i, line in enumerate(lines):
        match = _HEADER.match(line)
        if match:
            header[match.group(1)] = match.group(2)
            body_start = i + 1
        elif line.strip() and not line.lstrip().startswith("--"):
            break
    missing = {"title", "description"} - header.keys()
    if missing:
        raise ValueError(f"query {name}: header lacks {', '.join(sorted(missing))}")
    sql = "\n".join(lines[body_start:]).strip().rstrip(";").strip()
    if not sql:
        raise ValueError(f"query {name}: no SQL after the header")
    return AnalystQuery(name=name, title=header["title"], description=header["description"], sql=sql)


def load_queries(directory: Path = QUERIES_DIR) -> list[AnalystQuery]:
    """Every `NN_<name>.sql` in number order."""
    queries = []
    for path in sorted(directory.glob("*.sql")):
        if not _NAME.match(path.stem):
            raise ValueError(f"{path.name}: query files are named NN_<lowercase_name>.sql")
        queries.append(parse_query(path.stem, path.read_text(encoding="utf-8")))
    return queries


def get_query(name: str, directory: Path = QUERIES_DIR) -> AnalystQuery:
    """One query by full name (`01_best_customers`) or by name without its number (`best_customers`)."""
    for query in load_queries(directory):
        if name in (query.name, query.name[3:]):
            return query
    raise KeyError(name)
