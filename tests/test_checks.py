"""Consistency checks (plan-rules section 2; section 1's unstaffed region-quarters).

Worked examples from the 2026 seed plan: the numbers, the arithmetic in a comment, the
expected status. Broken variants change one number and expect the one finding.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xl_addin.core.checks import (CHECK_COLUMNS, FAIL, MESSAGES, OK, STATUSES, WARN, Check,
                             checks_frame, elapsed_share, is_pool_line, run_checks,
                             share_status, stated_tolerance, worst_status)
from xl_addin.core.model import BudgetLine, PlanInputs, Rep, default_plan
from xl_addin.core.money import round_half_up

D = Decimal


# ----------------------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def seed() -> PlanInputs:
    return default_plan()


@pytest.fixture(scope="module")
def seed_checks(seed: PlanInputs) -> list[Check]:
    return run_checks(seed)


def row(checks: list[Check], area: str, item: str) -> Check:
    found = [c for c in checks if c.area == area and c.item == item]
    assert len(found) == 1, f"{area}/{item}: {len(found)} rows"
    return found[0]


def rows(checks: list[Check], area: str) -> list[Check]:
    return [c for c in checks if c.area == area]


def with_budget(plan: PlanInputs, line_id: str, **changes) -> PlanInputs:
    budget = tuple(replace(b, **changes) if b.line_id == line_id else b for b in plan.budget)
    return replace(plan, budget=budget)


def with_split(plan: PlanInputs, attr: str, key: str, **changes) -> PlanInputs:
    lines = tuple(replace(s, **changes) if s.key == key else s for s in getattr(plan, attr))
    return replace(plan, **{attr: lines})


def with_settings(plan: PlanInputs, **changes) -> PlanInputs:
    return replace(plan, settings=replace(plan.settings, **changes))


# ----------------------------------------------------------------------------- tolerance

@pytest.mark.parametrize("stated, unit", [
    ("0.43", "0.01"),        # whole percent: 43%
    (0.43, "0.01"),          # a float arrives via its shortest repr, 0.43
    ("0.430", "0.01"),       # shortest decimal form of 0.430 is 0.43
    ("0.0107", "0.0001"),    # hundredths of a percent: 1.07%
    ("0.0429", "0.0001"),    # 4.29%
    ("0.125", "0.001"),      # tenths of a percent: 12.5%
    ("0.1", "0.01"),         # 10% written as 0.1: never coarser than one percentage point
    ("0.10", "0.01"),        # 10% as in the seed
    ("1", "0.01"),           # 100%
    ("0", "0.01"),
    ("-0.05", "0.01"),       # a negative growth of 5%
    ("0.25", "0.01"),        # growth 25%
])
def test_stated_tolerance(stated, unit):
    assert stated_tolerance(D(stated) if isinstance(stated, str) else stated) == D(unit)


@pytest.mark.parametrize("stated, computed, status", [
    # 0.43: unit 0.01, OK within 0.005, WARN within 0.01
    ("0.43", "0.4349", OK),      # |0.4349 - 0.43| = 0.0049 <= 0.005
    ("0.43", "0.4351", WARN),    # 0.0051 > 0.005, <= 0.01
    ("0.43", "0.4401", FAIL),    # 0.0101 > 0.01
    ("0.43", "0.435", OK),       # exactly half a unit is OK
    ("0.43", "0.44", WARN),      # exactly one unit is WARN
    ("0.43", "0.4251", OK),      # below: 0.0049
    ("0.43", "0.4199", FAIL),    # below: 0.0101
    # 0.0107: unit 0.0001, OK within 0.00005, WARN within 0.0001
    ("0.0107", "0.01075", OK),   # 0.00005
    ("0.0107", "0.010751", WARN),  # 0.000051
    ("0.0107", "0.0108", WARN),  # 0.0001
    ("0.0107", "0.010801", FAIL),  # 0.000101
    # 0.1 means 10% to the whole percent (unit 0.01), not 10% +- 5 points (unit 0.1)
    ("0.1", "0.105", OK),        # 0.005
    ("0.1", "0.1051", WARN),     # 0.0051
    ("0.1", "0.11", WARN),       # 0.01
    ("0.1", "0.1101", FAIL),     # 0.0101 (would be OK with a unit of 0.1)
    ("0.1", "0.14", FAIL),       # 0.04
])
def test_share_status_table(stated, computed, status):
    assert share_status(D(stated), D(computed)) == status


def test_share_status_is_exact_not_float():
    # 87/200 = 0.435 exactly, half a unit above 0.43: OK. In binary floating point
    # 0.435 - 0.43 = 0.0050000000000000044 > 0.005 and it would come out WARN.
    assert 0.435 - 0.43 > 0.005
    assert share_status(D("0.43"), Fraction(87, 200)) == OK
    # 45/280 = 0.160714... vs 0.16: 0.000714 <= 0.005
    assert share_status(D("0.16"), Fraction(45, 280)) == OK


@given(num=st.integers(min_value=-10**9, max_value=10**9),
       den=st.integers(min_value=1, max_value=10**9),
       places=st.integers(min_value=2, max_value=8))
def test_share_status_ok_for_the_rounded_value(num, den, places):
    # Property: a stated share that is the computed share rounded half-up to the stated
    # precision (whole percent or finer) is always OK.
    computed = Fraction(num, den)
    stated = round_half_up(computed, places)
    assert share_status(stated, computed) == OK


@given(num=st.integers(min_value=0, max_value=10**6),
       places=st.integers(min_value=2, max_value=6),
       extra=st.integers(min_value=1, max_value=10**6))
def test_share_status_fail_beyond_one_unit(num, places, extra):
    # Property: a computed share more than one unit away from the stated one FAILs.
    stated = D(num).scaleb(-places)
    unit = Fraction(stated_tolerance(stated))
    assert share_status(stated, Fraction(stated) + unit + Fraction(1, extra)) == FAIL
    assert share_status(stated, Fraction(stated) - unit - Fraction(1, extra)) == FAIL


# ----------------------------------------------------------------------------- the seed plan

def test_seed_quarter_shares(seed_checks):
    q1 = row(seed_checks, "quarters", "Q1 share")
    # 45,000,000 / 280,000,000 = 0.160714 = 16.07% vs 16%: off 0.07 pt <= 0.5 pt -> OK
    assert (q1.stated, q1.computed, q1.status) == (D("0.16"), D("0.160714"), OK)
    assert "16.07%" in q1.message and "16%" in q1.message
    # 70,000,000 / 280,000,000 = 0.25 = 25% exactly -> OK
    assert row(seed_checks, "quarters", "Q2 share").computed == D("0.25")
    assert row(seed_checks, "quarters", "Q2 share").status == OK
    # 75,000,000 / 280,000,000 = 0.267857 = 26.79% vs 27%: off 0.21 pt -> OK
    q3 = row(seed_checks, "quarters", "Q3 share")
    assert (q3.computed, q3.status) == (D("0.267857"), OK)
    # 90,000,000 / 280,000,000 = 0.321429 = 32.14% vs 32%: off 0.14 pt -> OK
    q4 = row(seed_checks, "quarters", "Q4 share")
    assert (q4.computed, q4.status) == (D("0.321429"), OK)
    # 45 + 70 + 75 + 90 = 280 million, the annual target
    total = row(seed_checks, "quarters", "sum of amounts")
    assert (total.stated, total.computed, total.status) == (D(280_000_000), D(280_000_000), OK)
    # 16 + 25 + 27 + 32 = 100%
    assert row(seed_checks, "quarters", "sum of stated shares").status == OK


def test_seed_region_shares(seed_checks):
    # 120/280 = 42.86% vs 43%: 0.14 pt -> OK
    assert row(seed_checks, "regions", "EAST share").status == OK
    # 80/280 = 28.57% vs 29%: 0.43 pt -> OK
    assert row(seed_checks, "regions", "SOUTH share").status == OK
    # 50/280 = 17.86% vs 18%: 0.14 pt -> OK
    assert row(seed_checks, "regions", "NORTH share").status == OK
    # 30/280 = 10.71% vs 10%: 0.71 pt, beyond half a point, within one -> WARN
    other = row(seed_checks, "regions", "OTHER share")
    assert (other.stated, other.computed, other.status) == (D("0.10"), D("0.107143"), WARN)
    assert "10.71%" in other.message and "0.71 pt" in other.message
    assert other.code == "share.warn"
    # 120 + 80 + 50 + 30 = 280 million; 43 + 29 + 18 + 10 = 100%
    assert row(seed_checks, "regions", "sum of amounts").status == OK
    assert row(seed_checks, "regions", "sum of stated shares").status == OK


def test_seed_product_shares(seed_checks):
    # A: 150/280 = 53.57% vs 53%: 0.57 pt -> WARN
    a = row(seed_checks, "products", "A share")
    assert (a.computed, a.status) == (D("0.535714"), WARN)
    assert "53.57%" in a.message and "0.57 pt" in a.message
    # B: 80/280 = 28.57% vs 29%: 0.43 pt -> OK; C: 50/280 = 17.86% vs 18%: 0.14 pt -> OK
    assert row(seed_checks, "products", "B share").status == OK
    assert row(seed_checks, "products", "C share").status == OK
    # 150 + 80 + 50 = 280 million; 53 + 29 + 18 = 100%
    assert row(seed_checks, "products", "sum of amounts").status == OK
    assert row(seed_checks, "products", "sum of stated shares").status == OK


def test_seed_budget_ratios(seed_checks):
    # marketing 3,000,000 / 280,000,000 = 0.01071429 = 1.0714% vs 1.07%: unit 0.01 pt,
    # off 0.0014 pt <= 0.005 pt -> OK
    mkt = row(seed_checks, "budget", "MKT ratio")
    assert (mkt.stated, mkt.computed, mkt.status) == (D("0.0107"), D("0.01071429"), OK)
    assert "1.0714%" in mkt.message and "0.0014 pt" in mkt.message
    # team cost 12,000,000 / 280,000,000 = 0.04285714 = 4.2857% vs 4.29%: off 0.0043 pt -> OK
    team = row(seed_checks, "budget", "TEAM ratio")
    assert (team.computed, team.status) == (D("0.04285714"), OK)
    assert "4.2857%" in team.message


def test_seed_budget_children_and_pool(seed_checks):
    # marketing is fully itemised: 1,200,000 + 1,500,000 + 300,000 = 3,000,000 -> OK
    mkt = row(seed_checks, "budget", "MKT children sum")
    assert (mkt.stated, mkt.computed, mkt.status) == (D(3_000_000), D(3_000_000), OK)
    assert "1,200,000 + 1,500,000 + 300,000 = 3,000,000" in mkt.message
    # team cost is not itemised: its one child 2,000,000 <= 12,000,000 -> OK
    team = row(seed_checks, "budget", "TEAM children sum")
    assert (team.computed, team.status, team.code) == (D(2_000_000), OK, "children_within.ok")
    # the pool setting 2,000,000 = the TEAM_POOL line 2,000,000 -> OK
    pool = row(seed_checks, "pool", "excess pool vs budget")
    assert (pool.stated, pool.computed, pool.status) == (D(2_000_000), D(2_000_000), OK)
    # the pool 2,000,000 within team cost 12,000,000 -> OK
    within = row(seed_checks, "pool", "TEAM_POOL within TEAM")
    assert (within.stated, within.computed, within.status) == (D(12_000_000), D(2_000_000), OK)


def test_seed_growth(seed_checks):
    # 280,000,000 / 224,000,000 - 1 = 1.25 - 1 = 0.25 = 25% vs 25% -> OK
    g = row(seed_checks, "growth", "growth vs prior year")
    assert (g.stated, g.computed, g.status) == (D("0.25"), D("0.25"), OK)


def test_seed_headcount(seed_checks):
    # 20 now + 8 hires = 28 planned -> OK
    hc = row(seed_checks, "headcount", "now + hires vs planned")
    assert (hc.stated, hc.computed, hc.status) == (28, 28, OK)
    # EAST 3 + SOUTH 2 + NORTH 1 + HQ 2 = 8 hires -> OK
    hires = row(seed_checks, "headcount", "hires by region")
    assert (hires.stated, hires.computed, hires.status) == (8, 8, OK)
    assert "EAST 3 + SOUTH 2 + NORTH 1 + HQ 2 = 8" in hires.message


def test_seed_kpi_scheme(seed_checks):
    # base: sales 40 + collection 15 + new customers 5 = 60
    base = row(seed_checks, "kpi_scheme", "base group weight")
    assert (base.stated, base.computed, base.status) == (D(60), D(60), OK)
    assert "40 + 15 + 5 = 60" in base.message
    # process: visits 10 + reports 10 + training 10 = 30
    process = row(seed_checks, "kpi_scheme", "process group weight")
    assert (process.computed, process.status) == (D(30), OK)
    # growth: mentee conversion 5 + proposals 5 = 10
    growth = row(seed_checks, "kpi_scheme", "growth group weight")
    assert (growth.computed, growth.status) == (D(10), OK)
    # 60 + 30 + 10 = 100
    total = row(seed_checks, "kpi_scheme", "total weight")
    assert (total.stated, total.computed, total.status) == (D(100), D(100), OK)


def test_seed_has_exactly_the_two_expected_warnings_and_no_failures(seed_checks):
    # The plan's own numbers: only OTHER (10.71% vs 10%) and A (53.57% vs 53%) are off by
    # more than half a point; nothing fails. No team, spend or rep targets: no such rows.
    findings = [(c.area, c.item, c.status) for c in seed_checks if c.status != OK]
    assert findings == [("regions", "OTHER share", WARN), ("products", "A share", WARN)]
    # quarters 4 + 2, regions 4 + 2, products 3 + 2, growth 1, budget 2 ratios + 2 child
    # sums, pool 2, headcount 2, KPI 3 groups + total = 6 + 6 + 5 + 1 + 4 + 2 + 2 + 4 = 30
    assert len(seed_checks) == 30
    assert not rows(seed_checks, "spend") and not rows(seed_checks, "rep_targets")
    assert worst_status(seed_checks) == WARN


# ----------------------------------------------------------------------------- broken splits

def test_quarter_amount_off_by_one_yuan_fails(seed):
    # Q1 45,000,001: 45,000,001 + 70 + 75 + 90 million = 280,000,001, 1 above the target
    checks = run_checks(with_split(seed, "quarters", "Q1", amount=D(45_000_001)))
    total = row(checks, "quarters", "sum of amounts")
    assert (total.computed, total.status, total.code) == (D(280_000_001), FAIL, "split_sum.fail")
    assert "1 above the annual target 280,000,000" in total.message
    # the share itself is still within tolerance: 45,000,001 / 280,000,000 = 16.07%
    assert row(checks, "quarters", "Q1 share").status == OK


def test_region_amount_short_fails(seed):
    # NORTH 49,999,999: total 279,999,999, 1 below
    checks = run_checks(with_split(seed, "regions_split", "NORTH", amount=D(49_999_999)))
    assert row(checks, "regions", "sum of amounts").status == FAIL
    assert "1 below" in row(checks, "regions", "sum of amounts").message


def test_stated_shares_not_adding_to_100_warn(seed):
    # product A stated 54%: 54 + 29 + 18 = 101% -> WARN with the sum;
    # the share itself 53.57% vs 54%: 0.43 pt -> OK
    checks = run_checks(with_split(seed, "products", "A", stated_share=D("0.54")))
    s = row(checks, "products", "sum of stated shares")
    assert (s.computed, s.status) == (D("1.01"), WARN)
    assert "101%" in s.message
    assert row(checks, "products", "A share").status == OK


def test_stated_share_far_off_fails(seed):
    # Q1 stated 18%: 16.07% vs 18% is 1.93 pt off -> FAIL
    checks = run_checks(with_split(seed, "quarters", "Q1", stated_share=D("0.18")))
    q1 = row(checks, "quarters", "Q1 share")
    assert (q1.status, q1.code) == (FAIL, "share.fail")
    assert "1.93 pt" in q1.message


def test_line_without_stated_share_is_not_compared(seed):
    checks = run_checks(with_split(seed, "quarters", "Q1", stated_share=None))
    assert not [c for c in checks if c.item == "Q1 share"]
    assert not [c for c in rows(checks, "quarters") if c.item == "sum of stated shares"]
    assert row(checks, "quarters", "sum of amounts").status == OK


def test_zero_annual_target_is_a_fail_row_not_an_error(seed):
    checks = run_checks(with_settings(seed, annual_target=D(0)))
    q1 = row(checks, "quarters", "Q1 share")
    assert (q1.computed, q1.status, q1.code) == (None, FAIL, "ratio.no_base")


# ----------------------------------------------------------------------------- growth

@pytest.mark.parametrize("stated, status", [
    ("0.25", OK),     # 280 / 224 - 1 = 25% exactly
    ("0.24", WARN),   # 1 pt off, unit 1 pt -> WARN
    ("0.26", WARN),
    ("0.23", FAIL),   # 2 pt off
    ("0.245", FAIL),  # unit 0.1 pt: 25% vs 24.5% is 0.5 pt off, more than 0.1 pt -> FAIL
    ("0.3", FAIL),    # 30% to the whole percent: 5 pt off
])
def test_growth_tolerance(seed, stated, status):
    checks = run_checks(with_settings(seed, stated_growth=D(stated)))
    assert row(checks, "growth", "growth vs prior year").status == status


def test_growth_skipped_without_stated_growth_and_fails_without_prior_year(seed):
    assert not rows(run_checks(with_settings(seed, stated_growth=None)), "growth")
    g = row(run_checks(with_settings(seed, prior_year=D(0))), "growth", "growth vs prior year")
    assert g.status == FAIL


# ----------------------------------------------------------------------------- broken budget

def test_itemised_parent_whose_children_miss_fails(seed):
    # incentives 299,999: 1,200,000 + 1,500,000 + 299,999 = 2,999,999, 1 below 3,000,000
    checks = run_checks(with_budget(seed, "MKT_INCENTIVE", amount=D(299_999)))
    mkt = row(checks, "budget", "MKT children sum")
    assert (mkt.computed, mkt.status, mkt.code) == (D(2_999_999), FAIL, "children_sum.fail")
    assert "1 below 3,000,000" in mkt.message


def test_itemised_parent_children_above_fails(seed):
    # online 1,200,001: children 3,000,001 > 3,000,000
    checks = run_checks(with_budget(seed, "MKT_ONLINE", amount=D(1_200_001)))
    assert row(checks, "budget", "MKT children sum").status == FAIL


def test_not_itemised_parent_may_have_children_below(seed):
    # TEAM is not itemised: 2,000,000 < 12,000,000 is fine; marking it itemised fails
    checks = run_checks(with_budget(seed, "TEAM", itemised=True))
    team = row(checks, "budget", "TEAM children sum")
    assert (team.status, team.code) == (FAIL, "children_sum.fail")


def test_itemised_line_without_children_fails(seed):
    # TECH 500,000 marked itemised with no children: 0 != 500,000
    checks = run_checks(with_budget(seed, "TECH", itemised=True))
    tech = row(checks, "budget", "TECH children sum")
    assert (tech.computed, tech.status) == (D(0), FAIL)


def test_child_above_parent_fails(seed):
    # the pool 13,000,000 above team cost 12,000,000
    checks = run_checks(with_budget(seed, "TEAM_POOL", amount=D(13_000_000)))
    child = row(checks, "budget", "TEAM_POOL within TEAM")
    assert (child.stated, child.computed, child.status) == (D(12_000_000), D(13_000_000), FAIL)
    assert child.code == "child_above_parent.fail"
    assert row(checks, "budget", "TEAM children sum").status == FAIL   # 13m > 12m
    assert row(checks, "pool", "TEAM_POOL within TEAM").status == FAIL
    # and 13,000,000 reserved vs a 2,000,000 pool: more than needed -> WARN
    assert row(checks, "pool", "excess pool vs budget").status == WARN


def test_unknown_parent_fails(seed):
    checks = run_checks(with_budget(seed, "TECH", parent_id="IT"))
    bad = row(checks, "budget", "TECH parent")
    assert (bad.status, bad.code) == (FAIL, "unknown_parent.fail")
    assert "IT" in bad.message


def test_parent_cycle_and_duplicate_fail(seed):
    checks = run_checks(with_budget(seed, "TECH", parent_id="TECH"))
    assert row(checks, "budget", "TECH parent").code == "parent_cycle.fail"
    dup = replace(seed, budget=seed.budget + (BudgetLine("TECH", "again", amount=D(1)),))
    assert row(run_checks(dup), "budget", "TECH duplicate").status == FAIL


def test_stated_ratio_off_by_more_than_a_unit_fails(seed):
    # marketing 3,000,000 stated 1.05%: 1.0714% is 0.0214 pt off, unit 0.01 pt -> FAIL
    checks = run_checks(with_budget(seed, "MKT", stated_ratio=D("0.0105")))
    assert row(checks, "budget", "MKT ratio").status == FAIL
    # stated 1.08%: 0.0086 pt off, more than 0.005 but within 0.01 -> WARN
    checks = run_checks(with_budget(seed, "MKT", stated_ratio=D("0.0108")))
    assert row(checks, "budget", "MKT ratio").status == WARN


# ----------------------------------------------------------------------------- pool

@pytest.mark.parametrize("pool, status", [
    (2_000_000, OK),     # = the TEAM_POOL line
    (1_500_000, WARN),   # 2,000,000 reserved for a 1,500,000 pool: 500,000 idle
    (2_500_000, FAIL),   # the pool promises 500,000 more than the budget reserves
])
def test_pool_setting_vs_budget_line(seed, pool, status):
    checks = run_checks(with_settings(seed, excess_pool=D(pool)))
    assert row(checks, "pool", "excess pool vs budget").status == status


def test_pool_line_missing_warns(seed):
    plan = replace(seed, budget=tuple(b for b in seed.budget if b.line_id != "TEAM_POOL"))
    p = row(run_checks(plan), "pool", "excess pool vs budget")
    assert (p.computed, p.status, p.code) == (None, WARN, "pool.missing")


def test_pool_line_rule():
    assert is_pool_line("TEAM_POOL") and is_pool_line("bonus_pool") and is_pool_line("POOL")
    assert not is_pool_line("TEAM") and not is_pool_line("POOLSIDE")


# ----------------------------------------------------------------------------- spend

def test_spend_above_the_line_fails(seed):
    # TECH 500,000, spent 500,001: 1 above
    checks = run_checks(with_budget(seed, "TECH", spent_to_date=D(500_001)))
    s = row(checks, "spend", "TECH spend vs line")
    assert (s.stated, s.computed, s.status) == (D(500_000), D(500_001), FAIL)
    assert "1 above" in s.message


def test_spend_within_the_line_without_date_is_ok_and_has_no_pace(seed):
    checks = run_checks(with_budget(seed, "TECH", spent_to_date=D(500_000)))
    assert row(checks, "spend", "TECH spend vs line").status == OK
    assert [c.item for c in rows(checks, "spend")] == ["TECH spend vs line"]


def test_elapsed_share():
    # 31 + 28 + 31 + 30 + 31 + 30 = 181 days to 30 June 2026 inclusive, of 365
    assert elapsed_share(2026, dt.date(2026, 6, 30)) == Fraction(181, 365)
    assert elapsed_share(2026, dt.date(2026, 1, 1)) == Fraction(1, 365)
    assert elapsed_share(2026, dt.date(2025, 12, 31)) == 0
    assert elapsed_share(2026, dt.date(2027, 1, 1)) == 1
    assert elapsed_share(2028, dt.date(2028, 12, 31)) == 1   # leap year: 366/366


def test_spend_ahead_of_the_year_warns(seed):
    # 30 June: elapsed 181/365 = 49.59%. Marketing spent 1,800,000 of 3,000,000 = 60%:
    # 60% - 49.59% = 10.41 pt ahead > 10 pt -> WARN
    plan = with_budget(seed, "MKT", spent_to_date=D(1_800_000))
    pace = row(run_checks(plan, as_of=dt.date(2026, 6, 30)), "spend", "MKT spend pace")
    assert pace.status == WARN and pace.code == "spend_pace.warn"
    assert (pace.stated, pace.computed) == (D("0.495890"), D("0.600000"))
    assert "10.41 pt ahead" in pace.message and "49.59%" in pace.message
    # 1,650,000 of 3,000,000 = 55%: 55% - 49.59% = 5.41 pt -> OK
    plan = with_budget(seed, "MKT", spent_to_date=D(1_650_000))
    assert row(run_checks(plan, as_of=dt.date(2026, 6, 30)), "spend", "MKT spend pace").status == OK


def test_spend_exactly_ten_points_ahead_is_ok(seed):
    # 14 March: 31 + 28 + 14 = 73 days, 73/365 = 20% exactly. On a 1,000,000 line,
    # 300,000 spent = 30%, exactly 10 pt ahead -> OK (only "more than" 10 pt warns);
    # 300,001 = 30.0001%, 10.0001 pt ahead -> WARN (exact arithmetic, no float fuzz)
    plan = with_budget(seed, "TECH", amount=D(1_000_000), spent_to_date=D(300_000))
    day = dt.date(2026, 3, 14)
    assert elapsed_share(2026, day) == Fraction(1, 5)
    assert row(run_checks(plan, as_of=day), "spend", "TECH spend pace").status == OK
    plan = with_budget(seed, "TECH", amount=D(1_000_000), spent_to_date=D(300_001))
    assert row(run_checks(plan, as_of=day), "spend", "TECH spend pace").status == WARN


def test_spend_as_of_from_settings(seed):
    # the Plan's as_of_date is used when no as_of argument is given
    plan = with_settings(with_budget(seed, "MKT", spent_to_date=D(1_800_000)),
                         as_of_date=dt.date(2026, 6, 30))
    assert row(run_checks(plan), "spend", "MKT spend pace").status == WARN
    # the argument wins: at 31 July, 212/365 = 58.08% elapsed, 60% is 1.92 pt ahead -> OK
    assert row(run_checks(plan, as_of=dt.date(2026, 7, 31)), "spend", "MKT spend pace").status == OK


# ----------------------------------------------------------------------------- headcount

def test_headcount_mismatch_fails(seed):
    # 20 now + 7 hires = 27 != 28 planned; and hires by region 3+2+1+2 = 8 != 7
    checks = run_checks(with_settings(seed, hires_total=7))
    hc = row(checks, "headcount", "now + hires vs planned")
    assert (hc.computed, hc.status) == (27, FAIL)
    hires = row(checks, "headcount", "hires by region")
    assert (hires.stated, hires.computed, hires.status) == (7, 8, FAIL)


def test_hires_in_an_unknown_region_warn(seed):
    checks = run_checks(with_settings(seed, hires_by_region={"EAST": 3, "SOUTH": 2, "WEST": 1,
                                                             "HQ": 2}))
    assert row(checks, "headcount", "WEST hires region").status == WARN
    assert row(checks, "headcount", "hires by region").status == OK


def _rep(rep_id, region, role="sales", hire=None, end=None):
    return Rep(rep_id, rep_id, region, role, hire_date=hire, end_date=end)


def test_team_at_year_end_vs_plan(seed):
    d = dt.date
    team = (
        *(_rep(f"R{i:02}", "EAST") for i in range(1, 21)),          # 20 now
        _rep("R21", "EAST", "senior_sales", d(2026, 2, 1)),          # hires in 2026
        _rep("R22", "EAST", "senior_sales", d(2026, 3, 1)),
        _rep("R23", "SOUTH", "channel_specialist", d(2026, 4, 1)),
        _rep("R24", "NORTH", "ka_manager", d(2026, 4, 1)),
        _rep("R25", "HQ", "data_analyst", d(2026, 1, 5)),
        _rep("R26", "HQ", "data_analyst", d(2026, 1, 5), d(2026, 9, 30)),   # leaves in Sept
    )
    checks = run_checks(replace(seed, team=team))
    # 20 + 6 hires - 1 leaver = 25 at 31 Dec vs 28 planned: 3 short
    year_end = row(checks, "headcount", "team at year end")
    assert (year_end.stated, year_end.computed, year_end.status) == (28, 25, WARN)
    # missing: the leaver R26, and planned hires not in the table: EAST 3-2 = 1, SOUTH 2-1 = 1
    assert "3 short" in year_end.message and "R26" in year_end.message
    assert "EAST 1, SOUTH 1" in year_end.message
    # per region hires in 2026 vs plan (informational): EAST 2 vs 3, SOUTH 1 vs 2 -> WARN;
    # NORTH 1 = 1, HQ 2 = 2 -> OK
    assert row(checks, "headcount", "EAST hires").status == WARN
    assert row(checks, "headcount", "SOUTH hires").status == WARN
    assert row(checks, "headcount", "NORTH hires").status == OK
    assert row(checks, "headcount", "HQ hires").status == OK
    assert not [c for c in rows(checks, "headcount") if c.status == FAIL]


def test_team_matching_the_plan_is_ok(seed):
    d = dt.date
    hires = [("EAST", 3), ("SOUTH", 2), ("NORTH", 1), ("HQ", 2)]
    team = [_rep(f"R{i:02}", "EAST") for i in range(1, 21)]
    team += [_rep(f"N{r}{k}", r, hire=d(2026, 3, 1)) for r, n in hires for k in range(n)]
    # one who left in 2025 is not counted
    team.append(_rep("OLD", "EAST", hire=d(2020, 1, 1), end=d(2025, 6, 30)))
    checks = run_checks(replace(seed, team=tuple(team)))
    assert row(checks, "headcount", "team at year end").computed == 28
    assert all(c.status == OK for c in rows(checks, "headcount"))


# ----------------------------------------------------------------------------- KPI scheme

def test_kpi_weights_off_fail(seed):
    # visits 11: process 11 + 10 + 10 = 31 != 30; total 101 != 100
    scheme = tuple(replace(i, weight=D(11)) if i.indicator == "visits" else i
                   for i in seed.kpi_scheme)
    checks = run_checks(replace(seed, kpi_scheme=scheme))
    process = row(checks, "kpi_scheme", "process group weight")
    assert (process.computed, process.status) == (D(31), FAIL)
    assert row(checks, "kpi_scheme", "total weight").status == FAIL
    assert row(checks, "kpi_scheme", "base group weight").status == OK


def test_kpi_group_settings_off_fail(seed):
    # base group set to 50 while its indicators weigh 60
    checks = run_checks(with_settings(seed, kpi_group_base=D(50)))
    assert row(checks, "kpi_scheme", "base group weight").status == FAIL
    assert row(checks, "kpi_scheme", "total weight").status == OK   # indicators still 100


def test_kpi_unknown_group_fails(seed):
    scheme = tuple(replace(i, group="bonus") if i.indicator == "proposals" else i
                   for i in seed.kpi_scheme)
    checks = run_checks(replace(seed, kpi_scheme=scheme))
    assert row(checks, "kpi_scheme", "bonus group weight").status == FAIL
    assert row(checks, "kpi_scheme", "growth group weight").status == FAIL   # 5 != 10


# ----------------------------------------------------------------------------- rep targets

def test_unstaffed_region_quarter_fails(seed):
    checks = run_checks(seed, unstaffed=[("NORTH", "Q3", 12_500_000)])
    u = row(checks, "rep_targets", "NORTH Q3 staffing")
    assert (u.stated, u.status, u.code) == (D(12_500_000), FAIL, "unstaffed.fail")
    assert "NORTH" in u.message and "Q3" in u.message and "12,500,000" in u.message


# A region x quarter matrix (millions) with the plan's margins:
#            Q1  Q2  Q3  Q4 | region
#   EAST     20  30  30  40 | 120
#   SOUTH    15  20  20  25 |  80
#   NORTH     5  15  15  15 |  50
#   OTHER     5   5  10  10 |  30
#   quarter  45  70  75  90 | 280
MATRIX = {"EAST": (20, 30, 30, 40), "SOUTH": (15, 20, 20, 25), "NORTH": (5, 15, 15, 15),
          "OTHER": (5, 5, 10, 10)}


def _rep_frame(skip: tuple[str, str] | None = None) -> pd.DataFrame:
    rows_ = []
    for region, cells in MATRIX.items():
        for quarter, m in zip(("Q1", "Q2", "Q3", "Q4"), cells):
            if (region, quarter) == skip:
                continue
            # two reps share each cell: 40% / 60%
            rows_.append((f"{region}1", region, quarter, 1.0, 91, 91, m * 400_000))
            rows_.append((f"{region}2", region, quarter, 1.0, 91, 91, m * 600_000))
    return pd.DataFrame(rows_, columns=["rep_id", "region", "quarter", "active_fraction",
                                        "active_days", "quarter_days", "sales_target"])


def test_matrix_has_the_plan_margins(seed):
    assert [sum(c) * 10**6 for c in MATRIX.values()] == [s.amount for s in seed.regions_split]
    assert [sum(c[i] for c in MATRIX.values()) * 10**6 for i in range(4)] == \
        [s.amount for s in seed.quarters]


def test_rep_targets_add_up_to_region_and_quarter_targets(seed):
    checks = run_checks(seed, rep_targets=_rep_frame())
    rt = rows(checks, "rep_targets")
    assert [c.item for c in rt] == ["EAST rep targets", "SOUTH rep targets", "NORTH rep targets",
                                    "OTHER rep targets", "Q1 rep targets", "Q2 rep targets",
                                    "Q3 rep targets", "Q4 rep targets"]
    assert all(c.status == OK for c in rt)
    assert row(checks, "rep_targets", "EAST rep targets").computed == D(120_000_000)


def test_rep_targets_unstaffed_cell_counts_but_still_fails(seed):
    # NORTH Q3 has nobody: its 15,000,000 is listed as unstaffed, so the sums still hold,
    # and the unstaffed row is the FAIL
    checks = run_checks(seed, rep_targets=_rep_frame(skip=("NORTH", "Q3")),
                        unstaffed=[("NORTH", "Q3", 15_000_000)])
    assert row(checks, "rep_targets", "NORTH rep targets").status == OK
    assert row(checks, "rep_targets", "Q3 rep targets").status == OK
    assert [c.item for c in checks if c.status == FAIL] == ["NORTH Q3 staffing"]


def test_rep_targets_silently_lost_fail(seed):
    # the same cell dropped without an unstaffed entry: NORTH 35,000,000 and Q3 60,000,000
    checks = run_checks(seed, rep_targets=_rep_frame(skip=("NORTH", "Q3")))
    north = row(checks, "rep_targets", "NORTH rep targets")
    assert (north.stated, north.computed, north.status) == (D(50_000_000), D(35_000_000), FAIL)
    assert "15,000,000 below" in north.message
    assert row(checks, "rep_targets", "Q3 rep targets").status == FAIL
    assert row(checks, "rep_targets", "EAST rep targets").status == OK


def test_rep_targets_per_region_quarter(seed):
    frame = _rep_frame()
    frame.loc[0, "sales_target"] += 1        # EAST1 Q1: 8,000,001
    cells = {(r, q): m * 10**6 for r, cs in MATRIX.items()
             for q, m in zip(("Q1", "Q2", "Q3", "Q4"), cs)}
    checks = run_checks(seed, rep_targets=frame, region_quarter_targets=cells)
    cell = row(checks, "rep_targets", "EAST Q1 rep targets")
    assert (cell.stated, cell.computed, cell.status) == (D(20_000_000), D(20_000_001), FAIL)
    assert row(checks, "rep_targets", "EAST Q2 rep targets").status == OK


def test_rep_targets_unknown_region_fails(seed):
    frame = pd.concat([_rep_frame(), pd.DataFrame([("W1", "WEST", "Q1", 1.0, 91, 91, 5)],
                                                  columns=_rep_frame().columns)])
    checks = run_checks(seed, rep_targets=frame)
    assert row(checks, "rep_targets", "WEST rep targets").status == FAIL
    assert row(checks, "rep_targets", "Q1 rep targets").status == FAIL   # 5 yuan too many


# ----------------------------------------------------------------------------- rows and frame

def test_every_row_is_well_formed(seed):
    plan = with_budget(with_budget(seed, "MKT", spent_to_date=D(1_800_000)),
                       "TECH", spent_to_date=D(600_000), parent_id="NOPE")
    checks = run_checks(plan, as_of=dt.date(2026, 6, 30), rep_targets=_rep_frame(),
                        unstaffed=[("OTHER", "Q1", 1)])
    for c in checks:
        assert c.status in STATUSES
        assert c.message == MESSAGES[c.code].format(**c.params)
        assert c.code.endswith("." + c.status.lower()) or c.code in (
            "ratio.no_base", "unknown_parent.fail", "parent_cycle.fail", "pool.missing",
            "pool.ambiguous", "hires_region.warn", "child_above_parent.fail")
    assert {c.area for c in checks} == {"quarters", "regions", "products", "growth", "budget",
                                        "pool", "spend", "headcount", "kpi_scheme",
                                        "rep_targets"}


def test_checks_frame(seed_checks):
    df = checks_frame(seed_checks)
    assert list(df.columns) == list(CHECK_COLUMNS) == ["area", "item", "stated", "computed",
                                                       "status", "message"]
    assert len(df) == len(seed_checks)
    other = df[(df.area == "regions") & (df.item == "OTHER share")].iloc[0]
    assert other.status == WARN and other.stated == D("0.10")
    assert isinstance(other.computed, Decimal)
    empty = checks_frame([])
    assert list(empty.columns) == list(CHECK_COLUMNS) and empty.empty


def test_checks_module_is_pure():
    import xl_addin.core.checks as mod
    source = open(mod.__file__, encoding="utf-8").read()
    for banned in ("openpyxl", "xlwings", "print(", "open(", "smtplib", "requests"):
        assert banned not in source
