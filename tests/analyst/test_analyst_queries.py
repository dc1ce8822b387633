"""The query library as data: every file parses, has a real question and runs on tier S."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.analyst.queries import QUERIES_DIR, get_query, load_queries, parse_query


def test_library_holds_a_dozen_numbered_questions_with_headers() -> None:
    queries = load_queries()
    assert len(queries) >= 12
    numbers = [int(q.name[:2]) for q in queries]
    assert numbers == list(range(1, len(queries) + 1)), "files are numbered 01, 02, ... without gaps"
    assert len({q.title for q in queries}) == len(queries)
    for query in queries:
        assert query.title.endswith("?"), query.name
        assert len(query.description) > 30, query.name
        assert not query.sql.startswith("--") and not query.sql.endswith(";"), query.name
        assert "marts." in query.sql, f"{query.name} names its tables with the schema"
    assert {"best_customers", "about_to_churn", "segment_migration", "pareto_share"} <= {
        q.name[3:] for q in queries
    }


def test_header_is_required(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="description"):
        parse_query("01_x", "-- title: Why?\nSELECT 1;")
    (tmp_path / "1_bad.sql").write_text("-- title: a?\n-- description: b\nSELECT 1")
    with pytest.raises(ValueError, match="NN_"):
        load_queries(tmp_path)


def test_get_query_by_name_with_or_without_number() -> None:
    assert get_query("pareto_share") == get_query("06_pareto_share")
    assert get_query("pareto_share").sql in (QUERIES_DIR / "06_pareto_share.sql").read_text()
    with pytest.raises(KeyError):
        get_query("no_such_question")
