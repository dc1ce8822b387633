"""Generate docs/analyst-guide.md from the dbt YAML of the marts and the query library.

The guide is never edited by hand: table and column meanings come from
`dbt_project/models/marts/_marts.yml` (the contract dbt enforces), the questions from
`pipelines/analyst/queries/`. A test compares the committed file with this output, so the
guide cannot drift from the marts. Run `python -m pipelines.analyst.guide` (or
`c360 docs`) after changing either; `--check` only reports whether it is up to date.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipelines.analyst.queries import load_queries
from pipelines.settings import DEFAULT_PII_COLUMNS, PROJECT_DIR, Settings

GUIDE_PATH = PROJECT_DIR / "docs" / "analyst-guide.md"
MARTS_SCHEMA = "marts"


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    data_type: str
    description: str


@dataclass(frozen=True)
class TableDoc:
    name: str
    description: str
    grain: str
    columns: tuple[ColumnDoc, ...]


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


def _test_names(tests: Any) -> list[str]:
    names = []
    for test in tests or []:
        names.append(test if isinstance(test, str) else next(iter(test)))
    return names


def _grain(model: dict[str, Any]) -> str:
    """The table's key, from its uniqueness tests: what one row stands for."""
    for test in model.get("data_tests") or []:
        if isinstance(test, dict) and "unique_combination" in test:
            spec = test["unique_combination"]
            columns = (spec.get("arguments") or spec).get("columns") or []
            return "one row per (" + ", ".join(columns) + ")"
    keys = [c["name"] for c in model.get("columns") or [] if "unique" in _test_names(c.get("data_tests"))]
    return f"one row per {keys[0]}" if keys else ""


def _seed_schemas(dbt_project: dict[str, Any]) -> dict[str, str]:
    """Seeds' target schema from dbt_project.yml (`+schema` on the project or on the seed)."""
    project_seeds: dict[str, Any] = next(iter((dbt_project.get("seeds") or {}).values()), {}) or {}
    default = project_seeds.get("+schema", "")
    return {
        name: (conf.get("+schema", default) if isinstance(conf, dict) else default)
        for name, conf in project_seeds.items()
        if not name.startswith("+")
    } | {"__default__": default}


def load_mart_docs(settings: Settings) -> list[TableDoc]:
    """Every table dbt writes to schema marts (models, then seeds), documented from the YAML."""
    marts_yml = settings.dbt_project_dir / "models" / "marts" / "_marts.yml"
    spec = yaml.safe_load(marts_yml.read_text(encoding="utf-8"))
    project = yaml.safe_load((settings.dbt_project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    seed_schema = _seed_schemas(project)
    tables: list[TableDoc] = []
    for kind in ("models", "seeds"):
        for model in spec.get(kind) or []:
            if kind == "seeds" and seed_schema.get(model["name"], seed_schema["__default__"]) != MARTS_SCHEMA:
                continue
            seed_types = ((model.get("config") or {}).get("column_types")) or {}
            columns = tuple(
                ColumnDoc(
                    name=c["name"],
                    data_type=str(c.get("data_type") or seed_types.get(c["name"], "")),
                    description=_text(c.get("description")),
                )
                for c in model.get("columns") or []
            )
            tables.append(TableDoc(model["name"], _text(model.get("description")), _grain(model), columns))
    return tables


def undocumented(table: TableDoc) -> list[str]:
    """What analysts would find unexplained in the guide: the table itself, or `table.column`,
    when its YAML description is empty."""
    missing = [table.name] if not table.description else []
    return missing + [f"{table.name}.{c.name}" for c in table.columns if not c.description]


# ---- rendering -----------------------------------------------------------------------

CONNECT = """\
## Connect

The datamart is one DuckDB file, `data/warehouse/datamart.duckdb` (under `C360_DATA_DIR`),
schema `marts`. A run replaces it atomically, and only when every check of the run passed,
so whatever you open is a complete, checked version. **Open it read-only**: a read-only
connection never blocks a publish and cannot change the data. Keep connections short
(open, query, close) so a long session does not keep reading an old version.

**`c360 sql`** (opens read-only per statement; unqualified names resolve to `marts`, then `meta`):

```bash
.venv/bin/c360 sql "SELECT segment, count(*) FROM rfm_segments GROUP BY 1 ORDER BY 2 DESC"
.venv/bin/c360 sql --query best_customers --format csv --output best.csv   # a question below by name
.venv/bin/c360 sql "SELECT * FROM marts.fct_orders" --format parquet --output orders.parquet
.venv/bin/c360 sql          # interactive: statements end with ';', .tables, .schema customer_360, .quit
```

**DuckDB CLI**: `duckdb -readonly data/warehouse/datamart.duckdb`, then `SELECT * FROM marts.customer_360 LIMIT 5;`

**Python** (consume every result fully, e.g. `fetchall()`, before closing):

```python
import duckdb

with duckdb.connect("data/warehouse/datamart.duckdb", read_only=True) as con:
    rows = con.execute("SELECT segment, count(*) FROM marts.rfm_segments GROUP BY 1").fetchall()
```

**Notebooks**: `notebooks/` has ready-made ones (RFM, one customer's 360 view, web funnel and
campaigns). They find the datamart through the project settings:

```python
from pipelines.analyst.frames import query_df
from pipelines.settings import Settings

funnel = query_df(Settings.from_env(), "SELECT * FROM marts.funnel_daily")  # C360_DATA_DIR, read-only
```

**DBeaver** (or any JDBC tool): new connection, driver *DuckDB*, path
`data/warehouse/datamart.duckdb`; in *Driver properties* set `duckdb.read_only` = `true`.

**BI tools**: the same tables as Parquet under `data/exports/<table>/` (personal data hashed).

Which version you are reading:

```sql
SELECT run_id, published_at, tables, total_rows FROM meta.publication;
```
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if text else ""


def render_table(table: TableDoc) -> str:
    pii = {c.lower() for c in DEFAULT_PII_COLUMNS}
    lines = [f"### `{MARTS_SCHEMA}.{table.name}`", ""]
    if table.grain:
        lines += [f"Grain: {table.grain}.", ""]
    if table.description:
        lines += [table.description, ""]
    lines += ["| column | type | meaning |", "|---|---|---|"]
    for column in table.columns:
        meaning = column.description
        if column.name.lower() in pii:
            meaning = (meaning + " " if meaning else "") + "Personal data (hashed in the Parquet exports)."
        lines.append(f"| `{column.name}` | {_cell(column.data_type)} | {_cell(meaning)} |")
    return "\n".join(lines) + "\n"


def render_guide(settings: Settings) -> str:
    tables = load_mart_docs(settings)
    queries = load_queries()
    parts = [
        "# Analyst guide: querying the Customer 360 datamart",
        "",
        "<!-- Generated by `python -m pipelines.analyst.guide` from dbt_project/models/marts/_marts.yml"
        " and pipelines/analyst/queries/*.sql. Do not edit by hand. -->",
        "",
        "Contents: [Connect](#connect) · [Tables](#tables) · [Questions](#questions)",
        "",
        CONNECT,
        "## Tables",
        "",
        "Every table of schema `marts`, with the column meanings dbt documents and enforces"
        " (column names and types are a contract: a run that changes them fails).",
        "",
        "| table | grain |",
        "|---|---|",
        *[f"| [`{t.name}`](#marts{t.name}) | {t.grain or '-'} |" for t in tables],
        "",
    ]
    parts += [render_table(t) for t in tables]
    parts += [
        "## Questions",
        "",
        "The query library (`pipelines/analyst/queries/`): each file is one question. Run one with"
        " `c360 sql --query <name>`, or paste the SQL into any client.",
        "",
    ]
    for query in queries:
        short = query.name[3:]
        parts += [
            f"### {int(query.name[:2])}. {query.title}",
            "",
            f"{query.description} (`c360 sql --query {short}`)",
            "",
            "```sql",
            query.sql + ";",
            "```",
            "",
        ]
    return "\n".join(parts).rstrip() + "\n"


def main(settings: Settings, *, check: bool = False, path: Path = GUIDE_PATH) -> int:
    """Write the guide, or with check=True only say whether the committed one is current."""
    text = render_guide(settings)
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if check:
        if current != text:
            print(f"{path} is out of date: run `python -m pipelines.analyst.guide`", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    if current != text:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    else:
        print(f"{path} already up to date")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m pipelines.analyst.guide", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed guide is out of date")
    sys.exit(main(Settings.from_env(), check=parser.parse_args().check))
