"""Quarterly bonus per quota-carrying rep (plan-rules §4), the ``tblBonus`` table.

bonus = base bonus + excess bonus (paid from the yearly pool) + new-customer award +
collection award, all in exact integer fen:

* base: mode ``gate`` pays the rep's full ``base_bonus`` when the KPI score is at least
  ``base_gate`` (60.00 passes, 59.99 does not); mode ``linear`` pays
  base x min(score, 100) / 100, rounded half-up to the fen, when the score is at least the
  gate, else 0;
* excess raw: ``excess_rate`` x max(0, sales - sales_target), rounded half-up to the fen;
* pool: ``excess_pool`` for the year, drawn quarter by quarter in order Q1..Q4 over the
  quarters present. When a quarter's raw total exceeds what is left, the paid amounts are
  ``split_exact(left, raw)`` (largest remainder), so they add up to what is left exactly;
  otherwise paid = raw;
* new-customer award: ``new_customer_award`` to each rep whose company-wide competition
  rank (1, 2, 2, 4) by new customers in the quarter is at most ``new_customer_top_n``;
  a rep with 0 new customers never wins;
* collection award: ``collection_award`` when receivables > 0 and
  collections / receivables >= ``collection_threshold`` (compared exactly).

Rows are the rows of the KPI table (reported quota-carrying rep-quarters), in its order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Sequence

import numpy as np
import pandas as pd

from .model import QUARTERS, Actual, Rep, Settings
from .money import div_half_up, frac, round_half_up
from .splits import split_exact

BONUS_COLUMNS = ("rep_id", "region", "quarter", "kpi_score", "base_paid", "excess_raw",
                 "excess_paid", "new_customer_award", "collection_award", "total")
POOL_COLUMNS = ("quarter", "pool_before", "excess_raw_total", "excess_paid_total",
                "pool_after", "scale")
RANK_COLUMNS = ("rep_id", "quarter", "new_customers", "rank", "won")
SCALE_PLACES = 6
_INT64_SAFE = 2**62


@dataclass(frozen=True)
class BonusResult:
    """The bonus table (``tblBonus``), the pool per quarter and the new-customer ranking."""

    table: pd.DataFrame
    pool: pd.DataFrame
    new_customer_rank: pd.DataFrame


# ----------------------------------------------------------------------------- fen helpers

def _fen(amount: Decimal, what: str) -> int:
    """Whole fen of an amount that must already be a whole number of fen."""
    scaled = amount.scaleb(2)
    fen = int(scaled)
    if fen != scaled:
        raise ValueError(f"{what} {amount} is not a whole number of fen")
    return fen


def _fen_array(values: list[Decimal | None], what: str,
               objs: Sequence[Actual]) -> tuple[np.ndarray, np.ndarray]:
    """Amounts as int64 fen (truncated) and a mask of amounts with digits below the fen,
    which the callers recompute exactly."""
    try:
        scaled = [v.scaleb(2) for v in values]
    except AttributeError:
        a = objs[next(i for i, v in enumerate(values) if v is None)]
        raise ValueError(f"{a.rep_id}/{a.quarter}: {what} is blank in a reported quarter") from None
    fen = list(map(int, scaled))
    try:
        arr = np.array(fen, dtype=np.int64)
    except OverflowError:
        raise ValueError(f"{what}: amount too large") from None
    if arr.size and int(np.abs(arr).max()) >= _INT64_SAFE // 1000:
        raise ValueError(f"{what}: amount too large")
    return arr, np.array([f != s for f, s in zip(fen, scaled)], dtype=bool)


def _mul_half_up(fen: np.ndarray, ratio: Fraction) -> np.ndarray:
    """``round_half_up(fen x ratio)`` elementwise for non-negative int64 fen, exactly."""
    p, q = ratio.numerator, ratio.denominator
    if fen.size == 0:
        return fen.copy()
    if int(fen.max()) * p * 2 + q < _INT64_SAFE and q < _INT64_SAFE:
        return (fen * (2 * p) + q) // (2 * q)
    return np.array([div_half_up(v * p, q) for v in fen.tolist()], dtype=np.int64)


def _decimals(fen: np.ndarray) -> list[Decimal]:
    """Yuan with two places from int64 fen (one Decimal per distinct amount)."""
    distinct, where = np.unique(fen, return_inverse=True)
    yuan = np.array([Decimal(v).scaleb(-2) for v in distinct.tolist()], dtype=object)
    return yuan[where.reshape(-1)].tolist()


def _score_cents(scores: pd.Series) -> np.ndarray:
    """KPI scores (Decimal, 2 places) as int64 hundredths."""
    cents = {s: _fen(Decimal(s), "KPI score") for s in set(scores.tolist())}
    return np.array([cents[s] for s in scores.tolist()], dtype=np.int64)


# ----------------------------------------------------------------------------- parts

def base_fen(score_cents: np.ndarray, base: np.ndarray, gate: Decimal, mode: str) -> np.ndarray:
    """Base bonus in fen per row (plan-rules §4, base bonus)."""
    passes = score_cents >= math.ceil(frac(gate) * 100)
    if base.size and int(base.max()) >= _INT64_SAFE // 20_000:
        raise ValueError("base bonus too large")
    if mode == "gate":
        return np.where(passes, base, 0)
    if mode == "linear":
        share = np.minimum(score_cents, 10_000)
        # base x share / 10000, half up: (2 x base x share + 10000) // 20000
        return np.where(passes, (2 * base * share + 10_000) // 20_000, 0)
    raise ValueError(f"unknown base_mode {mode!r}")


def excess_raw_fen(sales: np.ndarray, target_yuan: np.ndarray, rate: Decimal) -> np.ndarray:
    """``rate x max(0, sales - target)`` half-up to the fen; sales in fen, targets in yuan."""
    over = np.maximum(sales - target_yuan * 100, 0)
    return _mul_half_up(over, frac(rate))


def draw_pool(pool_fen: int, quarters: Sequence[str],
              raw_by_quarter: dict[str, list[int]]) -> tuple[dict[str, list[int]], pd.DataFrame]:
    """Pay each quarter's raw excess bonuses from the yearly pool, in order Q1..Q4.

    When a quarter's raw total exceeds what is left, the paid amounts are
    ``split_exact(left, raw)``: proportional to raw and adding up to ``left`` exactly.
    Returns the paid fen per quarter (same order as raw) and the pool table.
    """
    left = pool_fen
    paid_by_quarter: dict[str, list[int]] = {}
    rows = []
    for q in quarters:
        raw = raw_by_quarter[q]
        raw_total = sum(raw)
        if raw_total > left:
            paid = split_exact(left, raw) if left else [0] * len(raw)
            scale = round_half_up(Fraction(left, raw_total), SCALE_PLACES)
        else:
            paid = list(raw)
            scale = Decimal(1).quantize(Decimal(1).scaleb(-SCALE_PLACES))
        paid_total = sum(paid)
        if paid_total != min(raw_total, left):
            raise AssertionError("pool split does not add up")
        rows.append((q, left, raw_total, paid_total, left - paid_total, scale))
        paid_by_quarter[q] = paid
        left -= paid_total
    pool = pd.DataFrame(rows, columns=list(POOL_COLUMNS))
    for c in ("pool_before", "excess_raw_total", "excess_paid_total", "pool_after"):
        pool[c] = _decimals(pool[c].to_numpy(np.int64))
    return paid_by_quarter, pool


def rank_new_customers(rep_id: np.ndarray, quarter: np.ndarray, new_customers: np.ndarray,
                       top_n: int) -> pd.DataFrame:
    """Competition rank (1, 2, 2, 4) by new customers within each quarter, and who wins.

    A rep wins when its rank is at most ``top_n`` and it has more than 0 new customers.
    Rows stay in the order given.
    """
    frame = pd.DataFrame({"rep_id": rep_id, "quarter": quarter, "new_customers": new_customers})
    frame["rank"] = (frame.groupby("quarter")["new_customers"]
                     .rank(method="min", ascending=False).astype(np.int64))
    frame["won"] = (frame["rank"] <= top_n) & (frame["new_customers"] > 0)
    return frame


def collection_met(collections: np.ndarray, receivables: np.ndarray,
                   threshold: Decimal) -> np.ndarray:
    """receivables > 0 and collections >= threshold x receivables, exactly (int64 fen)."""
    t = frac(threshold)
    p, q = t.numerator, t.denominator
    big = max(int(np.abs(collections).max(initial=0)) * q, int(receivables.max(initial=0)) * p)
    if big < _INT64_SAFE:
        return (receivables > 0) & (collections * q >= receivables * p)
    return np.array([r > 0 and c * q >= r * p
                     for c, r in zip(collections.tolist(), receivables.tolist())], dtype=bool)


# ----------------------------------------------------------------------------- table

def _empty_result() -> BonusResult:
    def empty(cols: Sequence[str]) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    return BonusResult(empty(BONUS_COLUMNS), empty(POOL_COLUMNS), empty(RANK_COLUMNS))


def _whole_counts(values: Sequence[Decimal | None], objs: Sequence[Actual]) -> np.ndarray:
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        if v is None or v != int(v):
            a = objs[i]
            raise ValueError(f"{a.rep_id}/{a.quarter}: new_customers must be a whole number")
        out[i] = int(v)
    return out


def _fix_sub_fen(objs: Sequence[Actual], targets: np.ndarray, settings: Settings,
                 excess: np.ndarray, met: np.ndarray, sales_odd: np.ndarray,
                 money_odd: np.ndarray) -> None:
    """Recompute, exactly, the rows whose amounts have digits below the fen."""
    rate, threshold = frac(settings.excess_rate), frac(settings.collection_threshold)
    for i in np.flatnonzero(sales_odd).tolist():
        over = max(Fraction(0), frac(objs[i].sales) - int(targets[i]))
        excess[i] = int(round_half_up(rate * over, 2).scaleb(2))
    for i in np.flatnonzero(money_odd).tolist():
        c, r = frac(objs[i].collections), frac(objs[i].receivables)
        met[i] = r > 0 and c >= threshold * r


def quarterly_bonus(settings: Settings, reps: Sequence[Rep], actuals: Sequence[Actual],
                    rep_targets: pd.DataFrame, kpi: pd.DataFrame) -> BonusResult:
    """The quarterly bonus of every row of ``kpi`` (plan-rules §4).

    ``table`` has the ``tblBonus`` columns, one row per row of ``kpi`` in its order, money as
    ``Decimal`` with 2 places. ``pool`` has one row per quarter present, in order Q1..Q4:
    pool_before, excess_raw_total, excess_paid_total, pool_after (Decimal yuan) and scale =
    paid / raw (Decimal, 6 places; 1 when not scaled). ``new_customer_rank`` has every row's
    rank by new customers within its quarter and whether it won.
    """
    if kpi.empty:
        return _empty_result()
    rep_by_id = {r.rep_id: r for r in reps}
    actual_by_key = {(a.rep_id, a.quarter): a for a in actuals if a.sales is not None}
    rep_ids = kpi["rep_id"].tolist()
    quarters = kpi["quarter"].tolist()
    missing = [r for r in set(rep_ids) if r not in rep_by_id]
    if missing:
        raise ValueError(f"KPI rows for unknown reps: {', '.join(sorted(missing)[:5])}")
    objs = []
    for key in zip(rep_ids, quarters):
        a = actual_by_key.get(key)
        if a is None:
            raise ValueError(f"{key[0]}/{key[1]}: KPI row without reported actuals")
        objs.append(a)
    keys = kpi[["rep_id", "quarter"]].reset_index(drop=True)
    joined = keys.merge(rep_targets[["rep_id", "quarter", "sales_target"]],
                        on=["rep_id", "quarter"], how="left", validate="one_to_one")
    if joined["sales_target"].isna().any():
        r = joined[joined["sales_target"].isna()].iloc[0]
        raise ValueError(f"{r.rep_id}/{r.quarter}: KPI row without a sales target")
    targets = joined["sales_target"].to_numpy(np.int64)

    score_cents = _score_cents(kpi["kpi_score"])
    base_by_rep = {r: _fen(rep_by_id[r].base_bonus, f"base_bonus of {r}") for r in set(rep_ids)}
    base = base_fen(score_cents, np.array([base_by_rep[r] for r in rep_ids], dtype=np.int64),
                    settings.base_gate, settings.base_mode)

    sales, sales_odd = _fen_array([a.sales for a in objs], "sales", objs)
    excess = excess_raw_fen(sales, targets, settings.excess_rate)
    coll, coll_odd = _fen_array([a.collections for a in objs], "collections", objs)
    recv, recv_odd = _fen_array([a.receivables for a in objs], "receivables", objs)
    met = collection_met(coll, recv, settings.collection_threshold)
    _fix_sub_fen(objs, targets, settings, excess, met, sales_odd, coll_odd | recv_odd)

    quarter_arr = np.array(quarters, dtype=object)
    present = [q for q in QUARTERS if (quarter_arr == q).any()]
    if len(present) != len(set(quarters)):
        raise ValueError(f"unknown quarter in the KPI table: {sorted(set(quarters) - set(QUARTERS))}")
    rows_of = {q: np.flatnonzero(quarter_arr == q) for q in present}
    paid_by_q, pool = draw_pool(_fen(settings.excess_pool, "excess_pool"), present,
                                {q: excess[rows_of[q]].tolist() for q in present})
    paid = np.zeros(len(kpi), dtype=np.int64)
    for q in present:
        paid[rows_of[q]] = paid_by_q[q]

    ranking = rank_new_customers(np.array(rep_ids, dtype=object), quarter_arr,
                                 _whole_counts([a.new_customers for a in objs], objs),
                                 settings.new_customer_top_n)
    nc_award = np.where(ranking["won"].to_numpy(), _fen(settings.new_customer_award,
                                                        "new_customer_award"), 0)
    coll_award = np.where(met, _fen(settings.collection_award, "collection_award"), 0)
    total = base + paid + nc_award + coll_award

    table = pd.DataFrame({
        "rep_id": rep_ids,
        "region": [rep_by_id[r].region for r in rep_ids],
        "quarter": quarters,
        "kpi_score": kpi["kpi_score"].tolist(),
        "base_paid": _decimals(base),
        "excess_raw": _decimals(excess),
        "excess_paid": _decimals(paid),
        "new_customer_award": _decimals(nc_award),
        "collection_award": _decimals(coll_award),
        "total": _decimals(total),
    }, columns=list(BONUS_COLUMNS))
    order = {q: i for i, q in enumerate(QUARTERS)}
    ranking = ranking.assign(_q=ranking["quarter"].map(order)).sort_values(
        ["_q", "rank", "rep_id"], kind="stable").drop(columns="_q").reset_index(drop=True)
    return BonusResult(table, pool, ranking[list(RANK_COLUMNS)])
