"""Web logs against a real peer: GoAccess parsing the same access logs.

GoAccess (Debian package `goaccess`) is a C log analyser; parsing the same files with it
says whether our log ingest is slow for what it does. We read .gz directly, so GoAccess
is fed by `gzip -dc` in a pipe and the pair is timed together. Its report goes to a JSON
file in a temporary folder (GoAccess picks the format from the extension), of which
only the request counts are kept, as a check that it parsed what we parsed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from pipelines.bench.scan import table_files
from pipelines.bench.timing import Timing, per_second, ratio, time_runs
from pipelines.ingest.contracts import TableContract

INSTALL_HINT = "install it with `apt-get install -y goaccess` (make bench does when it can)"
GOACCESS_FORMATS = {"combined": "COMBINED", "common": "COMMON"}


@dataclass(frozen=True)
class PeerResult:
    available: bool
    reason: str | None = None
    version: str | None = None
    command: str | None = None
    files: int = 0
    lines: int | None = None
    goaccess_seconds: float | None = None
    goaccess_runs_seconds: tuple[float, ...] = ()
    goaccess_lines_per_second: float | None = None
    goaccess_valid_requests: int | None = None
    goaccess_failed_requests: int | None = None
    ingest_seconds: float | None = None
    ingest_lines_per_second: float | None = None
    ratio_ingest_to_goaccess: float | None = None


def goaccess_argv(log_format: str, report: Path) -> list[str]:
    """GoAccess reading stdin (`-`) in the contract's format, no global config, no progress output."""
    return [
        "goaccess",
        f"--log-format={GOACCESS_FORMATS[log_format]}",
        "--no-global-config",
        "--no-progress",
        "--no-parsing-spinner",
        f"--output={report}",
        "-",
    ]


def _run_pipe(files: Sequence[Path], argv: Sequence[str]) -> None:
    reader = ["gzip", "-dc"] if str(files[0]).endswith(".gz") else ["cat"]
    feed = subprocess.Popen([*reader, *map(str, files)], stdout=subprocess.PIPE)
    try:
        peer = subprocess.run(list(argv), stdin=feed.stdout, capture_output=True, check=False)
    finally:
        assert feed.stdout is not None
        feed.stdout.close()
        feed.wait()
    if peer.returncode != 0:
        raise RuntimeError(
            f"goaccess exited {peer.returncode}: {peer.stderr.decode(errors='replace').strip()}"
        )


def compare_with_goaccess(
    inbox_dir: Path,
    log_tables: Sequence[TableContract],
    *,
    lines: int,
    ingest_seconds: float,
    repeat: int,
    version: str | None,
) -> PeerResult:
    """Median seconds of GoAccess over every log table's files, beside our ingest of them."""
    if shutil.which("goaccess") is None:
        return PeerResult(False, reason=f"goaccess is not installed: {INSTALL_HINT}")
    if not log_tables:
        return PeerResult(False, reason="no contract declares a web-log table")
    formats = {t.log_format for t in log_tables}
    if len(formats) != 1 or not formats <= GOACCESS_FORMATS.keys():
        return PeerResult(False, reason=f"log formats {sorted(formats)}: one of combined/common expected")
    files = [f for t in log_tables for f in table_files(inbox_dir, t)]
    if not files:
        return PeerResult(False, reason=f"no web-log files in {inbox_dir}")
    with tempfile.TemporaryDirectory(prefix="c360-goaccess-") as tmp:
        report = Path(tmp) / "report.json"
        argv = goaccess_argv(formats.pop(), report)
        timing: Timing = time_runs(lambda: _run_pipe(files, argv), repeat)
        general = json.loads(report.read_text()).get("general", {})
    shown = " ".join(a if not a.startswith("--output=") else "--output=report.json" for a in argv)
    return PeerResult(
        available=True,
        version=version,
        command=f"gzip -dc <files> | {shown}",
        files=len(files),
        lines=lines,
        goaccess_seconds=timing.median_seconds,
        goaccess_runs_seconds=timing.runs_seconds,
        goaccess_lines_per_second=per_second(lines, timing.median_seconds),
        goaccess_valid_requests=general.get("valid_requests"),
        goaccess_failed_requests=general.get("failed_requests"),
        ingest_seconds=ingest_seconds,
        ingest_lines_per_second=per_second(lines, ingest_seconds),
        ratio_ingest_to_goaccess=ratio(ingest_seconds, timing.median_seconds),
    )


def as_dict(result: PeerResult) -> dict[str, object]:
    out = asdict(result)
    out["goaccess_runs_seconds"] = list(result.goaccess_runs_seconds)
    return out
