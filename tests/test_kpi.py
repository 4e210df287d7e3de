"""KPI scoring (plan-rules §3): worked examples with the arithmetic in comments."""
from __future__ import annotations

import dataclasses
import math
from decimal import Decimal as D

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from xl_addin.core import kpi as kpi_module
from xl_addin.core.kpi import KPI_COLUMNS, explain_kpi, explain_score, score_kpi
from xl_addin.core.model import Actual, Indicator, default_plan

SCHEME = default_plan().kpi_scheme
TARGET_COLUMNS = ["rep_id", "region", "quarter", "active_fraction", "active_days",
                  "quarter_days", "sales_target"]


def full_marks(rep_id: str = "R001", quarter: str = "Q1", **figures) -> Actual:
    """Actuals meeting every 2026 target of a full quarter, unless overridden:
    sales 1,000,000 (the target used below), collections 95 / receivables 100 = 95%,
    2 new customers, 104 visits, 6 reports, training 100%, mentee conversion 100%, 1 proposal."""
    base = dict(sales=D(1_000_000), collections=D(95), receivables=D(100), new_customers=D(2),
                visits=D(104), reports=D(6), training_rate=D(1), mentee_conversion=D(1),
                proposals=D(1))
    base.update({k: (None if v is None else D(v)) for k, v in figures.items()})
    return Actual(rep_id, quarter, **base)


def targets(*rows: tuple) -> pd.DataFrame:
    """rep_targets rows: (rep_id, quarter, sales_target[, active_days, quarter_days])."""
    out = []
    for row in rows:
        rep_id, quarter, sales_target, *days = row
        active, qdays = days or (90, 90)
        out.append((rep_id, "EAST", quarter, active / qdays, active, qdays, sales_target))
    return pd.DataFrame(out, columns=TARGET_COLUMNS)


def one_score(actual: Actual, sales_target: int = 1_000_000, active: int = 90,
              qdays: int = 90, scheme=SCHEME) -> D:
    frame = score_kpi(scheme, [actual], targets((actual.rep_id, actual.quarter, sales_target,
                                                 active, qdays)))
    assert len(frame) == 1
    return frame["kpi_score"].iloc[0]


def with_weights(**changes) -> tuple[Indicator, ...]:
    """The 2026 scheme with some indicators changed: name=dict(field=value)."""
    return tuple(dataclasses.replace(i, **changes.get(i.indicator, {})) for i in SCHEME)


# ----------------------------------------------------------------------------- the scheme

def test_2026_scheme_weights_and_targets():
    weights = {i.indicator: i.weight for i in SCHEME}
    # 40 + 15 + 5 + 10 + 10 + 10 + 5 + 5 = 100
    assert [weights[k] for k in ("sales", "collection_rate", "new_customers", "visits",
                                 "reports", "training_rate", "mentee_conversion",
                                 "proposals")] == [40, 15, 5, 10, 10, 10, 5, 5]
    groups = {}
    for i in SCHEME:
        groups[i.group] = groups.get(i.group, 0) + i.weight
    # base 40 + 15 + 5 = 60, process 10 + 10 + 10 = 30, growth 5 + 5 = 10
    assert groups == {"base": 60, "process": 30, "growth": 10}
    t = {i.indicator: i.target for i in SCHEME}
    # 95% collection; 2 new customers; 8 visits a week x 13 weeks = 104; 2 reports a month
    # x 3 = 6; training 100%; mentee conversion 100%; 1 proposal
    assert (t["collection_rate"], t["new_customers"], t["visits"], t["reports"],
            t["training_rate"], t["mentee_conversion"], t["proposals"]) == (
        D("0.95"), 2, 8 * 13, 2 * 3, 1, 1, 1)


# ----------------------------------------------------------------------------- worked examples

def test_worked_example_full_quarter():
    a = full_marks(sales=1_200_000, collections=855_000, receivables=1_000_000,
                   new_customers=1, visits=78, reports=6, training_rate="0.8",
                   mentee_conversion="0.5", proposals=2)
    frame = score_kpi(SCHEME, [a], targets(("R001", "Q1", 1_000_000)))
    row = frame.iloc[0]
    # sales 1,200,000 / target 1,000,000 = 1.2, capped 1.0     -> 40 x 1.0  = 40
    # collections 855,000 / 1,000,000 = 0.855; / 0.95 = 0.9    -> 15 x 0.9  = 13.5
    # new customers 1 / 2 = 0.5                                -> 5 x 0.5   = 2.5
    # visits 78 / 104 = 0.75                                   -> 10 x 0.75 = 7.5
    # reports 6 / 6 = 1                                        -> 10
    # training 0.8 / 1 = 0.8                                   -> 8
    # mentee conversion 0.5 / 1                                -> 2.5
    # proposals 2 / 1 = 2, capped 1                            -> 5
    # 40 + 13.5 + 2.5 + 7.5 + 10 + 8 + 2.5 + 5 = 89.0 (of 100 applicable weight)
    assert row["kpi_score"] == D("89.00") and isinstance(row["kpi_score"], D)
    assert str(row["kpi_score"]) == "89.00"
    assert row["ach_sales"] == 1.0
    assert row["ach_collection_rate"] == pytest.approx(0.9)
    assert row["ach_new_customers"] == 0.5
    assert row["ach_visits"] == 0.75
    assert row["ach_training_rate"] == pytest.approx(0.8)
    assert row["ach_proposals"] == 1.0
    assert list(frame.columns) == list(KPI_COLUMNS) == [
        "rep_id", "quarter", "ach_sales", "ach_collection_rate", "ach_new_customers",
        "ach_visits", "ach_reports", "ach_training_rate", "ach_mentee_conversion",
        "ach_proposals", "kpi_score"]


def test_explain_worked_example():
    a = full_marks(sales=1_200_000, collections=855_000, receivables=1_000_000,
                   new_customers=1, visits=78, training_rate="0.8", mentee_conversion="0.5",
                   proposals=2)
    lines = explain_kpi(SCHEME, a, 1_000_000, 90, 90)
    by = {line.indicator: line for line in lines}
    sales = by["sales"]
    # 1,200,000 / 1,000,000 = 1.2 uncapped, 1.0 capped, weight 40 -> 40.00 points
    assert (sales.actual, sales.target, sales.achievement, sales.capped) == (
        D(1_200_000), D(1_000_000), D("1.2000"), D("1.0000"))
    assert (sales.effective_weight, sales.points, sales.na_reason) == (D("40"), D("40.00"), "")
    coll = by["collection_rate"]
    # 855,000 / 1,000,000 = 0.855 against 0.95 -> 0.9 -> 15 x 0.9 = 13.50
    assert (coll.actual, coll.target, coll.achievement, coll.points) == (
        D("0.8550"), D("0.9500"), D("0.9000"), D("13.50"))
    assert [line.indicator for line in lines] == [i.indicator for i in SCHEME]
    # points: 40 + 13.5 + 2.5 + 7.5 + 10 + 8 + 2.5 + 5 = 89
    assert sum(line.points for line in lines) == D("89.00")
    assert explain_score(lines) == D("89.00")


def test_na_indicators_spread_their_weight():
    a = full_marks(sales=500_000, collections=0, receivables=0, mentee_conversion=None,
                   reports=3, proposals=0)
    row = score_kpi(SCHEME, [a], targets(("R001", "Q1", 1_000_000))).iloc[0]
    # N/A: collection_rate (receivables 0, weight 15) and mentee_conversion (no mentees, 5)
    # applicable weight 100 - 15 - 5 = 80
    # sales 500,000 / 1,000,000 = 0.5 -> 20; new customers 5; visits 10; reports 3 / 6 = 0.5
    # -> 5; training 10; proposals 0 / 1 -> 0; sum 20 + 5 + 10 + 5 + 10 + 0 = 50
    # 50 / 80 x 100 = 62.5
    assert row["kpi_score"] == D("62.50")
    assert math.isnan(row["ach_collection_rate"]) and math.isnan(row["ach_mentee_conversion"])
    lines = {x.indicator: x for x in explain_kpi(SCHEME, a, 1_000_000, 90, 90)}
    assert lines["collection_rate"].na_reason == "no receivables"
    assert lines["mentee_conversion"].na_reason == "no mentees"
    assert lines["collection_rate"].effective_weight == 0
    assert lines["collection_rate"].achievement is None
    # sales: 40 / 80 x 100 = 50 effective weight, x 0.5 = 25 points
    assert (lines["sales"].effective_weight, lines["sales"].points) == (D("50.0000"), D("25.00"))
    # visits: 10 / 80 x 100 = 12.5
    assert lines["visits"].effective_weight == D("12.5000")


def test_sales_target_zero_makes_sales_na():
    a = full_marks(sales=123_456, visits=52)
    # sales N/A (no sales target): applicable weight 100 - 40 = 60
    # visits 52 / 104 = 0.5 -> 5 instead of 10; the rest full: 60 - 10 + 5 = 55
    # 55 / 60 x 100 = 91.666... -> 91.67
    assert one_score(a, sales_target=0) == D("91.67")
    assert explain_kpi(SCHEME, a, 0, 90, 90)[0].na_reason == "no sales target"


def test_count_targets_scale_for_a_mid_quarter_hire():
    a = full_marks(sales=505_495, new_customers=1, visits=40, reports=3, proposals=1)
    # active 46 of 91 days. Count targets scale: visits 104 x 46/91 = 52.5714...,
    # new customers 2 x 46/91 = 1.0109..., reports 6 x 46/91 = 3.0329...,
    # proposals 1 x 46/91 = 0.5054...; rate targets (collection, training, mentees) do not.
    # visits 40 / (104 x 46/91) = 3640/4784 = 35/46 -> 10 x 35/46 = 700/92
    # new customers 1 / (92/91) = 91/92              -> 5 x 91/92  = 455/92
    # reports 3 / (276/91) = 273/276 = 91/92          -> 10 x 91/92 = 910/92
    # proposals 1 / 0.5054 = 1.978, capped 1          -> 5
    # sales 505,495 / 505,495 = 1 -> 40; collection 95% / 95% -> 15; training 10; mentees 5
    # (700 + 455 + 910) / 92 = 2065/92 = 22.4456...; + 40 + 15 + 5 + 10 + 5 = 97.4456... -> 97.45
    assert one_score(a, sales_target=505_495, active=46, qdays=91) == D("97.45")
    # the same figures over a full quarter: visits 40/104 -> 3.846..., new 1/2 -> 2.5,
    # reports 3/6 -> 5: 75 + 3.8461... + 2.5 + 5 = 86.3461... -> 86.35
    assert one_score(a, sales_target=505_495, active=91, qdays=91) == D("86.35")
    lines = {x.indicator: x for x in explain_kpi(SCHEME, a, 505_495, 46, 91)}
    # 104 x 46 / 91 = 52.571428... -> 52.5714; training target 1 is not scaled
    assert lines["visits"].target == D("52.5714")
    assert lines["training_rate"].target == D("1.0000")
    assert lines["collection_rate"].target == D("0.9500")


@pytest.mark.parametrize("sales, sales_target, expected", [
    # 40 x 308,625 / 1,000,000 = 12.345 exactly; + 60 (the rest full) = 72.345 -> 72.35
    ("308625", 1_000_000, "72.35"),
    # 40 x 302,625 / 1,000,000 = 12.105; + 60 = 72.105 exactly -> 72.11 (float gives 72.10)
    ("302625", 1_000_000, "72.11"),
    # 40 x 30,862,499.99 / 100,000,000 = 12.344999996; + 60 = 72.344999996 -> 72.34
    ("30862499.99", 100_000_000, "72.34"),
    # 40 x 30,262,499.99 / 100,000,000 = 12.104999996; + 60 = 72.104999996 -> 72.10
    ("30262499.99", 100_000_000, "72.10"),
])
def test_half_up_to_two_decimals_is_exact(sales, sales_target, expected):
    a = full_marks(sales=sales)
    assert one_score(a, sales_target=sales_target) == D(expected)
    assert explain_score(explain_kpi(SCHEME, a, sales_target, 90, 90)) == D(expected)


def test_float_alone_would_round_the_boundary_wrong(monkeypatch):
    """The 72.105 example really needs the exact recomputation: without it the float
    score (72.10499999...) rounds down."""
    a = full_marks(sales="302625")
    monkeypatch.setattr(kpi_module, "_NEAR_HALF", -1.0)
    assert one_score(a) == D("72.10")


def test_cap_is_a_setting():
    scheme = with_weights(sales={"cap": D("1.2")})
    # visits 52 / 104 = 0.5 -> 10 x 0.5 = 5, so the other indicators give 60 - 5 = 55;
    # sales 1,100,000 / 1,000,000 = 1.1 under the cap 1.2 -> 40 x 1.1 = 44; 44 + 55 = 99
    assert one_score(full_marks(sales=1_100_000, visits=52), scheme=scheme) == D("99.00")
    # sales 1.5 capped at 1.2 -> 48; 48 + 55 = 103, clipped to the documented 100
    assert one_score(full_marks(sales=1_500_000, visits=52), scheme=scheme) == D("100.00")
    # default cap 1: 1.5 -> 1.0 -> 40 + 55 = 95
    assert one_score(full_marks(sales=1_500_000, visits=52)) == D("95.00")


def test_scores_are_clipped_to_100_whatever_the_cap():
    # issue 11: cap 10 on sales, sales 2.5x target -> 40 x 2.5 = 100 + 60 = 160 unclipped
    scheme = with_weights(sales={"cap": D("10")})
    assert one_score(full_marks(sales=2_500_000), scheme=scheme) == D("100.00")


def test_achievement_never_below_zero():
    # sales -50,000 (net returns) -> achievement 0, not negative: 0 + 60 = 60
    row = score_kpi(SCHEME, [full_marks(sales=-50_000)], targets(("R001", "Q1", 1_000_000)))
    assert row["ach_sales"].iloc[0] == 0.0
    assert row["kpi_score"].iloc[0] == D("60.00")


def test_weight_zero_indicator_takes_no_part():
    scheme = with_weights(sales={"weight": D(45)}, proposals={"weight": D(0)})
    a = full_marks(sales=500_000, proposals=0)
    row = score_kpi(scheme, [a], targets(("R001", "Q1", 1_000_000))).iloc[0]
    # sales 0.5 x 45 = 22.5; proposals weight 0 ignored; the rest 15+5+10+10+10+5 = 55
    # 22.5 + 55 = 77.5 of 100
    assert row["kpi_score"] == D("77.50")
    assert math.isnan(row["ach_proposals"])
    assert explain_kpi(scheme, a, 1_000_000, 90, 90)[-1].na_reason == "weight 0"


def test_all_indicators_na_scores_zero():
    scheme = tuple(i for i in SCHEME if i.indicator in ("sales", "collection_rate"))
    # sales target 0 and receivables 0: nothing applies -> 0.00 (documented decision)
    assert one_score(full_marks(receivables=0, collections=0), sales_target=0,
                     scheme=scheme) == D("0.00")


def test_rows_are_reported_rep_quarters_in_targets_sorted():
    actuals = [
        full_marks("R002", "Q2", sales=500_000),
        full_marks("R001", "Q2"),
        Actual("R001", "Q3"),                      # not reported: sales blank
        full_marks("R001", "Q1"),
        full_marks("R009", "Q1"),                  # no rep_targets row: not a quota carrier
    ]
    rt = targets(("R001", "Q1", 1_000_000), ("R001", "Q2", 1_000_000),
                 ("R001", "Q3", 1_000_000), ("R002", "Q2", 1_000_000),
                 ("R003", "Q1", 1_000_000))      # R003 has no actuals: no row
    frame = score_kpi(SCHEME, actuals, rt)
    assert list(zip(frame.rep_id, frame.quarter)) == [("R001", "Q1"), ("R001", "Q2"),
                                                      ("R002", "Q2")]
    # R002: 0.5 x 40 = 20 + 60 = 80
    assert frame.kpi_score.tolist() == [D("100.00"), D("100.00"), D("80.00")]


def test_empty_input_gives_empty_table_with_columns():
    frame = score_kpi(SCHEME, [], targets())
    assert frame.empty and list(frame.columns) == list(KPI_COLUMNS)


def test_blank_required_figure_is_an_error_not_a_zero():
    with pytest.raises(ValueError, match="visits"):
        score_kpi(SCHEME, [full_marks(visits=None)], targets(("R001", "Q1", 1_000_000)))
    with pytest.raises(ValueError, match="visits"):
        explain_kpi(SCHEME, full_marks(visits=None), 1_000_000, 90, 90)


# ----------------------------------------------------------------------------- properties

money = st.integers(0, 500_000_000).map(lambda f: D(f).scaleb(-2))
rate = st.integers(0, 150).map(lambda p: D(p) / 100)


@st.composite
def rep_quarters(draw):
    """A random scheme (caps <= 1) and random rep-quarters, biased toward the 2026 weights
    and round numbers so that many exact scores land on half-cent boundaries."""
    default_weights = [int(i.weight) for i in SCHEME]
    weights = draw(st.just(default_weights)
                   | st.lists(st.integers(0, 40), min_size=8, max_size=8).filter(any))
    caps = st.sampled_from([D(1), D(1), D("0.8"), D("0.5")])
    scheme = tuple(dataclasses.replace(i, weight=D(w), cap=draw(caps))
                   for i, w in zip(SCHEME, weights))
    n = draw(st.integers(1, 6))
    actuals, rows = [], []
    for k in range(n):
        qdays = draw(st.sampled_from([90, 91, 92]))
        target = draw(st.sampled_from([0, 8, 1000, 1_000_000, 1_234_567]))
        # sales = target x m / 8000: with weight 40 of 100 that is m/200 points, a half-cent
        # boundary whenever m is odd and the other figures are round
        sales = draw(money | st.integers(0, 16_000).map(lambda m: D(target * m) / 8000))
        if draw(st.booleans()):      # round figures, full quarter
            active = qdays
            receivables = D(draw(st.sampled_from([0, 100, 1000])))
            collections = receivables * draw(st.sampled_from([D(0), D("0.5"), D("0.95"), D(1)]))
            counts = [D(draw(st.sampled_from(v))) for v in
                      ([0, 1, 2], [0, 52, 104], [0, 3, 6], [0, 1])]
            rates = [draw(st.sampled_from([D(0), D("0.5"), D(1)])),
                     draw(st.sampled_from([None, D(0), D("0.5"), D(1)]))]
        else:
            active = draw(st.integers(1, qdays))
            receivables = draw(st.sampled_from([D(0), D(100), D(1000)]) | money)
            collections = draw(money)
            counts = [D(draw(st.integers(0, m))) for m in (5, 200, 10, 3)]
            rates = [draw(rate), draw(st.none() | rate)]
        actuals.append(Actual(
            f"R{k:03d}", "Q1", sales=sales, collections=collections, receivables=receivables,
            new_customers=counts[0], visits=counts[1], reports=counts[2],
            training_rate=rates[0], mentee_conversion=rates[1], proposals=counts[3]))
        rows.append((f"R{k:03d}", "Q1", target, active, qdays))
    return scheme, actuals, targets(*rows)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rep_quarters())
def test_property_score_in_range_and_explain_agrees(case):
    scheme, actuals, rt = case
    frame = score_kpi(scheme, actuals, rt)
    assert len(frame) == len(actuals)
    by_rep = {a.rep_id: a for a in actuals}
    for row, t in zip(frame.itertuples(), rt.itertuples()):
        assert D(0) <= row.kpi_score <= D(100)
        assert row.kpi_score == row.kpi_score.quantize(D("0.01"))
        lines = explain_kpi(scheme, by_rep[row.rep_id], t.sales_target, t.active_days,
                            t.quarter_days)
        assert explain_score(lines) == row.kpi_score
