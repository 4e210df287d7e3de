"""Excel worksheet functions (xlwings UDFs), each a thin wrapper over the core.

On Windows, import them with the xlwings add-in ("Import Functions"); with xlwings Server or
Lite they appear as custom functions. Arguments arrive as Excel sends them (numbers as
floats, ranges as lists); every function converts them exactly (Decimal / Fraction) and
calls the same code as the CLI. A bad argument gives a short message in the cell, starting
with ``#XL!``, never a traceback.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from functools import wraps
from typing import Any, Callable

import numpy as np
import xlwings as xw

from ..core import bonus as _bonus
from ..core import checks as _checks
from ..core import kpi as _kpi
from ..core import splits as _splits
from ..core.model import QUARTERS, quarter_bounds
from ..core.money import from_fen, frac, to_fen
from ..errors import XlAddinError

EXCEL_EPOCH = dt.date(1899, 12, 30)


class UdfArgumentError(XlAddinError, ValueError):
    """A bad argument; its message is shown in the cell."""


def _friendly(fn: Callable) -> Callable:
    """Turn any failure into a short text in the cell instead of #VALUE! and a traceback:
    our errors (:class:`~xl_addin.errors.XlAddinError`) and bad values as their message, a
    crash of our own code as a line asking to report it."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except XlAddinError as e:
            return "#XL! " + "; ".join(e.lines())
        except (ValueError, TypeError, ArithmeticError) as e:
            return f"#XL! {e}"
        except Exception as e:  # a bug of ours: say so in the cell, not #VALUE!
            return f"#XL! internal error, please report it: {type(e).__name__}: {e}"
    return wrapper


def _flat(v: Any) -> list[Any]:
    """A range (scalar, row, column or 2-D block) as a flat list, row by row."""
    if isinstance(v, (list, tuple)):
        out: list[Any] = []
        for x in v:
            out.extend(_flat(x))
        return out
    return [v]


def _num(v: Any, what: str) -> Fraction:
    if v is None or v == "":
        raise UdfArgumentError(f"{what} is blank")
    if isinstance(v, bool):
        raise UdfArgumentError(f"{what} must be a number")
    if isinstance(v, str):
        try:
            return frac(Decimal(v.strip().replace(",", "")))
        except Exception:
            raise UdfArgumentError(f"{what} must be a number, got {v!r}") from None
    return frac(v)


def _opt_num(v: Any, what: str) -> Fraction | None:
    return None if v is None or v == "" else _num(v, what)


def _date(v: Any, what: str) -> dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return EXCEL_EPOCH + dt.timedelta(days=int(v))
    try:
        return dt.date.fromisoformat(str(v).strip()[:10])
    except ValueError:
        raise UdfArgumentError(f"{what} is not a date: {v!r}") from None


def _excel_number(x: Fraction | Decimal | int) -> float | int:
    if isinstance(x, int):
        return x
    d = x if isinstance(x, Decimal) else Decimal(x.numerator) / Decimal(x.denominator)
    return int(d) if d == d.to_integral_value() else float(d)


@xw.func
@xw.arg("weights", ndim=2)
@xw.ret(expand="table")
@_friendly
def XL_SPLIT(total, weights, unit=1):
    """Split TOTAL into parts proportional to WEIGHTS that add up exactly to TOTAL.

    Each part is a multiple of UNIT (default 1 yuan; 0.01 for fen) and within one unit
    of its exact share (largest remainder). Returns a column that spills, one part per
    weight. Example: =XL_SPLIT(100, {1;1;1}) gives 34, 33, 33.
    """
    t = _num(total, "total")
    u = _num(unit if unit not in (None, "") else 1, "unit")
    ws = [_num(w, "weight") if w not in (None, "") else Fraction(0) for w in _flat(weights)]
    if not ws:
        raise UdfArgumentError("no weights")
    if any(w < 0 for w in ws):
        raise UdfArgumentError("weights must not be negative")
    if sum(ws) == 0:
        raise UdfArgumentError("all weights are zero")
    if (t / u).denominator != 1:
        raise UdfArgumentError(f"total is not a multiple of unit {_excel_number(u)}")
    parts = _splits.split_exact(t, ws, u)
    return [[_excel_number(p)] for p in parts]


@xw.func
@_friendly
def XL_SHARE_STATUS(stated, amount, base):
    """Status of a STATED share or ratio against AMOUNT / BASE: OK, WARN or FAIL.

    The tolerance follows the precision STATED was typed with (0.43 is whole percent,
    0.0107 hundredths of a percent): within half a unit OK, within one unit WARN, beyond
    FAIL. Example: =XL_SHARE_STATUS(0.1, 30000000, 280000000) gives WARN (10.71% vs 10%).
    """
    s = _num(stated, "stated")
    b = _num(base, "base")
    if b == 0:
        raise UdfArgumentError("base is zero")
    return _checks.share_status(Decimal(s.numerator) / Decimal(s.denominator)
                                if s.denominator != 1 else Decimal(s.numerator),
                                _num(amount, "amount") / b)


@xw.func
@xw.arg("actuals", ndim=2)
@xw.arg("targets", ndim=2)
@xw.arg("weights", ndim=2)
@xw.arg("caps", ndim=2)
@_friendly
def XL_KPI(actuals, targets, weights, caps=None):
    """KPI score (0..100, 2 decimals, half-up) from ranges of ACTUALS, TARGETS and WEIGHTS.

    Achievement = actual / target capped at CAPS (default 100% each). An indicator whose
    actual or target is blank, or whose target is 0, is N/A and its weight is spread over
    the others. Example: =XL_KPI(B2:B9, C2:C9, D2:D9).
    """
    a, t, w = _flat(actuals), _flat(targets), _flat(weights)
    if not (len(a) == len(t) == len(w)):
        raise UdfArgumentError("actuals, targets and weights must be the same size")
    c = _flat(caps) if caps not in (None, "") else [1] * len(a)
    if len(c) == 1 and len(a) > 1:
        c = c * len(a)
    if len(c) != len(a):
        raise UdfArgumentError("caps must be one value or one per indicator")
    ws, capped = [], []
    for i, (ai, ti, wi, ci) in enumerate(zip(a, t, w, c), 1):
        weight = _num(wi, f"weight {i}")
        if weight < 0:
            raise UdfArgumentError(f"weight {i} is negative")
        actual, target = _opt_num(ai, f"actual {i}"), _opt_num(ti, f"target {i}")
        cap = _num(ci if ci not in (None, "") else 1, f"cap {i}")
        ws.append(weight)
        if actual is None or target is None or target == 0:
            capped.append(None)
        else:
            capped.append(min(max(Fraction(0), actual / target), cap))
    if sum(ws) == 0:
        raise UdfArgumentError("all weights are zero")
    return float(_kpi.score_from_parts(ws, capped))


@xw.func
@_friendly
def XL_BONUS(kpi_score, base_bonus, sales, sales_target, gate=60, rate=0.03, mode="gate"):
    """A rep's quarterly bonus before the pool and single-item awards, to the fen.

    Base: BASE_BONUS in full when KPI_SCORE >= GATE (mode "gate"), or BASE_BONUS x
    min(score, 100)/100 above the gate (mode "linear"). Excess: RATE (3%) of SALES above
    SALES_TARGET. The pool's scaling and the awards need the whole team: use the
    workbook's Bonus sheet for those. Example: =XL_BONUS(60, 10000, 1234567.89, 1000000)
    gives 17037.04 (10,000 + 3% x 234,567.89).
    """
    score = Decimal(str(_num(kpi_score, "kpi_score").__float__())).quantize(Decimal("0.01"))
    m = str(mode or "gate").strip().lower()
    if m not in ("gate", "linear"):
        raise UdfArgumentError("mode must be gate or linear")
    base = np.array([to_fen(_dec(_num(base_bonus, "base_bonus")))], dtype=np.int64)
    cents = np.array([int(score * 100)], dtype=np.int64)
    g = _dec(_num(gate if gate not in (None, "") else 60, "gate"))
    r = _dec(_num(rate if rate not in (None, "") else Decimal("0.03"), "rate"))
    base_paid = int(_bonus.base_fen(cents, base, g, m)[0])
    sales_fen = np.array([to_fen(_dec(_num(sales, "sales")))], dtype=np.int64)
    target = _num(sales_target, "sales_target")
    if target.denominator != 1:
        raise UdfArgumentError("sales_target is whole yuan")
    excess = int(_bonus.excess_raw_fen(sales_fen, np.array([int(target)], dtype=np.int64), r)[0])
    return float(from_fen(base_paid + excess))


def _dec(x: Fraction) -> Decimal:
    return Decimal(x.numerator) / Decimal(x.denominator)


@xw.func
@_friendly
def XL_ACTIVE_FRACTION(hire_date, end_date=None, quarter="Q1", year=2026):
    """Share of QUARTER (Q1..Q4 of YEAR) in which a rep hired on HIRE_DATE and leaving
    after END_DATE (both inclusive, either may be blank) is employed.

    Example: =XL_ACTIVE_FRACTION(DATE(2026,2,15), , "Q1", 2026) gives 0.5 (45 of 90 days).
    """
    q = str(quarter or "Q1").strip().upper()
    if q not in QUARTERS:
        raise UdfArgumentError("quarter must be Q1, Q2, Q3 or Q4")
    y = int(_num(year if year not in (None, "") else 2026, "year"))
    start, end = quarter_bounds(y, q)
    return float(_splits.active_fraction(start, end, _date(hire_date, "hire_date"),
                                         _date(end_date, "end_date")))
