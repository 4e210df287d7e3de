"""Exact splits: one amount into parts that add up to it, to the last unit.

Three levels, each built on the one before:

* :func:`split_exact` - one total into parts by weights (largest remainder);
* :func:`round_matrix` - a real matrix to integers keeping integer row and column totals;
* :func:`target_cube` - the region x quarter x product target cube from the three plan splits
  (iterative proportional fitting from a prior, then two matrix roundings);
* :func:`rep_targets` - each region-quarter target split among its active quota carriers.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import gcd as _gcd
from typing import TYPE_CHECKING, Sequence

from .model import QUARTERS, quarter_bounds
from .money import Number, dec, frac

if TYPE_CHECKING:
    import pandas as pd

    from .model import PlanInputs


def split_exact(total: Number, weights: Sequence[Number], unit: Number = 1) -> list:
    """Split ``total`` into parts proportional to ``weights``.

    Every part is a multiple of ``unit``, the parts add up exactly to ``total``, and each
    part is within one ``unit`` of its exact proportional share (largest-remainder
    rounding; ties go to the earlier part). A zero weight gets zero. Raises ``ValueError``
    for empty, negative or all-zero weights, and for a total that is not a multiple of
    ``unit``. Parts have the type of ``total`` (int stays int, Decimal stays Decimal).
    """
    whole = all(type(w) is int for w in weights)   # the common case: no Fractions needed
    ws = list(weights) if whole else [frac(w) for w in weights]
    if not ws:
        raise ValueError("split_exact: no weights")
    if any(w < 0 for w in ws):
        raise ValueError("split_exact: negative weight")
    wsum = sum(ws)
    if wsum == 0:
        raise ValueError("split_exact: all weights are zero")
    u = frac(unit)
    if u <= 0:
        raise ValueError("split_exact: unit must be positive")
    units = frac(total) / u
    if units.denominator != 1:
        raise ValueError(f"split_exact: total {total} is not a multiple of unit {unit}")
    n = int(units)
    sign = -1 if n < 0 else 1
    n = abs(n)
    # integer weights over a common denominator: exact remainders with integer divmod
    if whole:
        iw, isum = ws, wsum
    else:
        den = 1
        for w in ws:
            if w.denominator != 1:
                den = den * w.denominator // _gcd(den, w.denominator)
        iw = [w.numerator * (den // w.denominator) for w in ws]
        isum = sum(iw)
    qr = [divmod(n * w, isum) for w in iw]
    parts = [q for q, _ in qr]
    left = n - sum(parts)
    if left:
        order = sorted(range(len(ws)), key=lambda i: (-qr[i][1], i))
        for i in order[:left]:
            parts[i] += 1
    return [_as_type(total, sign * p * u) for p in parts]


def _as_type(total: Number, value: Fraction):
    if isinstance(total, bool):
        raise TypeError("total must be a number")
    if isinstance(total, int):
        return int(value)
    if isinstance(total, Fraction):
        return value
    if isinstance(total, float):
        return float(value)
    return dec(value) if value.denominator != 1 else Decimal(int(value)).quantize(
        Decimal(1).scaleb(min(0, dec(total).as_tuple().exponent)))


# ----------------------------------------------------------------------------- matrices

def round_matrix(x: Sequence[Sequence[Number]], row_totals: Sequence[int],
                 col_totals: Sequence[int]) -> list[list[int]]:
    """Round a non-negative real matrix to integers with the given integer margins.

    Each cell becomes the floor or the ceiling of its value (an integer value may move by
    one only when the margins cannot be met otherwise), rows add up to ``row_totals`` and
    columns to ``col_totals`` exactly. Solved as a flow problem: every cell may take one
    extra unit above its floor, each row and column needs a known number of extra units;
    cells with the largest fractional parts are served first. Raises ``ValueError`` when
    no such rounding exists (margins too far from the matrix).
    """
    fx = [[frac(v) for v in row] for row in x]
    rows, cols = len(fx), len(fx[0]) if fx else 0
    if len(row_totals) != rows or len(col_totals) != cols:
        raise ValueError("round_matrix: margins do not match the matrix shape")
    if sum(row_totals) != sum(col_totals):
        raise ValueError("round_matrix: row and column totals differ")
    for strict in (True, False):
        result = _round_by_flow(fx, list(row_totals), list(col_totals), strict)
        if result is not None:
            return result
    raise ValueError("round_matrix: no rounding within one unit meets these totals")


def _round_by_flow(fx: list[list[Fraction]], rt: list[int], ct: list[int],
                   strict: bool) -> list[list[int]] | None:
    rows, cols = len(fx), len(fx[0]) if fx else 0
    # base value and spare capacity of each cell
    base = [[(v.numerator // v.denominator) if (strict or v.denominator != 1) else int(v) - 1
             for v in row] for row in fx]
    cap = [[(0 if v.denominator == 1 else 1) if strict else (1 if v.denominator != 1 else 2)
            for v in row] for row in fx]
    for i in range(rows):
        for j in range(cols):
            if base[i][j] < 0:  # never below zero
                cap[i][j] -= -base[i][j]
                base[i][j] = 0
    need_r = [rt[i] - sum(base[i]) for i in range(rows)]
    need_c = [ct[j] - sum(base[i][j] for i in range(rows)) for j in range(cols)]
    if min(need_r + need_c, default=0) < 0:
        return None
    flow = [[0] * cols for _ in range(rows)]
    # greedy start: largest fractional parts first
    cells = sorted(((fx[i][j] - int(fx[i][j]), i, j) for i in range(rows) for j in range(cols)),
                   key=lambda t: (-t[0], t[1], t[2]))
    for _, i, j in cells:
        while need_r[i] > 0 and need_c[j] > 0 and flow[i][j] < cap[i][j]:
            flow[i][j] += 1
            need_r[i] -= 1
            need_c[j] -= 1
    # augmenting paths: row with need -> cell -> column ... -> column with need
    while any(need_r):
        path = _augment(flow, cap, need_r, need_c)
        if path is None:
            return None
    return [[base[i][j] + flow[i][j] for j in range(cols)] for i in range(rows)]


def _augment(flow, cap, need_r, need_c) -> bool | None:
    """Find one augmenting path in the bipartite residual graph and apply it."""
    rows, cols = len(flow), len(flow[0])
    starts = [i for i in range(rows) if need_r[i] > 0]
    prev_col: dict[int, int] = {}      # column -> row it was reached from
    prev_row: dict[int, int] = {}      # row -> column it was reached from (via a cancel)
    seen_rows = set(starts)
    frontier = list(starts)
    while frontier:
        nxt = []
        for i in frontier:
            for j in range(cols):
                if j in prev_col or flow[i][j] >= cap[i][j]:
                    continue
                prev_col[j] = i
                if need_c[j] > 0:
                    # walk back, applying the path
                    need_c[j] -= 1
                    while True:
                        r = prev_col[j]
                        flow[r][j] += 1
                        if r in prev_row:
                            j2 = prev_row[r]
                            flow[r][j2] -= 1
                            j = j2
                        else:
                            need_r[r] -= 1
                            return True
                for k in range(rows):  # cancel flow k->j to let row k take another column
                    if k not in seen_rows and flow[k][j] > 0:
                        seen_rows.add(k)
                        prev_row[k] = j
                        nxt.append(k)
        frontier = nxt
    return None


# ----------------------------------------------------------------------------- the cube

def fit_ipf(prior, margins: Sequence[Sequence[Number]], *, tol: float = 1e-9,
            max_iter: int = 1000):
    """Iterative proportional fitting of a 3-D ``prior`` (numpy array, >= 0) to three
    one-dimensional margins. Returns the fitted float array; raises ``ValueError`` if the
    prior cannot meet the margins (a zero slice where the margin is positive)."""
    import numpy as np

    x = np.asarray(prior, dtype=float).copy()
    ms = [np.asarray([float(v) for v in m]) for m in margins]
    for axis, m in enumerate(ms):
        other = tuple(a for a in range(3) if a != axis)
        sums = x.sum(axis=other)
        if np.any((sums == 0) & (m > 0)):
            raise ValueError(f"prior has no weight where axis {axis} needs a target")
    scale = max(float(ms[0].sum()), 1.0)
    for _ in range(max_iter):
        for axis, m in enumerate(ms):
            other = tuple(a for a in range(3) if a != axis)
            sums = x.sum(axis=other)
            f = np.divide(m, sums, out=np.zeros_like(m), where=sums > 0)
            shape = [1, 1, 1]
            shape[axis] = -1
            x *= f.reshape(shape)
        worst = max(float(np.abs(x.sum(axis=tuple(a for a in range(3) if a != axis)) - m).max())
                    for axis, m in enumerate(ms))
        if worst <= tol * scale:
            return x
    raise ValueError("prior cannot be fitted to the plan's splits (no convergence)")


def margins_to_total(total: int, amounts: Sequence[Number]) -> list[int]:
    """One split's amounts as whole-yuan margins adding up to ``total``: unchanged when they
    already do, otherwise rescaled exactly (the mismatch itself is a FAIL in the checks)."""
    ints = [int(frac(a)) if frac(a).denominator == 1 else None for a in amounts]
    if None not in ints and sum(ints) == total:
        return ints  # type: ignore[return-value]
    return split_exact(total, [max(frac(a), Fraction(0)) for a in amounts])


def target_cube(total: int, regions: Sequence[tuple[str, Number]],
                quarters: Sequence[tuple[str, Number]], products: Sequence[tuple[str, Number]],
                prior: dict[tuple[str, str, str], Number] | None = None) -> dict[tuple[str, str, str], int]:
    """The region x quarter x product target cube in whole yuan.

    Fitted by IPF from ``prior`` (default uniform, which gives the product of the shares) to
    the three splits, then rounded so that region, quarter, product and region x quarter
    totals hold exactly and each cell is within 1 yuan of its fitted value: region x quarter
    first (a matrix rounding with the region and quarter margins), then every
    region-quarter across products (a matrix rounding with the rounded region-quarter
    totals and the product margins).
    """
    import numpy as np

    rk, qk, pk = [k for k, _ in regions], [k for k, _ in quarters], [k for k, _ in products]
    mr = margins_to_total(total, [a for _, a in regions])
    mq = margins_to_total(total, [a for _, a in quarters])
    mp = margins_to_total(total, [a for _, a in products])
    if prior:
        p = np.zeros((len(rk), len(qk), len(pk)))
        for (r, q, pr), w in prior.items():
            if r in rk and q in qk and pr in pk:
                p[rk.index(r), qk.index(q), pk.index(pr)] = float(w)
    else:
        p = np.ones((len(rk), len(qk), len(pk)))
    fitted = fit_ipf(p, [mr, mq, mp]) if total else np.zeros_like(p)
    rq_real = fitted.sum(axis=2)
    rq = round_matrix(rq_real.tolist(), mr, mq)
    flat = fitted.reshape(len(rk) * len(qk), len(pk)).tolist()
    cells = round_matrix(flat, [v for row in rq for v in row], mp)
    out: dict[tuple[str, str, str], int] = {}
    for i, r in enumerate(rk):
        for j, q in enumerate(qk):
            for k, pr in enumerate(pk):
                out[(r, q, pr)] = cells[i * len(qk) + j][k]
    return out


# ----------------------------------------------------------------------------- rep targets

def active_days(start, end, hire_date, end_date) -> int:
    """Days of [start, end] (inclusive) on which a rep hired ``hire_date`` and leaving after
    ``end_date`` (both inclusive, either may be None) is employed."""
    lo = max(start, hire_date) if hire_date else start
    hi = min(end, end_date) if end_date else end
    return max(0, (hi - lo).days + 1)


def active_fraction(start, end, hire_date, end_date) -> Fraction:
    """Share of the period [start, end] in which the rep is employed, exactly."""
    return Fraction(active_days(start, end, hire_date, end_date), (end - start).days + 1)


def split_region_quarter(target: int, weights: Sequence[Fraction]) -> list[int] | None:
    """A region-quarter target among its reps by ``quota_weight x active_fraction``;
    None when the target is positive and nobody can carry it (reported as a FAIL)."""
    if not weights or sum(weights) == 0:
        return None if target else [0] * len(weights)
    return split_exact(target, weights)


# ----------------------------------------------------------------------------- as tables

REP_TARGET_COLUMNS = ["rep_id", "region", "quarter", "active_fraction", "sales_target",
                      "active_days", "quarter_days"]


def cube_frame(inputs: PlanInputs) -> pd.DataFrame:
    """tblTargetCube: the region x quarter x product targets in whole yuan."""
    import pandas as pd

    total = int(inputs.settings.annual_target)
    prior = {(c.region, c.quarter, c.product): c.weight for c in inputs.cube_prior} or None
    cells = target_cube(total, [(s.key, s.amount) for s in inputs.regions_split],
                        [(s.key, s.amount) for s in inputs.quarters],
                        [(s.key, s.amount) for s in inputs.products], prior)
    rows = [(r, q, p, t) for (r, q, p), t in cells.items()]
    return pd.DataFrame(rows, columns=["region", "quarter", "product", "target"])


def rep_target_frame(inputs: PlanInputs, cube: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str, int]]]:
    """tblRepTargets, and the region-quarters with a target but nobody to carry it.

    Each region-quarter target is split among the region's quota carriers in proportion to
    ``quota_weight x active_fraction`` (plan-rules section 1), exactly to the yuan."""
    import pandas as pd

    year = inputs.settings.fiscal_year
    rq = cube.groupby(["region", "quarter"], sort=False)["target"].sum()
    by_region: dict[str, list] = {}
    quota_weight: dict[str, Fraction] = {}   # each rep's weight as a Fraction, once
    for rep in inputs.team:
        if rep.carries_quota:
            by_region.setdefault(rep.region, []).append(rep)
            quota_weight[rep.rep_id] = Fraction(rep.quota_weight)
    # ... and made whole numbers over their common denominator (an exact split is the
    # same for weights all scaled alike, and whole weights split fastest)
    den = 1
    for w in quota_weight.values():
        den = den * w.denominator // _gcd(den, w.denominator)
    whole_weight = {k: int(w * den) for k, w in quota_weight.items()}
    rows: list[tuple] = []
    unstaffed: list[tuple[str, str, int]] = []
    for (region, quarter), target in rq.items():
        start, end = quarter_bounds(year, quarter)
        qdays = (end - start).days + 1
        reps = by_region.get(region, [])
        days = [active_days(start, end, r.hire_date, r.end_date) for r in reps]
        # quota_weight x active_fraction = quota_weight x days / qdays; every rep of the
        # region-quarter shares qdays, so the weights are (whole) quota_weight x days.
        weights = [whole_weight[r.rep_id] * d for r, d in zip(reps, days)]
        parts = split_region_quarter(int(target), weights)
        if parts is None:
            unstaffed.append((region, quarter, int(target)))
            parts = [0] * len(reps)
        for rep, d, part in zip(reps, days, parts):
            if d > 0:
                rows.append((rep.rep_id, region, quarter, d / qdays, int(part), d, qdays))
    df = pd.DataFrame(rows, columns=REP_TARGET_COLUMNS)
    order = {q: i for i, q in enumerate(QUARTERS)}
    if not df.empty:
        df = df.sort_values(["rep_id", "quarter"], key=lambda s: s.map(order) if s.name == "quarter" else s,
                            kind="stable").reset_index(drop=True)
    return df, unstaffed


