"""Consistency checks of the plan, as data rows (plan-rules section 2, and section 1's
"a region with target but no active rep in a quarter is a FAIL").

Every check is a :class:`Check` row for the ``tblChecks`` table: what was stated, what the
plan's own numbers give, a status (``OK``/``WARN``/``FAIL``) and a short English sentence.
Each row also carries a stable message ``code`` and its ``params`` (numbers already
formatted, language-neutral) so the workbook layer can localise the sentence; the English
templates are in :data:`MESSAGES`.

All arithmetic is exact (``Decimal``/``Fraction``); a business finding is a row, never an
exception. Pure: no Excel, files, network or printing.

Areas and items (``item`` is built from codes in the input, so it is stable):

=============  ===========================================================================
area           items
=============  ===========================================================================
quarters       ``Q1 share``..., ``sum of amounts``, ``sum of stated shares``
regions        ``EAST share``..., ``sum of amounts``, ``sum of stated shares``
products       ``A share``..., ``sum of amounts``, ``sum of stated shares``
growth         ``growth vs prior year``
budget         ``MKT ratio``, ``MKT children sum``, ``MKT_X within MKT`` (only when above),
               ``X parent`` (unknown parent or a cycle), ``X duplicate``
pool           ``excess pool vs budget``, ``TEAM_POOL within TEAM``
spend          ``MKT spend vs line``, ``MKT spend pace``
headcount      ``now + hires vs planned``, ``hires by region``, ``X hires region``
               (unknown region), ``team at year end``, ``EAST hires``
kpi_scheme     ``base group weight``..., ``X group weight`` (unknown group), ``sales cap``
               (WARN: a cap above 100%, scores are clipped to 100), ``total weight``
rep_targets    ``EAST Q3 staffing`` (unstaffed), ``EAST rep targets``, ``Q3 rep targets``,
               ``EAST Q3 rep targets`` (when region-quarter targets are given)
=============  ===========================================================================
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from .model import HQ, BudgetLine, PlanInputs, SplitLine
from .money import Number, dec, frac, round_half_up

OK, WARN, FAIL = "OK", "WARN", "FAIL"
STATUSES = (OK, WARN, FAIL)
CHECK_COLUMNS = ("area", "item", "stated", "computed", "status", "message")
AREAS = ("quarters", "regions", "products", "budget", "growth", "headcount", "kpi_scheme",
         "pool", "rep_targets", "spend")

PERCENT_POINT = Decimal("0.01")
"""The coarsest tolerance unit of a stated share or ratio: shares are percentages."""
POOL_SUFFIX = "_POOL"
"""A budget line whose id ends with this (or is ``POOL``) is the excess-bonus pool reserve."""
EXTRA_PLACES = 4
"""A computed share is shown with this many more decimals than its stated number's unit."""

_STATED_VS = {
    OK: "{label}: {formula} = {computed} vs stated {stated}; off by {diff} pt, "
        "within half the stated precision ({half} pt)",
    WARN: "{label}: {formula} = {computed} vs stated {stated}; off by {diff} pt, more than "
          "half the stated precision ({half} pt) but within one unit ({unit} pt)",
    FAIL: "{label}: {formula} = {computed} vs stated {stated}; off by {diff} pt, more than "
          "one unit of the stated precision ({unit} pt)",
}

MESSAGES: dict[str, str] = {
    **{f"{kind}.{status.lower()}": text for kind in ("share", "budget_ratio", "growth")
       for status, text in _STATED_VS.items()},
    "ratio.no_base": "{label}: stated {stated} cannot be checked because {base_name} is zero",
    "split_sum.ok": "{kind} amounts add up to {total}, the annual target",
    "split_sum.fail": "{kind} amounts add up to {total}, {diff} {direction} the annual target "
                      "{target}",
    "stated_sum.ok": "stated {kind} shares add up to 100%",
    "stated_sum.warn": "stated {kind} shares add up to {total}, not 100%",
    "duplicate_line.fail": "budget line {line} appears {count} times",
    "unknown_parent.fail": "budget line {line} names parent {parent}, which is not a budget line",
    "parent_cycle.fail": "budget line {line} is its own ancestor ({chain})",
    "children_sum.ok": "{parent} is fully itemised: {terms} = {total}",
    "children_sum.fail": "{parent} is fully itemised but its children add up to {total} "
                         "({terms}), {diff} {direction} {amount}",
    "children_within.ok": "{parent} children add up to {total} ({terms}), within {amount}",
    "children_within.fail": "{parent} children add up to {total} ({terms}), {diff} above "
                            "{amount}",
    "child_above_parent.fail": "budget line {line} ({amount}) is above its parent {parent} "
                               "({parent_amount})",
    "pool.ok": "the excess-bonus pool {pool} is reserved in budget line {line} ({amount})",
    "pool.warn": "budget line {line} reserves {amount}, {diff} more than the excess-bonus "
                 "pool {pool}",
    "pool.fail": "budget line {line} reserves only {amount}, {diff} less than the "
                 "excess-bonus pool {pool}",
    "pool.missing": "no budget line reserves the excess-bonus pool {pool} (expected a line "
                    "id ending in {suffix})",
    "pool.ambiguous": "several budget lines look like the excess-bonus pool: {lines}",
    "pool_within.ok": "the pool line {line} ({amount}) is within {parent} ({parent_amount})",
    "pool_within.fail": "the pool line {line} ({amount}) is above {parent} ({parent_amount})",
    "spend_line.ok": "{line}: spent {spent} of {amount}",
    "spend_line.fail": "{line}: spent {spent}, {diff} above the line's {amount}",
    "spend_pace.ok": "{line}: {share} of the line spent by {date} vs {elapsed} of the year "
                     "elapsed ({lead} pt; warn above {limit} pt)",
    "spend_pace.warn": "{line}: {share} of the line spent by {date}, {lead} pt ahead of the "
                       "{elapsed} of the year elapsed (warn above {limit} pt)",
    "headcount.ok": "{now} now + {hires} hires = {computed}, the planned headcount",
    "headcount.fail": "{now} now + {hires} hires = {computed}, but the planned headcount is "
                      "{planned}",
    "hires_sum.ok": "hires by region {terms} = {computed}, the planned hires",
    "hires_sum.fail": "hires by region {terms} = {computed}, but the planned hires are {hires}",
    "hires_region.warn": "planned hires name region {region}, which is not a known region",
    "team_year_end.ok": "the team table has {count} members at {date}, the planned headcount",
    "team_year_end.warn": "the team table has {count} members at {date} vs {planned} planned "
                          "({gap}); leaving before then: {leavers}; regions short of planned "
                          "hires: {short}",
    "team_hires.ok": "{region}: {count} hires in {year} in the team table, as planned",
    "team_hires.warn": "{region}: {count} hires in {year} in the team table vs {planned} "
                       "planned (informational)",
    "kpi_group.ok": "{group} indicators weigh {terms} = {computed}, the group's weight",
    "kpi_group.fail": "{group} indicators weigh {terms} = {computed}, but the group's weight "
                      "is {stated}",
    "kpi_group_unknown.fail": "indicators {indicators} are in group {group}, which has no "
                              "group weight",
    "kpi_cap.warn": "{indicator}: the cap {cap} lets achievement above 100% make up for other "
                    "indicators; KPI scores are still clipped to 100",
    "kpi_total.ok": "indicator weights add up to {computed}",
    "kpi_total.fail": "indicator weights add up to {computed}, not {stated}",
    "unstaffed.fail": "{region} {quarter} has a target of {target} but no active "
                      "quota-carrying rep",
    "rep_targets_sum.ok": "{key}: rep targets {reps} + unstaffed {unstaffed} = {computed}, "
                          "the target",
    "rep_targets_sum.fail": "{key}: rep targets {reps} + unstaffed {unstaffed} = {computed}, "
                            "{diff} {direction} the target {target}",
    "rep_targets_unknown.fail": "rep targets name {kind} {key}, which the plan does not have "
                                "(total {computed})",
}


@dataclass(frozen=True)
class Check:
    """One row of ``tblChecks``: ``stated`` and ``computed`` are numbers (or None);
    ``message`` is ``MESSAGES[code]`` filled with ``params``."""

    area: str
    item: str
    stated: object
    computed: object
    status: str
    message: str
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict, compare=False)


def _check(area: str, item: str, stated: object, computed: object, status: str, code: str,
           /, **params: Any) -> Check:
    return Check(area, item, stated, computed, status, MESSAGES[code].format(**params), code,
                 params)


# ----------------------------------------------------------------------------- formatting

def _amt(x: Number) -> str:
    """An amount: whole yuan with separators, else to the fen (half-up)."""
    f = frac(x)
    if f.denominator == 1:
        return f"{f.numerator:,}"
    return f"{round_half_up(f, 2):,.2f}"


def _num(x: Number) -> str:
    """A plain number as written: 40, 2.5."""
    return format(dec(x).normalize(), "f") if dec(x) != 0 else "0"


def _pct(x: Number, places: int) -> str:
    """A fraction as a percentage with ``places`` decimals: 0.160714 -> 16.07%."""
    return f"{round_half_up(frac(x) * 100, places):.{places}f}%"


def _pts(x: Number, places: int) -> str:
    """A fraction as percentage points with ``places`` decimals (no sign)."""
    return f"{round_half_up(abs(frac(x)) * 100, places):.{places}f}"


def _stated_pct(x: Decimal) -> str:
    """A stated share as its user wrote it: 0.16 -> 16%, 0.0107 -> 1.07%."""
    return _num(dec(x) * 100) + "%"


def _terms(values: Iterable[Number], fmt=_amt) -> str:
    parts = [fmt(v) for v in values]
    return " + ".join(parts) if parts else "0"


def _direction(computed: Number, stated: Number) -> str:
    return "above" if frac(computed) > frac(stated) else "below"


# ----------------------------------------------------------------------------- tolerance

def stated_tolerance(stated: Number) -> Decimal:
    """The unit of the precision a stated share or ratio was entered with (section 2).

    The unit of its shortest decimal form (0.43 -> 0.01, 0.0107 -> 0.0001, 0.125 -> 0.001;
    a float arrives via its shortest repr, so 0.43 -> 0.01), but never coarser than one
    percentage point, since shares are percentages (0.1 written for 10% -> 0.01; 1 -> 0.01).
    """
    d = dec(stated)
    if not d.is_finite():
        raise ValueError(f"not a finite number: {stated!r}")
    exponent = d.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return min(Decimal(1).scaleb(exponent), PERCENT_POINT)


def share_status(stated: Number, computed: Number) -> str:
    """``OK`` when ``computed`` is within half a unit of the stated precision of ``stated``,
    ``WARN`` within one unit, ``FAIL`` beyond (section 2); compared exactly."""
    unit = frac(stated_tolerance(stated))
    diff = abs(frac(computed) - frac(stated))
    if 2 * diff <= unit:
        return OK
    if diff <= unit:
        return WARN
    return FAIL


def _stated_vs(area: str, item: str, kind: str, label: str, stated: Decimal,
               computed: Fraction, formula: str) -> Check:
    """A stated share/ratio/growth against its computed value, with the precision tolerance."""
    unit = stated_tolerance(stated)
    unit_places = -int(unit.as_tuple().exponent)       # 2 for whole percent
    pct_places = unit_places - 2                        # decimals of the unit in percent
    status = share_status(stated, computed)
    shown = round_half_up(computed, unit_places + EXTRA_PLACES)
    return _check(area, item, stated, shown, status, f"{kind}.{status.lower()}",
                  label=label, formula=formula, stated=_stated_pct(stated),
                  computed=_pct(computed, pct_places + 2),
                  diff=_pts(computed - frac(stated), pct_places + 2),
                  half=_pts(frac(unit) / 2, pct_places + 1), unit=_pts(unit, pct_places))


def _ratio_of(area: str, item: str, kind: str, label: str, stated: Decimal, amount: Decimal,
              base: Decimal, base_name: str) -> Check:
    """stated vs amount / base; a zero base is a FAIL row, not a division error."""
    if base == 0:
        return _check(area, item, stated, None, FAIL, "ratio.no_base", label=label,
                      stated=_stated_pct(stated), base_name=base_name)
    return _stated_vs(area, item, kind, label, stated, frac(amount) / frac(base),
                      f"{_amt(amount)} / {_amt(base)}")


# ----------------------------------------------------------------------------- splits

_SINGULAR = {"quarters": "quarter", "regions": "region", "products": "product"}


def _split_checks(area: str, lines: Sequence[SplitLine], target: Decimal) -> list[Check]:
    """Section 1/2: each stated share vs amount / annual target; amounts add up to the
    target exactly (FAIL otherwise); stated shares add up to 100% (WARN otherwise).

    The stated-shares sum is checked only when every line states a share."""
    out = [_ratio_of(area, f"{line.key} share", "share", line.key, line.stated_share,
                     line.amount, target, "the annual target")
           for line in lines if line.stated_share is not None]
    total = sum((line.amount for line in lines), Decimal(0))
    ok = total == target
    out.append(_check(area, "sum of amounts", target, total, OK if ok else FAIL,
                      "split_sum.ok" if ok else "split_sum.fail", kind=_SINGULAR[area],
                      total=_amt(total), target=_amt(target), diff=_amt(abs(total - target)),
                      direction=_direction(total, target)))
    stated = [line.stated_share for line in lines]
    if stated and all(s is not None for s in stated):
        s_total = sum(stated, Decimal(0))
        ok = s_total == 1
        out.append(_check(area, "sum of stated shares", Decimal(1), s_total, OK if ok else WARN,
                          "stated_sum.ok" if ok else "stated_sum.warn", kind=_SINGULAR[area],
                          total=_stated_pct(s_total)))
    return out


def _growth_checks(inputs: PlanInputs) -> list[Check]:
    """Section 1/2: stated growth vs annual_target / prior_year - 1, precision tolerance."""
    s = inputs.settings
    if s.stated_growth is None:
        return []
    item = "growth vs prior year"
    if s.prior_year == 0:
        return [_check("growth", item, s.stated_growth, None, FAIL, "ratio.no_base",
                       label="growth", stated=_stated_pct(s.stated_growth),
                       base_name="the prior year")]
    computed = frac(s.annual_target) / frac(s.prior_year) - 1
    return [_stated_vs("growth", item, "growth", "growth", s.stated_growth, computed,
                       f"{_amt(s.annual_target)} / {_amt(s.prior_year)} - 1")]


# ----------------------------------------------------------------------------- budget

def _first_by_id(budget: Sequence[BudgetLine]) -> dict[str, BudgetLine]:
    out: dict[str, BudgetLine] = {}
    for b in budget:
        out.setdefault(b.line_id, b)
    return out


def _cycle(line: BudgetLine, by_id: Mapping[str, BudgetLine]) -> list[str] | None:
    """The parent chain back to ``line`` if ``line`` is its own ancestor, else None."""
    chain, cur = [line.line_id], line.parent_id
    while cur and cur in by_id:
        chain.append(cur)
        if cur == line.line_id:
            return chain
        if cur in chain[:-1]:          # a loop above this line, reported on its own members
            return None
        cur = by_id[cur].parent_id
    return None


def _budget_checks(inputs: PlanInputs) -> list[Check]:
    """Section 2: stated ratios vs amount / annual target; children of an itemised line
    add up to it exactly; children (each, and together) never above their parent; every
    parent_id names a line, and no line is its own ancestor; line ids are unique."""
    budget, target = inputs.budget, inputs.settings.annual_target
    by_id = _first_by_id(budget)
    out: list[Check] = []
    counts: dict[str, int] = {}
    for b in budget:
        counts[b.line_id] = counts.get(b.line_id, 0) + 1
    for line_id, n in counts.items():
        if n > 1:
            out.append(_check("budget", f"{line_id} duplicate", None, n, FAIL,
                              "duplicate_line.fail", line=line_id, count=n))
    for b in budget:
        if b.stated_ratio is not None:
            out.append(_ratio_of("budget", f"{b.line_id} ratio", "budget_ratio", b.line_id,
                                 b.stated_ratio, b.amount, target, "the annual target"))
    children: dict[str, list[BudgetLine]] = {}
    for b in budget:
        if not b.parent_id:
            continue
        if b.parent_id not in by_id:
            out.append(_check("budget", f"{b.line_id} parent", None, None, FAIL,
                              "unknown_parent.fail", line=b.line_id, parent=b.parent_id))
        elif (chain := _cycle(b, by_id)) is not None:
            out.append(_check("budget", f"{b.line_id} parent", None, None, FAIL,
                              "parent_cycle.fail", line=b.line_id, chain=" -> ".join(chain)))
        else:
            children.setdefault(b.parent_id, []).append(b)
    for parent in by_id.values():
        kids = children.get(parent.line_id, [])
        if kids or parent.itemised:
            out.extend(_children_checks(parent, kids))
    return out


def _children_checks(parent: BudgetLine, kids: Sequence[BudgetLine]) -> list[Check]:
    out = [_check("budget", f"{k.line_id} within {parent.line_id}", parent.amount, k.amount,
                  FAIL, "child_above_parent.fail", line=k.line_id, amount=_amt(k.amount),
                  parent=parent.line_id, parent_amount=_amt(parent.amount))
           for k in kids if k.amount > parent.amount]
    total = sum((k.amount for k in kids), Decimal(0))
    params = dict(parent=parent.line_id, total=_amt(total), amount=_amt(parent.amount),
                  terms=_terms(k.amount for k in kids), diff=_amt(abs(total - parent.amount)),
                  direction=_direction(total, parent.amount))
    if parent.itemised:
        status = OK if total == parent.amount else FAIL
        code = "children_sum"
    else:
        status = OK if total <= parent.amount else FAIL
        code = "children_within"
    out.append(_check("budget", f"{parent.line_id} children sum", parent.amount, total, status,
                      f"{code}.{status.lower()}", **params))
    return out


def is_pool_line(line_id: str) -> bool:
    """Whether a budget line is the excess-bonus pool reserve: its id ends in ``_POOL`` (or
    is ``POOL``), case-insensitively (``TEAM_POOL`` in the 2026 data)."""
    key = line_id.strip().upper()
    return key == "POOL" or key.endswith(POOL_SUFFIX)


def _pool_checks(inputs: PlanInputs) -> list[Check]:
    """Section 2/4: the excess-bonus pool setting vs the budget line reserving it (equal OK;
    more reserved than the pool pays WARN; less FAIL), and the pool line within its parent.
    No pool line: WARN when the pool is not zero. Several pool lines: FAIL."""
    pool = inputs.settings.excess_pool
    lines = [b for b in inputs.budget if is_pool_line(b.line_id)]
    item = "excess pool vs budget"
    if not lines:
        if pool == 0:
            return []
        return [_check("pool", item, pool, None, WARN, "pool.missing", pool=_amt(pool),
                       suffix=POOL_SUFFIX)]
    if len(lines) > 1:
        total = sum((b.amount for b in lines), Decimal(0))
        return [_check("pool", item, pool, total, FAIL, "pool.ambiguous",
                       lines=", ".join(b.line_id for b in lines))]
    line = lines[0]
    status = OK if line.amount == pool else WARN if line.amount > pool else FAIL
    out = [_check("pool", item, pool, line.amount, status, f"pool.{status.lower()}",
                  pool=_amt(pool), line=line.line_id, amount=_amt(line.amount),
                  diff=_amt(abs(line.amount - pool)))]
    parent = _first_by_id(inputs.budget).get(line.parent_id) if line.parent_id else None
    if parent is not None:
        ok = line.amount <= parent.amount
        out.append(_check("pool", f"{line.line_id} within {parent.line_id}", parent.amount,
                          line.amount, OK if ok else FAIL,
                          "pool_within.ok" if ok else "pool_within.fail", line=line.line_id,
                          amount=_amt(line.amount), parent=parent.line_id,
                          parent_amount=_amt(parent.amount)))
    return out


# ----------------------------------------------------------------------------- spend

def elapsed_share(fiscal_year: int, as_of: dt.date) -> Fraction:
    """Share of the fiscal (calendar) year elapsed at ``as_of``, counting ``as_of`` itself:
    30 June 2026 -> 181/365. Before the year 0, after it 1."""
    start, end = dt.date(fiscal_year, 1, 1), dt.date(fiscal_year, 12, 31)
    if as_of < start:
        return Fraction(0)
    if as_of > end:
        return Fraction(1)
    return Fraction((as_of - start).days + 1, (end - start).days + 1)


def _spend_checks(inputs: PlanInputs, as_of: dt.date | None) -> list[Check]:
    """Section 2: spend to date never above the line (FAIL); spend share more than
    ``spend_lead_warn`` ahead of the elapsed share of the year is a WARN. Lines without
    spend are skipped; the pace check needs an as-of date and a positive line amount."""
    s = inputs.settings
    out: list[Check] = []
    for b in inputs.budget:
        spent = b.spent_to_date
        if spent is None:
            continue
        above = spent > b.amount
        out.append(_check("spend", f"{b.line_id} spend vs line", b.amount, spent,
                          FAIL if above else OK, "spend_line.fail" if above else "spend_line.ok",
                          line=b.line_id, spent=_amt(spent), amount=_amt(b.amount),
                          diff=_amt(abs(spent - b.amount))))
        if above or as_of is None or b.amount <= 0:
            continue
        elapsed = elapsed_share(s.fiscal_year, as_of)
        share = frac(spent) / frac(b.amount)
        lead = share - elapsed
        status = WARN if lead > frac(s.spend_lead_warn) else OK
        out.append(_check("spend", f"{b.line_id} spend pace", round_half_up(elapsed, 6),
                          round_half_up(share, 6), status, f"spend_pace.{status.lower()}",
                          line=b.line_id, share=_pct(share, 2), date=as_of.isoformat(),
                          elapsed=_pct(elapsed, 2),
                          lead=("-" if lead < 0 else "") + _pts(lead, 2),
                          limit=_num(dec(s.spend_lead_warn) * 100)))
    return out


# ----------------------------------------------------------------------------- headcount

def _headcount_checks(inputs: PlanInputs) -> list[Check]:
    """Section 2: headcount now + hires = planned; hires by region add up to the hires
    (skipped when no breakdown is given) and name known regions; with a team table, the
    members still employed at the fiscal year end vs the planned headcount, and each
    region's hires dated in the fiscal year vs the plan (informational WARNs)."""
    s = inputs.settings
    computed = s.headcount_now + s.hires_total
    ok = computed == s.headcount_planned
    out = [_check("headcount", "now + hires vs planned", s.headcount_planned, computed,
                  OK if ok else FAIL, "headcount.ok" if ok else "headcount.fail",
                  now=s.headcount_now, hires=s.hires_total, computed=computed,
                  planned=s.headcount_planned)]
    if s.hires_by_region:
        by_region = sum(s.hires_by_region.values())
        ok = by_region == s.hires_total
        out.append(_check("headcount", "hires by region", s.hires_total, by_region,
                          OK if ok else FAIL, "hires_sum.ok" if ok else "hires_sum.fail",
                          terms=" + ".join(f"{r} {n}" for r, n in s.hires_by_region.items()),
                          computed=by_region, hires=s.hires_total))
        known = set(inputs.region_codes()) | {r.region for r in inputs.regions} | {HQ}
        out.extend(_check("headcount", f"{r} hires region", None, n, WARN,
                          "hires_region.warn", region=r)
                   for r, n in s.hires_by_region.items() if r not in known)
    if inputs.team:
        out.extend(_team_checks(inputs))
    return out


def _team_checks(inputs: PlanInputs) -> list[Check]:
    s = inputs.settings
    start, end = dt.date(s.fiscal_year, 1, 1), dt.date(s.fiscal_year, 12, 31)
    hired = [r for r in inputs.team if r.hire_date is None or r.hire_date <= end]
    at_end = [r for r in hired if r.end_date is None or r.end_date >= end]
    leavers = [r.rep_id for r in hired if r.end_date is not None and r.end_date < end]
    hires: dict[str, int] = {}
    for r in inputs.team:
        if r.hire_date is not None and start <= r.hire_date <= end:
            hires[r.region] = hires.get(r.region, 0) + 1
    regions = list(s.hires_by_region) + [r for r in hires if r not in s.hires_by_region]
    short = [f"{r} {s.hires_by_region.get(r, 0) - hires.get(r, 0)}" for r in regions
             if s.hires_by_region.get(r, 0) > hires.get(r, 0)]
    count, planned = len(at_end), s.headcount_planned
    status = OK if count == planned else WARN
    gap = f"{planned - count} short" if count < planned else f"{count - planned} over"
    out = [_check("headcount", "team at year end", planned, count, status,
                  f"team_year_end.{status.lower()}", count=count, date=end.isoformat(),
                  planned=planned, gap=gap, leavers=", ".join(leavers) or "-",
                  short=", ".join(short) or "-")]
    if s.hires_by_region:
        for r in regions:
            n, want = hires.get(r, 0), s.hires_by_region.get(r, 0)
            st = OK if n == want else WARN
            out.append(_check("headcount", f"{r} hires", want, n, st, f"team_hires.{st.lower()}",
                              region=r, count=n, year=s.fiscal_year, planned=want))
    return out


# ----------------------------------------------------------------------------- KPI scheme

def _kpi_checks(inputs: PlanInputs) -> list[Check]:
    """Section 3: each group's weight (base 60, process 30, growth 10) = the sum of its
    indicators' weights (FAIL otherwise); indicators of an unknown group FAIL; all
    indicator weights add up to 100 (FAIL otherwise)."""
    groups = inputs.settings.kpi_groups()
    members: dict[str, list] = {}
    for ind in inputs.kpi_scheme:
        members.setdefault(ind.group, []).append(ind)
    out: list[Check] = []
    for group, weight in groups.items():
        weights = [i.weight for i in members.get(group, [])]
        total = sum(weights, Decimal(0))
        status = OK if total == weight else FAIL
        out.append(_check("kpi_scheme", f"{group} group weight", weight, total, status,
                          f"kpi_group.{status.lower()}", group=group,
                          terms=_terms(weights, _num), computed=_num(total),
                          stated=_num(weight)))
    for group, inds in members.items():
        if group not in groups:
            total = sum((i.weight for i in inds), Decimal(0))
            out.append(_check("kpi_scheme", f"{group} group weight", None, total, FAIL,
                              "kpi_group_unknown.fail", group=group,
                              indicators=", ".join(i.indicator for i in inds)))
    for ind in inputs.kpi_scheme:
        if ind.cap > 1 and ind.weight > 0:
            out.append(_check("kpi_scheme", f"{ind.indicator} cap", Decimal(1), ind.cap, WARN,
                              "kpi_cap.warn", indicator=ind.indicator, cap=_stated_pct(ind.cap)))
    total = sum((i.weight for i in inputs.kpi_scheme), Decimal(0))
    status = OK if total == 100 else FAIL
    out.append(_check("kpi_scheme", "total weight", Decimal(100), total, status,
                      f"kpi_total.{status.lower()}", computed=_num(total), stated="100"))
    return out


# ----------------------------------------------------------------------------- rep targets

REP_TARGET_NEEDS = ("region", "quarter", "sales_target")


def _plain(v: Any) -> Decimal:
    """A finite Decimal from a frame cell (numpy scalars included)."""
    if hasattr(v, "item") and not isinstance(v, Decimal):
        v = v.item()
    d = dec(v)
    if not d.is_finite():
        raise ValueError(f"rep_targets: sales_target {v!r} is not a number")
    return d


def _rep_target_checks(inputs: PlanInputs, rep_targets: pd.DataFrame | None,
                       unstaffed: Sequence[tuple[str, str, Number]],
                       rq_targets: Mapping[tuple[str, str], Number] | None) -> list[Check]:
    """Section 1: every unstaffed region-quarter is a FAIL row. With the rep targets: per
    region and per quarter, rep targets + unstaffed targets add up exactly to the plan's
    region / quarter amount (the target cube keeps those totals exactly); with region-quarter
    targets, per region-quarter as well. Rep targets naming an unknown region/quarter FAIL."""
    out = [_check("rep_targets", f"{region} {quarter} staffing", dec(target), Decimal(0), FAIL,
                  "unstaffed.fail", region=region, quarter=quarter, target=_amt(dec(target)))
           for region, quarter, target in unstaffed]
    if rep_targets is None:
        return out
    missing = [c for c in REP_TARGET_NEEDS if c not in rep_targets.columns]
    if missing:
        raise ValueError(f"rep_targets: missing columns {', '.join(missing)}")
    reps: dict[tuple[str, str], Decimal] = {}
    for region, quarter, target in zip(rep_targets["region"], rep_targets["quarter"],
                                       rep_targets["sales_target"]):
        key = (str(region), str(quarter))
        reps[key] = reps.get(key, Decimal(0)) + _plain(target)
    gaps: dict[tuple[str, str], Decimal] = {}
    for region, quarter, target in unstaffed:
        gaps[(region, quarter)] = gaps.get((region, quarter), Decimal(0)) + dec(target)
    for axis, kind, lines in ((0, "region", inputs.regions_split), (1, "quarter", inputs.quarters)):
        known = {line.key for line in lines}
        for line in lines:
            out.append(_sum_row(line.key, line.amount, _total(reps, axis, line.key),
                                _total(gaps, axis, line.key)))
        for key in dict.fromkeys(k[axis] for k in reps):
            if key not in known:
                out.append(_check("rep_targets", f"{key} rep targets", None,
                                  _total(reps, axis, key), FAIL, "rep_targets_unknown.fail",
                                  kind=kind, key=key, computed=_amt(_total(reps, axis, key))))
    for (region, quarter), target in (rq_targets or {}).items():
        out.append(_sum_row(f"{region} {quarter}", dec(target),
                            reps.get((region, quarter), Decimal(0)),
                            gaps.get((region, quarter), Decimal(0))))
    return out


def _total(sums: Mapping[tuple[str, str], Decimal], axis: int, key: str) -> Decimal:
    return sum((v for k, v in sums.items() if k[axis] == key), Decimal(0))


def _sum_row(key: str, target: Decimal, reps: Decimal, gaps: Decimal) -> Check:
    computed = reps + gaps
    ok = computed == target
    return _check("rep_targets", f"{key} rep targets", target, computed, OK if ok else FAIL,
                  "rep_targets_sum.ok" if ok else "rep_targets_sum.fail", key=key,
                  reps=_amt(reps), unstaffed=_amt(gaps), computed=_amt(computed),
                  target=_amt(target), diff=_amt(abs(computed - target)),
                  direction=_direction(computed, target))


# ----------------------------------------------------------------------------- public

def run_checks(inputs: PlanInputs, *, rep_targets: pd.DataFrame | None = None,
               unstaffed: Sequence[tuple[str, str, int]] = (), as_of: dt.date | None = None,
               region_quarter_targets: Mapping[tuple[str, str], Number] | None = None
               ) -> list[Check]:
    """Every consistency check of the plan (section 2, and section 1's unstaffed rule), in
    the order quarters, regions, products, growth, budget, pool, spend, headcount,
    kpi_scheme, rep_targets.

    ``as_of`` dates the spend-pace check (default ``settings.as_of_date``; no date, no pace
    rows). ``unstaffed`` lists (region, quarter, target) with nobody to carry the target.
    ``rep_targets`` (tblRepTargets rows) adds the per-region and per-quarter sums;
    ``region_quarter_targets`` ({(region, quarter): target}, e.g. from the target cube) adds
    the per-region-quarter sums."""
    s = inputs.settings
    return [
        *_split_checks("quarters", inputs.quarters, s.annual_target),
        *_split_checks("regions", inputs.regions_split, s.annual_target),
        *_split_checks("products", inputs.products, s.annual_target),
        *_growth_checks(inputs),
        *_budget_checks(inputs),
        *_pool_checks(inputs),
        *_spend_checks(inputs, as_of if as_of is not None else s.as_of_date),
        *_headcount_checks(inputs),
        *_kpi_checks(inputs),
        *_rep_target_checks(inputs, rep_targets, unstaffed, region_quarter_targets),
    ]


def checks_frame(checks: Sequence[Check]) -> pd.DataFrame:
    """The ``tblChecks`` table: columns exactly area, item, stated, computed, status, message
    (numbers stay Decimal/int objects; the workbook layer formats them)."""
    rows = [(c.area, c.item, c.stated, c.computed, c.status, c.message) for c in checks]
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS), dtype=object)


def worst_status(checks: Iterable[Check]) -> str:
    """The most severe status among ``checks`` (``OK`` when there are none)."""
    statuses = {c.status for c in checks}
    return FAIL if FAIL in statuses else WARN if WARN in statuses else OK
