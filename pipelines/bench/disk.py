"""Free disk before the bench's pipeline runs: a tier L bench used to fail an hour in.

The need scales with the tier's inbox. Measured at tier L (2026-12-05): a full build's run
directory (warehouse, datamart, exports) took 26 GB beside a 19 GB inbox, and the restated
day's SCD2 re-derivation spilled ~15 GB more at its peak. The inbox itself is already on disk
and the run directories hard-link it, so only what a run writes counts; run directories of an
earlier bench are removed before their runs, so the space they hold beyond their links is
counted as free.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from pipelines.bench.proctree import dir_bytes

# Run directory of one warehouse built over the inbox, per byte of inbox (26 GB / 19 GB).
WAREHOUSE_PER_INBOX_BYTE = 1.4
# DuckDB spill at the peak of a run, per byte of inbox (~15 GB / 19 GB).
SPILL_PER_INBOX_BYTE = 0.8


def owned_bytes(root: Path) -> int:
    """Bytes under root that deleting it would free: files with no other hard link."""
    total = 0
    if not root.exists():
        return 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except FileNotFoundError:
                continue
            if st.st_nlink == 1:
                total += st.st_blocks * 512
    return total


@dataclass(frozen=True)
class DiskCheck:
    path: Path
    free_bytes: int
    reclaimed_bytes: int
    inbox_bytes: int
    warehouses: int
    need_bytes: int

    @property
    def available_bytes(self) -> int:
        return self.free_bytes + self.reclaimed_bytes

    @property
    def enough(self) -> bool:
        return self.available_bytes >= self.need_bytes

    def describe(self) -> str:
        gib = 1024**3
        return (
            f"{self.need_bytes / gib:.1f} GiB needed on {self.path} ({self.warehouses} warehouse(s) at "
            f"{WAREHOUSE_PER_INBOX_BYTE} × the {self.inbox_bytes / gib:.1f} GiB inbox, spill at "
            f"{SPILL_PER_INBOX_BYTE} ×), {self.available_bytes / gib:.1f} GiB available "
            f"({self.free_bytes / gib:.1f} free + {self.reclaimed_bytes / gib:.1f} held by earlier bench runs)"
        )

    def as_dict(self) -> dict[str, int | str | bool]:
        return {**asdict(self), "path": str(self.path), "enough": self.enough}


def check_disk(inbox: Path, data_dir: Path, warehouses: int, replaced: Iterable[Path]) -> DiskCheck:
    """What the bench's runs will write against what the disk holds free.

    warehouses: run directories the bench builds (a full build; a history for a new day).
    replaced: run directories of an earlier bench that the coming runs delete first.
    """
    # by size, not by owned_bytes(): earlier run directories hard-link the inbox's files
    inbox_bytes = dir_bytes(inbox)
    need = int(inbox_bytes * (warehouses * WAREHOUSE_PER_INBOX_BYTE + SPILL_PER_INBOX_BYTE))
    data_dir.mkdir(parents=True, exist_ok=True)
    return DiskCheck(
        path=data_dir,
        free_bytes=shutil.disk_usage(data_dir).free,
        reclaimed_bytes=sum(owned_bytes(p) for p in replaced),
        inbox_bytes=inbox_bytes,
        warehouses=warehouses,
        need_bytes=need,
    )
