"""Annual awards (plan-rules §5): worked examples with the arithmetic in comments."""
from __future__ import annotations

import dataclasses
from decimal import Decimal as D

import pandas as pd

from xl_addin.core.awards import AWARD_COLUMNS, annual_awards
from xl_addin.core.model import Actual, Rep, default_plan

SETTINGS = default_plan().settings  # champion 200,000, growth 100,000, team 150,000
ALL_IN = ("Q1", "Q2", "Q3", "Q4")


def reps(*ids: str, role: str = "sales") -> list[Rep]:
    return [Rep(i, i, "EAST", role) for i in ids]


def kpi_of(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """KPI rows (rep_id, quarter, score)."""
    return pd.DataFrame({"rep_id": [r for r, _, _ in rows], "quarter": [q for _, q, _ in rows],
                         "kpi_score": [D(s) for _, _, s in rows]})


def sales_of(rows: list[tuple[str, str, str]]) -> list[Actual]:
    return [Actual(r, q, sales=D(s)) for r, q, s in rows]


def awards(team=reps("R1", "R2", "R3", "R4"), sales=(), scores=(), quarters_in=ALL_IN,
           settings=SETTINGS) -> pd.DataFrame:
    """Awards from sales rows and score rows; every sales row also gets a KPI row."""
    kpi_rows = list(scores) or [(r, q, "70.00") for r, q, _ in sales]
    return annual_awards(settings, team, sales_of(list(sales)), kpi_of(kpi_rows), quarters_in)


def rows_of(frame: pd.DataFrame, award: str) -> list[tuple[str, D]]:
    sub = frame[frame["award"] == award]
    return list(zip(sub["rep_id"], sub["amount"]))


def test_sales_champion_sums_the_year():
    frame = awards(sales=[("R1", "Q1", "1000000"), ("R1", "Q2", "1500000.50"),
                          ("R2", "Q1", "2500000.49"), ("R3", "Q1", "900000")])
    # R1: 1,000,000 + 1,500,000.50 = 2,500,000.50 > R2 2,500,000.49 > R3 900,000
    assert rows_of(frame, "sales_champion") == [("R1", D("200000.00"))]
    champion = frame[frame["award"] == "sales_champion"].iloc[0]
    assert champion["non_cash"] == SETTINGS.champion_non_cash != ""
    assert list(frame.columns) == list(AWARD_COLUMNS) == [
        "award", "rep_id", "amount", "non_cash", "provisional"]


def test_three_way_tie_shares_200000_to_the_fen():
    frame = awards(sales=[("R3", "Q1", "1000000"), ("R1", "Q1", "1000000"),
                          ("R2", "Q1", "600000"), ("R2", "Q2", "400000"),
                          ("R4", "Q1", "999999.99")])
    # R1, R2 (600,000 + 400,000) and R3 tie at 1,000,000. 200,000 / 3 = 66,666.666...:
    # 66,666.66 each is 199,999.98, the 2 fen left go to the first two by rep_id:
    # 66,666.67 + 66,666.67 + 66,666.66 = 200,000.00
    assert rows_of(frame, "sales_champion") == [
        ("R1", D("66666.67")), ("R2", D("66666.67")), ("R3", D("66666.66"))]
    # every tied winner gets the (indivisible) non-cash prize
    assert set(frame[frame["award"] == "sales_champion"]["non_cash"]) == {
        SETTINGS.champion_non_cash}


def test_champion_needs_sales_above_zero_and_a_quota():
    assert rows_of(awards(sales=[("R1", "Q1", "0"), ("R2", "Q1", "0")]),
                   "sales_champion") == []
    # the director's actuals never count; the top quota carrier R1 wins
    team = reps("R1") + reps("D1", role="director")
    frame = awards(team=team, sales=[("R1", "Q1", "10"), ("D1", "Q1", "99999999")])
    assert rows_of(frame, "sales_champion") == [("R1", D("200000.00"))]


def test_champion_counts_only_scored_rep_quarters():
    # R2's Q2 sales have no KPI row (not a quota-carrying quarter): only Q1 counts,
    # 500,000 < R1's 800,000
    frame = annual_awards(SETTINGS, reps("R1", "R2"),
                          sales_of([("R1", "Q1", "800000"), ("R2", "Q1", "500000"),
                                    ("R2", "Q2", "900000")]),
                          kpi_of([("R1", "Q1", "70"), ("R2", "Q1", "70")]), ALL_IN)
    assert rows_of(frame, "sales_champion") == [("R1", D("200000.00"))]


def test_best_growth_first_to_latest_quarter():
    frame = awards(scores=[
        ("R1", "Q1", "50.00"), ("R1", "Q2", "95.00"), ("R1", "Q3", "60.00"),  # 60 - 50 = 10
        ("R2", "Q1", "60.00"), ("R2", "Q3", "75.00"),                        # 75 - 60 = 15
        ("R3", "Q4", "99.00"),                    # one quarter only: not eligible
        ("R4", "Q2", "80.00"), ("R4", "Q1", "66.00"),   # 80 - 66 = 14 (rows out of order)
    ])
    assert rows_of(frame, "best_growth") == [("R2", D("100000.00"))]
    row = frame[frame["award"] == "best_growth"].iloc[0]
    assert row["non_cash"] == SETTINGS.growth_non_cash


def test_best_growth_needs_two_quarters_and_a_rise():
    # one quarter each: nobody
    assert rows_of(awards(scores=[("R1", "Q1", "40"), ("R2", "Q2", "90")]), "best_growth") == []
    # two quarters but only falls or flat: nobody
    assert rows_of(awards(scores=[("R1", "Q1", "80"), ("R1", "Q2", "70"),
                                  ("R2", "Q1", "70"), ("R2", "Q2", "70")]), "best_growth") == []


def test_best_growth_tie_shares():
    frame = awards(scores=[("R2", "Q1", "50.00"), ("R2", "Q2", "60.01"),
                           ("R1", "Q1", "70.00"), ("R1", "Q4", "80.01")])
    # both rise by 10.01: 100,000 / 2 = 50,000.00 each
    assert rows_of(frame, "best_growth") == [("R1", D("50000.00")), ("R2", D("50000.00"))]


def test_team_contribution_shared_by_named_members():
    named = dataclasses.replace(SETTINGS, team_award_members=("R3", "R1"))
    # 150,000 / 2 = 75,000.00 each, listed by rep_id
    assert rows_of(awards(settings=named), "team_contribution") == [
        ("R1", D("75000.00")), ("R3", D("75000.00"))]
    seven = dataclasses.replace(SETTINGS, team_award_members=tuple(f"T{i}" for i in range(7)))
    parts = rows_of(awards(settings=seven), "team_contribution")
    # 150,000 / 7 = 21,428.5714...: 7 x 21,428.57 = 149,999.99, 1 fen to T0
    assert [a for _, a in parts] == [D("21428.58")] + [D("21428.57")] * 6
    assert sum(a for _, a in parts) == D("150000.00")
    team_rows = awards(settings=seven)
    assert set(team_rows[team_rows["award"] == "team_contribution"]["non_cash"]) == {""}


def test_no_team_named_no_row():
    assert SETTINGS.team_award_members == ()
    assert rows_of(awards(), "team_contribution") == []


def test_provisional_until_q4_is_in():
    sales = [("R1", "Q1", "100")]
    assert awards(sales=sales, quarters_in=("Q1", "Q2", "Q3"))["provisional"].tolist() == [True]
    assert awards(sales=sales, quarters_in=ALL_IN)["provisional"].tolist() == [False]


def test_rows_in_award_order():
    named = dataclasses.replace(SETTINGS, team_award_members=("R4",))
    frame = awards(settings=named, sales=[("R2", "Q1", "500")],
                   scores=[("R2", "Q1", "50"), ("R3", "Q1", "40"), ("R3", "Q2", "45")])
    # champion R2 (500); growth R3 (45 - 40 = 5); team R4 alone gets 150,000
    assert list(zip(frame["award"], frame["rep_id"], frame["amount"])) == [
        ("sales_champion", "R2", D("200000.00")), ("best_growth", "R3", D("100000.00")),
        ("team_contribution", "R4", D("150000.00"))]
