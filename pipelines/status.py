"""`c360 status`: what is published, what the last run did, and whether they disagree.

Two sources, on purpose: the published version is read from the datamart itself
(meta.publication, written by publish in the same file analysts query), so status can
never claim a version that is not the one being served; the last run's outcome is a small
JSON file written at the end of every run (record_run), because a failed run publishes
nothing and would otherwise leave no trace outside the Dagster instance.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.publish import MANIFEST, current_exports_version
from pipelines.settings import Settings

LAST_RUN_FILE = "last_run.json"


def last_run_path(settings: Settings) -> Path:
    return settings.warehouse_dir / LAST_RUN_FILE


def record_run(
    settings: Settings,
    run_id: str,
    success: bool,
    reason: str | None = None,
    failed_steps: Sequence[str] = (),
) -> Path:
    """Write data/warehouse/last_run.json atomically (temp file + os.replace), so status never reads half a file."""
    path = last_run_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "run_id": run_id,
        "success": bool(success),
        "reason": reason,
        "failed_steps": list(failed_steps),
        "finished_at": datetime.now(UTC).isoformat(),
    }
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def _read_published(datamart: Path) -> dict[str, Any] | None:
    if not datamart.exists():
        return None
    con = duckdb.connect(str(datamart), read_only=True)
    try:
        row = con.execute(
            "select run_id, published_at, checks_passed, tables, total_rows from meta.publication"
        ).fetchone()
        tables = con.execute(
            "select table_name, row_count from meta.publication_tables order by table_name"
        ).fetchall()
    except duckdb.CatalogException:
        return {"error": f"{datamart} has no meta.publication table (not written by publish)"}
    finally:
        con.close()
    if row is None:
        return {"error": f"{datamart} has an empty meta.publication table"}
    run_id, published_at, checks, n_tables, total_rows = row
    return {
        "run_id": run_id,
        "published_at": published_at.astimezone(UTC).isoformat(),
        "checks_passed": len(checks or []),
        "tables": n_tables,
        "total_rows": int(total_rows),
        "row_counts": {name: int(rows) for name, rows in tables},
    }


def _read_exports(settings: Settings) -> dict[str, Any] | None:
    version = current_exports_version(settings)
    if version is None:
        return None
    manifest_path = version / MANIFEST
    info: dict[str, Any] = {"path": str(settings.exports_dir), "version_dir": str(version)}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        info["run_id"] = manifest.get("run_id")
        info["published_at"] = manifest.get("published_at")
        info["tables"] = len(manifest.get("tables", {}))
    return info


def read_status(settings: Settings) -> dict[str, Any]:
    """Published version, exports version, last run, and whether the published data is behind the last run."""
    published = _read_published(settings.datamart_db)
    exports = _read_exports(settings)
    last_run: dict[str, Any] | None = None
    path = last_run_path(settings)
    if path.exists():
        last_run = json.loads(path.read_text())
    published_run = published.get("run_id") if published else None
    stale = bool(last_run and last_run.get("run_id") != published_run)
    return {
        "datamart": str(settings.datamart_db),
        "published": published,
        "exports": exports,
        "last_run": last_run,
        # The last run did not publish (it failed, or published nothing): analysts see older data.
        "published_is_older_than_last_run": stale,
        "exports_match_datamart": bool(published and exports and exports.get("run_id") == published_run),
    }


def format_status(status: dict[str, Any]) -> str:
    """Plain text for the terminal: a few lines, the failure reason in full."""
    lines: list[str] = []
    published = status.get("published")
    if published is None:
        lines.append(f"published: nothing yet ({status.get('datamart')} does not exist)")
    elif "error" in published:
        lines.append(f"published: unreadable: {published['error']}")
    else:
        lines.append(
            f"published: run {published['run_id']} at {published['published_at']}, "
            f"{published['tables']} tables, {published['total_rows']:,} rows, "
            f"{published['checks_passed']} checks passed"
        )
        for name, rows in published["row_counts"].items():
            lines.append(f"  {name:<28} {rows:>12,}")
    exports = status.get("exports")
    if exports:
        match = "" if status.get("exports_match_datamart") else "  (does NOT match the datamart version)"
        lines.append(f"exports:   {exports['path']} -> {exports['version_dir']}{match}")
    else:
        lines.append("exports:   nothing yet")
    last = status.get("last_run")
    if last is None:
        lines.append("last run:  none recorded")
    else:
        outcome = "succeeded" if last.get("success") else "FAILED"
        lines.append(f"last run:  {last.get('run_id')} {outcome} at {last.get('finished_at')}")
        if not last.get("success"):
            if last.get("failed_steps"):
                lines.append(f"  failed steps: {', '.join(last['failed_steps'])}")
            if last.get("reason"):
                lines.append(f"  reason: {last['reason']}")
    if status.get("published_is_older_than_last_run"):
        lines.append("note: the published datamart is from an earlier run than the last run")
    return "\n".join(lines)
