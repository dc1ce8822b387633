"""Physical lines of a delivered file, read by DuckDB, and the transcoding some files need.

Every format starts from the file's physical lines: they give exact 1-based line numbers
and the original text for quarantine, whatever the parser thinks of the line.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import re
from pathlib import Path
from typing import NamedTuple

import duckdb

from pipelines.ingest.errors import IngestError


class ReadFile(NamedTuple):
    """A file to stage: its index in the load (_f), the path DuckDB reads, the inbox path."""

    f: int
    path: Path
    rel: str


UTF8 = {"utf-8", "utf8"}
# DuckDB decodes these itself (read_csv `encoding`); anything else is transcoded first.
DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "latin-1": "latin-1", "iso-8859-1": "latin-1"}

# A 2-byte delimiter that does not occur in text: one VARCHAR column per physical line,
# no quoting, so nothing a line contains can merge it with the next one.
_NO_DELIM = "\x01\x02"


def lines_reader(encoding: str = "utf-8") -> str:
    """read_csv call (one `?` parameter: the path) yielding one row per physical line."""
    enc = DUCKDB_ENCODINGS.get(encoding, "utf-8")
    return (
        f"read_csv(?, columns={{'line': 'VARCHAR'}}, header=false, auto_detect=false, "
        f"delim='{_NO_DELIM}', quote='', escape='', encoding='{enc}', "
        "max_line_size=4194304, strict_mode=false)"
    )


def sha256_of(path: Path) -> str:
    """Content hash of the file as delivered (compressed bytes), for re-delivery detection."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def needs_transcoding(encoding: str) -> bool:
    return encoding not in DUCKDB_ENCODINGS


def transcode_to_utf8(path: Path, rel: str, encoding: str, tmp_dir: Path) -> Path:
    """Decode strictly, in 4 MB chunks, into a temporary UTF-8 file DuckDB can read.

    DuckDB 2.0 reads UTF-8, latin-1 and UTF-16 natively; cp1252 (Windows exports, with
    the euro sign and curly quotes in 0x80-0x9F) needs the `encodings` extension, which
    cannot be downloaded offline. A streaming Python decode costs about one pass over the
    file and stops at the first byte that is not valid in the declared encoding.
    """
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    except LookupError as exc:
        raise IngestError(f"{rel}: unknown encoding {encoding!r} in the contract") from exc
    tmp_dir.mkdir(parents=True, exist_ok=True)
    out = (
        tmp_dir / f"_utf8_{hashlib.md5(str(path).encode()).hexdigest()[:12]}_{path.name.removesuffix('.gz')}"
    )
    opener = gzip.open if path.suffix == ".gz" else open
    offset = 0
    try:
        with opener(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(1 << 22):
                try:
                    dst.write(decoder.decode(chunk))
                except UnicodeDecodeError as exc:
                    raise IngestError(
                        f"{rel}: byte 0x{chunk[exc.start]:02x} at offset {offset + exc.start} "
                        f"is not valid {encoding}"
                    ) from exc
                offset += len(chunk)
            dst.write(decoder.decode(b"", final=True))
    except (OSError, EOFError) as exc:
        out.unlink(missing_ok=True)
        raise IngestError(f"{rel}: cannot be read: {exc}") from exc
    except IngestError:
        out.unlink(missing_ok=True)
        raise
    return out


def duckdb_problem(exc: duckdb.Error) -> str:
    """A DuckDB reader error in words a user can act on (DuckDB puts the cause mid-text)."""
    text = str(exc) or type(exc).__name__
    low = text.lower()
    line = re.search(r"CSV Error on Line: (\d+)", text)
    where = f" (line {line.group(1)})" if line else ""
    if "gzip" in low:
        return f"not a complete gzip file ({text.splitlines()[0]})"
    if "invalid unicode" in low or "not utf-8 encoded" in low:
        return f"bytes that are not valid UTF-8{where}: declare the file's encoding in its contract"
    size = re.search(r"Maximum line size of (\d+) bytes exceeded\. Actual Size: ?(\d+) bytes", text)
    if size:
        return f"a line of {size.group(2)} bytes{where}, over the maximum line size of {size.group(1)} bytes"
    return text.splitlines()[0] + where


def path_literal(path: Path) -> str:
    """A file path as a SQL string literal (paths are ours, but may contain quotes)."""
    return "'" + str(path).replace("'", "''") + "'"


def locate_unreadable(files: list[ReadFile], reader: str, exc: duckdb.Error) -> IngestError:
    """The IngestError naming the first file DuckDB cannot read on its own.

    A reader over many files fails as a whole and does not always say which file; this
    slow path runs only after such a failure, on a connection of its own (the load's
    transaction is aborted by then).
    """
    with duckdb.connect() as probe:
        for f in files:
            try:
                probe.execute(f"SELECT count(*) FROM {reader.replace('?', path_literal(f.path))}").fetchall()
            except duckdb.Error as single:
                return IngestError(f"{f.rel}: {duckdb_problem(single)}")
    names = ", ".join(f.rel for f in files[:3]) + (" ..." if len(files) > 3 else "")
    return IngestError(f"{names}: {duckdb_problem(exc)}")


def stage_decoded(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile], encoding: str, tmp_dir: Path
) -> tuple[list[ReadFile], str]:
    """Stage _lines in the contract's encoding; returns the files as DuckDB reads them and their encoding.

    Encodings DuckDB cannot decode itself (cp1252, ...) are transcoded to UTF-8 copies first.
    """
    if needs_transcoding(encoding):
        files = [f._replace(path=transcode_to_utf8(f.path, f.rel, encoding, tmp_dir)) for f in files]
        duck_encoding = "utf-8"
    else:
        duck_encoding = DUCKDB_ENCODINGS[encoding]
    stage_lines(con, files, duck_encoding)
    return files, duck_encoding


def read_tagged(
    con: duckdb.DuckDBPyConnection, name: str, files: list[ReadFile], reader: str, columns: str
) -> None:
    """Temp table <name>(_f, <columns>) from ONE multi-file read, and <name>_first(_f, _first, _n).

    Why one read: DuckDB decompresses and parses the files of a multi-file scan on all
    threads, where a UNION ALL of one scan per file ran on one core. Why no window: with
    insertion order preserved, a file's rows are contiguous in the table, in file order,
    so row k of a file is `rowid - _first + 1`. `_f` comes from the file name by a CASE
    that DuckDB evaluates once per chunk (the name is constant within one). `reader` is a
    read_csv call with one `?` for the path list and `filename=true`.
    """
    case = "CASE filename " + " ".join(f"WHEN {path_literal(f.path)} THEN {int(f.f)}" for f in files) + " END"
    paths = "[" + ", ".join(path_literal(f.path) for f in files) + "]"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT ({case})::INTEGER AS _f, {columns} "
        f"FROM {reader.replace('?', paths)}"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {name}_first AS
        SELECT _f, min(rowid) AS _first, max(rowid) AS _last, count(*) AS _n FROM {name} GROUP BY _f"""
    )
    bad = con.execute(
        f"SELECT count(*) FROM {name}_first WHERE _f IS NULL OR _last - _first + 1 <> _n"
    ).fetchone()
    if bad and bad[0]:  # pragma: no cover - a DuckDB change would break the numbering: fail loudly
        raise IngestError(f"{files[0].rel}: the reader did not keep each file's rows together in order")


def stage_lines(con: duckdb.DuckDBPyConnection, files: list[ReadFile], encoding: str = "utf-8") -> None:
    """View _lines(_f, _line_number, line): every physical line of every file.

    Lines are numbered from 1 per file (see read_tagged). A blank line gives line NULL.
    """
    reader = lines_reader(encoding)
    try:
        read_tagged(
            con,
            "_lines_raw",
            files,
            reader.replace("strict_mode=false)", "strict_mode=false, filename=true)"),
            "line",
        )
    except duckdb.Error as exc:
        raise locate_unreadable(files, reader, exc) from exc
    con.execute(
        """CREATE OR REPLACE TEMP VIEW _lines AS
        SELECT r._f, r.rowid - p._first + 1 AS _line_number, r.line FROM _lines_raw r JOIN _lines_raw_first p USING (_f)"""
    )
