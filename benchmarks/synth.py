"""A synthetic master workbook at any scale, reproducible from a seed.

:func:`synth_inputs` makes a plan of ``n_reps`` quota-carrying reps (plus an HQ director)
spread over ``regions`` sales regions (40 by default): the region split lists every region
with whole-yuan amounts that add up exactly to the annual target, ``tblRegions`` lists the
regions plus HQ with a manager and a mailbox each, and ``tblActuals`` has a row for every
rep and quarter. Money scales with the team (the 2026 plan has 20 reps on 280 million, so a
plan of N reps has 14 million per rep: the quarter, product and budget splits and the excess
pool are the 2026 plan's times N / 20), so the checks, KPI and bonus rules see plausible
figures at any size. About 5 % of the reps are hired during Q1 (partial active fraction,
a mentor), so the active-days rules are exercised too.

:func:`write_master` turns such a plan into a master workbook with our own library, exactly
as ``xl-addin new`` does (:func:`~xl_addin.workbook.build.build_master`, the recalculation
pipeline, an atomic save), so the file has its outputs filled like any master in use.

Run as a script to write one: ``python benchmarks/synth.py --reps 1000 -o master.xlsx``.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from xl_addin.core.model import (QUARTERS, QUOTA_ROLES, Actual, PlanInputs, Region, Rep,  # noqa: E402
                            SplitLine, default_plan, quarter_bounds)
from xl_addin.core.splits import active_days, cube_frame, rep_target_frame, split_exact  # noqa: E402

N_REGIONS = 40
PER_REP_TARGET = 14_000_000          # 280 million / 20 reps in the 2026 plan
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力鹏飞宇浩然婷雪琳晨阳欣怡子轩梓涵"
_ROLE_WEIGHT = {"senior_sales": Decimal("1.2"), "sales": Decimal("1.0"),
                "channel_specialist": Decimal("1.0"), "ka_manager": Decimal("1.0")}
_SEASON = {"Q1": 1.0, "Q2": 1.0, "Q3": 1.0, "Q4": 1.2}


def region_codes(n: int) -> list[str]:
    return [f"G{i:02d}" for i in range(1, n + 1)]


def rep_id(i: int) -> str:
    return f"S{i:06d}"


def _scaled(lines: tuple[SplitLine, ...], n_reps: int) -> tuple[SplitLine, ...]:
    """The 2026 plan's split amounts times n_reps / 20 (whole yuan for every n)."""
    out = []
    for line in lines:
        amount = line.amount * n_reps / 20
        assert amount == amount.to_integral_value(), (line, n_reps)
        out.append(dataclasses.replace(line, amount=amount.to_integral_value()))
    return tuple(out)


def _fen(values: np.ndarray) -> list[Decimal]:
    """Yuan with two decimals from float yuan (rounded to the fen)."""
    fen = np.rint(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)
    return [Decimal(int(v)).scaleb(-2) for v in fen.tolist()]


def _ints(values: np.ndarray) -> list[Decimal]:
    return [Decimal(int(v)) for v in np.asarray(values).tolist()]


def synth_team(n_reps: int, rng: np.random.Generator, regions: list[str],
               year: int) -> tuple[tuple[Rep, ...], dict[str, int]]:
    """``n_reps`` quota carriers (every region gets at least one) and an HQ director;
    returns the team and the hires per region."""
    if n_reps < len(regions):
        raise ValueError(f"{n_reps} reps cannot staff {len(regions)} regions")
    # region sizes: one rep each, the rest in proportion to random region weights
    weights = rng.uniform(0.5, 1.5, len(regions))
    extra = split_exact(n_reps - len(regions), [Decimal(f"{w:.6f}") for w in weights])
    region_of = [r for r, k in zip(regions, extra) for _ in range(k + 1)]
    rng.shuffle(region_of)
    roles = rng.choice(len(QUOTA_ROLES), n_reps, p=[0.2, 0.6, 0.1, 0.1])
    hired = rng.random(n_reps) < 0.05
    hire_day = rng.integers(1, 90, n_reps)           # days into Q1 for the year's hires
    years_back = rng.integers(1, 15, n_reps)
    month, day = rng.integers(1, 13, n_reps), rng.integers(1, 29, n_reps)
    base = rng.integers(16, 31, n_reps) * 500         # 8,000 .. 15,000 yuan a quarter
    sur, giv = rng.integers(0, len(_SURNAMES), n_reps), rng.integers(0, len(_GIVEN), (n_reps, 2))
    two = rng.random(n_reps) < 0.6
    team = [Rep("D000001", "陈总", "HQ", "director", dt.date(year - 10, 3, 1), None,
                Decimal(0), Decimal(0), "", 1)]
    first_in_region: dict[str, str] = {}
    hires: dict[str, int] = {}
    for i in range(n_reps):
        rid, region = rep_id(i + 1), region_of[i]
        role = QUOTA_ROLES[int(roles[i])]
        mentor = ""
        if hired[i] and region in first_in_region:
            hire = dt.date(year, 1, 1) + dt.timedelta(days=int(hire_day[i]))
            mentor = first_in_region[region]
            hires[region] = hires.get(region, 0) + 1
        else:
            hire = dt.date(year - int(years_back[i]), int(month[i]), int(day[i]))
            first_in_region.setdefault(region, rid)
        name = _SURNAMES[sur[i]] + _GIVEN[giv[i, 0]] + (_GIVEN[giv[i, 1]] if two[i] else "")
        team.append(Rep(rid, name, region, role, hire, None, _ROLE_WEIGHT[role],
                        Decimal(int(base[i])), mentor, i + 2))
    return tuple(team), hires


def synth_actuals(team: tuple[Rep, ...], sales_targets: dict[tuple[str, str], int],
                  rng: np.random.Generator, year: int) -> tuple[Actual, ...]:
    """A row for every quota carrier and quarter, figures around the plan's targets."""
    reps = [r for r in team if r.carries_quota]
    mentors = {r.mentor_id for r in team if r.mentor_id}
    poor = rng.random(len(reps)) < 0.03      # strugglers: under the KPI gate all year
    out: list[Actual] = []
    row = 1
    for q in QUARTERS:
        start, end = quarter_bounds(year, q)
        qdays = (end - start).days + 1
        n = len(reps)
        share = np.array([active_days(start, end, r.hire_date, r.end_date) / qdays for r in reps])
        target = np.array([sales_targets[(r.rep_id, q)] for r in reps], dtype=np.float64)
        form = np.where(poor, rng.uniform(0.3, 0.5, n), rng.uniform(0.55, 1.6, n) * _SEASON[q])
        sales = target * form
        receivables = sales * rng.uniform(0.82, 1.02, n)
        full = rng.random(n) < 0.25
        collections = np.where(full, receivables, receivables * rng.uniform(0.85, 0.995, n))
        diligence = np.where(poor, rng.uniform(0.3, 0.5, n), rng.uniform(0.55, 1.15, n))
        visits = np.rint(104 * diligence * share)
        reports = np.rint(np.clip(6 * diligence + rng.integers(-1, 3, n), 2, 8) * share)
        new_customers = np.where(poor, 0, rng.choice([0, 1, 2, 2, 3, 3, 4, 5, 6, 8], n))
        proposals = rng.choice([0, 0, 1, 1, 1, 2], n)
        training = np.clip(np.rint(diligence * 20) / 20, 0.7, 1.0)
        mentee = rng.choice([0.0, 0.5, 1.0], n)
        # round every figure to what a workbook holds (fen, whole counts)
        f_sales, f_recv = _fen(sales), _fen(receivables)
        f_coll = [r if f else c for r, c, f in zip(f_recv, _fen(collections), full.tolist())]
        f_visits, f_reports = _ints(visits), _ints(reports)
        f_new, f_prop = _ints(new_customers), _ints(proposals)
        f_train, f_mentee = _fen(training), _fen(mentee)
        for i, rep in enumerate(reps):
            out.append(Actual(rep.rep_id, q, f_sales[i], f_coll[i], f_recv[i], f_new[i],
                              f_visits[i], f_reports[i], f_train[i],
                              f_mentee[i] if rep.rep_id in mentors else None, f_prop[i], row))
            row += 1
    return tuple(out)


def synth_inputs(n_reps: int, seed: int = 1, *, regions: int = N_REGIONS, year: int = 2026,
                 lang: str = "zh") -> PlanInputs:
    """The synthetic plan: ``n_reps`` reps x 4 quarters over ``regions`` regions (see the
    module docstring). The same arguments always give the same plan."""
    rng = np.random.default_rng(seed)
    codes = region_codes(min(regions, n_reps))
    team, hires = synth_team(n_reps, rng, codes, year)
    base = default_plan(year, lang)
    target = PER_REP_TARGET * n_reps
    # region amounts: random weights, whole yuan, adding up exactly to the annual target
    region_amounts = split_exact(target, [Decimal(f"{w:.6f}") for w in rng.uniform(0.6, 1.4, len(codes))])
    regions_split = tuple(SplitLine(c, Decimal(a), (Decimal(a) / target).quantize(Decimal("0.0001")), n)
                          for n, (c, a) in enumerate(zip(codes, region_amounts), 1))
    region_rows = tuple(Region(c, f"第{n}区" if lang == "zh" else f"Region {n}",
                               f"经理{n:02d}" if lang == "zh" else f"Manager {n:02d}",
                               f"{c.lower()}.manager@example.com", n)
                        for n, c in enumerate(codes, 1))
    region_rows += (Region("HQ", "总部" if lang == "zh" else "HQ", "陈总" if lang == "zh" else "Director",
                           "director@example.com", len(codes) + 1),)
    n_hires = sum(hires.values())
    k = Decimal(n_reps) / 20
    s = base.settings
    settings = dataclasses.replace(
        s, annual_target=Decimal(target), prior_year=(s.prior_year * k).to_integral_value(),
        excess_pool=(s.excess_pool * k).to_integral_value(),
        headcount_now=n_reps + 1 - n_hires, hires_total=n_hires, headcount_planned=n_reps + 1,
        hires_by_region={r: hires[r] for r in codes if r in hires},
        team_award_members=tuple(r.rep_id for r in team[1:4]))
    budget = tuple(dataclasses.replace(b, amount=(b.amount * k).to_integral_value()) for b in base.budget)
    plan = dataclasses.replace(base, settings=settings, quarters=_scaled(base.quarters, n_reps),
                               products=_scaled(base.products, n_reps), regions_split=regions_split,
                               regions=region_rows, budget=budget, team=team)
    targets, _ = rep_target_frame(plan, cube_frame(plan))
    sales_targets = {(r, q): int(t) for r, q, t in
                     zip(targets["rep_id"], targets["quarter"], targets["sales_target"])}
    return dataclasses.replace(plan, actuals=synth_actuals(team, sales_targets, rng, year))


def write_master(inputs: PlanInputs, path: Path | str, lang: str = "zh") -> None:
    """A master workbook of ``inputs`` with its outputs computed, as ``xl-addin new`` writes
    one (build, recalculate, save)."""
    from xl_addin.workbook.build import build_master
    from xl_addin.workbook.pipeline import recalc
    from xl_addin.workbook.xlsx import XlsxBook

    path = Path(path)
    book = XlsxBook(build_master(inputs, lang), path)
    recalc(book, action="new", now=dt.datetime(2026, 1, 1, 9, 0))
    book.wb.calculation.fullCalcOnLoad = True
    book.save(path)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--regions", type=int, default=N_REGIONS)
    ap.add_argument("--lang", choices=("zh", "en"), default="zh")
    ap.add_argument("-o", "--output", type=Path, required=True)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    inputs = synth_inputs(a.reps, a.seed, regions=a.regions, lang=a.lang)
    t1 = time.perf_counter()
    write_master(inputs, a.output, a.lang)
    t2 = time.perf_counter()
    print(f"{a.output}: {a.reps} reps, {len(inputs.actuals)} actuals; "
          f"inputs {t1 - t0:.1f} s, workbook {t2 - t1:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
