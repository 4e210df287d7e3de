"""Exact splits: split_exact, matrix rounding, the 2026 target cube and rep targets."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from xl_addin.core.model import Rep, default_plan
from xl_addin.core.splits import cube_frame, rep_target_frame
from xl_addin.core.splits import (active_fraction, round_matrix, split_exact, target_cube)

# ----------------------------------------------------------------------------- split_exact


def test_split_exact_thirds_largest_remainder_goes_first():
    # 100 / 3 = 33.33 each; one unit left over, ties go to the earliest part
    assert split_exact(100, [1, 1, 1]) == [34, 33, 33]


def test_split_exact_in_fen():
    # 100.00 yuan in fen: 10,000 / 3 = 3,333.33 -> 3,334 + 3,333 + 3,333 fen
    assert split_exact(Decimal("100.00"), [1, 1, 1], Decimal("0.01")) == [
        Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]


def test_split_exact_plan_quarters_from_shares():
    # the plan's quarter shares 16/25/27/32 of 280,000,000:
    # 44,800,000 / 70,000,000 / 75,600,000 / 89,600,000 (exact, no remainder)
    assert split_exact(280_000_000, [16, 25, 27, 32]) == [44_800_000, 70_000_000, 75_600_000, 89_600_000]


def test_split_exact_zero_weight_gets_zero():
    # 10 over weights 0,1,1: 0 + 5 + 5
    assert split_exact(10, [0, 1, 1]) == [0, 5, 5]


def test_split_exact_remainders_decide():
    # 10 over 1,2: quotas 3.33 and 6.67 -> 3 + 7 (the larger remainder takes the unit)
    assert split_exact(10, [1, 2]) == [3, 7]
    # negative totals split symmetrically: -10 -> -3, -7
    assert split_exact(-10, [1, 2]) == [-3, -7]


@pytest.mark.parametrize("weights", [[], [-1, 2], [0, 0]])
def test_split_exact_rejects_bad_weights(weights):
    with pytest.raises(ValueError):
        split_exact(100, weights)


def test_split_exact_rejects_total_not_multiple_of_unit():
    with pytest.raises(ValueError):
        split_exact(Decimal("1.005"), [1, 1], Decimal("0.01"))


@given(total=st.integers(-10**12, 10**12),
       weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=30),
       unit=st.sampled_from([1, 100, 10000]))
@settings(max_examples=300)
def test_split_exact_properties(total, weights, unit):
    assume(sum(weights) > 0)
    total = total - total % unit
    parts = split_exact(total, weights, unit)
    assert sum(parts) == total
    wsum = sum(weights)
    for part, w in zip(parts, weights):
        assert part % unit == 0
        assert abs(Fraction(part) - Fraction(total * w, wsum)) < unit
        if w == 0:
            assert part == 0


@given(cents=st.integers(0, 10**10), weights=st.lists(
    st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False), min_size=1, max_size=10))
def test_split_exact_decimal_money(cents, weights):
    assume(sum(weights) > 0)
    total = Decimal(cents) / 100
    parts = split_exact(total, weights, Decimal("0.01"))
    assert sum(parts) == total
    assert all(p == p.quantize(Decimal("0.01")) for p in parts)


# ----------------------------------------------------------------------------- round_matrix


def test_round_matrix_keeps_margins():
    # every cell 1.5, margins 3: a checkerboard of 2s and 1s
    assert round_matrix([[1.5, 1.5], [1.5, 1.5]], [3, 3], [3, 3]) in ([[2, 1], [1, 2]], [[1, 2], [2, 1]])


@given(st.data())
@settings(max_examples=200)
def test_round_matrix_properties(data):
    # a witness integer matrix z0 and a real matrix x within one unit of it: the margins of
    # z0 are then reachable, and round_matrix must find a rounding of x that meets them
    rows = data.draw(st.integers(1, 8))
    cols = data.draw(st.integers(1, 6))
    z0 = [[data.draw(st.integers(1, 1000)) for _ in range(cols)] for _ in range(rows)]
    x = [[z0[i][j] + Fraction(data.draw(st.integers(-999, 999)), 1000) for j in range(cols)]
         for i in range(rows)]
    rt = [sum(r) for r in z0]
    ct = [sum(z0[i][j] for i in range(rows)) for j in range(cols)]
    z = round_matrix(x, rt, ct)
    assert [sum(r) for r in z] == rt
    assert [sum(z[i][j] for i in range(rows)) for j in range(cols)] == ct
    assert all(abs(z[i][j] - x[i][j]) <= 1 for i in range(rows) for j in range(cols))


# ----------------------------------------------------------------------------- the cube

PLAN_REGIONS = [("EAST", 120_000_000), ("SOUTH", 80_000_000), ("NORTH", 50_000_000), ("OTHER", 30_000_000)]
PLAN_QUARTERS = [("Q1", 45_000_000), ("Q2", 70_000_000), ("Q3", 75_000_000), ("Q4", 90_000_000)]
PLAN_PRODUCTS = [("A", 150_000_000), ("B", 80_000_000), ("C", 50_000_000)]
T = 280_000_000


def test_plan_cube_uniform_prior_is_product_of_shares():
    cube = target_cube(T, PLAN_REGIONS, PLAN_QUARTERS, PLAN_PRODUCTS)
    # EAST x Q1 x A = 280,000,000 x (120/280) x (45/280) x (150/280)
    #               = 120,000,000 x 45,000,000 x 150,000,000 / 280,000,000^2 = 10,331,632.65
    assert cube[("EAST", "Q1", "A")] in (10_331_632, 10_331_633)
    for r, ra in PLAN_REGIONS:
        for q, qa in PLAN_QUARTERS:
            for p, pa in PLAN_PRODUCTS:
                exact = Fraction(ra * qa * pa, T * T)
                assert abs(cube[(r, q, p)] - exact) < 1, (r, q, p)
    # margins hold exactly: EAST 120,000,000; Q4 90,000,000; C 50,000,000; total 280,000,000
    assert sum(v for (r, _, _), v in cube.items() if r == "EAST") == 120_000_000
    assert sum(v for (_, q, _), v in cube.items() if q == "Q4") == 90_000_000
    assert sum(v for (_, _, p), v in cube.items() if p == "C") == 50_000_000
    assert sum(cube.values()) == 280_000_000
    # EAST x Q1 = 120,000,000 x 45/280 = 19,285,714.29 -> 19,285,714 or 19,285,715
    assert sum(cube[("EAST", "Q1", p)] for p, _ in PLAN_PRODUCTS) in (19_285_714, 19_285_715)


def test_cube_from_the_default_plan_frame():
    cube = cube_frame(default_plan())
    assert len(cube) == 4 * 4 * 3
    by_q = cube.groupby("quarter")["target"].sum().to_dict()
    assert by_q == {"Q1": 45_000_000, "Q2": 70_000_000, "Q3": 75_000_000, "Q4": 90_000_000}
    by_p = cube.groupby("product")["target"].sum().to_dict()
    assert by_p == {"A": 150_000_000, "B": 80_000_000, "C": 50_000_000}


def test_cube_with_a_prior_keeps_zeros_and_margins():
    # last year product C was not sold in NORTH: the prior's zeros stay zero
    prior = {(r, q, p): (0 if (r == "NORTH" and p == "C") else 1 + (q == "Q4"))
             for r, _ in PLAN_REGIONS for q, _ in PLAN_QUARTERS for p, _ in PLAN_PRODUCTS}
    cube = target_cube(T, PLAN_REGIONS, PLAN_QUARTERS, PLAN_PRODUCTS, prior)
    assert all(cube[("NORTH", q, "C")] == 0 for q, _ in PLAN_QUARTERS)
    assert sum(v for (r, _, _), v in cube.items() if r == "NORTH") == 50_000_000
    assert sum(v for (_, _, p), v in cube.items() if p == "C") == 50_000_000


@st.composite
def splits(draw):
    total = draw(st.integers(0, 10**9))
    def one(n, prefix):
        w = draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))
        return list(zip([f"{prefix}{i}" for i in range(n)], split_exact(total, w)))
    return total, one(draw(st.integers(1, 6)), "R"), one(4, "Q"), one(draw(st.integers(1, 5)), "P")


@given(splits(), st.booleans(), st.randoms(use_true_random=False))
@settings(max_examples=150, deadline=None)
def test_cube_properties(sp, with_prior, rnd):
    total, regions, quarters, products = sp
    prior = None
    if with_prior:
        prior = {(r, q, p): rnd.uniform(0.1, 10) for r, _ in regions for q, _ in quarters for p, _ in products}
    cube = target_cube(total, regions, quarters, products, prior)
    assert sum(cube.values()) == total
    for r, a in regions:
        assert sum(v for (rr, _, _), v in cube.items() if rr == r) == a
    for q, a in quarters:
        assert sum(v for (_, qq, _), v in cube.items() if qq == q) == a
    for p, a in products:
        assert sum(v for (_, _, pp), v in cube.items() if pp == p) == a
    if prior is None:  # uniform prior: each cell within 1 yuan of the product of shares
        for (r, q, p), v in cube.items():
            exact = Fraction(dict(regions)[r] * dict(quarters)[q] * dict(products)[p], total * total) if total else 0
            assert abs(v - exact) < 1
    assert all(v >= 0 for v in cube.values())


# ----------------------------------------------------------------------------- rep targets


def test_active_fraction_hire_mid_quarter():
    # Q1 2026 has 31 + 28 + 31 = 90 days; hired 15 Feb: 14 days of Feb + 31 of March = 45 -> 1/2
    assert active_fraction(dt.date(2026, 1, 1), dt.date(2026, 3, 31), dt.date(2026, 2, 15), None) == Fraction(1, 2)
    # leaves on 31 Jan (inclusive): 31 / 90
    assert active_fraction(dt.date(2026, 1, 1), dt.date(2026, 3, 31), None, dt.date(2026, 1, 31)) == Fraction(31, 90)
    # hired after the quarter: 0
    assert active_fraction(dt.date(2026, 1, 1), dt.date(2026, 3, 31), dt.date(2026, 4, 1), None) == 0


def _rep(i, region="EAST", weight="1", hire=None, end=None, role="sales"):
    return Rep(f"R{i:03d}", f"rep{i}", region, role, hire, end, Decimal(weight), Decimal(10000))


def test_rep_targets_split_by_weight_and_activity():
    reps = (_rep(1, weight="1.2"), _rep(2), _rep(3, hire=dt.date(2026, 2, 15)),
            *(_rep(10 + i, region=r) for i, r in enumerate(["SOUTH", "NORTH", "OTHER"])))
    plan = default_plan(team=reps)
    cube = cube_frame(plan)
    df, unstaffed = rep_target_frame(plan, cube)
    assert unstaffed == []
    east_q1 = int(cube.query("region == 'EAST' and quarter == 'Q1'")["target"].sum())
    got = df.query("region == 'EAST' and quarter == 'Q1'").set_index("rep_id")["sales_target"].to_dict()
    # weights 1.2 x 1, 1 x 1, 1 x 1/2 (45 of 90 days) -> 1.2 : 1 : 0.5 of 2.7
    assert sum(got.values()) == east_q1
    assert abs(got["R001"] - Fraction(east_q1) * Fraction(12, 27)) < 1
    assert abs(got["R003"] - Fraction(east_q1) * Fraction(5, 27)) < 1
    # from Q2 on, R003 is active all quarter: 1.2 : 1 : 1 of 3.2
    east_q2 = int(cube.query("region == 'EAST' and quarter == 'Q2'")["target"].sum())
    got2 = df.query("region == 'EAST' and quarter == 'Q2'").set_index("rep_id")["sales_target"].to_dict()
    assert got2["R002"] in (east_q2 * 10 // 32, east_q2 * 10 // 32 + 1)


def test_rep_targets_region_without_active_rep_is_reported():
    # nobody in OTHER until a hire on 1 July: Q1 and Q2 targets of OTHER have no carrier
    reps = (_rep(1), _rep(2, region="SOUTH"), _rep(3, region="NORTH"),
            _rep(4, region="OTHER", hire=dt.date(2026, 7, 1)))
    plan = default_plan(team=reps)
    df, unstaffed = rep_target_frame(plan, cube_frame(plan))
    assert [(r, q) for r, q, _ in unstaffed] == [("OTHER", "Q1"), ("OTHER", "Q2")]
    # OTHER x Q1 = 30,000,000 x 45/280 = 4,821,428.57 -> 4,821,428 or 4,821,429
    assert unstaffed[0][2] in (4_821_428, 4_821_429)
    assert set(df.query("rep_id == 'R004'")["quarter"]) == {"Q3", "Q4"}


@given(st.lists(st.tuples(st.sampled_from(["EAST", "SOUTH", "NORTH", "OTHER"]),
                          st.integers(0, 40), st.integers(0, 364), st.one_of(st.none(), st.integers(0, 364))),
                min_size=1, max_size=25))
@settings(max_examples=60, deadline=None)
def test_rep_targets_add_up_per_region_quarter(spec):
    start = dt.date(2026, 1, 1)
    reps = []
    for i, (region, w, hire, end) in enumerate(spec):
        h = start + dt.timedelta(days=hire)
        e = None if end is None else max(h, start + dt.timedelta(days=end))
        reps.append(_rep(i, region, str(Decimal(w) / 10), h, e))
    plan = default_plan(team=tuple(reps))
    cube = cube_frame(plan)
    df, unstaffed = rep_target_frame(plan, cube)
    rq = cube.groupby(["region", "quarter"])["target"].sum()
    got = df.groupby(["region", "quarter"])["sales_target"].sum()
    missing = {(r, q) for r, q, _ in unstaffed}
    for key, target in rq.items():
        if key in missing:
            assert got.get(key, 0) == 0
        else:
            assert got[key] == target
