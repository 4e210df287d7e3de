"""Input validation: every problem in a plan, found in one pass.

The calculation modules assume valid input; this module makes sure of it. Each problem
names the contract table, the row (1-based within the table when the row came from a
table) and the column, so the workbook layer can point at the cell.
"""
from __future__ import annotations

import weakref
from collections import Counter
from decimal import Decimal
from typing import Iterable

from ..errors import InputError, Problems
from .model import (ACTUAL_FIGURES, BASES, INDICATORS, OPTIONAL_FIGURES, OUTCOMES, QUARTERS,
                    ROLES, PlanInputs, SplitLine, quarter_bounds)
from .splits import active_days

RATE_FIGURES = ("training_rate", "mentee_conversion")
COUNT_FIGURES = ("new_customers", "visits", "reports", "proposals")


_VALID: dict[int, weakref.ref] = {}
"""Inputs found valid already (by id, while they live): the workbook reader validates
what it reads, and the engine does not have to do it again. PlanInputs are frozen."""


def validate(inputs: PlanInputs) -> None:
    """Raise :class:`InputError` listing every problem in ``inputs``; return None if valid."""
    known = _VALID.get(id(inputs))
    if known is not None and known() is inputs:
        return
    p = Problems()
    _splits(inputs, p)
    _regions(inputs, p)
    _team(inputs, p)
    _budget(inputs, p)
    _kpi_scheme(inputs, p)
    _actuals(inputs, p)
    _improvement(inputs, p)
    _prior(inputs, p)
    _settings_refs(inputs, p)
    p.raise_if_any()
    key = id(inputs)
    _VALID[key] = weakref.ref(inputs, lambda _, key=key: _VALID.pop(key, None))


def _dupes(keys: Iterable[str]) -> set[str]:
    return {k for k, n in Counter(keys).items() if n > 1}


def _each_duplicate(p: Problems, table: str, rows, key: str, column: str, what: str) -> None:
    """Every row whose ``key`` attribute another row has too, at that row: "duplicate
    ``what`` 'K'" (the rows in table order, each duplicated key in first-seen order)."""
    rows = list(rows)
    for k in _dupes(getattr(r, key) for r in rows):
        for r in rows:
            if getattr(r, key) == k:
                p.add(table, r.row, column, f"duplicate {what} {k!r}", k)


def _split(table: str, column: str, lines: tuple[SplitLine, ...], p: Problems,
           allowed: tuple[str, ...] | None = None) -> None:
    if not lines:
        p.add(table, None, None, "the table has no rows")
    _each_duplicate(p, table, lines, "key", column, "code")
    for line in lines:
        if not line.key:
            p.add(table, line.row, column, "blank code")
        elif allowed is not None and line.key not in allowed:
            p.add(table, line.row, column, f"unknown {column} {line.key!r} (expected one of {', '.join(allowed)})", line.key)
        if line.amount < 0:
            p.add(table, line.row, "amount", f"negative amount {line.amount}", line.key)
        elif line.amount != line.amount.to_integral_value():
            p.add(table, line.row, "amount", f"plan targets are whole yuan, got {line.amount}", line.key)
        if line.stated_share is not None and not (0 <= line.stated_share <= 1):
            p.add(table, line.row, "stated_share", f"a share must be between 0% and 100%, got {line.stated_share}", line.key)


def _splits(inputs: PlanInputs, p: Problems) -> None:
    _split("tblQuarterSplit", "quarter", inputs.quarters, p, QUARTERS)
    missing = [q for q in QUARTERS if q not in {line.key for line in inputs.quarters}]
    if inputs.quarters and missing:
        p.add("tblQuarterSplit", None, "quarter", f"missing quarter(s) {', '.join(missing)}")
    _split("tblRegionSplit", "region", inputs.regions_split, p,
           tuple(dict.fromkeys(r.region for r in inputs.regions)) or None)
    _split("tblProductSplit", "product", inputs.products, p)
    s = inputs.settings
    if s.annual_target != s.annual_target.to_integral_value():
        p.add("tblPlan", None, "value", "annual_target must be whole yuan", "annual_target")


def _regions(inputs: PlanInputs, p: Problems) -> None:
    t = "tblRegions"
    _each_duplicate(p, t, inputs.regions, "region", "region", "region")
    for r in inputs.regions:
        if not r.region:
            p.add(t, r.row, "region", "blank region code")
        if any(ch in (r.email or "") for ch in "\r\n"):
            p.add(t, r.row, "email", "an address must not contain a line break", r.region)


def _team(inputs: PlanInputs, p: Problems) -> None:
    t = "tblTeam"
    regions = {r.region for r in inputs.regions}
    sales_regions = set(inputs.region_codes())
    ids = {rep.rep_id for rep in inputs.team}
    by_id = {rep.rep_id: rep for rep in inputs.team}
    year = inputs.settings.fiscal_year
    _each_duplicate(p, t, inputs.team, "rep_id", "rep_id", "rep_id")
    for rep in inputs.team:
        key = rep.rep_id
        if not rep.rep_id:
            p.add(t, rep.row, "rep_id", "blank rep_id")
        if rep.region not in regions:
            p.add(t, rep.row, "region", f"unknown region {rep.region!r} (not in tblRegions)", key)
        elif rep.carries_quota and rep.region not in sales_regions:
            p.add(t, rep.row, "region", f"role {rep.role} carries a sales quota but region "
                  f"{rep.region!r} has no sales target in tblRegionSplit", key)
        if rep.role not in ROLES:
            p.add(t, rep.row, "role", f"unknown role {rep.role!r} (expected one of {', '.join(ROLES)})", key)
        if rep.quota_weight < 0:
            p.add(t, rep.row, "quota_weight", f"negative quota weight {rep.quota_weight}", key)
        if rep.base_bonus < 0:
            p.add(t, rep.row, "base_bonus", f"negative base bonus {rep.base_bonus}", key)
        elif rep.base_bonus != rep.base_bonus.quantize(Decimal("0.01")):
            p.add(t, rep.row, "base_bonus", f"money has at most 2 decimals (fen), got {rep.base_bonus}", key)
        if rep.hire_date and rep.end_date and rep.end_date < rep.hire_date:
            p.add(t, rep.row, "end_date", f"end date {rep.end_date} is before hire date {rep.hire_date}", key)
        if rep.mentor_id and rep.mentor_id not in ids:
            p.add(t, rep.row, "mentor_id", f"unknown mentor {rep.mentor_id!r} (not in tblTeam)", key)
        elif rep.mentor_id and rep.mentor_id == rep.rep_id:
            p.add(t, rep.row, "mentor_id", "a rep cannot be their own mentor", key)
        elif rep.mentor_id and _employed(rep, year) and _dates_ok(rep) and \
                _dates_ok(by_id[rep.mentor_id]) and not _overlap(rep, by_id[rep.mentor_id], year):
            mentor = by_id[rep.mentor_id]
            p.add(t, rep.row, "mentor_id", f"mentor {mentor.rep_id} is not employed while "
                  f"{rep.rep_id} is in {year} ({mentor.rep_id} {_span(mentor)}, "
                  f"{rep.rep_id} {_span(rep)})", key)


def _budget(inputs: PlanInputs, p: Problems) -> None:
    t = "tblBudget"
    ids = {b.line_id for b in inputs.budget}
    _each_duplicate(p, t, inputs.budget, "line_id", "line_id", "line_id")
    for b in inputs.budget:
        if not b.line_id:
            p.add(t, b.row, "line_id", "blank line_id")
        if b.parent_id and b.parent_id not in ids:
            p.add(t, b.row, "parent_id", f"unknown parent line {b.parent_id!r}", b.line_id)
        if b.parent_id and b.parent_id == b.line_id:
            p.add(t, b.row, "parent_id", "a line cannot be its own parent", b.line_id)
        if b.amount < 0:
            p.add(t, b.row, "amount", f"negative amount {b.amount}", b.line_id)
        if b.spent_to_date is not None and b.spent_to_date < 0:
            p.add(t, b.row, "spent_to_date", f"negative spend {b.spent_to_date}", b.line_id)
        if b.stated_ratio is not None and not (0 <= b.stated_ratio <= 1):
            p.add(t, b.row, "stated_ratio", f"a ratio must be between 0% and 100%, got {b.stated_ratio}", b.line_id)


def _kpi_scheme(inputs: PlanInputs, p: Problems) -> None:
    t = "tblKpiScheme"
    scheme = inputs.kpi_scheme
    if not scheme:
        p.add(t, None, None, "the KPI scheme has no indicators")
        return
    _each_duplicate(p, t, scheme, "indicator", "indicator", "indicator")
    for i in scheme:
        key = i.indicator
        if i.indicator not in INDICATORS:
            p.add(t, i.row, "indicator", f"unknown indicator {i.indicator!r} (expected one of {', '.join(INDICATORS)})", key)
        if i.group not in ("base", "process", "growth"):
            p.add(t, i.row, "group", f"unknown group {i.group!r} (expected base, process or growth)", key)
        if i.weight < 0:
            p.add(t, i.row, "weight", f"negative weight {i.weight}", key)
        if i.basis not in BASES:
            p.add(t, i.row, "basis", f"unknown basis {i.basis!r} (expected one of {', '.join(BASES)})", key)
        elif i.basis == "sales_target" and i.indicator != "sales":
            p.add(t, i.row, "basis", "only the sales indicator can use the sales_target basis", key)
        elif i.basis != "sales_target" and (i.target is None or i.target <= 0):
            p.add(t, i.row, "target", "a positive target is required", key)
        if i.indicator == "sales" and i.basis != "sales_target":
            p.add(t, i.row, "basis", "the sales indicator is measured against the rep's sales target (basis sales_target)", key)
        if i.cap <= 0:
            p.add(t, i.row, "cap", f"the cap must be positive, got {i.cap}", key)
    total = sum((i.weight for i in scheme), Decimal(0))
    if total != 100:
        p.add(t, None, "weight", f"KPI weights add up to {total}, not 100")


def _actuals(inputs: PlanInputs, p: Problems) -> None:
    t = "tblActuals"
    reps = {r.rep_id: r for r in inputs.team}
    year = inputs.settings.fiscal_year
    seen: dict[tuple[str, str], int | None] = {}
    bounds = {q: quarter_bounds(year, q) for q in QUARTERS}
    for a in inputs.actuals:
        key = f"{a.rep_id}/{a.quarter}"
        rep = reps.get(a.rep_id)
        if rep is None:
            p.add(t, a.row, "rep_id", f"unknown rep {a.rep_id!r} (not in tblTeam)", key)
        if a.quarter not in QUARTERS:
            p.add(t, a.row, "quarter", f"unknown quarter {a.quarter!r} (expected Q1..Q4)", key)
        if (a.rep_id, a.quarter) in seen:
            p.add(t, a.row, "quarter", f"duplicate row for {a.rep_id} {a.quarter} "
                  f"(also row {seen[(a.rep_id, a.quarter)]})", key)
        seen.setdefault((a.rep_id, a.quarter), a.row)
        for f in ACTUAL_FIGURES:
            v = getattr(a, f)
            if v is not None and v < 0:
                p.add(t, a.row, f, f"negative value {v}", key)
            elif v is not None and f in COUNT_FIGURES and v != v.to_integral_value():
                p.add(t, a.row, f, f"a count must be a whole number, got {v}", key)
            elif v is not None and f in RATE_FIGURES and v > 1:
                p.add(t, a.row, f, f"a rate is at most 100%, got {v}", key)
        if a.sales is None:
            continue
        if rep is not None and rep.role in ROLES and not rep.carries_quota:
            p.add(t, a.row, "rep_id", f"{a.rep_id} has role {rep.role}, which carries no sales quota", key)
        if rep is not None and a.quarter in QUARTERS:
            start, end = bounds[a.quarter]
            if active_days(start, end, rep.hire_date, rep.end_date) == 0:
                p.add(t, a.row, "quarter", f"{a.rep_id} is not employed in {a.quarter} {year}", key)
        for f in ACTUAL_FIGURES:
            if f not in OPTIONAL_FIGURES and getattr(a, f) is None:
                p.add(t, a.row, f, "blank in a reported quarter (sales is filled in); enter 0 if it is zero", key)


def _improvement(inputs: PlanInputs, p: Problems) -> None:
    t = "tblImprovement"
    reps = {r.rep_id: r for r in inputs.team}
    year = inputs.settings.fiscal_year
    for i in inputs.improvement:
        key = f"{i.rep_id}/{i.quarter}"
        if i.rep_id not in reps:
            p.add(t, i.row, "rep_id", f"unknown rep {i.rep_id!r} (not in tblTeam)", key)
        if i.quarter not in QUARTERS:
            p.add(t, i.row, "quarter", f"unknown quarter {i.quarter!r}", key)
        elif i.rep_id in reps and not _employed(reps[i.rep_id], year, i.quarter):
            p.add(t, i.row, "quarter", f"{i.rep_id} is not employed in {i.quarter} {year}", key)
        if i.outcome not in OUTCOMES:
            p.add(t, i.row, "outcome", f"unknown outcome {i.outcome!r} (expected open, passed or failed)", key)


def _prior(inputs: PlanInputs, p: Problems) -> None:
    t = "tblCubePrior"
    regions, products = set(inputs.region_codes()), set(inputs.product_codes())
    for c in inputs.cube_prior:
        key = f"{c.region}/{c.quarter}/{c.product}"
        if c.region not in regions:
            p.add(t, c.row, "region", f"unknown region {c.region!r}", key)
        if c.quarter not in QUARTERS:
            p.add(t, c.row, "quarter", f"unknown quarter {c.quarter!r}", key)
        if c.product not in products:
            p.add(t, c.row, "product", f"unknown product {c.product!r}", key)
        if c.weight < 0:
            p.add(t, c.row, "weight", f"negative weight {c.weight}", key)


def _employed(rep, year: int, quarter: str | None = None) -> bool:
    """Whether ``rep`` works at least one day of the quarter (or of the year)."""
    if quarter is None:
        start, end = quarter_bounds(year, "Q1")[0], quarter_bounds(year, "Q4")[1]
    else:
        start, end = quarter_bounds(year, quarter)
    return active_days(start, end, rep.hire_date, rep.end_date) > 0


def _dates_ok(rep) -> bool:
    """Whether a rep's end date is not before the hire date (else that is reported once,
    at the end date, and not again through what the dates would imply)."""
    return not (rep.hire_date and rep.end_date and rep.end_date < rep.hire_date)


def _overlap(a, b, year: int) -> bool:
    """Whether reps ``a`` and ``b`` both work on at least one day of the plan year."""
    start, end = quarter_bounds(year, "Q1")[0], quarter_bounds(year, "Q4")[1]
    start = max([start] + [d for d in (a.hire_date, b.hire_date) if d])
    end = min([end] + [d for d in (a.end_date, b.end_date) if d])
    return start <= end


def _span(rep) -> str:
    """A rep's employment as ``from 2026-09-01`` / ``2022-04-06 to 2026-08-21``."""
    if rep.hire_date and rep.end_date:
        return f"{rep.hire_date} to {rep.end_date}"
    if rep.end_date:
        return f"until {rep.end_date}"
    return f"from {rep.hire_date}" if rep.hire_date else "no dates"


def _settings_refs(inputs: PlanInputs, p: Problems) -> None:
    """Reps named in plan settings must exist and work in the plan year."""
    key = "team_award_members"
    reps = {r.rep_id: r for r in inputs.team}
    year = inputs.settings.fiscal_year
    members = inputs.settings.team_award_members
    for m in sorted(_dupes(members)):
        p.add("tblPlan", None, "value", f"setting {key}: {m!r} is named twice", key)
    for m in dict.fromkeys(members):
        rep = reps.get(m)
        if rep is None:
            p.add("tblPlan", None, "value", f"setting {key}: unknown rep {m!r} (not in tblTeam)", key)
        elif not _employed(rep, year):
            p.add("tblPlan", None, "value", f"setting {key}: {m} is not employed in {year}", key)


__all__ = ["validate", "InputError"]
