"""The whole job on the line-level transactions contract (profiles/line_items) gives RFM segments.

C360_CONTRACTS_DIR points at `pipelines/contracts/profiles/line_items`, which holds only the
CRM contract: no clickstream, no web logs. Two delivery days, hand-made:

2025-09-01  536365   17850  6 x 2.55 + 6 x 3.39 = 35.64   completed
            536366   13047  10 x 1.50           = 15.00   completed
            C536367  13047  -2 x 1.50           = -3.00   credit note: 'returned', net -3.00
2025-09-03  536370   17850  4 x 2.55            = 10.20   completed
            536371   12583  3 x 10.00 + 1 x 5.25 = 35.25   completed

Computed by hand, as of 2025-09-03 (the last loaded order day):
customers 12583, 13047, 17850; orders 5 (4 completed, 1 credit note); net revenue = completed minus
returned = 35.64 + 15.00 + 10.20 + 35.25 - 3.00 = 93.09.
  17850: recency 0, frequency 2, monetary 35.64 + 10.20 = 45.84
  13047: recency 2, frequency 1, monetary 15.00 - 3.00 = 12.00 (the credit note is subtracted)
  12583: recency 0, frequency 1, monetary 35.25
Scores (rfm_score macro, 3 buyers): equal values share a score, the best value scores 5, the worst
1, a value in between 1 + floor(5 * (2*rank - 2 + k) / (2*3)) (rank from the worst side, k ties):
  r: 13047 (2 days) worst -> 1; 17850 and 12583 (0 days, bought on the last day) best -> 5
  f: 13047 and 12583 (1 order) worst -> 1; 17850 (2) best -> 5
  m: 13047 (12.00) worst -> 1; 12583 (35.25) rank 2: 1 + floor(5 * 3 / 6) = 3; 17850 (45.84) best -> 5
Segments from the seed grid on (r, f): 17850 (5,5) Champions, 13047 (1,1) Hibernating,
12583 (5,1) New Customers. (With ntile and a customer_id tie-break, 17850, who bought on the last
day, most often and for most money, came out r 2 / f 3, "At Risk".)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from pipelines.runner import run_pipeline
from pipelines.settings import PACKAGE_DIR, Settings

PROFILE_DIR = PACKAGE_DIR / "contracts" / "profiles" / "line_items"
HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
DAYS = {
    "2025-09-01": [
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2025-09-01 08:26:00,2.55,17850,United Kingdom",
        "536365,71053,WHITE METAL LANTERN,6,2025-09-01 08:26:00,3.39,17850,United Kingdom",
        "536366,22633,HAND WARMER UNION JACK,10,2025-09-01 09:02:00,1.50,13047,France",
        "C536367,22633,HAND WARMER UNION JACK,-2,2025-09-01 11:15:00,1.50,13047,France",
    ],
    "2025-09-03": [
        "536370,85123A,WHITE HANGING HEART T-LIGHT HOLDER,4,2025-09-03 10:00:00,2.55,17850,United Kingdom",
        "536371,84879,ASSORTED COLOUR BIRD ORNAMENT,3,2025-09-03 12:30:00,10.00,12583,France",
        "536371,22745,POPPY'S PLAYHOUSE BEDROOM,1,2025-09-03 12:30:00,5.25,12583,France",
    ],
}


@pytest.fixture(scope="module")
def line_items_run(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("line_items_job")
    settings = replace(
        Settings(data_dir=root / "data", tier="XS", seed=1, duckdb_memory_limit="1GB"),
        contracts_dir=PROFILE_DIR,
    )
    for day, lines in DAYS.items():
        folder = settings.inbox_dir / "crm" / day
        folder.mkdir(parents=True)
        (folder / "transactions.csv").write_text(HEADER + "\n".join(lines) + "\n")
    outcome = run_pipeline(
        settings, date(2025, 9, 1), date(2025, 9, 3), instance=dg.DagsterInstance.ephemeral()
    )
    assert outcome.success, outcome.reason
    return settings


def test_the_job_publishes_customers_orders_and_revenue_from_the_one_file(line_items_run) -> None:
    with duckdb.connect(str(line_items_run.datamart_db), read_only=True) as mart:
        assert mart.execute(
            "SELECT customer_id, orders_completed, net_revenue, rfm_segment FROM marts.customer_360 ORDER BY 1"
        ).fetchall() == [
            ("12583", 1, Decimal("35.25"), "New Customers"),
            ("13047", 1, Decimal("12.00"), "Hibernating"),
            ("17850", 2, Decimal("45.84"), "Champions"),
        ]
        assert mart.execute(
            "SELECT order_id, customer_id, status, net_amount, returned_amount, is_credit_note "
            "FROM marts.fct_orders ORDER BY 1"
        ).fetchall() == [
            ("536365", "17850", "completed", Decimal("35.64"), Decimal("0.00"), False),
            ("536366", "13047", "completed", Decimal("15.00"), Decimal("0.00"), False),
            ("536370", "17850", "completed", Decimal("10.20"), Decimal("0.00"), False),
            ("536371", "12583", "completed", Decimal("35.25"), Decimal("0.00"), False),
            ("C536367", "13047", "returned", Decimal("-3.00"), Decimal("3.00"), True),
        ]
        assert mart.execute("SELECT sum(net_revenue) FROM marts.customer_360").fetchall()[0][0] == Decimal(
            "93.09"
        )
        # No tracker and no web logs in this deployment: empty facts, not a failed build.
        assert mart.execute("SELECT count(*) FROM marts.fct_sessions").fetchall()[0][0] == 0


def test_rfm_segments_computed_by_hand(line_items_run) -> None:
    with duckdb.connect(str(line_items_run.datamart_db), read_only=True) as mart:
        assert mart.execute(
            "SELECT customer_id, as_of_date, recency_days, frequency, monetary, r_score, f_score, m_score, segment "
            "FROM marts.rfm_segments ORDER BY 1"
        ).fetchall() == [
            ("12583", date(2025, 9, 3), 0, 1, Decimal("35.25"), 5, 1, 3, "New Customers"),
            ("13047", date(2025, 9, 3), 2, 1, Decimal("12.00"), 1, 1, 1, "Hibernating"),
            ("17850", date(2025, 9, 3), 0, 2, Decimal("45.84"), 5, 5, 5, "Champions"),
        ]
