"""dbt's console output on `c360 run`: a few progress lines, never its colour codes."""

from __future__ import annotations

import io

from pipelines.runner import DbtOutputFilter

DBT_OUTPUT = (
    "Running with dbt=1.11.16\n"
    "Found 3 models, 2 data tests\n"
    "1 of 5 START sql view model staging.a ......... [RUN]\n"
    "1 of 5 OK created sql view model staging.a .... [\x1b[32mOK\x1b[0m in 0.07s]\n"
    "2 of 5 PASS not_null_a_id ..................... [\x1b[32mPASS\x1b[0m in 0.01s]\n"
    "3 of 5 FAIL 1 unique_a_id ..................... [\x1b[31mFAIL 1\x1b[0m in 0.02s]\n"
    "4 of 5 SKIP relation marts.b .................. [\x1b[33mSKIP\x1b[0m]\n"
    "5 of 5 OK created sql table model marts.c ..... [OK in 0.10s]\n"
    "Finished running 3 view models, 2 data tests in 0 hours 0 minutes and 1.23 seconds (1.23s).\n"
    "Completed with 1 error, 0 partial successes, and 0 warnings:\n"
    "Failure in test unique_a_id (models/staging/_staging.yml)\n"
    "  Got 1 result, configured to fail if != 0\n"
    "Done. PASS=3 WARN=0 ERROR=1 SKIP=1 NO-OP=0 TOTAL=5\n"
)


def test_dbt_output_becomes_progress_failures_and_the_summary() -> None:
    progress: list[str] = []
    verbatim = io.StringIO()
    out = DbtOutputFilter(progress.append, verbatim=verbatim, every=2)
    # dagster-dbt writes line by line; a write may also end mid-line.
    for start in range(0, len(DBT_OUTPUT), 37):
        out.write(DBT_OUTPUT[start : start + 37])
    assert progress == [
        "dbt: 2/5 nodes done",  # every 2nd finished node; node 1 and the START lines say nothing
        "dbt: 3 of 5 FAIL 1 unique_a_id ..................... [FAIL 1 in 0.02s]",
        "dbt: 4 of 5 SKIP relation marts.b .................. [SKIP]",
        "dbt: 5/5 nodes done",
        "dbt: Completed with 1 error, 0 partial successes, and 0 warnings:",
        "dbt: Failure in test unique_a_id (models/staging/_staging.yml)",
        "dbt: Done. PASS=3 WARN=0 ERROR=1 SKIP=1 NO-OP=0 TOTAL=5",
    ]
    # dbt's own timing line, unchanged: the bench reads it from the run's output
    assert verbatim.getvalue() == (
        "Finished running 3 view models, 2 data tests in 0 hours 0 minutes and 1.23 seconds (1.23s).\n"
    )
