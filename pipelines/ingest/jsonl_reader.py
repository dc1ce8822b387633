"""JSON Lines: each physical line is read as text, so an invalid line is quarantined whole.

DuckDB's read_json would stop at (or silently skip) a bad line and cannot give line
numbers; reading lines and extracting with one json_extract_string call per line (a list
of paths, parsed once) keeps the line, its number and its text. All files of a load are
staged together (`_f` tells them apart).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.ingest.contracts import TableContract
from pipelines.ingest.textfile import ReadFile, stage_decoded

# A non-blank line that is a JSON object; anything else is `invalid_json`.
_OK = "coalesce(json_valid(line), false) AND starts_with(ltrim(line), '{')"


def stage_jsonl(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile], table: TableContract, tmp_dir: Path
) -> None:
    stage_decoded(con, files, table.encoding, tmp_dir)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rejects AS
        SELECT _f, _line_number, 1 AS _span, 'invalid_json' AS reason, NULL::VARCHAR AS column_name,
               CASE WHEN json_valid(line) THEN 'valid JSON but not an object: ' || left(line, 200)
                    ELSE 'not valid JSON: ' || left(line, 200) END AS detail
        FROM _lines WHERE line IS NOT NULL AND ltrim(line) <> '' AND NOT ({_OK})"""
    )
    paths = "[" + ", ".join("'$.\"" + c.source.replace("'", "''") + "\"'" for c in table.columns) + "]"
    fields = ", ".join(f'j[{i + 1}] AS "f_{c.name}"' for i, c in enumerate(table.columns))
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _stage AS
        SELECT _f, _line_number, 1 AS _span, {fields}
        FROM (SELECT _f, _line_number, json_extract_string(line, {paths}) AS j FROM _lines
              WHERE line IS NOT NULL AND ltrim(line) <> '' AND {_OK})"""
    )
