"""The sample team of the 2026 plan and its year of actuals: the plan's headcount and hires,
and figures that give every rule something to show."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from xl_addin.core.kpi import score_kpi
from xl_addin.core.model import QUARTERS, QUOTA_ROLES, default_plan, quarter_bounds
from xl_addin.core.sample import sample_actuals, sample_regions, sample_team
from xl_addin.core.splits import active_days, cube_frame, rep_target_frame

YEAR = 2026
TEAM = sample_team(YEAR)
Q3_START, Q3_END = quarter_bounds(YEAR, "Q3")


@pytest.fixture(scope="module")
def plan_and_targets():
    plan = default_plan(YEAR, "zh", team=TEAM, regions=sample_regions("zh"))
    targets, unstaffed = rep_target_frame(plan, cube_frame(plan))
    assert unstaffed == []                       # every region-quarter has someone to carry it
    return plan, targets, {(r.rep_id, r.quarter): int(r.sales_target) for r in targets.itertuples()}


@pytest.fixture(scope="module")
def actuals(plan_and_targets):
    return sample_actuals(TEAM, plan_and_targets[2])


# ----------------------------------------------------------------------------- the team

def test_the_team_has_the_plans_size_20_now_and_8_hires():
    assert len(TEAM) == 28
    assert len({r.rep_id for r in TEAM}) == 28
    assert [r.rep_id for r in TEAM] == [f"R{n:03d}" for n in range(1, 29)]
    now = [r for r in TEAM if r.hire_date.year < YEAR]
    hires = [r for r in TEAM if r.hire_date.year == YEAR]
    assert (len(now), len(hires)) == (20, 8)


def test_hires_by_region_and_role_are_the_plans():
    # East +3 senior sales, South +2 channel specialists, North +1 KA manager, HQ +2 analysts
    hires = Counter((r.region, r.role) for r in TEAM if r.hire_date.year == YEAR)
    assert hires == {("EAST", "senior_sales"): 3, ("SOUTH", "channel_specialist"): 2,
                     ("NORTH", "ka_manager"): 1, ("HQ", "data_analyst"): 2}
    by_region = Counter(r.region for r in TEAM if r.hire_date.year == YEAR)
    assert dict(by_region) == default_plan(YEAR).settings.hires_by_region


def test_hire_dates_spread_over_the_year_some_mid_quarter():
    dates = sorted(r.hire_date for r in TEAM if r.hire_date.year == YEAR)
    assert len({d.month for d in dates}) >= 6
    starts = {quarter_bounds(YEAR, q)[0] for q in QUARTERS}
    assert sum(d not in starts for d in dates) >= 4


def test_hq_has_the_director_and_analysts_who_carry_no_quota():
    hq = [r for r in TEAM if r.region == "HQ"]
    assert Counter(r.role for r in hq) == {"director": 1, "data_analyst": 2}
    assert not any(r.carries_quota for r in hq)
    assert {r.region for r in TEAM if r.carries_quota} == {"EAST", "SOUTH", "NORTH", "OTHER"}


def test_every_new_hire_has_a_mentor_on_the_team_hired_before_them():
    by_id = {r.rep_id: r for r in TEAM}
    for rep in TEAM:
        if rep.hire_date.year == YEAR:
            mentor = by_id[rep.mentor_id]
            assert mentor.hire_date < rep.hire_date
            assert mentor.region == rep.region


def test_quota_weights_and_base_bonuses():
    carriers = [r for r in TEAM if r.carries_quota]
    assert {r.quota_weight for r in carriers} == {Decimal("1.2"), Decimal("1.0"), Decimal("0.8")}
    assert all(r.quota_weight == Decimal("1.2") for r in carriers if r.role == "senior_sales")
    assert 2 <= sum(r.quota_weight == Decimal("0.8") for r in carriers) <= 4
    assert all(Decimal(8000) <= r.base_bonus <= Decimal(15000) for r in carriers)


def test_one_leaver_in_q3():
    leavers = [r for r in TEAM if r.end_date]
    assert len(leavers) == 1
    assert Q3_START <= leavers[0].end_date <= Q3_END


def test_regions_name_a_manager_from_the_team_with_an_example_mailbox():
    names = {r.name for r in TEAM}
    for lang, east in (("zh", "华东"), ("en", "East")):
        regions = sample_regions(lang)
        assert [r.region for r in regions] == ["EAST", "SOUTH", "NORTH", "OTHER", "HQ"]
        assert regions[0].name == east
        assert all(r.manager in names and r.email.endswith("@example.com") for r in regions)
    assert sample_regions("zh")[0].email == "east.manager@example.com"


# ----------------------------------------------------------------------------- actuals

def test_actuals_cover_every_active_quota_carrier_each_quarter(actuals):
    expected = set()
    for q in QUARTERS:
        start, end = quarter_bounds(YEAR, q)
        expected |= {(r.rep_id, q) for r in TEAM
                     if r.role in QUOTA_ROLES and active_days(start, end, r.hire_date, r.end_date)}
    assert {(a.rep_id, a.quarter) for a in actuals} == expected
    assert len(actuals) == len(expected)
    leaver = next(r for r in TEAM if r.end_date)
    assert {a.quarter for a in actuals if a.rep_id == leaver.rep_id} == {"Q1", "Q2", "Q3"}


def test_actuals_are_deterministic_for_a_seed(plan_and_targets):
    targets = plan_and_targets[2]
    assert sample_actuals(TEAM, targets, 7) == sample_actuals(TEAM, targets, 7)
    assert sample_actuals(TEAM, targets, 7) != sample_actuals(TEAM, targets, 8)


def test_figures_are_plausible(actuals):
    for a in actuals:
        for money in (a.sales, a.collections, a.receivables):
            assert isinstance(money, Decimal) and money == money.quantize(Decimal("0.01")) and money > 0
        assert Decimal("0.8") <= a.collections / a.receivables <= 1
        assert 0 <= a.new_customers <= 5 and 0 <= a.proposals <= 2
        assert Decimal("0.8") <= a.training_rate <= 1
        assert a.visits > 0
    assert sum(a.collections == a.receivables for a in actuals) >= 5   # collection awards
    full = [a for a in actuals if a.visits >= 80]
    assert all(3 <= a.reports <= 8 for a in full)
    per_quarter = Counter((a.quarter, a.new_customers) for a in actuals)
    assert any(n > 1 for (_, k), n in per_quarter.items() if k >= 3)  # ties near the top


def test_sales_land_around_the_target(plan_and_targets, actuals):
    targets = plan_and_targets[2]
    ratios = [a.sales / targets[(a.rep_id, a.quarter)] for a in actuals]
    assert min(ratios) > Decimal("0.4") and max(ratios) < Decimal("2.5")
    assert sum(r < 1 for r in ratios) >= 10 and sum(r > Decimal("1.3") for r in ratios) >= 10


def test_mentee_conversion_only_for_mentors(actuals):
    mentors = {r.mentor_id for r in TEAM if r.mentor_id}
    filled = {a.rep_id for a in actuals if a.mentee_conversion is not None}
    assert filled and filled <= mentors
    assert all(0 <= a.mentee_conversion <= 1 for a in actuals if a.mentee_conversion is not None)


def test_a_rep_without_a_target_is_an_error(plan_and_targets):
    targets = dict(plan_and_targets[2])
    del targets[("R002", "Q1")]
    with pytest.raises(KeyError, match="R002"):
        sample_actuals(TEAM, targets)


def test_the_year_shows_a_rep_two_quarters_under_the_gate(plan_and_targets, actuals):
    plan, rep_targets, _ = plan_and_targets
    kpi = score_kpi(plan.kpi_scheme, actuals, rep_targets)
    under = kpi[kpi["kpi_score"] < Decimal(60)]
    by_rep = under.groupby("rep_id")["quarter"].apply(lambda s: sorted(QUARTERS.index(q) for q in s))
    consecutive = [rep for rep, qs in by_rep.items() if any(b == a + 1 for a, b in zip(qs, qs[1:]))]
    assert consecutive, "no rep with two consecutive quarters under 60"
    rep = next(r for r in TEAM if r.rep_id == consecutive[0])
    assert rep.hire_date < dt.date(YEAR - 1, 1, 1)      # not exempt as a new hire
    assert len(by_rep) >= 2                            # and someone with a single warning


def test_the_excess_pool_runs_short_in_q4(plan_and_targets, actuals):
    # excess bonus = 3% of sales above the rep's target; the pool is 2,000,000 for the year
    plan, _, targets = plan_and_targets
    rate, pool = plan.settings.excess_rate, plan.settings.excess_pool
    drawn = Decimal(0)
    for q in QUARTERS:
        drawn += sum((rate * max(Decimal(0), a.sales - targets[(a.rep_id, a.quarter)])
                      for a in actuals if a.quarter == q), Decimal(0))
        if q == "Q3":
            assert drawn < pool
    assert drawn > pool
