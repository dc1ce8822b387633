"""JSON Lines: each physical line is read as text, so an invalid line is quarantined whole.

DuckDB's read_json would stop at (or silently skip) a bad line and cannot give line
numbers; reading lines and extracting with one json_extract_string call per line (a list
of paths, parsed once) keeps the line, its number and its text.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.ingest.contracts import TableContract
from pipelines.ingest.textfile import DUCKDB_ENCODINGS, needs_transcoding, stage_lines, transcode_to_utf8


def stage_jsonl(
    con: duckdb.DuckDBPyConnection, path: Path, rel: str, table: TableContract, tmp_dir: Path
) -> None:
    encoding = "utf-8"
    if needs_transcoding(table.encoding):
        path = transcode_to_utf8(path, rel, table.encoding, tmp_dir)
    else:
        encoding = DUCKDB_ENCODINGS[table.encoding]
    stage_lines(con, path, rel, encoding)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _jl AS
        SELECT _line_number, line, coalesce(json_valid(line), false) AND starts_with(ltrim(line), '{') AS ok
        FROM _lines WHERE line IS NOT NULL AND trim(line) <> ''"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _rejects AS
        SELECT _line_number, 1 AS _span, 'invalid_json' AS reason, NULL::VARCHAR AS column_name,
               CASE WHEN json_valid(line) THEN 'valid JSON but not an object: ' || left(line, 200)
                    ELSE 'not valid JSON: ' || left(line, 200) END AS detail
        FROM _jl WHERE NOT ok"""
    )
    paths = "[" + ", ".join("'$.\"" + c.source.replace("'", "''") + "\"'" for c in table.columns) + "]"
    fields = ", ".join(f'j[{i + 1}] AS "f_{c.name}"' for i, c in enumerate(table.columns))
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _stage AS
        SELECT _line_number, 1 AS _span, {fields}
        FROM (SELECT _line_number, json_extract_string(line, {paths}) AS j FROM _jl WHERE ok)"""
    )
