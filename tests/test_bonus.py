"""Quarterly bonus (plan-rules §4): worked examples with the arithmetic in comments."""
from __future__ import annotations

import dataclasses
from decimal import Decimal as D
from fractions import Fraction

import pandas as pd
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from xl_addin.core.bonus import BONUS_COLUMNS, draw_pool, quarterly_bonus
from xl_addin.core.model import Actual, Rep, default_plan

SETTINGS = default_plan().settings   # gate 60, excess 3%, pool 2,000,000, awards 5,000 / 3,000
TARGET_COLUMNS = ["rep_id", "region", "quarter", "active_fraction", "active_days",
                  "quarter_days", "sales_target"]


@dataclasses.dataclass
class Case:
    """One rep-quarter: what the bonus needs from reps, actuals, targets and KPI."""

    rep_id: str
    quarter: str = "Q1"
    score: str = "80.00"
    sales: str = "1000000"
    target: int = 1_000_000
    new_customers: int = 0
    collections: str = "0"
    receivables: str = "100"
    base_bonus: str = "5000"
    region: str = "EAST"


def run(cases: list[Case], settings=SETTINGS):
    reps = {c.rep_id: Rep(c.rep_id, c.rep_id, c.region, "sales", base_bonus=D(c.base_bonus))
            for c in cases}
    actuals = [Actual(c.rep_id, c.quarter, sales=D(c.sales), collections=D(c.collections),
                      receivables=D(c.receivables), new_customers=D(c.new_customers),
                      visits=D(0), reports=D(0), training_rate=D(0), proposals=D(0))
               for c in cases]
    rt = pd.DataFrame([(c.rep_id, c.region, c.quarter, 1.0, 90, 90, c.target) for c in cases],
                      columns=TARGET_COLUMNS)
    kpi = pd.DataFrame({"rep_id": [c.rep_id for c in cases],
                        "quarter": [c.quarter for c in cases],
                        "kpi_score": [D(c.score) for c in cases]})
    return quarterly_bonus(settings, list(reps.values()), actuals, rt, kpi)


def col(result, name: str) -> list[D]:
    return result.table[name].tolist()


# ----------------------------------------------------------------------------- base bonus

def test_gate_exactly_60_passes_and_59_99_fails():
    r = run([Case("R1", score="60.00"), Case("R2", score="59.99"), Case("R3", score="100.00")])
    # gate mode: full base 5,000 at 60.00 or more, nothing below
    assert col(r, "base_paid") == [D("5000.00"), D("0.00"), D("5000.00")]
    assert all(str(v) == f"{v:.2f}" for v in col(r, "base_paid"))   # 2 places


def test_linear_mode_pays_in_proportion_above_the_gate():
    linear = dataclasses.replace(SETTINGS, base_mode="linear")
    r = run([Case("R1", score="87.35"), Case("R2", score="59.99"), Case("R3", score="60.00"),
             Case("R4", score="108.00"), Case("R5", score="75.00", base_bonus="5000.02")],
            linear)
    assert col(r, "base_paid") == [
        D("4367.50"),   # 5,000 x 87.35 / 100 = 4,367.50
        D("0.00"),      # 59.99 is below the gate 60
        D("3000.00"),   # 5,000 x 60 / 100 = 3,000
        D("5000.00"),   # min(108, 100) / 100 x 5,000 = 5,000
        D("3750.02"),   # 5,000.02 x 0.75 = 3,750.015 -> half up 3,750.02
    ]


# ----------------------------------------------------------------------------- excess and pool

def test_excess_is_three_percent_over_target_half_up():
    r = run([Case("R1", sales="1234567.89"), Case("R2", sales="999999.99"),
             Case("R3", sales="1000001.50")])
    assert col(r, "excess_raw") == [
        D("7037.04"),   # 3% x (1,234,567.89 - 1,000,000) = 3% x 234,567.89 = 7,037.0367 -> 7,037.04
        D("0.00"),      # below target: 0
        D("0.05"),      # 3% x 1.50 = 0.045 -> half up 0.05 (half-even would give 0.04)
    ]
    # the pool (2,000,000) covers 7,037.09 in all: paid = raw
    assert col(r, "excess_paid") == col(r, "excess_raw")


def test_excess_with_a_long_rate_is_still_exact():
    # rate 0.0300000000005 = 60,000,000,001 / 2,000,000,000,000: fen x numerator leaves
    # int64 for the 10,000,000 row, so the exact Python-int path is taken for all rows.
    # 0.50 over x 0.0300000000005 = 0.015000000000025 -> half up 0.02
    # 10,000,000 over -> 300,000.000005 -> 300,000.00
    long_rate = dataclasses.replace(SETTINGS, excess_rate=D("0.0300000000005"))
    r = run([Case("R1", sales="1000000.50"), Case("R2", sales="11000000")], long_rate)
    assert col(r, "excess_raw") == [D("0.02"), D("300000.00")]


def test_pool_runs_out_mid_year_and_the_split_is_exact_to_the_fen():
    cases = [
        # Q1: 3% x (51,000,000 - 1,000,000) = 1,500,000.00; pool 2,000,000 -> paid in full
        Case("R4", "Q1", sales="51000000"),
        # Q2: raw 250,000.01 + 250,000.03 + 499,999.96 = 1,000,000.00 > 500,000 left
        #   3% x 8,333,333.67 = 250,000.0101 -> 250,000.01
        Case("R1", "Q2", sales="9333333.67"),
        #   3% x 8,333,334.33 = 250,000.0299 -> 250,000.03
        Case("R2", "Q2", sales="9333334.33"),
        #   3% x 16,666,665.33 = 499,999.9599 -> 499,999.96
        Case("R3", "Q2", sales="17666665.33"),
        # Q3: raw 3% x 100,000 = 3,000.00 but nothing is left
        Case("R1", "Q3", sales="1100000"),
    ]
    r = run(cases)
    t = r.table.set_index(["rep_id", "quarter"])
    assert t.loc[("R4", "Q1"), "excess_paid"] == D("1500000.00")
    # scale 500,000 / 1,000,000 = 0.5: exact shares 125,000.005, 125,000.015, 249,999.98;
    # whole fen 125,000.00 + 125,000.01 + 249,999.98 = 499,999.99, 1 fen left for the
    # largest remainder (.5 and .5 tie: the earlier row, R1, gets it).
    # Rounding each share half up would pay 500,000.01: more than is left.
    assert [t.loc[(k, "Q2"), "excess_raw"] for k in ("R1", "R2", "R3")] == [
        D("250000.01"), D("250000.03"), D("499999.96")]
    assert [t.loc[(k, "Q2"), "excess_paid"] for k in ("R1", "R2", "R3")] == [
        D("125000.01"), D("125000.01"), D("249999.98")]
    assert t.loc[("R1", "Q3"), "excess_raw"] == D("3000.00")
    assert t.loc[("R1", "Q3"), "excess_paid"] == D("0.00")
    pool = r.pool
    assert pool["quarter"].tolist() == ["Q1", "Q2", "Q3"]
    assert pool["pool_before"].tolist() == [D("2000000.00"), D("500000.00"), D("0.00")]
    assert pool["excess_raw_total"].tolist() == [D("1500000.00"), D("1000000.00"), D("3000.00")]
    assert pool["excess_paid_total"].tolist() == [D("1500000.00"), D("500000.00"), D("0.00")]
    assert pool["pool_after"].tolist() == [D("500000.00"), D("0.00"), D("0.00")]
    assert pool["scale"].tolist() == [D("1.000000"), D("0.500000"), D("0.000000")]


def test_pool_scale_is_rounded_to_six_places():
    # pool 1,000 and raw 3,000.00 -> scale 1/3 = 0.333333; paid 1,000.00 exactly
    small = dataclasses.replace(SETTINGS, excess_pool=D(1000))
    r = run([Case("R1", sales="1100000")], small)
    assert r.pool["scale"].tolist() == [D("0.333333")]
    assert col(r, "excess_paid") == [D("1000.00")]


# ----------------------------------------------------------------------------- awards

def test_new_customer_top_three_ranked_1_2_2_4():
    r = run([Case("R1", new_customers=5), Case("R2", new_customers=4, region="SOUTH"),
             Case("R3", new_customers=4, region="NORTH"), Case("R4", new_customers=3),
             Case("R5", new_customers=2)])
    # company-wide ranks 1, 2, 2, 4, 5: ranks 1..3 win (three reps), rank 4 does not
    assert col(r, "new_customer_award") == [D("5000.00")] * 3 + [D("0.00")] * 2
    rank = r.new_customer_rank
    assert list(rank.columns) == ["rep_id", "quarter", "new_customers", "rank", "won"]
    assert rank["rank"].tolist() == [1, 2, 2, 4, 5]
    assert rank["won"].tolist() == [True, True, True, False, False]


def test_new_customer_four_way_tie_all_win_and_zero_never_wins():
    r = run([Case(f"R{i}", new_customers=2) for i in range(1, 5)]
            + [Case("R5", "Q2", new_customers=0), Case("R6", "Q2", new_customers=0)])
    # Q1: 2, 2, 2, 2 -> ranks 1, 1, 1, 1: all four win
    # Q2: 0, 0 -> rank 1 each, but 0 new customers never wins
    assert col(r, "new_customer_award") == [D("5000.00")] * 4 + [D("0.00")] * 2
    assert r.new_customer_rank["rank"].tolist() == [1, 1, 1, 1, 1, 1]


def test_new_customer_ranks_per_quarter():
    r = run([Case("R1", "Q1", new_customers=9), Case("R2", "Q1", new_customers=8),
             Case("R3", "Q1", new_customers=7), Case("R4", "Q1", new_customers=6),
             Case("R4", "Q2", new_customers=1)])
    # Q1: R4 ranks 4th with 6; Q2: R4 alone ranks 1st with 1 -> wins there
    t = r.table.set_index(["rep_id", "quarter"])
    assert t.loc[("R4", "Q1"), "new_customer_award"] == D("0.00")
    assert t.loc[("R4", "Q2"), "new_customer_award"] == D("5000.00")


def test_collection_award_at_exactly_100_percent():
    r = run([Case("R1", collections="1000000", receivables="1000000"),
             Case("R2", collections="999900", receivables="1000000"),
             Case("R3", collections="1000001", receivables="1000000"),
             Case("R4", collections="0", receivables="0")])
    assert col(r, "collection_award") == [
        D("3000.00"),   # 1,000,000 / 1,000,000 = 100% -> 3,000
        D("0.00"),      # 999,900 / 1,000,000 = 99.99% -> 0
        D("3000.00"),   # above 100% also reaches 100%
        D("0.00"),      # receivables 0: no award
    ]


# ----------------------------------------------------------------------------- the table

def test_total_adds_the_parts_and_the_table_has_the_contract_columns():
    r = run([Case("R1", score="75.50", sales="1100000", new_customers=3,
                  collections="500", receivables="500", region="SOUTH")])
    row = r.table.iloc[0]
    # base 5,000 (75.50 >= 60) + excess 3% x 100,000 = 3,000 + new customers 5,000
    # (only rep, rank 1) + collection 3,000 (500 / 500 = 100%) = 16,000
    assert row["total"] == D("16000.00")
    assert (row["region"], row["kpi_score"]) == ("SOUTH", D("75.50"))
    assert list(r.table.columns) == list(BONUS_COLUMNS) == [
        "rep_id", "region", "quarter", "kpi_score", "base_paid", "excess_raw", "excess_paid",
        "new_customer_award", "collection_award", "total"]
    assert list(r.pool.columns) == ["quarter", "pool_before", "excess_raw_total",
                                    "excess_paid_total", "pool_after", "scale"]


def test_sub_fen_sales_are_computed_exactly():
    r = run([Case("R1", sales="1000000.1667"), Case("R2", sales="1000000.165")])
    assert col(r, "excess_raw") == [
        D("0.01"),   # 3% x 0.1667 = 0.005001 -> 0.01 (sales cut to the fen: 3% x 0.16 -> 0.00)
        D("0.00"),   # 3% x 0.165 = 0.00495 -> 0.00
    ]


def test_sub_fen_collections_compared_exactly():
    r = run([Case("R1", collections="100.00", receivables="100.009"),
             Case("R2", collections="100.001", receivables="100.001")])
    assert col(r, "collection_award") == [
        D("0.00"),      # 100.00 / 100.009 = 99.991% (receivables cut to 100.00 would pass)
        D("3000.00"),   # 100.001 / 100.001 = 100%
    ]


def test_empty_kpi_gives_empty_tables():
    kpi = pd.DataFrame({"rep_id": [], "quarter": [], "kpi_score": []})
    r = quarterly_bonus(SETTINGS, [], [], pd.DataFrame(columns=TARGET_COLUMNS), kpi)
    assert r.table.empty and list(r.table.columns) == list(BONUS_COLUMNS)
    assert r.pool.empty


# ----------------------------------------------------------------------------- properties

@hyp_settings(max_examples=300, deadline=None)
@given(pool=st.integers(0, 10_000_000),
       raws=st.lists(st.lists(st.integers(0, 3_000_000), max_size=8), min_size=1, max_size=4))
def test_property_pool_never_overpays(pool, raws):
    quarters = ["Q1", "Q2", "Q3", "Q4"][:len(raws)]
    paid, table = draw_pool(pool, quarters, dict(zip(quarters, raws)))
    left = pool
    for q, raw in zip(quarters, raws):
        # each quarter pays min(raw total, what is left), exactly, and nobody above raw
        assert sum(paid[q]) == min(sum(raw), left)
        assert all(0 <= p <= r for p, r in zip(paid[q], raw))
        if sum(raw) > left:     # each part within one fen of its proportional share
            assert all(abs(p - Fraction(r * left, sum(raw))) < 1 for p, r in zip(paid[q], raw))
        left -= sum(paid[q])
    assert sum(sum(p) for p in paid.values()) <= pool
    assert table["pool_after"].tolist()[-1] == D(left).scaleb(-2)


case_st = st.builds(
    Case, rep_id=st.just(""), quarter=st.sampled_from(["Q1", "Q2", "Q3", "Q4"]),
    score=st.integers(0, 10_000).map(lambda c: str(D(c).scaleb(-2))),
    sales=st.integers(0, 20_000_000_00).map(lambda f: str(D(f).scaleb(-2))),
    target=st.integers(0, 10_000_000), new_customers=st.integers(0, 4),
    collections=st.integers(0, 1000).map(str), receivables=st.integers(0, 1000).map(str),
    base_bonus=st.integers(0, 1_000_000).map(lambda f: str(D(f).scaleb(-2))))


@hyp_settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases=st.lists(case_st, min_size=1, max_size=12),
       mode=st.sampled_from(["gate", "linear"]), pool=st.integers(0, 2_000_000))
def test_property_total_is_the_sum_of_parts(cases, mode, pool):
    cases = [dataclasses.replace(c, rep_id=f"R{i:02d}") for i, c in enumerate(cases)]
    s = dataclasses.replace(SETTINGS, base_mode=mode, excess_pool=D(pool))
    r = run(cases, s)
    t = r.table
    for row in t.itertuples():
        assert row.total == (row.base_paid + row.excess_paid + row.new_customer_award
                             + row.collection_award)
        assert 0 <= row.excess_paid <= row.excess_raw
    assert sum(t["excess_paid"], D(0)) == min(sum(t["excess_raw"], D(0)), D(pool))
    assert sum(r.pool["excess_paid_total"], D(0)) <= D(pool)
