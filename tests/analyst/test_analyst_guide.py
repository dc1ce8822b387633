"""docs/analyst-guide.md: generated, current, true to the published marts, and every SQL block runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.analyst.guide import GUIDE_PATH, load_mart_docs, main, render_guide
from pipelines.analyst.queries import load_queries
from pipelines.cli import main as cli_main
from pipelines.settings import TIERS, Settings

Rows = list[tuple[Any, ...]]
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.DOTALL)


def test_committed_guide_equals_the_generator_output() -> None:
    assert GUIDE_PATH.read_text(encoding="utf-8") == render_guide(Settings()), (
        "docs/analyst-guide.md is stale: run `.venv/bin/python -m pipelines.analyst.guide`"
    )


def test_check_mode_fails_on_a_stale_guide_and_passes_once_written(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text("hand-edited\n")
    assert main(Settings(), check=True, path=path) == 1
    assert main(Settings(), path=path) == 0
    assert main(Settings(), check=True, path=path) == 0
    assert path.read_text() == render_guide(Settings())
    assert cli_main(["docs", "--check"]) == 0, "`c360 docs --check` agrees on the committed guide"


def test_guide_documents_exactly_the_published_tables_and_columns(tier_s, mart) -> None:
    docs = {t.name: [c.name for c in t.columns] for t in load_mart_docs(Settings())}
    published = {
        table: [
            r[0]
            for r in mart.rows(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' "
                "AND table_name = ? ORDER BY ordinal_position",
                [table],
            )
        ]
        for (table,) in mart.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
        )
    }
    assert sorted(docs) == sorted(published)
    for table, columns in published.items():
        assert docs[table] == columns, f"{table}: YAML columns differ from the datamart"
    guide = GUIDE_PATH.read_text()
    for table in published:
        assert f"### `marts.{table}`" in guide
    assert "Grain: one row per (customer_id, as_of_date)." in guide  # rfm_segments, from its test


# ---- every SQL block of the guide, against tier S --------------------------------------


def _col(columns: list[str], rows: Rows, name: str) -> list[Any]:
    i = columns.index(name)
    return [r[i] for r in rows]


def _share_sum(values: list[Any]) -> float:
    return float(sum(Decimal(str(v)) for v in values))


def check_publication(cols: list[str], rows: Rows, mart) -> None:
    assert cols == ["run_id", "published_at", "tables", "total_rows"]
    assert len(rows) == 1 and rows[0][2] == mart.scalar("SELECT count(*) FROM meta.publication_tables")


def check_best_customers(cols: list[str], rows: Rows, mart) -> None:
    assert len(rows) == 20
    revenue = _col(cols, rows, "net_revenue")
    assert revenue == sorted(revenue, reverse=True)
    assert revenue[0] == mart.scalar("SELECT max(net_revenue) FROM marts.customer_360")
    assert set(_col(cols, rows, "value_tier")) == {"A"}, "the top 20 are all in value tier A"


def check_about_to_churn(cols: list[str], rows: Rows, mart) -> None:
    assert rows
    at_risk = {"At Risk", "Can't Lose Them", "About to Sleep"}
    expected = mart.scalar(
        "SELECT count(*) FROM marts.customer_360 WHERE rfm_segment IN ('At Risk', 'Can''t Lose Them', 'About to Sleep') "
        "OR customer_id IN (SELECT customer_id FROM marts.behavior_alerts)"
    )
    assert len(rows) == expected
    for segment, signal in zip(
        _col(cols, rows, "rfm_segment"), _col(cols, rows, "churn_signal"), strict=True
    ):
        assert segment in at_risk or signal in {"web drop", "purchase gap", "purchase gap + web drop"}


def check_segment_migration(cols: list[str], rows: Rows, mart) -> None:
    assert cols == ["movement", "from_segment", "to_segment", "customers"]
    expected = mart.scalar(
        "SELECT count(*) FROM marts.rfm_migration WHERE as_of_date >= "
        "(SELECT date_trunc('month', max(as_of_date)) FROM marts.rfm_migration)"
    )
    assert expected > 0 and sum(_col(cols, rows, "customers")) == expected


def check_campaign_conversion(cols: list[str], rows: Rows, mart) -> None:
    sessions = mart.scalar("SELECT count(*) FROM marts.fct_sessions WHERE source = 'clickstream'")
    assert sum(_col(cols, rows, "sessions")) == sessions > 0
    assert all(0 <= r <= 1 for r in _col(cols, rows, "conversion_rate"))
    assert len(rows) >= 2, "campaign traffic and traffic without a campaign"


def check_revenue_by_channel(cols: list[str], rows: Rows, mart) -> None:
    assert sum(_col(cols, rows, "net_revenue")) == mart.scalar("SELECT sum(net_amount) FROM marts.fct_orders")
    assert set(_col(cols, rows, "channel")) <= {"web", "store", "call_center", "mobile_app", "(unknown)"}
    assert abs(_share_sum(_col(cols, rows, "revenue_share")) - 1) < 0.001


def check_pareto_share(cols: list[str], rows: Rows, mart) -> None:
    assert len(rows) == 1
    row = dict(zip(cols, rows[0], strict=True))
    assert row["paying_customers"] == mart.scalar(
        "SELECT count(*) FROM marts.customer_360 WHERE net_revenue > 0"
    )
    assert 0.2 <= row["top_20pct_revenue_share"] <= 1, "the top 20% make at least 20% of revenue"
    assert 0 < row["tier_a_customer_share"] < 1
    assert row["tier_a_customers"] == mart.scalar(
        "SELECT count(*) FROM marts.customer_360 WHERE value_tier = 'A'"
    )


def check_segment_sizes(cols: list[str], rows: Rows, mart) -> None:
    buyers = mart.scalar("SELECT count(*) FROM marts.customer_360 WHERE orders_completed > 0")
    assert sum(_col(cols, rows, "customers")) == buyers > 0, "segments partition the customers with orders"
    assert sum(_col(cols, rows, "net_revenue")) == mart.scalar(
        "SELECT sum(net_revenue) FROM marts.customer_360"
    )
    assert abs(_share_sum(_col(cols, rows, "customer_share")) - 1) < 0.001
    assert abs(_share_sum(_col(cols, rows, "revenue_share")) - 1) < 0.001


def check_rfm_heatmap(cols: list[str], rows: Rows, mart) -> None:
    assert len(rows) == 25
    assert {
        (r, f) for r, f in zip(_col(cols, rows, "r_score"), _col(cols, rows, "f_score"), strict=True)
    } == {(r, f) for r in range(1, 6) for f in range(1, 6)}
    assert sum(_col(cols, rows, "customers")) == mart.scalar(
        "SELECT count(*) FROM marts.rfm_segments WHERE as_of_date = (SELECT max(as_of_date) FROM marts.rfm_segments)"
    )
    grid = dict(
        ((r, f), s) for r, f, s in mart.rows("SELECT r_score, f_score, segment FROM marts.rfm_segment_map")
    )
    for r, f, n, segment in zip(
        *(_col(cols, rows, c) for c in ("r_score", "f_score", "customers", "segment")), strict=True
    ):
        assert n == 0 or segment == grid[(r, f)]


def check_consent_audiences(cols: list[str], rows: Rows, mart) -> None:
    by_audience = {
        a: (e, s)
        for a, e, s in zip(
            *(_col(cols, rows, c) for c in ("audience", "email_reachable", "sms_reachable")), strict=True
        )
    }
    for segment, email, sms in mart.rows(
        "SELECT rfm_segment, count(*) FILTER (WHERE is_email_contactable), count(*) FILTER (WHERE is_sms_contactable) "
        "FROM marts.customer_360 WHERE rfm_segment IS NOT NULL GROUP BY 1"
    ):
        assert by_audience.get(f"rfm: {segment}", (0, 0)) == (email, sms), segment
    assert any(a.startswith("rfm: ") for a in by_audience)


def check_repeat_purchase_rate(cols: list[str], rows: Rows, mart) -> None:
    total = rows[-1] if rows[-1][0] == "(all)" else None
    assert total is not None, "the overall row comes last"
    buyers = mart.scalar("SELECT count(*) FROM marts.customer_360 WHERE orders_completed >= 1")
    repeat = mart.scalar("SELECT count(*) FROM marts.customer_360 WHERE orders_completed >= 2")
    assert total[1:3] == (buyers, repeat)
    assert sum(r[1] for r in rows[:-1]) == buyers
    assert all(0 <= r <= 1 for r in _col(cols, rows, "repeat_purchase_rate"))


def check_web_funnel(cols: list[str], rows: Rows, mart) -> None:
    assert sum(_col(cols, rows, "sessions")) == mart.scalar(
        "SELECT count(*) FROM marts.fct_sessions WHERE source = 'clickstream'"
    )
    for row in rows:
        d = dict(zip(cols, row, strict=True))
        assert d["sessions"] >= max(
            d["viewed"], d["product_view"], d["add_to_cart"], d["checkout"], d["purchase"]
        )
        assert 0 <= d["conversion_rate"] <= 1


def check_bot_share(cols: list[str], rows: Rows, mart) -> None:
    assert sum(_col(cols, rows, "hits")) == mart.scalar("SELECT sum(hits) FROM marts.web_traffic_daily") > 0
    assert all(0 < s < 1 for s in _col(cols, rows, "bot_share")), "the logs hold some bots, not only bots"


def check_lifecycle_stages(cols: list[str], rows: Rows, mart) -> None:
    assert sum(_col(cols, rows, "customers")) == TIERS["S"].customers
    assert set(_col(cols, rows, "lifecycle_stage")) <= {
        "prospect",
        "new",
        "active",
        "at risk",
        "inactive",
        "lost",
        "won back",
    }


def check_category_revenue(cols: list[str], rows: Rows, mart) -> None:
    assert sum(_col(cols, rows, "net_revenue")) == mart.scalar(
        "SELECT sum(net_line_amount) FROM marts.fct_order_lines"
    )
    assert len(rows) > 1 and abs(_share_sum(_col(cols, rows, "revenue_share")) - 1) < 0.001


CHECKS: dict[str, Callable[[list[str], Rows, Any], None]] = {
    "publication": check_publication,
    "01_best_customers": check_best_customers,
    "02_about_to_churn": check_about_to_churn,
    "03_segment_migration": check_segment_migration,
    "04_campaign_conversion": check_campaign_conversion,
    "05_revenue_by_channel": check_revenue_by_channel,
    "06_pareto_share": check_pareto_share,
    "07_segment_sizes": check_segment_sizes,
    "08_rfm_heatmap": check_rfm_heatmap,
    "09_consent_audiences": check_consent_audiences,
    "10_repeat_purchase_rate": check_repeat_purchase_rate,
    "11_web_funnel_by_campaign": check_web_funnel,
    "12_bot_share": check_bot_share,
    "13_lifecycle_stages": check_lifecycle_stages,
    "14_category_revenue": check_category_revenue,
}


def _guide_blocks() -> list[tuple[str, str]]:
    """(check name, sql) for every ```sql block of the committed guide."""
    by_sql = {q.sql + ";": q.name for q in load_queries()}
    blocks = []
    for sql in SQL_BLOCK.findall(GUIDE_PATH.read_text()):
        sql = sql.strip()
        blocks.append((by_sql.get(sql, "publication" if "meta.publication" in sql else "?"), sql))
    return blocks


def test_every_sql_block_has_a_check() -> None:
    names = [name for name, _ in _guide_blocks()]
    assert len(names) == len(load_queries()) + 1
    assert sorted(names) == sorted(CHECKS), "a query was added without an assertion here (or vice versa)"


@pytest.mark.slow
@pytest.mark.parametrize(("name", "sql"), _guide_blocks(), ids=[n for n, _ in _guide_blocks()])
def test_guide_sql_runs_on_tier_s(name: str, sql: str, tier_s, mart) -> None:
    with duckdb.connect(str(tier_s.settings.datamart_db), read_only=True) as con:
        result = con.execute(sql)
        columns = [d[0] for d in result.description]
        rows = result.fetchall()
    CHECKS[name](columns, rows, mart)
