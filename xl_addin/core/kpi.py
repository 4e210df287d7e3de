"""KPI score per rep and quarter (plan-rules §3).

The rules, restated:

* achievement = actual / target, never below 0, capped at the indicator's ``cap``
  (default 1 = 100%);
* the actual of each indicator: ``sales`` -> sales; ``collection_rate`` -> collections /
  receivables (N/A "no receivables" when receivables is 0); ``training_rate`` and
  ``mentee_conversion`` -> the rate as entered (a blank mentee_conversion is N/A
  "no mentees"); ``new_customers``, ``visits``, ``reports``, ``proposals`` -> the count;
* the target by the indicator's basis: ``sales_target`` -> the rep's quarterly sales target
  (0 makes the indicator N/A "no sales target"); ``rate`` -> the scheme target as is;
  ``count`` -> the scheme target x active_days / quarter_days (exact fraction);
* an N/A indicator's weight is spread over the applicable ones in proportion, so
  score = sum(weight x capped achievement) / sum(applicable weights) x 100, rounded half-up
  to 2 decimals. An indicator of weight 0 takes no part (shown as N/A "weight 0");
* **decision**: when no indicator applies to a rep-quarter the score is 0.00 (nothing was
  measured, so nothing is earned). With the 2026 scheme this cannot happen, because visits,
  reports, training and proposals always apply.

The score is documented as 0..100 and always lies there: with caps of at most 1 it cannot
pass 100; a cap above 1 lets one indicator's over-achievement make up for another's
shortfall, but the sum is clipped to :data:`MAX_SCORE` (and the checks WARN about such a
cap, ``kpi_cap.warn``).

:func:`score_kpi` scores a whole team at once in float64 with numpy and repairs the rounding
of the few rows whose float result lies near a half-cent boundary by recomputing them
exactly (see :func:`_cents_from_float`). :func:`explain_kpi` gives the line-by-line
breakdown of one rep-quarter, computed exactly with fractions; :func:`explain_score` of those
lines equals the ``kpi_score`` of :func:`score_kpi`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter
from typing import Sequence

import numpy as np
import pandas as pd

from .model import INDICATORS, Actual, Indicator
from .money import frac, round_half_up

MAX_SCORE = 100
"""KPI scores lie in 0..MAX_SCORE (plan-rules §3); a cap above 1 cannot push one past it."""
KPI_COLUMNS = ("rep_id", "quarter", *(f"ach_{name}" for name in INDICATORS), "kpi_score")

NA_WEIGHT = "weight 0"
NA_NO_RECEIVABLES = "no receivables"
NA_NO_MENTEES = "no mentees"
NA_NO_SALES_TARGET = "no sales target"

# indicators whose actual is one figure of tblActuals, taken as entered
_DIRECT = {"sales": "sales", "new_customers": "new_customers", "visits": "visits",
           "reports": "reports", "training_rate": "training_rate",
           "mentee_conversion": "mentee_conversion", "proposals": "proposals"}
# blank figures that mean N/A rather than an error (plan-rules §3: "no mentees")
_BLANK_MEANS_NA = {"mentee_conversion": NA_NO_MENTEES}

# A float score is trusted for rounding unless 100 x score lies this close to k + 0.5.
_NEAR_HALF = 1e-6


@dataclass(frozen=True)
class IndicatorLine:
    """One indicator of one rep-quarter, as :func:`explain_kpi` reports it.

    Display fields are rounded half-up: ``actual`` as entered (collection_rate as the
    ratio, 4 dp), ``target`` after scaling (4 dp), ``achievement`` uncapped (4 dp),
    ``capped`` (4 dp), ``effective_weight`` = weight / applicable weights x 100 (4 dp) and
    ``points`` = effective weight x capped achievement (2 dp). ``exact_capped`` keeps the
    unrounded capped achievement so that :func:`explain_score` is exact.
    """

    indicator: str
    group: str
    actual: Decimal | None
    target: Decimal | None
    achievement: Decimal | None
    capped: Decimal | None
    cap: Decimal
    weight: Decimal
    effective_weight: Decimal
    points: Decimal
    na_reason: str
    exact_capped: Fraction | None = field(default=None, repr=False, compare=False)


# ----------------------------------------------------------------------------- scheme

def _check_scheme(scheme: Sequence[Indicator]) -> None:
    """Raise ValueError for a scheme the validator should have rejected."""
    seen: set[str] = set()
    for ind in scheme:
        if ind.indicator not in INDICATORS:
            raise ValueError(f"unknown KPI indicator {ind.indicator!r}")
        if ind.indicator in seen:
            raise ValueError(f"KPI indicator {ind.indicator!r} appears twice in the scheme")
        seen.add(ind.indicator)
        if ind.weight < 0:
            raise ValueError(f"KPI indicator {ind.indicator!r}: negative weight")
        if ind.weight == 0:
            continue
        if ind.cap <= 0:
            raise ValueError(f"KPI indicator {ind.indicator!r}: cap must be positive")
        if ind.basis in ("rate", "count"):
            if ind.target is None or ind.target <= 0:
                raise ValueError(f"KPI indicator {ind.indicator!r}: target must be positive")
        elif ind.basis != "sales_target":
            raise ValueError(f"KPI indicator {ind.indicator!r}: unknown basis {ind.basis!r}")


def _check_days(active_days: int, quarter_days: int) -> None:
    if not 0 < active_days <= quarter_days:
        raise ValueError(f"active_days {active_days} must be within 1..quarter_days {quarter_days}")


# ----------------------------------------------------------------------------- exact path

@dataclass(frozen=True)
class _Measure:
    """Exact actual and target of one indicator, or the reason it is N/A."""

    actual: Fraction | None
    target: Fraction | None
    na_reason: str = ""


def _figure(a: Actual, name: str) -> Fraction | None:
    value = getattr(a, name)
    if value is None:
        if name in _BLANK_MEANS_NA:
            return None
        raise ValueError(f"{a.rep_id}/{a.quarter}: {name} is blank in a reported quarter")
    return frac(value)


def _measure(ind: Indicator, a: Actual, sales_target: int, active_days: int,
             quarter_days: int) -> _Measure:
    """The exact actual and (scaled) target of one indicator, or why it is N/A."""
    if ind.weight == 0:
        return _Measure(None, None, NA_WEIGHT)
    if ind.indicator == "collection_rate":
        receivables = _figure(a, "receivables")
        if receivables == 0:
            return _Measure(None, None, NA_NO_RECEIVABLES)
        actual = _figure(a, "collections") / receivables
    else:
        actual = _figure(a, _DIRECT[ind.indicator])
        if actual is None:
            return _Measure(None, None, _BLANK_MEANS_NA[ind.indicator])
    if ind.basis == "sales_target":
        if sales_target == 0:
            return _Measure(actual, None, NA_NO_SALES_TARGET)
        target = Fraction(sales_target)
    elif ind.basis == "count":
        target = frac(ind.target) * active_days / quarter_days
    else:
        target = frac(ind.target)
    return _Measure(actual, target)


def _achievement(m: _Measure) -> Fraction:
    return max(Fraction(0), m.actual / m.target)


def _exact_score(weights: Sequence[Fraction], capped: Sequence[Fraction | None]) -> Fraction:
    """sum(weight x capped) / sum(applicable weights) x 100; 0 when nothing applies."""
    applicable = [(w, c) for w, c in zip(weights, capped) if c is not None and w > 0]
    total = sum((w for w, _ in applicable), Fraction(0))
    if total == 0:
        return Fraction(0)
    return min(sum((w * c for w, c in applicable), Fraction(0)) / total * 100, Fraction(MAX_SCORE))


def _dec4(x: Fraction | None) -> Decimal | None:
    return None if x is None else round_half_up(x, 4)


def explain_kpi(scheme: Sequence[Indicator], actual: Actual, sales_target: int,
                active_days: int, quarter_days: int) -> list[IndicatorLine]:
    """Line by line, how one rep-quarter's KPI score is reached (plan-rules §3).

    Computed exactly with fractions; one line per indicator of ``scheme``, in its order.
    """
    _check_scheme(scheme)
    _check_days(active_days, quarter_days)
    measures = [_measure(ind, actual, sales_target, active_days, quarter_days) for ind in scheme]
    capped = [None if m.na_reason else min(_achievement(m), frac(ind.cap))
              for ind, m in zip(scheme, measures)]
    applicable = sum((frac(ind.weight) for ind, c in zip(scheme, capped) if c is not None),
                     Fraction(0))
    lines = []
    for ind, m, c in zip(scheme, measures, capped):
        eff = frac(ind.weight) / applicable * 100 if c is not None else Fraction(0)
        lines.append(IndicatorLine(
            indicator=ind.indicator, group=ind.group,
            actual=(getattr(actual, _DIRECT[ind.indicator]) if ind.indicator in _DIRECT
                    else _dec4(m.actual)),
            target=_dec4(m.target),
            achievement=None if m.na_reason else _dec4(_achievement(m)),
            capped=_dec4(c), cap=ind.cap, weight=ind.weight,
            effective_weight=round_half_up(eff, 4),
            points=round_half_up(eff * (c or 0), 2),
            na_reason=m.na_reason, exact_capped=c))
    return lines


def explain_score(lines: Sequence[IndicatorLine]) -> Decimal:
    """The KPI score from explained lines: exact, so it equals :func:`score_kpi`'s score."""
    score = _exact_score([frac(line.weight) for line in lines],
                         [line.exact_capped for line in lines])
    return round_half_up(score, 2)


# ----------------------------------------------------------------------------- vectorised

def _float_figure(objs: Sequence[Actual], name: str) -> np.ndarray:
    """One figure of many actuals as float64 (NaN for a blank)."""
    return np.array([np.nan if v is None else float(v) for v in map(attrgetter(name), objs)],
                    dtype=np.float64)


def _require(values: np.ndarray, mask: np.ndarray, objs: Sequence[Actual], name: str) -> None:
    """Raise for a blank ``name`` in a row where it is needed (the validator's job)."""
    bad = np.flatnonzero(mask & np.isnan(values))
    if bad.size:
        a = objs[int(bad[0])]
        raise ValueError(f"{a.rep_id}/{a.quarter}: {name} is blank in a reported quarter")


def _float_measure(ind: Indicator, objs: Sequence[Actual], sales_target: np.ndarray,
                   day_share: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float actual, target and applicability of one indicator for all rows."""
    n = len(objs)
    applies = np.ones(n, dtype=bool)
    if ind.indicator == "collection_rate":
        receivables = _float_figure(objs, "receivables")
        collections = _float_figure(objs, "collections")
        _require(receivables, applies, objs, "receivables")
        applies &= receivables != 0
        _require(collections, applies, objs, "collections")
        actual = np.divide(collections, receivables, out=np.zeros(n), where=applies)
    else:
        name = _DIRECT[ind.indicator]
        actual = _float_figure(objs, name)
        if name in _BLANK_MEANS_NA:
            applies &= ~np.isnan(actual)
        _require(actual, applies, objs, name)
    if ind.basis == "sales_target":
        target = sales_target.astype(np.float64)
        applies &= sales_target != 0
    elif ind.basis == "count":
        target = float(ind.target) * day_share
    else:
        target = np.full(n, float(ind.target))
    return actual, target, applies


def _cents_from_float(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """100 x score rounded half-up, and the rows too close to a boundary to trust.

    Why this is exact for every row not flagged: each score comes from a handful of float64
    operations on values converted from exact decimals, so its absolute error is below
    ~50 x 2^-53 x (100 x max cap x 100) ≈ 1e-10 in units of 0.01, far below ``_NEAR_HALF``
    (1e-6). Rounding half-up is a step function that only jumps at k + 0.5, so a value more
    than 1e-6 away from every such point rounds the same as the exact score would.
    """
    x = score * 100.0
    near = np.abs(x - np.floor(x) - 0.5) < _NEAR_HALF
    return np.floor(x + 0.5).astype(np.int64), near


def _score_decimals(cents: np.ndarray) -> list[Decimal]:
    cache = {int(c): Decimal(int(c)).scaleb(-2) for c in np.unique(cents)}
    return [cache[c] for c in cents.tolist()]


def _empty_kpi() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=np.float64) for c in KPI_COLUMNS})
    for c in ("rep_id", "quarter", "kpi_score"):
        frame[c] = frame[c].astype(object)
    return frame


def _reported_rows(actuals: Sequence[Actual],
                   rep_targets: pd.DataFrame) -> tuple[pd.DataFrame, list[Actual]]:
    """rep_targets joined to the reported actuals, sorted by rep and quarter, and the
    reported actuals in the same order."""
    reported = [a for a in actuals if a.sales is not None]
    keys = pd.DataFrame({"rep_id": pd.Series([a.rep_id for a in reported], dtype=object),
                         "quarter": pd.Series([a.quarter for a in reported], dtype=object),
                         "_i": np.arange(len(reported))})
    if keys.duplicated(["rep_id", "quarter"]).any():
        dup = keys[keys.duplicated(["rep_id", "quarter"])].iloc[0]
        raise ValueError(f"{dup.rep_id}/{dup.quarter}: two rows of actuals")
    cols = ["rep_id", "quarter", "active_days", "quarter_days", "sales_target"]
    if rep_targets[["rep_id", "quarter"]].duplicated().any():
        raise ValueError("rep_targets has two rows for one rep and quarter")
    rows = rep_targets[cols].merge(keys, on=["rep_id", "quarter"], how="inner")
    rows = rows.sort_values(["rep_id", "quarter"], kind="stable").reset_index(drop=True)
    return rows, [reported[i] for i in rows["_i"].tolist()]


def score_kpi(scheme: Sequence[Indicator], actuals: Sequence[Actual],
              rep_targets: pd.DataFrame) -> pd.DataFrame:
    """KPI per reported quota-carrying rep-quarter (plan-rules §3), the ``tblKpi`` table.

    One row per actual with a sales figure whose (rep_id, quarter) is in ``rep_targets``,
    sorted by rep_id then quarter. ``ach_*`` are capped achievements as floats (NaN when
    N/A, when the weight is 0 or when the scheme lacks the indicator); ``kpi_score`` is a
    ``Decimal`` rounded half-up to 2 places, exact (see :func:`_cents_from_float`).
    """
    _check_scheme(scheme)
    rows, objs = _reported_rows(actuals, rep_targets)
    if rows.empty:
        return _empty_kpi()
    active = rows["active_days"].to_numpy(np.int64)
    qdays = rows["quarter_days"].to_numpy(np.int64)
    if ((active <= 0) | (active > qdays)).any():
        raise ValueError("active_days must be within 1..quarter_days")
    sales_target = rows["sales_target"].to_numpy(np.int64)
    day_share = active / qdays

    n = len(rows)
    num, den = np.zeros(n), np.zeros(n)
    out = {"rep_id": rows["rep_id"].to_numpy(object), "quarter": rows["quarter"].to_numpy(object)}
    for name in INDICATORS:
        out[f"ach_{name}"] = np.full(n, np.nan)
    for ind in scheme:
        if ind.weight == 0:
            continue
        actual, target, applies = _float_measure(ind, objs, sales_target, day_share)
        ach = np.divide(actual, target, out=np.zeros(n), where=applies)
        capped = np.minimum(np.maximum(ach, 0.0), float(ind.cap))
        w = float(ind.weight)
        num += np.where(applies, w * capped, 0.0)
        den += np.where(applies, w, 0.0)
        out[f"ach_{ind.indicator}"] = np.where(applies, capped, np.nan)
    score = np.minimum(np.divide(num, den, out=np.zeros(n), where=den > 0) * 100.0, MAX_SCORE)
    cents, near = _cents_from_float(score)
    for i in np.flatnonzero(near).tolist():   # the exact path of explain_kpi
        lines = explain_kpi(scheme, objs[i], int(sales_target[i]), int(active[i]), int(qdays[i]))
        cents[i] = int(explain_score(lines).scaleb(2))
    out["kpi_score"] = _score_decimals(cents)
    frame = pd.DataFrame(out, columns=list(KPI_COLUMNS))
    frame["kpi_score"] = frame["kpi_score"].astype(object)
    return frame


def score_from_parts(weights: Sequence[Fraction], capped: Sequence[Fraction | None]) -> Decimal:
    """The KPI score from weights and capped achievements (None = N/A), rounded half-up to
    2 decimals: the rule of plan-rules §3 without the scheme around it (used by the UDF)."""
    return round_half_up(_exact_score(weights, capped), 2)
