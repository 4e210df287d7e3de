"""Annual awards (plan-rules §5), the ``tblAwards`` table.

* ``sales_champion``: the top annual sales among quota carriers, summing the sales of the
  rep-quarters in the KPI table (reported quota-carrying rep-quarters); sales must be > 0;
  ``champion_award`` plus ``champion_non_cash``;
* ``best_growth``: the largest rise of the KPI score from the rep's first to its latest
  reported quarter; needs at least two reported quarters and a rise above 0;
  ``growth_award`` plus ``growth_non_cash``;
* ``team_contribution``: ``team_award`` shared equally by ``team_award_members``; no row
  when nobody is named;
* ties share an award equally to the fen (``split_exact`` with unit 0.01, tied reps sorted
  by rep_id so the extra fen goes to the first ones); each tied winner gets the non-cash
  prize, which cannot be split;
* every row is provisional unless Q4 is in (``"Q4" in quarters_in``).

Decisions where the plan is silent: reps who have left (an end date) stay eligible, as the
awards are for the year's results; an award of 0 still lists its winners (the non-cash
prize); rows come in the order champion, growth, team, each by rep_id.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Sequence

import pandas as pd

from .model import QUARTERS, Actual, Rep, Settings
from .money import FEN
from .splits import split_exact

AWARD_COLUMNS = ("award", "rep_id", "amount", "non_cash", "provisional")


def share_award(award: str, amount: Decimal, winners: Sequence[str], non_cash: str,
                provisional: bool) -> list[tuple]:
    """Rows giving ``amount`` to ``winners`` in equal shares to the fen (extra fen to the
    lowest rep_ids)."""
    ids = sorted(winners)
    if len(set(ids)) != len(ids):
        raise ValueError(f"{award}: a rep is named twice")
    parts = split_exact(amount, [1] * len(ids), FEN)  # raises for an amount below the fen
    return [(award, rep_id, part.quantize(FEN), non_cash, provisional)
            for rep_id, part in zip(ids, parts)]


def _top(values: dict[str, Decimal]) -> list[str]:
    """The reps with the largest value, when that value is above 0."""
    if not values:
        return []
    best = max(values.values())
    return [r for r, v in values.items() if v == best] if best > 0 else []


def sales_champions(reps: Sequence[Rep], actuals: Sequence[Actual],
                    kpi: pd.DataFrame) -> list[str]:
    """Quota carriers with the top annual sales (sum over their rows in ``kpi``), if > 0."""
    quota = {r.rep_id for r in reps if r.carries_quota}
    scored = set(zip(kpi["rep_id"], kpi["quarter"]))
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for a in actuals:
        if a.sales is not None and a.rep_id in quota and (a.rep_id, a.quarter) in scored:
            totals[a.rep_id] += a.sales
    return _top(totals)


def best_growers(kpi: pd.DataFrame) -> list[str]:
    """Reps with the largest rise of KPI score from first to latest reported quarter
    (at least two quarters, rise above 0)."""
    by_rep: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    for rep_id, quarter, score in zip(kpi["rep_id"], kpi["quarter"], kpi["kpi_score"]):
        by_rep[rep_id].append((QUARTERS.index(quarter), score))
    rises = {}
    for rep_id, scores in by_rep.items():
        scores.sort()
        rises[rep_id] = scores[-1][1] - scores[0][1]   # one quarter: a rise of 0, never wins
    return _top(rises)


def annual_awards(settings: Settings, reps: Sequence[Rep], actuals: Sequence[Actual],
                  kpi: pd.DataFrame, quarters_in: Sequence[str]) -> pd.DataFrame:
    """The annual awards (plan-rules §5) with columns award, rep_id, amount (Decimal, 2 dp),
    non_cash, provisional."""
    provisional = "Q4" not in quarters_in
    rows: list[tuple] = []
    champions = sales_champions(reps, actuals, kpi)
    if champions:
        rows += share_award("sales_champion", settings.champion_award, champions,
                            settings.champion_non_cash, provisional)
    growers = best_growers(kpi)
    if growers:
        rows += share_award("best_growth", settings.growth_award, growers,
                            settings.growth_non_cash, provisional)
    if settings.team_award_members:
        rows += share_award("team_contribution", settings.team_award,
                            settings.team_award_members, "", provisional)
    return pd.DataFrame(rows, columns=list(AWARD_COLUMNS)).astype(
        {"award": object, "rep_id": object, "amount": object, "non_cash": object,
         "provisional": bool})
