"""The whole calculation, from plan inputs to every output table.

``compute`` is the one pipeline every front end calls (CLI, xlwings macros, library users,
tests): validate, split the target, check the plan, score KPI, pay bonuses, pick annual
award winners, build the watchlist. It is pure: plain data in, plain data out.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from . import awards as awards_mod
from . import bonus as bonus_mod
from . import checks as checks_mod
from . import kpi as kpi_mod
from . import watchlist as watchlist_mod
from .model import QUARTERS, PlanInputs
from .splits import cube_frame, rep_target_frame
from .validate import validate


@dataclass
class Results:
    """Every output table (contract columns) plus the detail the statements need."""

    target_cube: pd.DataFrame
    rep_targets: pd.DataFrame
    checks: pd.DataFrame
    kpi: pd.DataFrame
    bonus: pd.DataFrame
    awards: pd.DataFrame
    watchlist: pd.DataFrame
    pool: pd.DataFrame
    new_customer_rank: pd.DataFrame
    unstaffed: list[tuple[str, str, int]] = field(default_factory=list)
    quarters_in: tuple[str, ...] = ()
    check_rows: list = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The output tables by contract name, with exactly the contract's columns (each
        module builds its frame in contract order; rep targets also carry the exact day
        counts behind active_fraction, which the contract does not show)."""
        return {"tblTargetCube": self.target_cube,
                "tblRepTargets": self.rep_targets.drop(columns=["active_days", "quarter_days"]),
                "tblChecks": self.checks, "tblKpi": self.kpi, "tblBonus": self.bonus,
                "tblAwards": self.awards, "tblWatchlist": self.watchlist}


def quarters_in(inputs: PlanInputs, rep_targets: pd.DataFrame) -> tuple[str, ...]:
    """Quarters that are in: every active quota carrier of the quarter has reported sales."""
    reported = {(a.rep_id, a.quarter) for a in inputs.actuals if a.sales is not None}
    done = []
    for q in QUARTERS:
        expected = rep_targets.loc[rep_targets["quarter"] == q, "rep_id"]
        if len(expected) and all((r, q) in reported for r in expected):
            done.append(q)
    return tuple(done)


def compute(inputs: PlanInputs, *, as_of: dt.date | None = None, check: bool = True) -> Results:
    """Validate ``inputs`` and compute every output table.

    Raises :class:`xl_addin.errors.InputError` carrying every problem when the input is
    invalid. ``as_of`` (default: the Plan's as_of_date) dates the spend-to-date check."""
    if check:
        validate(inputs)
    s = inputs.settings
    cube = cube_frame(inputs)
    rep_targets, unstaffed = rep_target_frame(inputs, cube)
    rq_targets = cube.groupby(["region", "quarter"])["target"].sum().to_dict()
    check_rows = checks_mod.run_checks(inputs, rep_targets=rep_targets, unstaffed=unstaffed,
                                       as_of=as_of or s.as_of_date,
                                       region_quarter_targets=rq_targets)
    kpi = kpi_mod.score_kpi(inputs.kpi_scheme, inputs.actuals, rep_targets)
    bonus = bonus_mod.quarterly_bonus(s, inputs.team, inputs.actuals, rep_targets, kpi)
    q_in = quarters_in(inputs, rep_targets)
    awards = awards_mod.annual_awards(s, inputs.team, inputs.actuals, kpi, q_in)
    watch = watchlist_mod.build_watchlist(s, inputs.team, inputs.regions, kpi, inputs.improvement)
    return Results(target_cube=cube, rep_targets=rep_targets,
                   checks=checks_mod.checks_frame(check_rows), kpi=kpi, bonus=bonus.table,
                   awards=awards, watchlist=watch, pool=bonus.pool,
                   new_customer_rank=bonus.new_customer_rank, unstaffed=unstaffed,
                   quarters_in=q_in, check_rows=check_rows)
