"""dbt datamart over a hand-made raw fixture (tests/fixtures/dbt/raw_small.sql): exact RFM, segments,
lifecycle stages, value tiers, revenue, customer history, alerts and audiences, computed by hand below.

Builds twice in one tmp DuckDB: as of 2025-03-28 (var), then with the default as_of_date (the last
loaded order day, 2025-03-31), so rfm_segments keeps two snapshots and rfm_migration has moves.

Hand computation, as of 2025-03-31 (orders as known that day; O05 was returned on 03-31 so only
completed orders count: C02 keeps O04 only; C06's only order is cancelled => prospect; C07 none;
CN1 is C09's credit note of 03-31, -10.00: not an order for F or R, subtracted from M):

  cust  completed orders (date: amount)                     last    R(days) F  M
  C01   03-01:100  03-20:50  03-30:30                        03-30     1    3  180.00
  C02   2025-02-01:500  (O05 03-25:200 returned)             02-01    58    1  500.00
  C03   03-31:20                                             03-31     0    1   20.00
  C04   2024-12-15:80  2025-01-10:80                         01-10    80    2  160.00
  C05   2024-06-01:1000                                    2024-06-01 303   1 1000.00
  C08   03-31:20                                             03-31     0    1   20.00
  C09   2024-01-10:40  2025-03-10:60  (CN1 -10)              03-10    21    2   90.00
  C10   2024-02-01:300  (2024 is a leap year: 366+28+30)   2024-02-01 424   1  300.00
  C11   2024-11-01:150                                     2024-11-01 150   1  150.00
  C12   03-05:70 03-06:30 03-07:25 03-08:25                  03-08    23    4  150.00

Scores (rfm_score macro), N = 10 buyers. Equal values share a score; the best value scores 5 and
the worst 1; any other value scores 1 + floor(5 * (2*rank - 2 + k) / (2*N)), rank = rank() from the
worst side, k = customers sharing the value. With N = 10: 1 + floor((2*rank - 2 + k) / 4).
  R (worst first = recency desc): 424 C10 worst->1 | 303 C05 r2 (4-2+1)/4=0.75->1 |
     150 C11 r3 5/4->2 | 80 C04 r4 7/4->2 | 58 C02 r5 9/4->3 | 23 C12 r6 11/4->3 |
     21 C09 r7 13/4->4 | 1 C01 r8 15/4->4 | 0 C03 C08 best->5
  F (worst first = frequency asc): 1 (C02 C03 C05 C08 C10 C11) worst->1 |
     2 (C04 C09) r7 k2 (14-2+2)/4=3.5->4 | 3 C01 r9 17/4->5 | 4 C12 best->5
     (F2 and F3 are empty: six one-time buyers collapse the lower quintiles)
  M (asc): 20 (C03 C08) worst->1 | 90 C09 r3 5/4->2 | 150 (C11 C12) r4 k2 8/4=2->3 |
     160 C04 r6 11/4->3 | 180 C01 r7 13/4->4 | 300 C10 r8 15/4->4 | 500 C02 r9 17/4->5 | 1000 C05 best->5
Segments from the (R, F) grid:
  C01 (4,5) Loyal Customers   C02 (3,1) About to Sleep   C03 (5,1) New Customers
  C04 (2,4) At Risk           C05 (1,1) Hibernating      C08 (5,1) New Customers
  C09 (4,4) Loyal Customers   C10 (1,1) Hibernating      C11 (2,1) Hibernating
  C12 (3,5) Loyal Customers

Lifecycle (new <= 30 days since first order, active <= 90, at risk <= 180, inactive <= 365, lost;
won back = last order <= 90 days ago after a gap > 180 days):
  C01 first 03-01 = 30 days => new;  C03, C08 first today => new;  C12 first 03-05 = 26 => new
  C02 last 58, single completed order => active;  C04 last 80, gap 26 => active
  C09 last 21, gap 2024-01-10 -> 2025-03-10 = 425 > 180 => won back
  C11 150 => at risk;  C05 303 => inactive;  C10 424 => lost;  C06, C07 => prospect

Pareto on net revenue (total 2570), share of revenue before each customer, desc:
  C05 0 A | C02 1000/2570=.389 A | C10 1500/2570=.584 A | C01 1800/2570=.700 A | C04 1980/2570=.770 A
  C11 2140/2570=.833 B | C12 2290/2570=.891 B (tie 150 with C11: id asc) | C09 2440/2570=.949 B
  C03 2530/2570=.984 C | C08 C | C06, C07 (no revenue) C

As of 2025-03-28 (O03, O06, O11, CN1 not there yet; O05 still completed): N = 8,
score = 1 + floor(5 * (2*rank - 2 + k) / 16) between the pinned worst (1) and best (5) values.
  C01 R8 F2 M150 | C02 R3 F2 M700 | C04 R77 F2 M160 | C05 R300 F1 M1000 | C09 R18 F2 M100
  C10 R421 F1 M300 | C11 R147 F1 M150 | C12 R20 F4 M150
  R: 421 C10 worst 1 | 300 C05 r2 15/16->1 | 147 C11 r3 25/16->2 | 77 C04 r4 35/16->3 |
     20 C12 r5 45/16->3 | 18 C09 r6 55/16->4 | 8 C01 r7 65/16->5 | 3 C02 best 5
  F: 1 (C05 C10 C11) worst 1 | 2 (C01 C02 C04 C09) r4 k4 5*10/16=3.1->4 | 4 C12 best 5
  segments: C01 (5,4) Champions, C02 (5,4) Champions, C04 (3,4) Loyal Customers,
            C05 (1,1) Hibernating, C09 (4,4) Loyal Customers, C10 (1,1) Hibernating,
            C11 (2,1) Hibernating, C12 (3,5) Loyal Customers
Migration 03-28 -> 03-31: Champions -> Loyal Customers (C01), Champions -> About to Sleep (C02),
Loyal Customers -> At Risk (C04), Loyal Customers -> Loyal Customers (C09, C12), Hibernating ->
Hibernating (C05, C10, C11), entered New Customers (C03, C08).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

AS_OF = date(2025, 3, 31)
PAST = date(2025, 3, 28)

# customer: (recency_days, frequency, monetary, r, f, m, segment)
EXPECTED_RFM = {
    "C01": (1, 3, Decimal("180.00"), 4, 5, 4, "Loyal Customers"),
    "C02": (58, 1, Decimal("500.00"), 3, 1, 5, "About to Sleep"),
    "C03": (0, 1, Decimal("20.00"), 5, 1, 1, "New Customers"),
    "C04": (80, 2, Decimal("160.00"), 2, 4, 3, "At Risk"),
    "C05": (303, 1, Decimal("1000.00"), 1, 1, 5, "Hibernating"),
    "C08": (0, 1, Decimal("20.00"), 5, 1, 1, "New Customers"),
    "C09": (21, 2, Decimal("90.00"), 4, 4, 2, "Loyal Customers"),
    "C10": (424, 1, Decimal("300.00"), 1, 1, 4, "Hibernating"),
    "C11": (150, 1, Decimal("150.00"), 2, 1, 3, "Hibernating"),
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
    "C01": (8, 2, Decimal("150.00"), 5, 4, "Champions"),
    "C02": (3, 2, Decimal("700.00"), 5, 4, "Champions"),
    "C04": (77, 2, Decimal("160.00"), 3, 4, "Loyal Customers"),
    "C05": (300, 1, Decimal("1000.00"), 1, 1, "Hibernating"),
    "C09": (18, 2, Decimal("100.00"), 4, 4, "Loyal Customers"),
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
        "audiences_only_consenting",
        "dim_customers_history_periods",
        "fct_orders_net_is_gross_minus_returned",
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
        "C04": "changed",
        "C05": "same",
        "C08": "entered",
        "C09": "same",
        "C10": "same",
        "C11": "same",
        "C12": "same",
    }
    assert wh.query(
        "SELECT previous_segment, segment FROM marts.rfm_migration WHERE customer_id = 'C02' AND as_of_date = ?",
        [AS_OF],
    ) == [("Champions", "About to Sleep")]


def test_rfm_migration_summary_counts_every_move(wh) -> None:
    # From the moves above; monetary = the movers' monetary as of 03-31 (EXPECTED_RFM):
    # Loyal -> Loyal: C09 90 + C12 150 = 240; Hibernating -> Hibernating: C05 1000 + C10 300 + C11 150
    # = 1450; entered New Customers: C03 20 + C08 20 = 40.
    rows = wh.query(
        """SELECT previous_as_of_date, from_segment, to_segment, movement, customers, monetary
           FROM marts.rfm_migration_summary WHERE as_of_date = ? ORDER BY from_segment NULLS FIRST, to_segment""",
        [AS_OF],
    )
    assert rows == [
        (PAST, None, "New Customers", "entered", 2, Decimal("40.00")),
        (PAST, "Champions", "About to Sleep", "changed", 1, Decimal("500.00")),
        (PAST, "Champions", "Loyal Customers", "changed", 1, Decimal("180.00")),
        (PAST, "Hibernating", "Hibernating", "same", 3, Decimal("1450.00")),
        (PAST, "Loyal Customers", "At Risk", "changed", 1, Decimal("160.00")),
        (PAST, "Loyal Customers", "Loyal Customers", "same", 2, Decimal("240.00")),
    ]
    # The first snapshot: everyone scored on 03-28 is a first_snapshot move from nowhere.
    assert wh.query(
        """SELECT to_segment, customers FROM marts.rfm_migration_summary
           WHERE as_of_date = ? AND movement = 'first_snapshot' ORDER BY 1""",
        [PAST],
    ) == [("Champions", 2), ("Hibernating", 3), ("Loyal Customers", 3)]


def test_rfm_score_bins(wh) -> None:
    """Every score of every measure is listed, the empty ones too (F2, F3: collapsed by ties)."""
    bins = wh.query(
        """SELECT measure, score, min_value, max_value, customers, customer_share FROM marts.rfm_score_bins
           WHERE as_of_date = ? ORDER BY measure, score""",
        [AS_OF],
    )
    d = Decimal
    assert bins == [
        ("frequency", 1, d("1.00"), d("1.00"), 6, d("0.6000")),
        ("frequency", 2, None, None, 0, d("0.0000")),
        ("frequency", 3, None, None, 0, d("0.0000")),
        ("frequency", 4, d("2.00"), d("2.00"), 2, d("0.2000")),
        ("frequency", 5, d("3.00"), d("4.00"), 2, d("0.2000")),
        ("monetary", 1, d("20.00"), d("20.00"), 2, d("0.2000")),
        ("monetary", 2, d("90.00"), d("90.00"), 1, d("0.1000")),
        ("monetary", 3, d("150.00"), d("160.00"), 3, d("0.3000")),
        ("monetary", 4, d("180.00"), d("300.00"), 2, d("0.2000")),
        ("monetary", 5, d("500.00"), d("1000.00"), 2, d("0.2000")),
        ("recency_days", 1, d("303.00"), d("424.00"), 2, d("0.2000")),
        ("recency_days", 2, d("80.00"), d("150.00"), 2, d("0.2000")),
        ("recency_days", 3, d("23.00"), d("58.00"), 2, d("0.2000")),
        ("recency_days", 4, d("1.00"), d("21.00"), 2, d("0.2000")),
        ("recency_days", 5, d("0.00"), d("0.00"), 2, d("0.2000")),
    ]
    # Truthful: the bins are exactly what rfm_segments holds.
    assert wh.query(
        """SELECT count(*) FROM marts.rfm_segments s JOIN marts.rfm_score_bins b
             ON b.as_of_date = s.as_of_date AND b.measure = 'monetary' AND b.score = s.m_score
           WHERE s.monetary NOT BETWEEN b.min_value AND b.max_value"""
    ) == [(0,)]


def test_equal_values_always_share_a_score(wh) -> None:
    for measure, score in (("recency_days", "r_score"), ("frequency", "f_score"), ("monetary", "m_score")):
        assert (
            wh.query(
                f"""SELECT as_of_date, {measure} FROM marts.rfm_segments GROUP BY 1, 2
                HAVING count(DISTINCT {score}) > 1"""
            )
            == []
        ), measure


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
    c09 = rows["C09"]  # the credit note CN1 (-10) is a return: subtracted, not an order placed
    assert (c09["orders_placed"], c09["orders_completed"], c09["orders_returned"]) == (2, 2, 1)
    assert (c09["gross_revenue"], c09["returned_amount"], c09["net_revenue"]) == (
        Decimal("100.00"),
        Decimal("10.00"),
        Decimal("90.00"),
    )
    assert c09["average_order_value"] == Decimal("45.00") and c09["top_category"] is None
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
    # revenue reconciles to the cent with fct_orders: 2580 completed - 10 credit note
    total = wh.query("SELECT sum(net_amount) FROM marts.fct_orders")[0][0]
    assert sum(r["net_revenue"] for r in rows.values()) == total == Decimal("2570.00")
    assert (rows["C04"]["is_email_contactable"], rows["C04"]["email_opt_in"]) == (False, False)  # withdrawn


def test_fct_orders_revenue_definitions(wh) -> None:
    got = {
        r[0]: r[1:]
        for r in wh.query(
            "SELECT order_id, status, gross_amount, net_amount, returned_amount FROM marts.fct_orders"
        )
    }
    assert len(got) == 20  # O05 delivered twice, kept once
    assert got["O05"] == ("returned", Decimal("200.00"), Decimal("0.00"), Decimal("200.00"))
    assert got["O10"] == ("cancelled", Decimal("70.00"), Decimal("0.00"), Decimal("0.00"))
    assert got["O01"] == ("completed", Decimal("100.00"), Decimal("100.00"), Decimal("0.00"))
    # A credit note: nothing sold, 10.00 given back, so net revenue -10.00 (net = gross - returned).
    assert got["CN1"] == ("returned", Decimal("0.00"), Decimal("-10.00"), Decimal("10.00"))
    assert wh.query(
        "SELECT quantity, line_amount, net_line_amount FROM marts.fct_order_lines WHERE order_id = 'CN1'"
    ) == [(-1, Decimal("-10.00"), Decimal("-10.00"))]


def test_dimensions(wh) -> None:
    assert wh.query(
        """SELECT customer_id, profile_versions, profile_valid_from, profile_as_of FROM marts.dim_customers
           WHERE customer_id IN ('C01', 'C04', 'C07', 'C08') ORDER BY 1"""
    ) == [
        ("C01", 2, AS_OF, AS_OF),
        ("C04", 2, AS_OF, AS_OF),
        ("C07", 1, date(2025, 3, 29), date(2025, 3, 30)),  # left the export after 03-30, still a customer
        ("C08", 1, date(2025, 3, 29), AS_OF),
    ]
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


# SCD2 periods by hand from the three snapshots (03-29, 03-30, 03-31; fixture comments), half-open
# [valid_from, valid_to): C01 changes email on 03-31; C04 withdraws the email opt-in on 03-31 (a
# consent change: opt-in, consent_updated_at and updated_at differ); C05 moves to Lyon on 03-30;
# C07 is missing from 03-31 (kept, current, last seen 03-30); C08's ' Paris ' of 03-29 is no change
# once trimmed; everyone else has one version from 03-29.
# customer: [(version_no, valid_from, valid_to, is_current, last_seen_on, changed_columns, is_consent_change)]
MAR29, MAR30 = date(2025, 3, 29), date(2025, 3, 30)
EXPECTED_HISTORY = {
    "C01": [(1, MAR29, AS_OF, False, MAR30, None, False), (2, AS_OF, None, True, AS_OF, "email", False)],
    "C04": [
        (1, MAR29, AS_OF, False, MAR30, None, False),
        (2, AS_OF, None, True, AS_OF, "updated_at, email_opt_in, consent_updated_at", True),
    ],
    "C05": [
        (1, MAR29, MAR30, False, MAR29, None, False),
        (2, MAR30, None, True, AS_OF, "postal_code, city, updated_at", False),
    ],
    "C07": [(1, MAR29, None, True, MAR30, None, False)],
    **{
        c: [(1, MAR29, None, True, AS_OF, None, False)]
        for c in ("C02", "C03", "C06", "C08", "C09", "C10", "C11", "C12")
    },
}


def test_dim_customers_history_periods_exact(wh) -> None:
    rows = wh.query(
        """SELECT customer_id, version_no, valid_from, valid_to, is_current, last_seen_on, changed_columns,
                  is_consent_change
           FROM marts.dim_customers_history ORDER BY customer_id, version_no"""
    )
    got: dict[str, list] = {}
    for r in rows:
        got.setdefault(r[0], []).append(tuple(r[1:]))
    assert got == EXPECTED_HISTORY
    # The values of each period, and a point-in-time read (profile on day d).
    assert wh.query(
        """SELECT version_no, email_opt_in, email_consent_type, consent_updated_at, is_email_contactable
           FROM marts.dim_customers_history WHERE customer_id = 'C04' ORDER BY 1"""
    ) == [(1, True, "explicit", None, True), (2, False, "explicit", datetime(2025, 3, 31, 7, 30), False)]
    assert wh.query(
        """SELECT customer_id, email, city FROM marts.dim_customers_history
           WHERE customer_id IN ('C01', 'C05', 'C08') AND valid_from <= DATE '2025-03-30'
             AND (valid_to IS NULL OR DATE '2025-03-30' < valid_to) ORDER BY 1"""
    ) == [
        ("C01", "ann@example.com", "Paris"),
        ("C05", "eve@example.com", "Lyon"),
        ("C08", "hal@example.com", "Paris"),
    ]


def test_behavior_alerts_purchase_gap(wh) -> None:
    """As of 03-31 only C12 breaks from their own rhythm: purchase days 03-05..03-08 (gaps 1, 1, 1,
    median 1), nothing for 23 days > 3 x 1 and >= 14 (alert_gap_* vars). C01 (03-01, 03-20, 03-30:
    median gap 14.5, last 1 day ago) is fine; C04, C09 have 2 purchase days (< 3). No web drop: the
    tracker only has 03-30/31, so nobody has baseline sessions."""
    assert wh.rows("SELECT * FROM marts.behavior_alerts") == [
        {
            "customer_id": "C12",
            "as_of_date": AS_OF,
            "alert_type": "purchase_gap",
            "reason": "no completed order for 23 days: 23.0x the usual gap of 1.0 days "
            "(median of 3 gaps between 4 purchase days)",
            "baseline_sessions": None,
            "recent_sessions": None,
            "baseline_daily_rate": None,
            "recent_daily_rate": None,
            "activity_ratio": None,
            "last_visit_at": None,
            "purchase_days": 4,
            "typical_gap_days": Decimal("1.0"),
            "days_since_last_order": 23,
            "gap_ratio": Decimal("23.00"),
            "last_order_date": date(2025, 3, 8),
        }
    ]


def test_behavior_alerts_web_drop_and_purchase_gap_together(dbt_warehouse) -> None:
    """As of 04-01 with a 1-day recent window and a 1-day baseline: C03 had 4 stitched sessions on
    03-31 (a1 E1, E4, E5 and a4 E14; the 03-30 one is outside the baseline) and 0 on 04-01: rate 0 <
    0.5 x 4 with 4 >= 3 baseline sessions => web_activity_drop. C05 (1 session on 03-31) has too few
    baseline sessions. C12: 24 days since 03-08 => purchase_gap. C03 has no email consent, so only
    C12 reaches an alert audience."""
    wh = dbt_warehouse("raw_small.sql")
    wh.dbt(
        "build",
        "-s",
        "+audiences",
        "--indirect-selection",
        "cautious",
        vars={"as_of_date": "2025-04-01", "alert_recent_days": 1, "alert_baseline_days": 1},
    )
    rows = wh.query(
        """SELECT customer_id, alert_type, reason, baseline_sessions, recent_sessions, activity_ratio,
                  days_since_last_order, gap_ratio
           FROM marts.behavior_alerts ORDER BY 1"""
    )
    assert rows == [
        (
            "C03",
            "web_activity_drop",
            "0 sessions in the last 1 days against 4 in the 1 days before: 0% of the usual daily rate",
            4,
            0,
            Decimal("0.0000"),
            None,
            None,
        ),
        (
            "C12",
            "purchase_gap",
            "no completed order for 24 days: 24.0x the usual gap of 1.0 days (median of 3 gaps between 4 purchase days)",
            None,
            None,
            None,
            24,
            Decimal("24.00"),
        ),
    ]
    assert wh.query(
        "SELECT audience, customer_id FROM marts.audiences WHERE audience_type = 'behavior_alert'"
    ) == [("alert: purchase gap", "C12")]


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
    # C03 (New Customers) has email_consent_type 'none' and opted out: in no audience. C04 opted in
    # explicitly but withdrew on 03-31: in no audience either, though At Risk and tier A. C05, C06
    # and C07 never opted in (C06, C07 are prospects anyway).
    assert wh.query("SELECT DISTINCT customer_id FROM marts.audiences ORDER BY 1") == [
        ("C01",),
        ("C02",),
        ("C08",),
        ("C09",),
        ("C10",),
        ("C11",),
        ("C12",),
    ]
    # Explicit vs implicit opt-in kept: C01 explicit; C02 implicit by email, and also reachable by
    # sms (opt-in and phone), whose consent type the CRM does not record.
    assert wh.query(
        "SELECT audience, channel, address, consent_type FROM marts.audiences WHERE customer_id = 'C01' ORDER BY 1"
    ) == [
        ("lifecycle: new", "email", "ann.new@example.com", "explicit"),
        ("rfm: Loyal Customers", "email", "ann.new@example.com", "explicit"),
        ("value tier: A", "email", "ann.new@example.com", "explicit"),
    ]
    assert wh.query(
        "SELECT audience, channel, address, consent_type FROM marts.audiences WHERE customer_id = 'C02' ORDER BY 1, 2"
    ) == [
        ("lifecycle: active", "email", "bob@example.com", "implicit"),
        ("lifecycle: active", "sms", "+33 6 12 34 56 78", "unspecified"),
        ("rfm: About to Sleep", "email", "bob@example.com", "implicit"),
        ("rfm: About to Sleep", "sms", "+33 6 12 34 56 78", "unspecified"),
        ("value tier: A", "email", "bob@example.com", "implicit"),
        ("value tier: A", "sms", "+33 6 12 34 56 78", "unspecified"),
    ]
    assert wh.query("SELECT consent_type, count(*) FROM marts.audiences GROUP BY 1 ORDER BY 1") == [
        ("explicit", 12),
        ("implicit", 6),
        ("unspecified", 3),
    ]
    # by hand: explicit = C01 3 (rfm, lifecycle, tier A) + C08 2 + C09 2 + C11 2 + C12 3 (with the
    # purchase-gap alert); implicit = C02 3 + C10 3 (email); unspecified = C02's 3 sms rows.


def test_business_tests_catch_planted_defects(dbt_warehouse) -> None:
    """The singular tests are real gates: each passes on the built tables and fails on a defect
    planted in them (one at a time, on a fresh copy of the built database)."""
    import shutil

    import duckdb

    wh = dbt_warehouse("raw_small.sql")
    wh.dbt("build", "-s", "+audiences", "+dim_customers_history", "--indirect-selection", "cautious")
    built = wh.workdir / "built.duckdb"
    shutil.copy(wh.db, built)
    plants = [
        (
            "rfm_segment_map_covers_every_cell_once",
            "DELETE FROM marts.rfm_segment_map WHERE r_score = 5 AND f_score = 1;"
            "INSERT INTO marts.rfm_segment_map VALUES (4, 4, 'Champions')",
        ),
        (
            "customer_360_revenue_reconciles",
            "UPDATE marts.customer_360 SET net_revenue = net_revenue + 0.01 WHERE customer_id = 'C01'",
        ),
        # The marts agree with each other but no longer with the raw orders: only the raw side sees it.
        (
            "customer_360_revenue_reconciles",
            "UPDATE marts.fct_orders SET net_amount = net_amount + 5 WHERE order_id = 'O01';"
            "UPDATE marts.customer_360 SET net_revenue = net_revenue + 5 WHERE customer_id = 'C01'",
        ),
        (
            "customer_360_one_row_per_customer",
            "INSERT INTO marts.customer_360 SELECT * FROM marts.customer_360 WHERE customer_id = 'C02'",
        ),
        (
            "audiences_only_consenting",
            "UPDATE marts.audiences SET consent_type = 'explicit' WHERE customer_id = 'C02' AND channel = 'email'",
        ),
        (
            "dim_customers_history_periods",
            "UPDATE marts.dim_customers_history SET valid_to = DATE '2025-03-30' "
            "WHERE customer_id = 'C01' AND version_no = 1",
        ),
        (
            "fct_orders_net_is_gross_minus_returned",
            "UPDATE marts.fct_orders SET net_amount = -5 WHERE order_id = 'O10'",
        ),
    ]
    names = sorted({name for name, _ in plants})
    assert wh.dbt("test", "-s", *names, check=False).returncode == 0
    for test_name, defect in plants:
        shutil.copy(built, wh.db)
        with duckdb.connect(str(wh.db)) as con:
            con.execute(defect)
        result = wh.dbt("test", "-s", test_name, check=False)
        assert result.returncode != 0 and "FAIL" in result.stdout, (test_name, defect)


def test_snapshot_tests_check_the_run_window_only(dbt_warehouse) -> None:
    """The customer snapshot tests read the run's days: a bad consent type planted on
    2025-03-29 fails them for a run over every day, not for the 2025-03-31 run."""
    wh = dbt_warehouse("raw_small.sql")
    wh.execute(
        "UPDATE raw.crm_customers SET email_consent_type = 'sometimes' "
        "WHERE customer_id = 'C01' AND _partition = DATE '2025-03-29'"
    )
    wh.dbt("run", "-s", "stg_crm__customer_snapshots")
    selection = ("test", "-s", "stg_crm__customer_snapshots")
    day = {"min_date": "2025-03-31", "max_date": "2025-04-01"}
    assert wh.dbt(*selection, vars=day, check=False).returncode == 0
    every_day = wh.dbt(*selection, check=False)
    assert every_day.returncode != 0
    assert "FAIL 1 accepted_values_stg_crm__customer_snapshots_email_consent_type" in every_day.stdout


VERSIONS = "SELECT * FROM staging.stg_crm__customer_versions ORDER BY customer_id, version_no"
VERSIONS_SQL = Path("c360/models/staging/stg_crm__customer_versions.sql")


def _versions_branch(wh) -> str:
    """Which select the last run compiled: the append branch reads the stored current versions."""
    compiled = (wh.workdir / "target" / "compiled" / VERSIONS_SQL).read_text()
    return "append" if "carried as (" in compiled else "full"


def test_customer_versions_append_a_new_day_and_re_derive_a_restated_one(dbt_warehouse) -> None:
    """The SCD2 versions built day by day equal the versions built at once.

    03-31 brings C01's new email, C04's consent change, a new customer C13 and a later duplicate
    line of C03 (ignored: the first line of a file wins) and lacks C07 (C07 keeps its version, last
    seen 03-30). Run for 03-31 alone on the versions of 03-29..30, the model appends; a restated
    03-30 (C02 moves to Nice that day only: two more versions) makes it re-derive everything.
    """
    new_day = (
        "INSERT INTO raw.crm_customers SELECT * REPLACE ('C13' AS customer_id, 'new@example.com' AS email, _line_number + 200 AS _line_number) "
        "FROM raw.crm_customers WHERE customer_id = 'C03' AND _partition = DATE '2025-03-31';"
        "INSERT INTO raw.crm_customers SELECT * REPLACE ('Brest' AS city, _line_number + 100 AS _line_number) "
        "FROM raw.crm_customers WHERE customer_id = 'C03' AND _partition = DATE '2025-03-31';"
    )
    restated = "UPDATE raw.crm_customers SET city = 'Nice' WHERE customer_id = 'C02' AND _partition = DATE '2025-03-30'"
    at_once = dbt_warehouse("raw_small.sql")
    at_once.execute(new_day)
    at_once.dbt("run", "-s", "stg_crm__customer_versions")
    expected = at_once.query(VERSIONS)
    assert len(expected) == 16  # 13 customers, C01 C04 C05 two versions each
    assert ("C13", 1) in [(r[0], r[1]) for r in expected]

    daily = dbt_warehouse("raw_small.sql")
    daily.execute(new_day)
    daily.execute(
        "CREATE TABLE main.held AS SELECT * FROM raw.crm_customers WHERE _partition = DATE '2025-03-31';"
        "DELETE FROM raw.crm_customers WHERE _partition = DATE '2025-03-31'"
    )
    daily.dbt("run", "-s", "stg_crm__customer_versions")
    assert daily.query("SELECT max(last_seen_on) FROM staging.stg_crm__customer_versions") == [(MAR30,)]
    daily.execute("INSERT INTO raw.crm_customers SELECT * FROM main.held")
    daily.dbt(
        "run", "-s", "stg_crm__customer_versions", vars={"min_date": "2025-03-31", "max_date": "2025-04-01"}
    )
    assert _versions_branch(daily) == "append"
    assert daily.query(VERSIONS) == expected

    for wh in (at_once, daily):
        wh.execute(restated)
    at_once.dbt("run", "-s", "stg_crm__customer_versions", "--full-refresh")
    daily.dbt(
        "run", "-s", "stg_crm__customer_versions", vars={"min_date": "2025-03-30", "max_date": "2025-03-31"}
    )
    assert _versions_branch(daily) == "full"
    assert daily.query(VERSIONS) == at_once.query(VERSIONS)
    assert [r[1:4] for r in daily.query(VERSIONS) if r[0] == "C02"] == [
        (1, MAR29, MAR30),
        (2, MAR30, AS_OF),
        (3, AS_OF, None),
    ]
