"""The sample team of the 2026 plan and a year of plausible actuals (made-up people).

Pure data, no I/O. The team has the plan's size: 20 people now and the 8 planned hires
(East +3 senior sales, South +2 channel specialists, North +1 key-account manager, HQ +2
data analysts), one leaver in Q3, mentors for every new hire, and a regional manager per
sales region. :func:`sample_actuals` fills four quarters for every quota carrier so that
every rule of the plan has something to show: stars and strugglers, a rep with two
consecutive quarters under the KPI gate (an improvement period), collections of exactly
100% (the collection award), ties for the new-customer award, and an excess-bonus pool that
runs short in Q4.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

from .model import QUARTERS, Actual, Region, Rep, plan_labels, quarter_bounds
from .money import round_half_up
from .splits import active_days

HQ_DIRECTOR = "R001"

# (rep_id, name, region, role, hire (year offset, month, day), end (month, day) in the plan
#  year or None, quota weight, base bonus per quarter, mentor, profile)
# A hire offset of 0 means the plan year itself (the 8 planned hires).
_TEAM: tuple[tuple, ...] = (
    ("R001", "陈志远", "HQ", "director", (-10, 3, 1), None, "0", 0, "", "staff"),
    ("R002", "王建华", "EAST", "senior_sales", (-11, 7, 1), None, "1.2", 15000, "", "star"),
    ("R003", "李婷", "EAST", "senior_sales", (-8, 4, 16), None, "1.2", 14000, "", "steady"),
    ("R004", "张伟", "EAST", "sales", (-7, 9, 2), None, "1.0", 11000, "", "steady"),
    ("R005", "刘洋", "EAST", "sales", (-5, 3, 15), None, "1.0", 10000, "", "steady"),
    ("R006", "赵敏", "EAST", "ka_manager", (-9, 11, 20), None, "1.0", 12000, "", "star"),
    ("R007", "孙浩", "EAST", "sales", (-3, 6, 1), None, "1.0", 9000, "", "weak"),
    ("R008", "周婧", "EAST", "sales", (-1, 11, 3), None, "0.8", 8000, "", "steady"),
    ("R009", "黄志强", "SOUTH", "senior_sales", (-10, 5, 9), None, "1.2", 14000, "", "steady"),
    ("R010", "吴丽娟", "SOUTH", "channel_specialist", (-7, 2, 18), None, "1.0", 11000, "", "star"),
    ("R011", "郑凯", "SOUTH", "sales", (-6, 8, 10), None, "1.0", 10000, "", "steady"),
    ("R012", "林晓燕", "SOUTH", "sales", (-4, 4, 6), (8, 21), "1.0", 9000, "", "weak"),
    ("R013", "何俊杰", "SOUTH", "sales", (-2, 10, 14), None, "0.8", 8000, "", "steady"),
    ("R014", "马国栋", "NORTH", "senior_sales", (-12, 9, 1), None, "1.2", 15000, "", "steady"),
    ("R015", "高雪", "NORTH", "ka_manager", (-8, 1, 8), None, "1.0", 12000, "", "star"),
    ("R016", "罗斌", "NORTH", "sales", (-6, 5, 25), None, "1.0", 10000, "", "struggler"),
    ("R017", "梁宇", "NORTH", "sales", (-1, 3, 17), None, "0.8", 8000, "", "steady"),
    ("R018", "宋佳", "OTHER", "senior_sales", (-9, 6, 12), None, "1.2", 13000, "", "star"),
    ("R019", "谢磊", "OTHER", "sales", (-5, 10, 11), None, "1.0", 9000, "", "steady"),
    ("R020", "韩梅", "OTHER", "sales", (-3, 2, 20), None, "1.0", 8500, "", "wobbly"),
    # the 8 planned hires, spread over the year (some mid-quarter)
    ("R021", "冯子豪", "EAST", "senior_sales", (0, 2, 16), None, "1.2", 15000, "R002", "rookie"),
    ("R022", "唐静怡", "EAST", "senior_sales", (0, 4, 1), None, "1.2", 14000, "R003", "rookie"),
    ("R023", "曹立新", "EAST", "senior_sales", (0, 8, 17), None, "1.2", 14000, "R002", "rookie"),
    ("R024", "彭晓东", "SOUTH", "channel_specialist", (0, 3, 2), None, "1.0", 10000, "R010", "rookie"),
    ("R025", "邓雅琪", "SOUTH", "channel_specialist", (0, 6, 15), None, "1.0", 10000, "R009", "rookie"),
    ("R026", "许文博", "NORTH", "ka_manager", (0, 5, 11), None, "1.0", 12000, "R015", "rookie"),
    ("R027", "蒋思远", "HQ", "data_analyst", (0, 1, 12), None, "0", 0, "R001", "staff"),
    ("R028", "沈可欣", "HQ", "data_analyst", (0, 7, 6), None, "0", 0, "R001", "staff"),
)

# region -> (manager rep_id, mailbox)
_MANAGERS = {"EAST": ("R002", "east.manager"), "SOUTH": ("R009", "south.manager"),
             "NORTH": ("R014", "north.manager"), "OTHER": ("R018", "other.manager"),
             "HQ": (HQ_DIRECTOR, "director")}
_PROFILES = {row[0]: row[9] for row in _TEAM}
_NAMES = {row[0]: row[1] for row in _TEAM}


def sample_team(year: int = 2026) -> tuple[Rep, ...]:
    """28 made-up people: the 20 on staff when ``year`` starts and the plan's 8 hires."""
    reps = []
    for n, (rid, name, region, role, hire, end, weight, base, mentor, _) in enumerate(_TEAM, 1):
        offset, month, day = hire
        reps.append(Rep(rep_id=rid, name=name, region=region, role=role,
                        hire_date=dt.date(year + offset, month, day),
                        end_date=dt.date(year, *end) if end else None,
                        quota_weight=Decimal(weight), base_bonus=Decimal(base),
                        mentor_id=mentor, row=n))
    return tuple(reps)


def sample_regions(lang: str = "zh") -> tuple[Region, ...]:
    """The plan's regions with a manager (a member of the sample team) and a mailbox at
    example.com; HQ is the director's."""
    names = plan_labels()["regions"]
    out = []
    for n, (code, (zh, en)) in enumerate(names.items(), 1):
        rid, box = _MANAGERS[code]
        out.append(Region(code, zh if lang == "zh" else en, _NAMES[rid], f"{box}@example.com", n))
    return tuple(out)


# ----------------------------------------------------------------------------- actuals

@dataclass(frozen=True)
class _Form:
    """How a rep of a profile performs: sales as a multiple of target, and diligence (the
    share of the plan's visits, reports and training the rep keeps up)."""

    sales: tuple[float, float]
    diligence: tuple[float, float]
    poor: bool = False


# Stars beat their targets by a third or more and everyone sells above plan in Q4
# (year-end purchasing), so the excess-bonus pool (3% of sales above target) runs short
# in the last quarter.
_FORMS = {
    "star": _Form((1.40, 1.80), (0.95, 1.15)),
    "steady": _Form((0.82, 1.32), (0.75, 1.10)),
    "weak": _Form((0.66, 0.95), (0.60, 0.85)),
    "rookie": _Form((0.80, 1.10), (0.70, 1.00)),
    "poor": _Form((0.42, 0.55), (0.50, 0.60), True),
}
_SEASON = {"Q1": 1.0, "Q2": 1.0, "Q3": 1.0, "Q4": 1.3}
# Quarters in which a rep of a profile has a poor quarter (KPI under the gate).
_POOR_QUARTERS = {"struggler": ("Q3", "Q4"), "wobbly": ("Q2", "Q4")}


def _fen(x: float) -> Decimal:
    """Money (and rates) with two decimals, rounded half-up."""
    return round_half_up(x, 2)


def _form(profile: str, quarter: str) -> _Form:
    if quarter in _POOR_QUARTERS.get(profile, ()):
        return _FORMS["poor"]
    if profile in ("struggler", "wobbly"):
        return _FORMS["weak"]
    return _FORMS.get(profile, _FORMS["steady"])


def _mentee_conversion(rep: Rep, mentees: list[Rep], on_track: Mapping[str, bool],
                       start: dt.date, end: dt.date) -> Decimal | None:
    """Share of the rep's mentees in their first six months during the quarter who are on
    track to pass probation; None (N/A) when the rep mentors nobody that quarter."""
    current = [m for m in mentees if m.hire_date and m.hire_date <= end
               and (m.hire_date.year * 12 + m.hire_date.month + 6) > (start.year * 12 + start.month)]
    if not current:
        return None
    return _fen(sum(on_track[m.rep_id] for m in current) / len(current))


def sample_actuals(team: tuple[Rep, ...] | list[Rep], sales_targets: Mapping[tuple[str, str], int],
                   seed: int = 2026, *, year: int = 2026) -> tuple[Actual, ...]:
    """Four quarters of actuals for every quota carrier employed in the quarter.

    ``sales_targets`` maps (rep_id, quarter) to the rep's sales target (tblRepTargets);
    sales land around it (stars above, strugglers below), collections are 90-100% of
    receivables (sometimes exactly 100%), counts scale with the days employed. The same
    seed gives the same actuals. Raises ``KeyError`` when an active rep has no target."""
    rng = random.Random(seed)
    mentees: dict[str, list[Rep]] = {}
    for rep in team:
        if rep.mentor_id:
            mentees.setdefault(rep.mentor_id, []).append(rep)
    on_track = {rep.rep_id: rng.random() > 0.2 for rep in team}
    out: list[Actual] = []
    for quarter in QUARTERS:
        start, end = quarter_bounds(year, quarter)
        qdays = (end - start).days + 1
        for rep in team:
            days = active_days(start, end, rep.hire_date, rep.end_date)
            if not rep.carries_quota or days == 0:
                continue
            if (rep.rep_id, quarter) not in sales_targets:
                raise KeyError(f"no sales target for {rep.rep_id} in {quarter}")
            target = int(sales_targets[(rep.rep_id, quarter)])
            form = _form(_PROFILES.get(rep.rep_id, "steady"), quarter)
            share = days / qdays
            out.append(_actual(rng, rep, quarter, target, share, form,
                               _mentee_conversion(rep, mentees.get(rep.rep_id, []), on_track,
                                                  start, end)))
    return tuple(out)


def _actual(rng: random.Random, rep: Rep, quarter: str, target: int, share: float, form: _Form,
            mentee: Decimal | None) -> Actual:
    """One rep-quarter of figures; counts scale with ``share``, the part of the quarter the
    rep was employed."""
    season = 1.0 if form.poor else _SEASON[quarter]
    sales = _fen(target * rng.uniform(*form.sales) * season)
    receivables = _fen(float(sales) * rng.uniform(0.82, 1.02))
    if form.poor:
        rate = rng.uniform(0.80, 0.88)
    else:
        rate = 1.0 if rng.random() < 0.25 else rng.uniform(0.90, 0.995)
    collections = receivables if rate == 1.0 else _fen(float(receivables) * rate)
    diligence = rng.uniform(*form.diligence)
    visits = round(104 * diligence * share)
    if form.poor:
        new_customers, reports, proposals, training = 0, 2, 0, Decimal("0.8")
    else:
        new_customers = min(5, round(rng.choice((0, 1, 2, 2, 3, 3, 4, 5)) * diligence * share))
        reports = round(min(8, max(3, 6 * diligence + rng.choice((-1, 0, 0, 1, 2)))) * share)
        proposals = rng.choice((0, 0, 1, 1, 1, 2)) if diligence > 0.8 else rng.choice((0, 0, 1))
        training = _fen(min(1.0, max(0.8, round(diligence * 20) / 20)))
    return Actual(rep.rep_id, quarter, sales, collections, receivables,
                  Decimal(new_customers), Decimal(visits), Decimal(reports), training,
                  mentee, Decimal(proposals))
