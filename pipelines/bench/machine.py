"""What the figures were measured on: hardware, versions and how busy the machine was.

Timings mean nothing without the machine. Whether other work shared the cores is measured
as the CPU time the rest of the machine used while the bench ran (system busy time minus
the bench's own process tree), not from the load average: the bench's own load stays in
the 1-minute average after it stops and made every run look contended.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb
import psutil

# Other processes using more than this share of the machine's CPU time during the bench
# mean the figures are pessimistic (labelled contended in BENCHMARKS.md).
CONTENDED_FOREIGN_CPU_SHARE = 0.15


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def goaccess_version() -> str | None:
    """`goaccess --version`'s first line, or None when it is not installed."""
    exe = shutil.which("goaccess")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout
    first = out.strip().splitlines()[0] if out.strip() else "goaccess"
    return first.replace("GoAccess - ", "").strip().rstrip(".")


def load_average() -> tuple[float, float, float]:
    return tuple(round(x, 2) for x in os.getloadavg())  # type: ignore[return-value]


def machine_info() -> dict[str, object]:
    return {
        "cores": os.cpu_count() or 0,
        "cpu_model": _cpu_model(),
        "memory_bytes": psutil.virtual_memory().total,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dagster": _package_version("dagster"),
        "dbt_core": _package_version("dbt-core"),
        "dbt_duckdb": _package_version("dbt-duckdb"),
        "goaccess": goaccess_version(),
        "load_average_at_start": list(load_average()),
    }


class ForeignCpuMeter:
    """CPU seconds used by everything but this process tree between start and `share()`."""

    def __init__(self) -> None:
        self._start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float]:
        system = psutil.cpu_times()
        busy = sum(system) - system.idle - getattr(system, "iowait", 0.0)
        own = psutil.Process().cpu_times()
        mine = own.user + own.system + own.children_user + own.children_system
        return time.monotonic(), busy, mine

    def share(self) -> dict[str, float]:
        """Foreign CPU seconds and their share of the machine's capacity over the interval."""
        wall0, busy0, mine0 = self._start
        wall1, busy1, mine1 = self._sample()
        foreign = max(0.0, (busy1 - busy0) - (mine1 - mine0))
        capacity = max(wall1 - wall0, 1e-9) * (os.cpu_count() or 1)
        return {"foreign_cpu_seconds": round(foreign, 1), "foreign_cpu_share": round(foreign / capacity, 3)}


def is_contended(foreign_cpu_share: float) -> bool:
    return foreign_cpu_share > CONTENDED_FOREIGN_CPU_SHARE
