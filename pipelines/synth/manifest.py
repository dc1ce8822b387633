"""`_manifest.json`: the ground truth tests reconcile ingest and quarantine against.

Per file: its raw table and data-row count. Per (raw table, reason): the planted count,
in total and per file. Plus late events and, per raw table: rows written, `totals` (valid
rows: written minus every planted defect) and `expected_raw` (written minus the rejected
ones: a nullified bad email still loads).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

# Defects the contracts repair instead of rejecting (crm.yml: email rule `on_fail: nullify`):
# those rows still reach raw, with the field set to NULL.
NULLIFIED = {("crm_customers", "invalid_email")}


class Manifest:
    """Collects file and defect counts as the writers go; dumps them sorted (stable bytes)."""

    def __init__(self) -> None:
        self.files: dict[str, dict] = {}
        self.defects: dict[tuple[str, str], Counter] = {}
        self.late_events = 0
        self.late_by_file: Counter = Counter()

    def file(self, rel: str, table: str, rows: int) -> None:
        self.files[rel] = {"table": table, "rows": int(rows)}

    def defect(self, table: str, reason: str, rel: str, n: int) -> None:
        if n:
            self.defects.setdefault((table, reason), Counter())[rel] += int(n)

    def defects_in(self, table: str, rel: str, reasons: list[tuple[str, int]]) -> None:
        for reason, n in reasons:
            if reason:
                self.defect(table, reason, rel, n)

    def rows_by_table(self) -> dict[str, int]:
        rows: Counter = Counter()
        for info in self.files.values():
            rows[info["table"]] += info["rows"]
        return dict(sorted(rows.items()))

    def to_json(self, head: dict) -> dict:
        rows = self.rows_by_table()
        bad: Counter = Counter()
        rejected: Counter = Counter()
        for (table, reason), by_file in self.defects.items():
            bad[table] += sum(by_file.values())
            if (table, reason) not in NULLIFIED:
                rejected[table] += sum(by_file.values())
        return {
            **head,
            "files": dict(sorted(self.files.items())),
            "defects": [
                {"table": t, "reason": r, "count": sum(c.values()), "by_file": dict(sorted(c.items()))}
                for (t, r), c in sorted(self.defects.items())
            ],
            "late_events": self.late_events,
            "late_events_by_file": dict(sorted(self.late_by_file.items())),
            "rows_written": rows,
            "totals": {t: n - bad[t] for t, n in rows.items()},
            "expected_raw": {t: n - rejected[t] for t, n in rows.items()},
        }

    def write(self, path: Path, head: dict) -> dict:
        data = self.to_json(head)
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        return data
