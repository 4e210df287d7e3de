"""The watchlist (plan-rules §5): worked examples with the dates worked out in comments."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal as D

import pandas as pd
import pytest

from xl_addin.core.model import Improvement, Region, Rep, default_plan
from xl_addin.core.watchlist import WATCHLIST_COLUMNS, build_watchlist

SETTINGS = default_plan().settings   # 2026, threshold 60, 2 quarters, 1 month, probation 3
REGIONS = [Region("EAST", "华东", manager="Wang Fang"), Region("SOUTH", "华南", manager="Li Lei")]


def rep(rep_id: str = "R1", region: str = "EAST", hire: dt.date | None = dt.date(2024, 1, 1),
        end: dt.date | None = None) -> Rep:
    return Rep(rep_id, rep_id, region, "sales", hire_date=hire, end_date=end)


def watch(scores: dict[str, list[tuple[str, str]]], team: list[Rep] | None = None,
          improvement: list[Improvement] = (), settings=SETTINGS) -> pd.DataFrame:
    """scores: rep_id -> [(quarter, kpi score)]."""
    team = team or [rep(r) for r in scores]
    rows = [(r, q, D(s)) for r, qs in scores.items() for q, s in qs]
    kpi = pd.DataFrame(rows, columns=["rep_id", "quarter", "kpi_score"])
    return build_watchlist(settings, team, REGIONS, kpi, list(improvement))


def only(frame: pd.DataFrame) -> dict:
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def test_a_quarter_below_60_warns_and_exactly_60_does_not():
    frame = watch({"R1": [("Q1", "59.99")], "R2": [("Q1", "60.00")]})
    assert list(frame.columns) == list(WATCHLIST_COLUMNS) == [
        "rep_id", "region", "status", "since_quarter", "period_start", "period_end", "owner"]
    assert only(frame) == {"rep_id": "R1", "region": "EAST", "status": "warning",
                           "since_quarter": "Q1", "period_start": None, "period_end": None,
                           "owner": "Wang Fang"}


def test_status_is_the_one_at_the_latest_quarter():
    # below in Q1, recovered in Q2: no row
    assert watch({"R1": [("Q1", "40"), ("Q2", "60")]}).empty


def test_two_consecutive_quarters_start_a_one_month_improvement_period():
    frame = watch({"R1": [("Q1", "70"), ("Q2", "55"), ("Q3", "59.99")]},
                  team=[rep("R1", region="SOUTH")])
    # Q2 and Q3 below 60; Q3 ends 30 Sep 2026 -> period 1 Oct 2026 .. 1 Nov - 1 day = 31 Oct
    assert only(frame) == {"rep_id": "R1", "region": "SOUTH", "status": "improvement_period",
                           "since_quarter": "Q3", "period_start": dt.date(2026, 10, 1),
                           "period_end": dt.date(2026, 10, 31), "owner": "Li Lei"}


@pytest.mark.parametrize("quarters, start, end", [
    (("Q1", "Q2"), dt.date(2026, 7, 1), dt.date(2026, 7, 31)),   # Q2 ends 30 Jun
    (("Q3", "Q4"), dt.date(2027, 1, 1), dt.date(2027, 1, 31)),   # Q4 ends 31 Dec 2026
])
def test_period_dates(quarters, start, end):
    row = only(watch({"R1": [(q, "10") for q in quarters]}))
    assert (row["status"], row["period_start"], row["period_end"]) == (
        "improvement_period", start, end)


def test_improvement_months_setting():
    two = dataclasses.replace(SETTINGS, improvement_months=2)
    row = only(watch({"R1": [("Q1", "10"), ("Q2", "10")]}, settings=two))
    # 1 Jul + 2 months = 1 Sep, minus 1 day = 31 Aug
    assert (row["period_start"], row["period_end"]) == (dt.date(2026, 7, 1), dt.date(2026, 8, 31))


def test_non_consecutive_quarters_only_warn():
    # Q1 and Q3 below, Q2 above: the latest two below are not consecutive -> warning
    row = only(watch({"R1": [("Q1", "50"), ("Q2", "65"), ("Q3", "50")]}))
    assert (row["status"], row["since_quarter"]) == ("warning", "Q3")
    # Q1 and Q3 below with Q2 not reported: not consecutive quarters either
    row = only(watch({"R1": [("Q1", "50"), ("Q3", "50")]}))
    assert (row["status"], row["since_quarter"]) == ("warning", "Q3")


def test_watch_consecutive_setting():
    three = dataclasses.replace(SETTINGS, watch_consecutive=3)
    assert only(watch({"R1": [("Q1", "10"), ("Q2", "10")]}, settings=three))["status"] == "warning"
    row = only(watch({"R1": [("Q1", "10"), ("Q2", "10"), ("Q3", "10")]}, settings=three))
    assert (row["status"], row["since_quarter"]) == ("improvement_period", "Q3")


def test_probation_quarters_are_exempt():
    # hired 15 Feb 2026: probation until 15 Feb + 3 months = 15 May. Q1 ends 31 Mar < 15 May:
    # exempt (no warning, not counted). Q2 ends 30 Jun: counts.
    new = rep("R1", hire=dt.date(2026, 2, 15))
    assert watch({"R1": [("Q1", "20")]}, team=[new]).empty
    row = only(watch({"R1": [("Q1", "20"), ("Q2", "20")]}, team=[new]))
    assert (row["status"], row["since_quarter"]) == ("warning", "Q2")
    row = only(watch({"R1": [("Q1", "20"), ("Q2", "20"), ("Q3", "20")]}, team=[new]))
    assert (row["status"], row["since_quarter"]) == ("improvement_period", "Q3")


def test_probation_boundary():
    # hired 1 Apr: 1 Apr + 3 months = 1 Jul; Q2 ends 30 Jun < 1 Jul -> exempt
    assert watch({"R1": [("Q2", "20")]}, team=[rep("R1", hire=dt.date(2026, 4, 1))]).empty
    # hired 31 Mar: 31 Mar + 3 months = 30 Jun; Q2 ends 30 Jun, not before -> counts
    row = only(watch({"R1": [("Q2", "20")]}, team=[rep("R1", hire=dt.date(2026, 3, 31))]))
    assert row["status"] == "warning"


def test_failed_period_means_reassign_or_exit():
    frame = watch({"R1": [("Q1", "50"), ("Q2", "50")]},
                  improvement=[Improvement("R1", "Q2", "failed")])
    assert only(frame) == {"rep_id": "R1", "region": "EAST", "status": "reassign_or_exit",
                           "since_quarter": "Q2", "period_start": dt.date(2026, 7, 1),
                           "period_end": dt.date(2026, 7, 31), "owner": "Wang Fang"}


def test_open_outcome_keeps_the_period_and_other_quarters_outcomes_are_ignored():
    row = only(watch({"R1": [("Q1", "50"), ("Q2", "50")]},
                     improvement=[Improvement("R1", "Q2", "open"),
                                  Improvement("R1", "Q1", "failed")]))
    assert (row["status"], row["since_quarter"]) == ("improvement_period", "Q2")


def test_passed_outcome_clears_and_restarts_the_count():
    passed = [Improvement("R1", "Q2", "passed")]
    assert watch({"R1": [("Q1", "50"), ("Q2", "50")]}, improvement=passed).empty
    # Q3 below again: the count restarted after the passed period -> only a warning
    row = only(watch({"R1": [("Q1", "50"), ("Q2", "50"), ("Q3", "50")]}, improvement=passed))
    assert (row["status"], row["since_quarter"]) == ("warning", "Q3")


def test_failed_status_stays_while_below_and_clears_when_recovered():
    failed = [Improvement("R1", "Q2", "failed")]
    row = only(watch({"R1": [("Q1", "50"), ("Q2", "50"), ("Q3", "50")]}, improvement=failed))
    assert (row["status"], row["since_quarter"], row["period_start"]) == (
        "reassign_or_exit", "Q2", dt.date(2026, 7, 1))
    assert watch({"R1": [("Q1", "50"), ("Q2", "50"), ("Q3", "75")]}, improvement=failed).empty


def test_a_rep_who_left_is_not_watched():
    # left 15 Jun, before the period would start on 1 Jul: no row
    gone = rep("R1", end=dt.date(2026, 6, 15))
    assert watch({"R1": [("Q1", "50"), ("Q2", "50")]}, team=[gone]).empty
    # leaving on the last day of the quarter: gone as well
    assert watch({"R1": [("Q1", "50")]}, team=[rep("R1", end=dt.date(2026, 3, 31))]).empty
    # leaving 31 Aug, after Q2 ends: still watched
    staying = rep("R1", end=dt.date(2026, 8, 31))
    row = only(watch({"R1": [("Q1", "50"), ("Q2", "50")]}, team=[staying]))
    assert row["status"] == "improvement_period"


def test_rows_sorted_by_rep_id():
    frame = watch({"R3": [("Q1", "1")], "R1": [("Q1", "2")], "R2": [("Q1", "90")]})
    assert frame["rep_id"].tolist() == ["R1", "R3"]


def test_empty_kpi():
    frame = watch({})
    assert frame.empty and list(frame.columns) == list(WATCHLIST_COLUMNS)
