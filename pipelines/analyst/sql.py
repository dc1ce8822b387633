"""`c360 sql`: query the published datamart from the shell, one statement or interactively.

Every statement opens the datamart READ-ONLY, runs, drains its result and closes: no
connection is held between statements, so a publish (an atomic rename of the file) is
picked up by the next statement and never blocked, and nothing an analyst types can
change the datamart. Results are streamed as Arrow record batches, so CSV, JSON and
Parquet output of large tables never needs the whole result in memory.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb
import pyarrow as pa

from pipelines.analyst.options import FORMATS, TABLE_ROWS
from pipelines.analyst.render import format_table, write_csv, write_json
from pipelines.settings import Settings

BATCH_ROWS = 10_000
# Unqualified names resolve to marts first, then meta (publication info); absent schemas are skipped.
SEARCH_PATH = "marts,meta,main"


class SqlError(Exception):
    """A failure to report as one line (no traceback): unpublished datamart, bad SQL, bad options."""


def datamart_path(settings: Settings) -> Path:
    path = settings.datamart_db
    if not path.exists():
        raise SqlError(f"no published datamart at {path} yet: run `make run` (or `c360 run`) first")
    return path


@contextmanager
def connect_datamart(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published datamart, closed on exit (notebooks use it too)."""
    con = duckdb.connect(
        str(datamart_path(settings)),
        read_only=True,
        config={"threads": settings.duckdb_threads, "memory_limit": settings.duckdb_memory_limit},
    )
    try:
        present = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
        path = ",".join(s for s in SEARCH_PATH.split(",") if s in present)
        con.execute(f"SET search_path = '{path}'")
        yield con
    finally:
        con.close()


def one_line(exc: BaseException) -> str:
    """DuckDB's message without the caret drawing: its first line."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass
class ResultStream:
    """The rows of one statement, at most `limit` of them, while counting all of them.

    Iterating drains the whole result (DuckDB must see every row consumed before the
    connection closes); `total` is final once iteration has ended.
    """

    columns: list[str]
    reader: pa.RecordBatchReader | None
    limit: int | None
    total: int = 0
    kept: int = 0

    def batches(self) -> Iterator[pa.RecordBatch]:
        if self.reader is None:
            return
        for batch in self.reader:
            self.total += batch.num_rows
            room = batch.num_rows if self.limit is None else max(0, self.limit - self.kept)
            if room:
                part = batch if room >= batch.num_rows else batch.slice(0, room)
                self.kept += part.num_rows
                yield part

    def rows(self) -> Iterator[tuple[Any, ...]]:
        for batch in self.batches():
            columns = [col.to_pylist() for col in batch.columns]
            yield from zip(*columns, strict=True)

    @property
    def schema(self) -> pa.Schema | None:
        return None if self.reader is None else self.reader.schema


def run_statement(
    settings: Settings, sql: str, limit: int | None, consume: Callable[[ResultStream], None]
) -> None:
    """Open read-only, run `sql`, hand the stream to `consume`, drain what it left, close."""
    with connect_datamart(settings) as con:
        try:
            relation = con.sql(sql)
            if relation is None:  # a statement without a result (SET, ...)
                consume(ResultStream([], None, limit))
                return
            stream = ResultStream(list(relation.columns), relation.to_arrow_reader(BATCH_ROWS), limit)
            consume(stream)
            for _ in stream.batches():
                pass
        except duckdb.Error as exc:
            raise SqlError(one_line(exc)) from None


@dataclass
class Output:
    """Where and how a statement's result is written."""

    format: str = "table"
    limit: int | None = None
    path: Path | None = None
    width: int = 120


def _write_text(stream: ResultStream, output: Output, out: IO[str]) -> None:
    if output.format == "table":
        rows = list(stream.rows())
        for _ in stream.batches():  # count the rows not shown
            pass
        out.write(format_table(stream.columns, rows, stream.total, max_width=output.width) + "\n")
    elif output.format == "csv":
        write_csv(out, stream.columns, stream.rows())
    else:
        write_json(out, stream.columns, stream.rows())


def _write_parquet(stream: ResultStream, path: Path) -> None:
    import pyarrow.parquet as pq

    if stream.schema is None:
        raise SqlError("the statement returned no result to write as Parquet")
    with pq.ParquetWriter(str(path), stream.schema, compression="zstd") as writer:
        for batch in stream.batches():
            writer.write_batch(batch)


def execute(settings: Settings, sql: str, output: Output, out: IO[str]) -> int:
    """Run one statement and write its result; returns the number of rows written."""
    if output.format not in FORMATS:
        raise SqlError(f"unknown format {output.format!r} (choose from {', '.join(FORMATS)})")
    if output.format == "parquet" and output.path is None:
        raise SqlError("--format parquet needs --output FILE")
    limit = output.limit
    if limit is None and output.format == "table":
        limit = TABLE_ROWS
    written: list[int] = []

    def consume(stream: ResultStream) -> None:
        if output.path is None:
            _write_text(stream, output, out)
        else:
            try:
                if output.format == "parquet":
                    _write_parquet(stream, output.path)
                else:
                    with output.path.open("w", encoding="utf-8", newline="") as handle:
                        _write_text(stream, output, handle)
            except BaseException:
                output.path.unlink(missing_ok=True)  # no half-written file that looks like a result
                raise
        written.append(stream.kept)

    run_statement(settings, sql, limit, consume)
    return written[0] if written else 0


# ---- interactive prompt -------------------------------------------------------------

HELP = """\
Statements end with `;` and may span lines. Commands:
  .tables            tables of the datamart (schemas marts and meta)
  .schema TABLE      columns, types and meanings of a table
  .queries           the analyst query library (pipelines/analyst/queries)
  .help              this text
  .quit              leave (or Ctrl-D)
Unqualified table names resolve to schema marts, then meta."""


TABLES_SQL = """
SELECT t.schema_name || '.' || t.table_name AS table_name, p.row_count AS rows, t.column_count AS columns
FROM duckdb_tables() AS t
LEFT JOIN meta.publication_tables AS p ON t.schema_name = 'marts' AND p.table_name = t.table_name
WHERE t.schema_name IN ('marts', 'meta')
ORDER BY t.schema_name, t.table_name
"""


def describe_table(settings: Settings, table: str, out: IO[str], width: int) -> None:
    """`.schema`: the table's columns from the datamart, with meanings from the dbt YAML."""
    from pipelines.analyst.guide import load_mart_docs

    with connect_datamart(settings) as con:
        try:
            schema, _, name = table.rpartition(".")
            cols = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema or "marts", name],
            ).fetchall()
        except duckdb.Error as exc:
            raise SqlError(one_line(exc)) from None
    if not cols:
        raise SqlError(f"no table {table!r} in the datamart (see .tables)")
    docs = {t.name: t for t in load_mart_docs(settings)}
    doc = docs.get(table.rpartition(".")[2])
    meanings = {c.name: c.description for c in doc.columns} if doc else {}
    if doc and doc.description:
        out.write(doc.description + "\n")
    rows = [(name, dtype, meanings.get(name, "")) for name, dtype in cols]
    out.write(
        format_table(["column", "type", "meaning"], rows, len(rows), max_width=width, max_cell_width=80)
        + "\n"
    )


def _dot_command(settings: Settings, line: str, out: IO[str], width: int) -> bool:
    """Run a `.command`; returns False when the prompt should end."""
    word, _, arg = line.strip().partition(" ")
    arg = arg.strip().rstrip(";")
    if word in (".quit", ".exit", ".q"):
        return False
    if word == ".help":
        out.write(HELP + "\n")
    elif word == ".tables":
        execute(settings, TABLES_SQL, Output(limit=1000, width=width), out)
    elif word == ".schema":
        if not arg:
            raise SqlError(".schema needs a table name, e.g. .schema customer_360")
        describe_table(settings, arg, out, width)
    elif word == ".queries":
        from pipelines.analyst.queries import load_queries

        for query in load_queries():
            out.write(f"{query.name}: {query.title}\n")
    else:
        raise SqlError(f"unknown command {word} (see .help)")
    return True


def interactive(
    settings: Settings,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    read: Callable[[str], str] = input,
    width: int | None = None,
) -> int:
    """A small prompt: `;`-terminated statements, dot commands, errors printed and survived."""
    out = out or sys.stdout
    err = err or sys.stderr
    if read is input:
        with contextlib.suppress(ImportError):  # not on every platform
            import readline  # noqa: F401  (line editing and history for input())
    datamart_path(settings)  # fail at once, not after the first statement is typed
    width = width or shutil.get_terminal_size((120, 24)).columns
    out.write(f"c360 sql on {settings.datamart_db} (read-only). .help for commands, .quit to leave.\n")
    buffer: list[str] = []
    while True:
        try:
            line = read("   ...> " if buffer else "c360> ")
        except EOFError:
            out.write("\n")
            return 0
        except KeyboardInterrupt:
            buffer.clear()
            out.write("\n")
            continue
        if not buffer and line.strip().startswith("."):
            try:
                if not _dot_command(settings, line, out, width):
                    return 0
            except SqlError as exc:
                err.write(f"error: {exc}\n")
            continue
        if not buffer and not line.strip():
            continue
        buffer.append(line)
        statement = "\n".join(buffer).strip()
        if not statement.endswith(";"):
            continue
        buffer.clear()
        try:
            execute(settings, statement, Output(width=width), out)
        except SqlError as exc:
            err.write(f"error: {exc}\n")


# ---- command line ---------------------------------------------------------------------


def main(
    args: argparse.Namespace, settings: Settings, out: IO[str] | None = None, err: IO[str] | None = None
) -> int:
    """Entry point of `c360 sql`; every failure is one line on stderr and exit code 1."""
    out = out or sys.stdout
    err = err or sys.stderr
    sql = args.query
    try:
        if args.limit is not None and args.limit < 0:
            raise SqlError("--limit must be 0 or more")
        if args.named:
            from pipelines.analyst.queries import get_query

            if sql:
                raise SqlError("give either a query or --query NAME, not both")
            try:
                sql = get_query(args.named).sql
            except KeyError:
                raise SqlError(f"no query {args.named!r} in the library (c360 sql, then .queries)") from None
        if not sql:
            if args.format != "table" or args.output or args.limit is not None:
                raise SqlError("--format, --output and --limit apply to a query given on the command line")
            return interactive(settings, out, err)
        width = shutil.get_terminal_size((120, 24)).columns
        output = Output(format=args.format, limit=args.limit, path=args.output, width=width)
        execute(settings, sql, output, out)
    except SqlError as exc:
        err.write(f"c360 sql: {exc}\n")
        return 1
    except OSError as exc:
        err.write(f"c360 sql: cannot write {exc.filename or 'the output'}: {exc.strerror or exc}\n")
        return 1
    return 0
