"""Run a command and sample the peak memory of its whole process tree.

`c360 run` starts dbt as a child process, so the parent's own peak RSS misses half of
the picture: every sample sums the RSS of the process and all its descendants. The
DuckDB spill directory is sampled too (more slowly): spilling is how a large tier stays
inside `C360_DUCKDB_MEMORY_LIMIT`, and its peak size shows how much it had to.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.1
SPILL_EVERY = 5  # samples between two walks of the spill directory


@dataclass(frozen=True)
class TreeRun:
    returncode: int
    wall_seconds: float
    peak_rss_bytes: int
    peak_spill_bytes: int
    samples: int
    log: Path
    started_at: float = 0.0  # epoch seconds, to place the peak among the run's steps
    peak_at_seconds: float | None = None  # since started_at
    peak_rss_bytes_by_process: dict[str, int] = field(default_factory=dict)


def tree_members(proc: psutil.Process) -> list[tuple[psutil.Process, int]]:
    """A process and its descendants with their RSS; processes that exit mid-walk are left out."""
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []
    out = []
    for member in members:
        try:
            out.append((member, member.memory_info().rss))
        except psutil.Error:
            continue
    return out


def tree_rss(proc: psutil.Process) -> int:
    """RSS of a process and all its descendants; processes that exit mid-walk count as 0."""
    return sum(rss for _, rss in tree_members(proc))


def by_process_name(members: Sequence[tuple[psutil.Process, int]]) -> dict[str, int]:
    """RSS summed per process name (`c360`, `dbt`, ...): which program a peak belongs to."""
    out: dict[str, int] = {}
    for member, rss in members:
        try:
            name = member.name()
        except psutil.Error:
            name = "?"
        out[name] = out.get(name, 0) + rss
    return out


def dir_bytes(path: Path) -> int:
    """Bytes of the files under path (0 when it does not exist, files vanishing mid-walk skipped)."""
    total = 0
    if not path.exists():
        return 0
    for child in path.rglob("*"):
        try:
            if child.is_file():
                total += child.stat().st_size
        except OSError:
            continue
    return total


class _Sampler(threading.Thread):
    def __init__(self, pid: int, spill_dir: Path | None) -> None:
        super().__init__(daemon=True)
        self._proc = psutil.Process(pid)
        self._spill_dir = spill_dir
        self._done = threading.Event()
        self.peak_rss = 0
        self.peak_at: float | None = None
        self.peak_by_process: dict[str, int] = {}
        self.peak_spill = 0
        self.samples = 0
        self._t0 = time.perf_counter()

    def run(self) -> None:
        while not self._done.is_set():
            members = tree_members(self._proc)
            total = sum(rss for _, rss in members)
            if total > self.peak_rss:
                self.peak_rss = total
                self.peak_at = round(time.perf_counter() - self._t0, 1)
                self.peak_by_process = by_process_name(members)
            if self._spill_dir is not None and self.samples % SPILL_EVERY == 0:
                self.peak_spill = max(self.peak_spill, dir_bytes(self._spill_dir))
            self.samples += 1
            self._done.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_sampled(
    argv: Sequence[str], *, env: Mapping[str, str], log: Path, spill_dir: Path | None = None
) -> TreeRun:
    """Run argv to completion (output to `log`), sampling tree RSS every SAMPLE_SECONDS."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        started_at = time.time()
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), env=dict(env), stdout=out, stderr=subprocess.STDOUT)
        try:
            sampler = _Sampler(proc.pid, spill_dir)
        except psutil.NoSuchProcess:  # finished before the first sample
            proc.wait()
            return TreeRun(proc.returncode, time.perf_counter() - started, 0, 0, 0, log, started_at)
        sampler.start()
        try:
            returncode = proc.wait()
        finally:
            sampler.stop()
        wall = time.perf_counter() - started
    return TreeRun(
        returncode,
        round(wall, 3),
        sampler.peak_rss,
        sampler.peak_spill,
        sampler.samples,
        log,
        started_at,
        sampler.peak_at,
        sampler.peak_by_process,
    )


def log_tail(log: Path, lines: int = 15) -> str:
    """The last meaningful lines of a child's output (nanobind leak chatter dropped)."""
    text = log.read_text(errors="replace").splitlines() if log.exists() else []
    kept = [line for line in text if "leaked" not in line and "nanobind" not in line and line.strip()]
    return "\n".join(kept[-lines:])
