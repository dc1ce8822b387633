"""`c360 status`: published version from the datamart itself, last run from last_run.json."""

from __future__ import annotations

import json

from pipelines.publish import publish
from pipelines.settings import Settings
from pipelines.status import format_status, last_run_path, read_status, record_run


def test_status_before_anything(settings: Settings) -> None:
    status = read_status(settings)
    assert status["published"] is None
    assert status["exports"] is None
    assert status["last_run"] is None
    assert status["published_is_older_than_last_run"] is False
    assert format_status(status).splitlines() == [
        f"published: nothing yet ({settings.datamart_db} does not exist)",
        "exports:   nothing yet",
        "last run:  none recorded",
    ]


def test_status_after_a_good_then_a_failed_run(settings: Settings) -> None:
    result = publish(settings, "run-good", ["a:1", "b:2"])
    record_run(settings, "run-good", True)
    status = read_status(settings)
    assert status["published"] == {
        "run_id": "run-good",
        "published_at": result.published_at.isoformat(),
        "checks_passed": 2,
        "tables": 5,
        "total_rows": 200 + 100 + 0 + 1_000 + 3_000,
        "row_counts": {
            "audiences": 100,
            "customer_360": 200,
            "dim_empty": 0,
            "fct_orders": 1_000,
            "fct_page_views": 3_000,
        },
    }
    assert status["exports"]["run_id"] == "run-good"
    assert status["exports"]["version_dir"] == str(result.exports_version_dir)
    assert status["exports_match_datamart"] is True
    assert status["last_run"]["success"] is True
    assert status["published_is_older_than_last_run"] is False
    assert "note:" not in format_status(status)

    record_run(settings, "run-bad", False, "check marts/fct_orders:not_null failed", ["dbt_build"])
    assert json.loads(last_run_path(settings).read_text())["failed_steps"] == ["dbt_build"]
    status = read_status(settings)
    assert status["published"]["run_id"] == "run-good"
    assert status["published_is_older_than_last_run"] is True
    text = format_status(status).splitlines()
    assert text[0] == (
        f"published: run run-good at {result.published_at.isoformat()}, 5 tables, 4,300 rows, 2 checks passed"
    )
    assert text[1].split() == ["audiences", "100"]
    assert text[-4].startswith("last run:  run-bad FAILED at ")
    assert text[-3:] == [
        "  failed steps: dbt_build",
        "  reason: check marts/fct_orders:not_null failed",
        "note: the published datamart is from an earlier run than the last run",
    ]
    assert list(settings.warehouse_dir.glob(".last_run.json.tmp-*")) == []
