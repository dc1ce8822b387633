"""What the figures were measured on: hardware, versions and how busy the machine was.

Timings mean nothing without the machine; the load average at the start says whether
other work shared the cores (the figure is then labelled contended in BENCHMARKS.md).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb
import psutil

# A 1-minute load average above this share of the cores means someone else was running.
CONTENDED_LOAD_PER_CORE = 0.5


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


def is_contended(cores: int, *loads: float) -> bool:
    """True when any 1-minute load average taken during the bench exceeds the threshold."""
    return bool(cores) and max(loads, default=0.0) > CONTENDED_LOAD_PER_CORE * cores
