"""dbt datamart over a hand-made raw fixture (tests/fixtures/dbt/raw_small.sql): exact RFM, segments,
lifecycle stages, value tiers and revenue, computed by hand below.

Builds twice in one tmp DuckDB: as of 2025-03-28 (var), then with the default as_of_date (the last
loaded order day, 2025-03-31), so rfm_segments keeps two snapshots and rfm_migration has moves.

Hand computation, as of 2025-03-31 (orders as known that day; O05 was returned on 03-31 so only
completed orders count: C02 keeps O04 only; C06's only order is cancelled => prospect; C07 none):

  cust  completed orders (date: amount)                     last    R(days) F  M
  C01   03-01:100  03-20:50  03-30:30                        03-30     1    3  180.00
  C02   2025-02-01:500  (O05 03-25:200 returned)             02-01    58    1  500.00
  C03   03-31:20                                             03-31     0    1   20.00
  C04   2024-12-15:80  2025-01-10:80                         01-10    80    2  160.00
  C05   2024-06-01:1000                                    2024-06-01 303   1 1000.00
  C08   03-31:20                                             03-31     0    1   20.00
  C09   2024-01-10:40  2025-03-10:60                         03-10    21    2  100.00
  C10   2024-02-01:300  (2024 is a leap year: 366+28+30)   2024-02-01 424   1  300.00
  C11   2024-11-01:150                                     2024-11-01 150   1  150.00
  C12   03-05:70 03-06:30 03-07:25 03-08:25                  03-08    23    4  150.00

10 buyers => ntile(5) puts 2 customers in each score, in this order (score 1 first):
  R: recency desc, customer_id desc: C10 C05 | C11 C04 | C02 C12 | C09 C01 | C08 C03
  F: frequency, monetary, customer_id desc:
     C08 C03 (F1, 20 each: id desc) | C11 C10 | C02 C05 | C09 C04 (F2) | C01 (F3) C12 (F4)
  M: monetary, frequency, customer_id desc:
     C08 C03 | C09(100) C11(150,F1) | C12(150,F4) C04(160) | C01(180) C10(300) | C02 C05
Segments from the (R, F) grid:
  C01 (4,5) Loyal Customers   C02 (3,3) Need Attention   C03 (5,1) New Customers
  C04 (2,4) At Risk           C05 (1,3) At Risk          C08 (5,1) New Customers
  C09 (4,4) Loyal Customers   C10 (1,2) Hibernating      C11 (2,2) Hibernating
  C12 (3,5) Loyal Customers

Lifecycle (new <= 30 days since first order, active <= 90, at risk <= 180, inactive <= 365, lost;
won back = last order <= 90 days ago after a gap > 180 days):
  C01 first 03-01 = 30 days => new;  C03, C08 first today => new;  C12 first 03-05 = 26 => new
  C02 last 58, single completed order => active;  C04 last 80, gap 26 => active
  C09 last 21, gap 2024-01-10 -> 2025-03-10 = 425 > 180 => won back
  C11 150 => at risk;  C05 303 => inactive;  C10 424 => lost;  C06, C07 => prospect

Pareto on net revenue (total 2580), share of revenue before each customer, desc:
  C05 0 A | C02 1000/2580=.388 A | C10 1500/2580=.581 A | C01 1800/2580=.698 A | C04 1980/2580=.767 A
  C11 2140/2580=.829 B | C12 2290/2580=.888 B (tie 150 with C11: id asc) | C09 2440/2580=.946 B
  C03 2540/2580=.984 C | C08 C | C06, C07 (no revenue) C

As of 2025-03-28 (O03, O06, O11 not placed yet; O05 still completed): 8 buyers, ntile sizes 2,2,2,1,1.
  C01 R8 F2 M150 | C02 R3 F2 M700 | C04 R77 F2 M160 | C05 R300 F1 M1000 | C09 R18 F2 M100
  C10 R421 F1 M300 | C11 R147 F1 M150 | C12 R20 F4 M150
  R: C10 C05 | C11 C04 | C12 C09 | C01 | C02      F: C11 C10 | C05 C09 | C01 C04 | C02 | C12
  segments: C01 (4,3) Potential Loyalists, C02 (5,4) Champions, C04 (2,3) At Risk,
            C05 (1,2) Hibernating, C09 (3,2) About to Sleep, C10 (1,1) Hibernating,
            C11 (2,1) Hibernating, C12 (3,5) Loyal Customers
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

pytestmark = pytest.mark.slow

AS_OF = date(2025, 3, 31)
PAST = date(2025, 3, 28)

# customer: (recency_days, frequency, monetary, r, f, m, segment)
EXPECTED_RFM = {
    "C01": (1, 3, Decimal("180.00"), 4, 5, 4, "Loyal Customers"),
    "C02": (58, 1, Decimal("500.00"), 3, 3, 5, "Need Attention"),
    "C03": (0, 1, Decimal("20.00"), 5, 1, 1, "New Customers"),
    "C04": (80, 2, Decimal("160.00"), 2, 4, 3, "At Risk"),
    "C05": (303, 1, Decimal("1000.00"), 1, 3, 5, "At Risk"),
    "C08": (0, 1, Decimal("20.00"), 5, 1, 1, "New Customers"),
    "C09": (21, 2, Decimal("100.00"), 4, 4, 2, "Loyal Customers"),
    "C10": (424, 1, Decimal("300.00"), 1, 2, 4, "Hibernating"),
    "C11": (150, 1, Decimal("150.00"), 2, 2, 2, "Hibernating"),
    "C12": (23, 4, Decimal("150.00"), 3, 5, 3, "Loyal Customers"),
}
EXPECTED_LIFECYCLE = {
    "C01": "new",
    "C02": "active",
    "C03": "new",
    "C04": "active",
    "C05": "inactive",
    "C06": "prospect",
    "C07": "prospect",
    "C08": "new",
    "C09": "won back",
    "C10": "lost",
    "C11": "at risk",
    "C12": "new",
}
EXPECTED_TIER = {
    "C05": "A",
    "C02": "A",
    "C10": "A",
    "C01": "A",
    "C04": "A",
    "C11": "B",
    "C12": "B",
    "C09": "B",
    "C03": "C",
    "C08": "C",
    "C06": "C",
    "C07": "C",
}
# As of 2025-03-28: customer -> (recency_days, frequency, monetary, r, f, segment)
EXPECTED_PAST = {
    "C01": (8, 2, Decimal("150.00"), 4, 3, "Potential Loyalists"),
    "C02": (3, 2, Decimal("700.00"), 5, 4, "Champions"),
    "C04": (77, 2, Decimal("160.00"), 2, 3, "At Risk"),
    "C05": (300, 1, Decimal("1000.00"), 1, 2, "Hibernating"),
    "C09": (18, 2, Decimal("100.00"), 3, 2, "About to Sleep"),
    "C10": (421, 1, Decimal("300.00"), 1, 1, "Hibernating"),
    "C11": (147, 1, Decimal("150.00"), 2, 1, "Hibernating"),
    "C12": (20, 4, Decimal("150.00"), 3, 5, "Loyal Customers"),
}


@pytest.fixture(scope="module")
def wh(dbt_warehouse):
    warehouse = dbt_warehouse("raw_small.sql")
    warehouse.dbt("build", vars={"as_of_date": PAST.isoformat()})
    warehouse.first_results = json.loads((warehouse.workdir / "target" / "run_results.json").read_text())
    warehouse.dbt("build")  # default as_of_date: the last loaded order day
    warehouse.results = json.loads((warehouse.workdir / "target" / "run_results.json").read_text())
    return warehouse


def test_every_node_and_test_passed(wh) -> None:
    for results in (wh.first_results, wh.results):
        bad = [
            (r["unique_id"], r["status"])
            for r in results["results"]
            if r["status"] not in ("success", "pass")
        ]
        assert bad == []
    names = {r["unique_id"].split(".")[2] for r in wh.results["results"]}
    for required in (
        "rfm_segment_map_covers_every_cell_once",
        "customer_360_one_row_per_customer",
        "customer_360_revenue_reconciles",
        "rfm_segments_match_customer_360",
    ):
        assert required in names
    assert sum(1 for r in wh.results["results"] if r["unique_id"].startswith("test.")) > 100


def test_rfm_scores_and_segments_exact(wh) -> None:
    rows = wh.query(
        """SELECT customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, segment, rfm_cell
           FROM marts.rfm_segments WHERE as_of_date = ? ORDER BY customer_id""",
        [AS_OF],
    )
    got = {r[0]: tuple(r[1:8]) for r in rows}
    assert got == EXPECTED_RFM
    for r in rows:
        assert r[8] == f"{r[4]}{r[5]}{r[6]}"


def test_rfm_history_is_kept_and_read_as_known_then(wh) -> None:
    rows = wh.query(
        """SELECT customer_id, recency_days, frequency, monetary, r_score, f_score, segment
           FROM marts.rfm_segments WHERE as_of_date = ? ORDER BY customer_id""",
        [PAST],
    )
    assert {r[0]: tuple(r[1:]) for r in rows} == EXPECTED_PAST
    assert wh.query("SELECT as_of_date, count(*) FROM marts.rfm_segments GROUP BY 1 ORDER BY 1") == [
        (PAST, 8),
        (AS_OF, 10),
    ]


def test_rfm_migration(wh) -> None:
    moves = dict(
        wh.query("SELECT customer_id, movement FROM marts.rfm_migration WHERE as_of_date = ?", [AS_OF])
    )
    assert moves == {
        "C01": "changed",
        "C02": "changed",
        "C03": "entered",
        "C04": "same",
        "C05": "changed",
        "C08": "entered",
        "C09": "changed",
        "C10": "same",
        "C11": "same",
        "C12": "same",
    }
    assert wh.query(
        "SELECT previous_segment, segment FROM marts.rfm_migration WHERE customer_id = 'C02' AND as_of_date = ?",
        [AS_OF],
    ) == [("Champions", "Need Attention")]


def test_rfm_score_bins(wh) -> None:
    bins = wh.query(
        """SELECT measure, score, min_value, max_value, customers FROM marts.rfm_score_bins
           WHERE as_of_date = ? AND measure = 'recency_days' ORDER BY score""",
        [AS_OF],
    )
    assert bins == [
        ("recency_days", 1, Decimal("303.00"), Decimal("424.00"), 2),
        ("recency_days", 2, Decimal("80.00"), Decimal("150.00"), 2),
        ("recency_days", 3, Decimal("23.00"), Decimal("58.00"), 2),
        ("recency_days", 4, Decimal("1.00"), Decimal("21.00"), 2),
        ("recency_days", 5, Decimal("0.00"), Decimal("0.00"), 2),
    ]


def test_customer_360_lifecycle_tier_and_revenue(wh) -> None:
    rows = {r["customer_id"]: r for r in wh.rows("SELECT * FROM marts.customer_360")}
    assert sorted(rows) == sorted(EXPECTED_LIFECYCLE)  # C07 left the last snapshot but stays
    assert {c: r["lifecycle_stage"] for c, r in rows.items()} == EXPECTED_LIFECYCLE
    assert {c: r["value_tier"] for c, r in rows.items()} == EXPECTED_TIER
    for cust, (rec, freq, mon, r, f, m, seg) in EXPECTED_RFM.items():
        row = rows[cust]
        assert (row["recency_days"], row["frequency"], row["monetary"]) == (rec, freq, mon)
        assert (row["r_score"], row["f_score"], row["m_score"], row["rfm_segment"]) == (r, f, m, seg)
        assert row["net_revenue"] == mon
        assert row["as_of_date"] == AS_OF
    for prospect in ("C06", "C07"):
        assert rows[prospect]["rfm_segment"] is None and rows[prospect]["r_score"] is None
        assert rows[prospect]["net_revenue"] == Decimal("0.00")
        assert rows[prospect]["average_order_value"] is None
    c02 = rows["C02"]
    assert (c02["orders_placed"], c02["orders_completed"], c02["orders_returned"]) == (2, 1, 1)
    assert (c02["gross_revenue"], c02["returned_amount"], c02["net_revenue"]) == (
        Decimal("700.00"),
        Decimal("200.00"),
        Decimal("500.00"),
    )
    assert c02["average_order_value"] == Decimal("500.00")
    assert (c02["support_contacts"], c02["complaints"], c02["avg_satisfaction"]) == (1, 1, None)
    assert rows["C06"]["orders_cancelled"] == 1 and rows["C06"]["orders_placed"] == 0
    c01 = rows["C01"]
    assert c01["average_order_value"] == Decimal("60.00")
    assert (c01["support_contacts"], c01["avg_satisfaction"]) == (2, Decimal("4.50"))
    assert c01["email"] == "ann.new@example.com"  # newest snapshot, cleaned
    assert c01["last_updated"] == AS_OF  # profile changed on the last snapshot
    assert rows["C12"]["average_order_value"] == Decimal("37.50")
    # revenue reconciles to the cent with fct_orders
    total = wh.query("SELECT sum(net_amount) FROM marts.fct_orders")[0][0]
    assert sum(r["net_revenue"] for r in rows.values()) == total == Decimal("2580.00")


def test_fct_orders_revenue_definitions(wh) -> None:
    got = {
        r[0]: r[1:]
        for r in wh.query(
            "SELECT order_id, status, gross_amount, net_amount, returned_amount FROM marts.fct_orders"
        )
    }
    assert len(got) == 19  # O05 delivered twice, kept once
    assert got["O05"] == ("returned", Decimal("200.00"), Decimal("0.00"), Decimal("200.00"))
    assert got["O10"] == ("cancelled", Decimal("70.00"), Decimal("0.00"), Decimal("0.00"))
    assert got["O01"] == ("completed", Decimal("100.00"), Decimal("100.00"), Decimal("0.00"))


def test_dimensions(wh) -> None:
    assert wh.query("SELECT profile_versions FROM marts.dim_customers WHERE customer_id = 'C01'") == [(2,)]
    assert wh.query(
        "SELECT product_id, product_name, is_in_catalogue FROM marts.dim_products ORDER BY 1"
    ) == [
        ("P1", "Mug", True),
        ("P2", "Jacket", True),
        ("P9", "unknown", False),  # only seen in an order line
    ]
    assert wh.query("SELECT min(date_day), max(date_day), count(*) FROM marts.dim_date") == [
        (date(2024, 1, 1), date(2025, 12, 31), 366 + 365)
    ]


def test_rebuilding_the_same_day_adds_no_duplicates(wh) -> None:
    wh.dbt("run", "-s", "rfm_segments")
    assert wh.query("SELECT as_of_date, count(*) FROM marts.rfm_segments GROUP BY 1 ORDER BY 1") == [
        (PAST, 8),
        (AS_OF, 10),
    ]


# Web sessions, log stitching, bots and identity links: tests/dbt/test_dbt_web.py.


def test_customer_360_web_columns(wh) -> None:
    row = wh.rows(
        """SELECT web_sessions_30d, page_views_30d, last_visit_at, preferred_device, preferred_channel, top_category
           FROM marts.customer_360 WHERE customer_id = 'C03'"""
    )[0]
    assert (row["web_sessions_30d"], row["page_views_30d"]) == (5, 5)
    assert row["last_visit_at"].isoformat().startswith("2025-03-31T09:10:00")
    assert (row["preferred_device"], row["preferred_channel"], row["top_category"]) == (
        "mobile",
        "web",
        "home",
    )


def test_audiences_only_consenting(wh) -> None:
    # C03 (New Customers) has email_consent_type 'none' and opted out: in no audience.
    assert wh.query("SELECT count(*) FROM marts.audiences WHERE customer_id = 'C03'") == [(0,)]
    assert wh.query("SELECT audience, channel FROM marts.audiences WHERE customer_id = 'C01' ORDER BY 1") == [
        ("lifecycle: new", "email"),
        ("rfm: Loyal Customers", "email"),
        ("value tier: A", "email"),
    ]


def test_business_tests_catch_planted_defects(dbt_warehouse) -> None:
    """The singular tests are real gates: each fails on a defect planted in the built tables."""
    import duckdb

    wh = dbt_warehouse("raw_small.sql")
    wh.dbt("build", "-s", "+customer_360", "--indirect-selection", "cautious")
    plants = {
        "rfm_segment_map_covers_every_cell_once": (
            "DELETE FROM marts.rfm_segment_map WHERE r_score = 5 AND f_score = 1;"
            "INSERT INTO marts.rfm_segment_map VALUES (4, 4, 'Champions')"
        ),
        "customer_360_revenue_reconciles": "UPDATE marts.customer_360 SET net_revenue = net_revenue + 0.01 WHERE customer_id = 'C01'",
        "customer_360_one_row_per_customer": "INSERT INTO marts.customer_360 SELECT * FROM marts.customer_360 WHERE customer_id = 'C02'",
    }
    for test_name, defect in plants.items():
        assert wh.dbt("test", "-s", test_name, check=False).returncode == 0, test_name
        with duckdb.connect(str(wh.db)) as con:
            con.execute(defect)
        result = wh.dbt("test", "-s", test_name, check=False)
        assert result.returncode != 0 and "FAIL" in result.stdout, test_name
