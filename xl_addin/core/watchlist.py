"""The watchlist 末位淘汰 (plan-rules §5), the ``tblWatchlist`` table.

Each rep's reported quarters (its rows in the KPI table) are walked in order Q1..Q4, and the
rep gets a row when it has a status at its latest reported quarter:

* ``warning``: the KPI score is below ``watch_threshold`` (60; 59.99 warns, 60.00 does not);
  since_quarter is that quarter, no period;
* ``improvement_period``: the latest ``watch_consecutive`` (2) reported quarters are
  consecutive calendar quarters (Q2 and Q3, not Q1 and Q3) and all below the threshold. The
  period runs from the day after the last of them ends for ``improvement_months`` (1):
  period_end = add_months(period_start, months) - 1 day; since_quarter is the last quarter;
* ``reassign_or_exit``: ``tblImprovement`` marks the period that started after
  since_quarter ``failed``.

A quarter that ends before ``add_months(hire_date, probation_months)`` is exempt: it
neither warns nor counts toward consecutive quarters (and breaks a run).

Decisions where the plan is silent:

* outcome ``passed`` clears the status and restarts the count: the period dealt with
  those quarters, so one more quarter below the threshold is only a warning;
* a ``failed`` status stays (same since_quarter and period) while the following quarters
  stay below the threshold; a quarter at or above the threshold clears it;
* outcomes for quarters that did not start a period are ignored; ``open`` or blank means
  the period is running;
* a rep whose end_date is on or before the end of its latest reported quarter has left and
  gets no row (a period would start after they left);
* the owner is the manager of the rep's region for every status.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

import pandas as pd

from .model import QUARTERS, Improvement, Region, Rep, Settings, add_months, quarter_bounds

WATCHLIST_COLUMNS = ("rep_id", "region", "status", "since_quarter", "period_start",
                     "period_end", "owner")
WARNING = "warning"
IMPROVEMENT = "improvement_period"
REASSIGN = "reassign_or_exit"


@dataclass(frozen=True)
class Status:
    """A rep's watchlist status after one quarter."""

    status: str
    since_quarter: str
    period_start: dt.date | None = None
    period_end: dt.date | None = None


def improvement_period(year: int, quarter: str, months: int) -> tuple[dt.date, dt.date]:
    """From the day after ``quarter`` ends, ``months`` long (last day inclusive)."""
    start = quarter_bounds(year, quarter)[1] + dt.timedelta(days=1)
    return start, add_months(start, months) - dt.timedelta(days=1)


def is_exempt(rep: Rep, year: int, quarter: str, probation_months: int) -> bool:
    """A quarter ending within ``probation_months`` of the rep's hire date is exempt."""
    if rep.hire_date is None:
        return False
    return quarter_bounds(year, quarter)[1] < add_months(rep.hire_date, probation_months)


def rep_status(settings: Settings, rep: Rep, scores: Sequence[tuple[str, Decimal]],
               outcomes: dict[str, str]) -> Status | None:
    """The status at the latest of ``scores`` ((quarter, kpi_score) in quarter order);
    ``outcomes`` maps a since_quarter to the improvement outcome recorded for it."""
    year, need = settings.fiscal_year, settings.watch_consecutive
    state: Status | None = None
    run, prev = 0, -2
    for quarter, score in scores:
        qi = QUARTERS.index(quarter)
        if is_exempt(rep, year, quarter, settings.probation_months):
            state, run = None, 0
        elif score >= settings.watch_threshold:
            state, run = None, 0
        else:
            run = run + 1 if run and prev == qi - 1 else 1
            if state is not None and state.status == REASSIGN:
                pass  # a failed period stays while the rep stays below the threshold
            elif run >= need:
                outcome = outcomes.get(quarter, "")
                if outcome == "passed":
                    state, run = None, 0
                else:
                    start, end = improvement_period(year, quarter, settings.improvement_months)
                    state = Status(REASSIGN if outcome == "failed" else IMPROVEMENT,
                                   quarter, start, end)
            else:
                state = Status(WARNING, quarter)
        prev = qi
    return state


def _check_settings(settings: Settings) -> None:
    if settings.watch_consecutive < 1:
        raise ValueError("watch_consecutive must be at least 1")
    if settings.improvement_months < 1:
        raise ValueError("improvement_months must be at least 1")


def build_watchlist(settings: Settings, reps: Sequence[Rep], regions: Sequence[Region],
                    kpi: pd.DataFrame, improvement: Sequence[Improvement]) -> pd.DataFrame:
    """The watchlist (plan-rules §5): one row per rep with a status at its latest reported
    quarter, sorted by rep_id. Dates are ``datetime.date`` (None for a warning)."""
    _check_settings(settings)
    rep_by_id = {r.rep_id: r for r in reps}
    manager = {r.region: r.manager for r in regions}
    outcomes: dict[str, dict[str, str]] = defaultdict(dict)
    for imp in improvement:
        if imp.quarter in outcomes[imp.rep_id]:
            raise ValueError(f"{imp.rep_id}/{imp.quarter}: two improvement outcomes")
        outcomes[imp.rep_id][imp.quarter] = imp.outcome.strip().lower()
    scores: dict[str, list[tuple[int, str, Decimal]]] = defaultdict(list)
    for rep_id, quarter, score in zip(kpi["rep_id"], kpi["quarter"], kpi["kpi_score"]):
        scores[rep_id].append((QUARTERS.index(quarter), quarter, score))

    rows = []
    for rep_id in sorted(scores):
        rep = rep_by_id.get(rep_id)
        if rep is None:
            raise ValueError(f"KPI row for unknown rep {rep_id}")
        ordered = sorted(scores[rep_id])
        latest_end = quarter_bounds(settings.fiscal_year, ordered[-1][1])[1]
        if rep.end_date is not None and rep.end_date <= latest_end:
            continue
        state = rep_status(settings, rep, [(q, s) for _, q, s in ordered], outcomes[rep_id])
        if state is None:
            continue
        if rep.region not in manager:
            raise ValueError(f"{rep_id}: region {rep.region!r} is not in tblRegions")
        rows.append((rep_id, rep.region, state.status, state.since_quarter,
                     state.period_start, state.period_end, manager[rep.region]))
    return pd.DataFrame(rows, columns=list(WATCHLIST_COLUMNS), dtype=object)
