"""Bonus statements that explain themselves: one rep's KPI and bonus, line by line.

:func:`build_statement` turns the plan inputs and the engine's results into a
:class:`RepStatement`: for each quarter the rep has a target in, every KPI indicator with
its actual, target, achievement, cap, weight and points (or why it is N/A), the gate
decision, the excess bonus with the pool's scaling factor, the new-customer award with the
rep's rank, the collection award and the quarter's total; then the annual awards with the
rep's rank, and the total in figures and in words. It is pure (no files, no printing): the
regional workbook writer (:mod:`xl_addin.reports.regional`) lays it out as a sheet, and
:func:`render_text` gives the text that ``xl-addin explain`` prints.

Every amount comes from the engine's tables (tblKpi, tblBonus, the pool, the new-customer
ranking, tblAwards), so a statement can never disagree with the master workbook. Only the
presentation is computed here:

* **points** per indicator are the KPI score split over the indicators in proportion to
  effective weight x capped achievement, by largest remainder to the hundredth, so the
  points shown add up to the score exactly (plan-rules: parts always add up to the whole);
* **ranks** for the annual awards use the award's own measure (annual sales over the
  reported quarters; the rise of the KPI score from the first to the latest reported
  quarter, for reps with at least two) with competition ranking (1, 2, 2, 4).
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from math import gcd
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ..errors import XlAddinError
from .engine import Results
from .fmt import percent, yuan
from .fmt_words import english_amount, rmb_upper
from .kpi import MAX_SCORE, NA_NO_MENTEES, NA_NO_RECEIVABLES, NA_NO_SALES_TARGET, NA_WEIGHT
from .model import QUARTERS, Actual, PlanInputs, Region, Rep
from .splits import split_exact

__all__ = ["StatementError", "KpiLine", "QuarterStatement", "AwardLine", "RepStatement",
           "build_statement", "build_statements", "StatementIndex", "award_measures",
           "competition_ranks", "quota_reps", "render_text", "t",
           "indicator_label", "na_label", "award_label", "role_label", "quarter_label",
           "watch_label", "display_kind", "QUARTER_WORDS"]

ZERO = Decimal(0)
POINT = Decimal("0.01")


class StatementError(XlAddinError, ValueError):
    """A statement that cannot be built (unknown rep, a rep without a sales quota, an
    unknown quarter); the message says which and why."""


# ----------------------------------------------------------------------------- labels

_TEXT: dict[str, tuple[str, str]] = {
    "statement": ("奖金明细", "Bonus statement"),
    "indicator": ("指标", "Indicator"), "actual": ("实际", "Actual"), "target": ("目标", "Target"),
    "achievement": ("达成率", "Achievement"), "cap": ("封顶", "Cap"), "weight": ("权重", "Weight"),
    "effective_weight": ("折算权重", "Eff. weight"), "points": ("得分", "Points"),
    "note": ("说明", "Note"), "group": ("类别", "Group"),
    "kpi_score": ("KPI得分", "KPI score"), "sales_target": ("销售目标", "Sales target"),
    "active": ("在岗", "active"), "days": ("天", "days"),
    "not_reported": ("尚未报告", "not reported yet"),
    "base": ("基础奖金", "Base bonus"), "excess_raw": ("超额奖金(应发)", "Excess (raw)"),
    "pool_scale": ("奖金池系数", "Pool factor"), "excess_paid": ("超额奖金(实发)", "Excess paid"),
    "new_customer_award": ("新客户奖", "New-customer award"),
    "collection_award": ("回款奖", "Collection award"),
    "quarter_total": ("季度合计", "Quarter total"), "quarter": ("季度", "Quarter"),
    "bonus_section": ("季度奖金", "Quarterly bonus"), "awards_section": ("年度评优", "Annual awards"),
    "award": ("奖项", "Award"), "basis": ("依据", "Measure"), "rank": ("排名", "Rank"),
    "result": ("结果", "Result"), "amount": ("奖金", "Amount"), "non_cash": ("非现金奖励", "Non-cash"),
    "won": ("获奖", "won"), "not_won": ("未获奖", "not won"),
    "provisional": ("暂定：第四季度数据报告后确定", "provisional until Q4 is in"),
    "total": ("合计", "Total"), "in_words": ("大写", "In words"),
    "quarterly_total": ("季度奖金合计", "Quarterly bonuses"),
    "awards_total": ("年度评优奖金", "Annual awards"),
    "grand_total": ("应发奖金合计", "Total bonus"),
    "hire_date": ("入职", "hired"), "end_date": ("离职", "left"),
    "base_bonus": ("季度基础奖金", "base bonus per quarter"),
    "watchlist": ("观察名单", "Watchlist"),
    "no_quarters": ("本年度尚无季度目标。", "No quarterly targets this year."),
    "team_member": ("团队成员", "team member"), "not_member": ("非团队成员", "not a member"),
    "points_rule": ("得分 = 折算权重 × 封顶后达成率；不适用(N/A)指标的权重按比例分给适用指标，各项得分之和即KPI得分。",
                    "Points = effective weight x capped achievement; the weight of an N/A "
                    "indicator is spread over the others in proportion, so the points add up "
                    "to the KPI score."),
}

_INDICATORS = {
    "sales": ("销售额", "Sales"), "collection_rate": ("回款率", "Collection rate"),
    "new_customers": ("新客户开发", "New customers"), "visits": ("有效拜访", "Visits"),
    "reports": ("客户痛点分析", "Pain-point reports"), "training_rate": ("培训参与率", "Training rate"),
    "mentee_conversion": ("带教新人转正率", "Mentee conversion"), "proposals": ("创新提案", "Proposals"),
}
_GROUPS = {"base": ("基础", "base"), "process": ("过程", "process"), "growth": ("成长", "growth")}
_NA = {NA_WEIGHT: ("权重为0，不参与计分", "weight 0: not scored"),
       NA_NO_RECEIVABLES: ("无应收款，不适用", "no receivables: N/A"),
       NA_NO_MENTEES: ("无带教对象，不适用", "no mentees: N/A"),
       NA_NO_SALES_TARGET: ("无销售目标，不适用", "no sales target: N/A")}
_AWARDS = {"sales_champion": ("销售冠军", "Sales champion"),
           "best_growth": ("最佳成长奖", "Best growth"),
           "team_contribution": ("团队贡献奖", "Team contribution")}
_ROLES = {"senior_sales": ("资深销售", "Senior sales"), "sales": ("销售", "Sales"),
          "channel_specialist": ("渠道专员", "Channel specialist"),
          "ka_manager": ("大客户经理", "Key-account manager"),
          "director": ("销售总监", "Director"), "data_analyst": ("数据分析师", "Data analyst")}
QUARTER_WORDS = {"Q1": "第一季度", "Q2": "第二季度", "Q3": "第三季度", "Q4": "第四季度"}
_WATCH = {"warning": ("预警", "warning"), "improvement_period": ("改进期", "improvement period"),
          "reassign_or_exit": ("调岗或协商离职", "reassign or part ways")}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def t(key: str, lang: str) -> str:
    """A fixed statement text in ``lang`` ("zh" or "en")."""
    return _pick(_TEXT[key], lang)


def indicator_label(indicator: str, lang: str) -> str:
    return _pick(_INDICATORS[indicator], lang) if indicator in _INDICATORS else indicator


def na_label(reason: str, lang: str) -> str:
    """Why an indicator is N/A, in words ("" when it applies)."""
    if not reason:
        return ""
    return _pick(_NA[reason], lang) if reason in _NA else reason


def award_label(award: str, lang: str) -> str:
    return _pick(_AWARDS[award], lang) if award in _AWARDS else award


def role_label(role: str, lang: str) -> str:
    return _pick(_ROLES[role], lang) if role in _ROLES else role


def watch_label(status: str, lang: str) -> str:
    return _pick(_WATCH[status], lang) if status in _WATCH else status


def quarter_label(quarter: str, lang: str) -> str:
    """``"Q3"`` -> ``"第三季度（Q3）"`` / ``"Q3"``."""
    if lang == "en" or quarter not in QUARTER_WORDS:
        return quarter
    return f"{QUARTER_WORDS[quarter]}（{quarter}）"


def display_kind(basis: str) -> str:
    """How an indicator's actual and target read: ``money`` (the sales basis),
    ``ratio`` (rates) or ``count``."""
    return {"sales_target": "money", "rate": "ratio"}.get(basis, "count")


# ----------------------------------------------------------------------------- data

@dataclass(frozen=True)
class KpiLine:
    """One indicator of one rep-quarter. ``points`` add up to the quarter's KPI score
    (largest remainder); ``kind`` is ``money``, ``ratio`` or ``count``."""

    indicator: str
    group: str
    kind: str
    actual: Decimal | None
    target: Decimal | None
    achievement: Decimal | None
    capped: Decimal | None
    cap: Decimal
    weight: Decimal
    effective_weight: Decimal
    points: Decimal
    na_reason: str


@dataclass(frozen=True)
class QuarterStatement:
    """One quarter of a rep: the target, and once reported the KPI and the bonus."""

    quarter: str
    sales_target: int
    active_days: int
    quarter_days: int
    reported: bool
    lines: tuple[KpiLine, ...] = ()
    kpi_score: Decimal | None = None
    gate: Decimal = ZERO
    base_mode: str = "gate"
    base_bonus: Decimal = ZERO
    gate_passed: bool = False
    base_paid: Decimal = ZERO
    sales: Decimal | None = None
    excess_rate: Decimal = ZERO
    over_target: Decimal = ZERO
    excess_raw: Decimal = ZERO
    pool_before: Decimal = ZERO
    pool_raw_total: Decimal = ZERO
    pool_scale: Decimal = Decimal(1)
    pool_scaled: bool = False
    excess_paid: Decimal = ZERO
    new_customers: int | None = None
    nc_rank: int | None = None
    nc_field: int = 0
    nc_top_n: int = 0
    new_customer_award: Decimal = ZERO
    collections: Decimal | None = None
    receivables: Decimal | None = None
    collection_ratio: Decimal | None = None
    collection_threshold: Decimal = ZERO
    collection_award: Decimal = ZERO
    total: Decimal = ZERO


@dataclass(frozen=True)
class AwardLine:
    """One annual award seen from one rep: the rep's rank on the award's measure (None
    when the rep is not ranked, e.g. best growth with one reported quarter), how many reps
    were ranked, whether the rep won and what."""

    award: str
    measure: Decimal | None
    rank: int | None
    field: int
    won: bool
    amount: Decimal
    non_cash: str
    provisional: bool


@dataclass(frozen=True)
class WatchLine:
    status: str
    since_quarter: str
    period_start: dt.date | None
    period_end: dt.date | None
    owner: str


@dataclass(frozen=True)
class RepStatement:
    """Everything a rep's bonus statement shows."""

    fiscal_year: int
    rep_id: str
    name: str
    region: str
    region_name: str
    role: str
    hire_date: dt.date | None
    end_date: dt.date | None
    base_bonus: Decimal
    quarters: tuple[QuarterStatement, ...]
    awards: tuple[AwardLine, ...]
    quarters_in: tuple[str, ...]
    watch: WatchLine | None = None
    only_quarter: str | None = None

    @property
    def quarterly_total(self) -> Decimal:
        return sum((q.total for q in self.quarters), ZERO)

    @property
    def awards_total(self) -> Decimal:
        return sum((a.amount for a in self.awards if a.won), ZERO)

    @property
    def total(self) -> Decimal:
        return self.quarterly_total + self.awards_total

    @property
    def provisional(self) -> bool:
        return any(a.provisional for a in self.awards if a.won)

    def words(self, lang: str = "zh") -> str:
        """The total in words: 人民币 + the capital amount (zh), English words (en)."""
        return english_amount(self.total) if lang == "en" else "人民币" + rmb_upper(self.total)


# ----------------------------------------------------------------------------- building

def quota_reps(inputs: PlanInputs, region: str | None = None) -> list[Rep]:
    """Quota-carrying reps (of ``region`` if given) in tblTeam order."""
    return [r for r in inputs.team if r.carries_quota and (region is None or r.region == region)]


def _grouped(df: pd.DataFrame, *keys: str) -> dict[Any, list[dict[str, Any]]]:
    """The rows of ``df`` as dicts, grouped by the value of ``keys`` (a tuple for several),
    in frame order. Values are plain Python values (``tolist``)."""
    columns = list(df.columns)
    rows = [dict(zip(columns, values)) for values in zip(*(df[c].tolist() for c in columns))]
    out: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        key = row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)
        out.setdefault(key, []).append(row)
    return out


def _one(groups: dict[Any, list[dict[str, Any]]], what: str,
         **match: str) -> dict[str, Any] | None:
    """The single row of ``groups`` (from :func:`_grouped`) matching ``match``, given in
    the order of the grouping keys; None when there is none, more than one is an error in
    the engine's tables."""
    key = next(iter(match.values())) if len(match) == 1 else tuple(match.values())
    rows = groups.get(key, ())
    if len(rows) > 1:
        raise StatementError(f"{what}: {len(rows)} rows for {match}")
    return rows[0] if rows else None


class StatementIndex:
    """The engine's tables looked up by rep and quarter, and the annual awards ranked,
    once per run.

    A statement needs a few rows of each table; filtering the whole frames for every rep
    and quarter made a run over all reps quadratic, and ranking every award again for each
    rep cubic. Build one index with ``StatementIndex(inputs, results)`` and pass it to
    every :func:`build_statement` of the same inputs and results."""

    def __init__(self, inputs: PlanInputs, results: Results) -> None:
        self.reps: dict[str, Rep] = {}
        for rep in inputs.team:
            self.reps.setdefault(rep.rep_id, rep)            # the first row of an ID
        self.regions: dict[str, Region] = {}
        for region in inputs.regions:
            self.regions.setdefault(region.region, region)
        #: reported actuals by (rep_id, quarter); of two rows the later one counts
        self.actuals: dict[tuple[str, str], Actual] = {
            (a.rep_id, a.quarter): a for a in inputs.actuals if a.sales is not None}
        self.targets = _grouped(results.rep_targets, "rep_id")
        self.kpi = _grouped(results.kpi, "rep_id", "quarter")
        self.bonus = _grouped(results.bonus, "rep_id", "quarter")
        self.pool = _grouped(results.pool, "quarter")
        self.new_customer_rank = _grouped(results.new_customer_rank, "rep_id", "quarter")
        #: how many rep-quarters the new-customer ranking of each quarter has
        self.new_customer_field = Counter(results.new_customer_rank["quarter"].tolist())
        self.awards = _grouped(results.awards, "award", "rep_id")
        self.watchlist = _grouped(results.watchlist, "rep_id")
        self.measures = award_measures(inputs, results)
        self.ranks = {award: competition_ranks(values) for award, values in self.measures.items()}
        #: the KPI scheme as integers, for the KPI lines
        self.facts = _scheme_facts(inputs.kpi_scheme)


# The KPI lines are laid out from the engine's score and the rep's figures with whole
# numbers: every figure is a decimal, so each ratio is a pair of integers, and rounding
# half-up to 4 or 2 places is one integer division. This is what explain_kpi computes with
# Fractions (tests/test_statement.py compares the two on every rep-quarter of a plan); the
# score itself is the engine's (tblKpi), checked against the lines' exact score.

def _ratio(x: Decimal | int | float) -> tuple[int, int]:
    """A figure as (numerator, denominator > 0); a float exactly as its shortest repr
    reads, as :func:`~xl_addin.core.money.frac` takes it."""
    t = type(x)
    if t is int:
        return x, 1
    if t is float:
        x = Decimal(repr(x))
    return Decimal(x).as_integer_ratio() if t is not Decimal else x.as_integer_ratio()


def _round(num: int, den: int, places: int) -> Decimal:
    """num/den (den > 0) rounded half away from zero, as ``round_half_up``."""
    scale = 10 ** places
    units = (abs(num) * scale * 2 + den) // (2 * den)
    return Decimal(-units if num < 0 else units).scaleb(-places)


@dataclass(frozen=True)
class _SchemeFacts:
    """What the KPI lines need of one scheme indicator, as integers, once per run."""

    indicator: str
    group: str
    kind: str
    basis: str
    weight: Decimal
    cap: Decimal
    w: tuple[int, int]
    c: tuple[int, int]
    t: tuple[int, int] | None


def _scheme_facts(scheme: Sequence[Any]) -> tuple[_SchemeFacts, ...]:
    return tuple(_SchemeFacts(ind.indicator, ind.group, display_kind(ind.basis), ind.basis,
                              ind.weight, ind.cap, _ratio(ind.weight), _ratio(ind.cap),
                              _ratio(ind.target) if ind.target is not None else None)
                 for ind in scheme)


_DIRECT_FIGURE = {"sales": "sales", "new_customers": "new_customers", "visits": "visits",
                  "reports": "reports", "training_rate": "training_rate",
                  "mentee_conversion": "mentee_conversion", "proposals": "proposals"}
_BLANK_NA = {"mentee_conversion": NA_NO_MENTEES}


def _figure(actual: Actual, name: str) -> tuple[int, int] | None:
    value = getattr(actual, name)
    if value is None:
        if name in _BLANK_NA:
            return None
        raise StatementError(f"{actual.rep_id}/{actual.quarter}: {name} is blank in a reported quarter")
    return _ratio(value)


def _kpi_lines(facts: Sequence[_SchemeFacts], actual: Actual, target_row: Mapping[str, Any],
               score: Decimal) -> tuple[KpiLine, ...]:
    sales_target = int(target_row["sales_target"])
    active, qdays = int(target_row["active_days"]), int(target_row["quarter_days"])
    if not 0 < active <= qdays:
        raise StatementError(f"{actual.rep_id}/{actual.quarter}: active_days {active} must be "
                             f"within 1..quarter_days {qdays}")
    rows = []       # (facts, shown actual, actual pair, target pair, capped pair, na)
    for f in facts:
        if f.weight == 0:
            shown = getattr(actual, _DIRECT_FIGURE[f.indicator]) if f.indicator in _DIRECT_FIGURE else None
            rows.append((f, shown, None, None, None, NA_WEIGHT))
            continue
        if f.indicator == "collection_rate":
            rn, rd = _figure(actual, "receivables")
            if rn == 0:
                rows.append((f, None, None, None, None, NA_NO_RECEIVABLES))
                continue
            cn, cd = _figure(actual, "collections")
            a = (cn * rd, cd * rn) if rn > 0 else (-cn * rd, -cd * rn)
            shown = _round(a[0], a[1], 4)
        else:
            name = _DIRECT_FIGURE[f.indicator]
            a = _figure(actual, name)
            shown = getattr(actual, name)
            if a is None:
                rows.append((f, shown, None, None, None, _BLANK_NA[name]))
                continue
        if f.basis == "sales_target":
            if sales_target == 0:
                rows.append((f, shown, a, None, None, NA_NO_SALES_TARGET))
                continue
            t = (sales_target, 1)
        elif f.basis == "count":
            t = (f.t[0] * active, f.t[1] * qdays)
        else:
            t = f.t
        # achievement a / t (t > 0), at least 0; capped at the cap
        an, ad = a[0] * t[1], a[1] * t[0]
        if an < 0:
            an = 0
        if an * f.c[1] > f.c[0] * ad:
            cap = f.c
        else:
            cap = (an, ad)
        rows.append((f, shown, a, t, (an, ad, cap), ""))
    applicable = [(f.w, r[4][2]) for r in rows for f in (r[0],) if not r[5]]
    # applicable weights sum = AN/AD
    an_, ad_ = 0, 1
    for (wn, wd), _ in applicable:
        an_, ad_ = an_ * wd + wn * ad_, ad_ * wd
    # exact score = sum(w x capped) / sum(w) x 100: the engine's, rounded
    sn, sd = 0, 1
    for (wn, wd), (cn, cd) in applicable:
        sn, sd = sn * wd * cd + wn * cn * sd, sd * wd * cd
    exact = _round(sn * 100 * ad_, sd * an_, 2) if an_ else Decimal("0.00")
    exact = min(exact, Decimal(MAX_SCORE))    # a cap above 1 cannot lift a score past 100 (kpi)
    if exact != score:
        raise StatementError(f"{actual.rep_id}/{actual.quarter}: the explained KPI score "
                             f"{exact} differs from tblKpi's {score}")
    weights = []
    for f, _, _, _, cap3, na in rows:
        if na:
            weights.append((0, 1))
        else:
            cn, cd = cap3[2]
            weights.append((f.w[0] * cn, f.w[1] * cd))
    points = _points([w for w, _ in weights], [d for _, d in weights], score)
    lines = []
    for (f, shown, a, t, cap3, na), p in zip(rows, points):
        if na:
            target = _round(t[0], t[1], 4) if t is not None else None
            lines.append(KpiLine(f.indicator, f.group, f.kind, shown, target, None, None,
                                 f.cap, f.weight, _ZERO4, p, na))
            continue
        an, ad, (cn, cd) = cap3
        # effective weight = w / applicable x 100; points' exact value = eff x capped
        en, ed = f.w[0] * ad_ * 100, f.w[1] * an_
        lines.append(KpiLine(f.indicator, f.group, f.kind, shown, _round(t[0], t[1], 4),
                             _round(an, ad, 4), _round(cn, cd, 4), f.cap, f.weight,
                             _round(en, ed, 4), p, na))
    return tuple(lines)


_ZERO4 = Decimal("0.0000")


def _points(nums: Sequence[int], dens: Sequence[int], score: Decimal) -> list[Decimal]:
    """The score split over the lines in proportion to weight x capped achievement
    (``nums[i] / dens[i]``), by largest remainder to the hundredth."""
    if score == 0 or not any(nums):
        return [ZERO.quantize(POINT) for _ in nums]
    common = 1
    for d in dens:
        common = common * d // gcd(common, d)
    whole = [n * (common // d) for n, d in zip(nums, dens)]
    return [p.quantize(POINT) for p in split_exact(score, whole, POINT)]


def _reported_quarter(inputs: PlanInputs, index: StatementIndex, actual: Actual,
                      target_row: Mapping[str, Any]) -> QuarterStatement:
    s = inputs.settings
    rep_id, q = actual.rep_id, actual.quarter
    kpi_row = _one(index.kpi, "tblKpi", rep_id=rep_id, quarter=q)
    bonus_row = _one(index.bonus, "tblBonus", rep_id=rep_id, quarter=q)
    pool_row = _one(index.pool, "pool", quarter=q)
    if kpi_row is None or bonus_row is None or pool_row is None:
        raise StatementError(f"{rep_id}/{q}: reported, but the engine has no KPI or bonus row")
    score = Decimal(kpi_row["kpi_score"])
    rank_row = _one(index.new_customer_rank, "new-customer ranking", rep_id=rep_id, quarter=q)
    target = int(target_row["sales_target"])
    ratio = (actual.collections / actual.receivables
             if actual.receivables and actual.collections is not None else None)
    statement = QuarterStatement(
        quarter=q, sales_target=target, active_days=int(target_row["active_days"]),
        quarter_days=int(target_row["quarter_days"]), reported=True,
        lines=_kpi_lines(index.facts, actual, target_row, score), kpi_score=score,
        gate=s.base_gate, base_mode=s.base_mode,
        base_bonus=index.reps[rep_id].base_bonus,
        gate_passed=score >= s.base_gate, base_paid=bonus_row["base_paid"],
        sales=actual.sales, excess_rate=s.excess_rate,
        over_target=max(ZERO, actual.sales - target), excess_raw=bonus_row["excess_raw"],
        pool_before=pool_row["pool_before"], pool_raw_total=pool_row["excess_raw_total"],
        pool_scale=pool_row["scale"],
        pool_scaled=pool_row["excess_raw_total"] > pool_row["pool_before"],
        excess_paid=bonus_row["excess_paid"],
        new_customers=int(rank_row["new_customers"]) if rank_row is not None else None,
        nc_rank=int(rank_row["rank"]) if rank_row is not None else None,
        nc_field=index.new_customer_field[q], nc_top_n=s.new_customer_top_n,
        new_customer_award=bonus_row["new_customer_award"],
        collections=actual.collections, receivables=actual.receivables,
        collection_ratio=ratio, collection_threshold=s.collection_threshold,
        collection_award=bonus_row["collection_award"], total=bonus_row["total"])
    parts = (statement.base_paid + statement.excess_paid + statement.new_customer_award
             + statement.collection_award)
    if parts != statement.total:
        raise StatementError(f"{rep_id}/{q}: bonus parts {parts} do not add up to {statement.total}")
    return statement


def competition_ranks(values: Mapping[str, Decimal]) -> dict[str, int]:
    """Competition ranking ("1, 2, 2, 4"), largest value first: equal values share the
    rank of the first of them, and the next value's rank counts every rep before it."""
    first: dict[Decimal, int] = {}
    for position, value in enumerate(sorted(values.values(), reverse=True), 1):
        first.setdefault(value, position)
    return {rep: first[value] for rep, value in values.items()}


def award_measures(inputs: PlanInputs, results: Results) -> dict[str, dict[str, Decimal]]:
    """Each annual award's measure per ranked rep: annual sales over the reported
    rep-quarters of quota carriers; KPI rise from the first to the latest reported quarter
    for reps with at least two."""
    scored = set(zip(results.kpi["rep_id"], results.kpi["quarter"]))
    quota = {r.rep_id for r in inputs.team if r.carries_quota}
    sales: dict[str, Decimal] = {}
    for a in inputs.actuals:
        if a.sales is not None and a.rep_id in quota and (a.rep_id, a.quarter) in scored:
            sales[a.rep_id] = sales.get(a.rep_id, ZERO) + a.sales
    scores: dict[str, list[tuple[int, Decimal]]] = {}
    for rep_id, q, score in zip(results.kpi["rep_id"], results.kpi["quarter"],
                                results.kpi["kpi_score"]):
        scores.setdefault(rep_id, []).append((QUARTERS.index(q), Decimal(score)))
    rise: dict[str, Decimal] = {}
    for rep_id, by_quarter in scores.items():
        if len(by_quarter) >= 2:
            by_quarter.sort()
            rise[rep_id] = by_quarter[-1][1] - by_quarter[0][1]
    return {"sales_champion": sales, "best_growth": rise}


def _awards(inputs: PlanInputs, results: Results, index: StatementIndex,
            rep_id: str) -> tuple[AwardLine, ...]:
    s = inputs.settings
    provisional = "Q4" not in results.quarters_in
    lines = []
    non_cash = {"sales_champion": s.champion_non_cash, "best_growth": s.growth_non_cash,
                "team_contribution": ""}
    for award in ("sales_champion", "best_growth", "team_contribution"):
        mine = index.awards.get((award, rep_id), [])
        won = bool(mine)
        amount = sum((row["amount"] for row in mine), ZERO) if won else ZERO
        prov = bool(mine[0]["provisional"]) if won else provisional
        if award == "team_contribution":
            if not s.team_award_members:
                continue
            member = rep_id in s.team_award_members
            lines.append(AwardLine(award, None, 1 if member else None,
                                   len(s.team_award_members), won, amount, "", prov))
            continue
        values = index.measures[award]
        lines.append(AwardLine(award, values.get(rep_id), index.ranks[award].get(rep_id),
                               len(values), won, amount,
                               mine[0]["non_cash"] if won else non_cash[award], prov))
    return tuple(lines)


def _watch(index: StatementIndex, rep_id: str) -> WatchLine | None:
    row = _one(index.watchlist, "tblWatchlist", rep_id=rep_id)
    if row is None:
        return None
    return WatchLine(row["status"], row["since_quarter"], row["period_start"],
                     row["period_end"], row["owner"])


def build_statement(inputs: PlanInputs, results: Results, rep_id: str,
                    quarter: str | None = None, *,
                    index: StatementIndex | None = None) -> RepStatement:
    """The statement of ``rep_id`` for the whole year, or for ``quarter`` only (then
    without the annual awards). ``index`` is the :class:`StatementIndex` of the same
    inputs and results, built here when not given (give it when building many).

    Raises :class:`StatementError` for an unknown rep, a rep without a sales quota or a
    quarter code other than Q1..Q4."""
    if index is None:
        index = StatementIndex(inputs, results)
    rep = index.reps.get(rep_id)
    if rep is None:
        known = ", ".join(r.rep_id for r in quota_reps(inputs)[:8])
        raise StatementError(f"no rep {rep_id!r} in tblTeam (reps with a quota: {known}, ...)")
    if not rep.carries_quota:
        raise StatementError(f"{rep_id} ({rep.name}) is a {rep.role} without a sales quota, "
                             "so there is no KPI or bonus to explain")
    if quarter is not None and quarter not in QUARTERS:
        raise StatementError(f"unknown quarter {quarter!r} (use Q1, Q2, Q3 or Q4)")
    quarters = []
    for row in sorted(index.targets.get(rep_id, []), key=lambda r: r["quarter"]):
        q = row["quarter"]
        if quarter is not None and q != quarter:
            continue
        actual = index.actuals.get((rep_id, q))
        if actual is not None:
            quarters.append(_reported_quarter(inputs, index, actual, row))
        else:
            quarters.append(QuarterStatement(q, int(row["sales_target"]), int(row["active_days"]),
                                             int(row["quarter_days"]), False))
    awards: tuple[AwardLine, ...] = ()
    if quarter is None:
        awards = _awards(inputs, results, index, rep_id)
    region = index.regions.get(rep.region)
    return RepStatement(
        fiscal_year=inputs.settings.fiscal_year, rep_id=rep.rep_id, name=rep.name,
        region=rep.region, region_name=region.name if region else rep.region, role=rep.role,
        hire_date=rep.hire_date, end_date=rep.end_date, base_bonus=rep.base_bonus,
        quarters=tuple(quarters), awards=awards, quarters_in=results.quarters_in,
        watch=_watch(index, rep_id), only_quarter=quarter)


def build_statements(inputs: PlanInputs, results: Results,
                     region: str | None = None) -> list[RepStatement]:
    """The statement of every quota-carrying rep (of ``region``), in tblTeam order."""
    index = StatementIndex(inputs, results)
    return [build_statement(inputs, results, r.rep_id, index=index)
            for r in quota_reps(inputs, region)]


# ----------------------------------------------------------------------------- text

def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _table(rows: Iterable[Sequence[str]], right: Sequence[bool]) -> list[str]:
    rows = [list(r) for r in rows]
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]

    def cell(v: str, w: int, r: bool) -> str:
        pad = " " * (w - _width(v))
        return pad + v if r else v + pad

    return ["  ".join(cell(v, w, r) for v, w, r in zip(row, widths, right)).rstrip()
            for row in rows]


def number_text(value: Decimal | None, kind: str) -> str:
    """An actual or target as text: money with two decimals (targets whole), ratios as
    percent, counts without trailing zeros."""
    if value is None:
        return "—"
    if kind == "money":
        places = 0 if value == value.to_integral_value() else 2
        return f"{value:,.{places}f}"
    if kind == "ratio":
        return percent(value, 1)
    text = f"{value.quantize(POINT):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else percent(value, 1)


def _num(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def gate_text(q: QuarterStatement, lang: str) -> str:
    """Why the base bonus was (not) paid."""
    score, gate = f"{q.kpi_score:.2f}", _num(q.gate)
    if lang == "en":
        if not q.gate_passed:
            return f"KPI {score} < gate {gate}: no base bonus"
        if q.base_mode == "linear":
            return f"KPI {score} >= gate {gate}: {yuan(q.base_bonus)} x {score}% = {yuan(q.base_paid)}"
        return f"KPI {score} >= gate {gate}: paid in full, {yuan(q.base_paid)}"
    if not q.gate_passed:
        return f"得分 {score} < 门槛 {gate}，不发基础奖金"
    if q.base_mode == "linear":
        return f"得分 {score} ≥ 门槛 {gate}，按得分比例发放 {yuan(q.base_bonus)} × {score}% = {yuan(q.base_paid)}"
    return f"得分 {score} ≥ 门槛 {gate}，全额发放 {yuan(q.base_paid)}"


def excess_text(q: QuarterStatement, lang: str) -> str:
    """How the excess bonus was reached, with the pool's scaling factor."""
    rate = percent(q.excess_rate, 1).replace(".0%", "%")
    if lang == "en":
        head = (f"({yuan(q.sales)} - target {yuan(q.sales_target, 0)}) x {rate} = {yuan(q.excess_raw)}"
                if q.over_target > 0 else f"sales {yuan(q.sales)} not above target: 0")
        if q.excess_raw == 0:
            return head
        if q.pool_scaled:
            return (f"{head}; pool short (left {yuan(q.pool_before)} for "
                    f"{yuan(q.pool_raw_total)} claimed), factor {q.pool_scale}: paid {yuan(q.excess_paid)}")
        return f"{head}; pool factor {q.pool_scale}: paid {yuan(q.excess_paid)}"
    head = (f"（销售额 {yuan(q.sales)} − 目标 {yuan(q.sales_target, 0)}）× {rate} = {yuan(q.excess_raw)}"
            if q.over_target > 0 else f"销售额 {yuan(q.sales)} 未超过目标，超额奖金为0")
    if q.excess_raw == 0:
        return head
    if q.pool_scaled:
        return (f"{head}；奖金池余额 {yuan(q.pool_before)} 不足全公司应发 {yuan(q.pool_raw_total)}，"
                f"按系数 {q.pool_scale} 缩减，实发 {yuan(q.excess_paid)}")
    return f"{head}；奖金池系数 {q.pool_scale}，实发 {yuan(q.excess_paid)}"


def new_customer_text(q: QuarterStatement, lang: str) -> str:
    """The new-customer award with the rep's company-wide rank."""
    won = q.new_customer_award > 0
    if lang == "en":
        rank = f"rank {q.nc_rank} of {q.nc_field}" if q.nc_rank else "not ranked"
        rule = f"top {q.nc_top_n} win, 0 never wins"
        return f"{q.new_customers} new customers, {rank} ({rule}): {yuan(q.new_customer_award) if won else 'no award'}"
    rank = f"全公司排名 {q.nc_rank}/{q.nc_field}" if q.nc_rank else "未参与排名"
    return (f"新客户 {q.new_customers} 家，{rank}（前 {q.nc_top_n} 名获奖，0 家不获奖）："
            f"{yuan(q.new_customer_award) if won else '未获奖'}")


def collection_text(q: QuarterStatement, lang: str) -> str:
    """The collection award: collections / receivables against the threshold."""
    threshold = percent(q.collection_threshold, 0)
    won = q.collection_award > 0
    if q.collection_ratio is None:
        return "no receivables: no award" if lang == "en" else "无应收款，不适用"
    ratio = percent(q.collection_ratio, 1)
    detail = f"{yuan(q.collections)} / {yuan(q.receivables)}"
    if lang == "en":
        verdict = f">= {threshold}: {yuan(q.collection_award)}" if won else f"< {threshold}: no award"
        return f"collection rate {ratio} ({detail}) {verdict}"
    verdict = f"≥ {threshold}：{yuan(q.collection_award)}" if won else f"< {threshold}：未获奖"
    return f"回款率 {ratio}（{detail}）{verdict}"


def award_text(a: AwardLine, lang: str) -> str:
    """One annual award seen from the rep: measure, rank, result."""
    if a.award == "team_contribution":
        member = t("team_member" if a.rank else "not_member", lang)
        return f"{member}: {yuan(a.amount) if a.won else t('not_won', lang)}"
    if a.award == "sales_champion":
        measure = (f"annual sales {yuan(a.measure)}" if lang == "en"
                   else f"年度销售额 {yuan(a.measure)}") if a.measure is not None else ""
    else:
        measure = ((f"KPI rise {a.measure:+.2f}" if lang == "en" else f"KPI提升 {a.measure:+.2f}")
                   if a.measure is not None else
                   ("fewer than two reported quarters" if lang == "en" else "报告季度不足两个"))
    rank = (f"rank {a.rank} of {a.field}" if lang == "en" else f"排名 {a.rank}/{a.field}") \
        if a.rank else ""
    result = t("won", lang) + f" {yuan(a.amount)}" + (f" + {a.non_cash}" if a.non_cash else "") \
        if a.won else t("not_won", lang)
    sep = ", " if lang == "en" else "，"
    return sep.join(x for x in (measure, rank, result) if x)


def header_lines(st: RepStatement, lang: str) -> list[str]:
    """Title and who-is-who lines of a statement."""
    sep = " · "
    if lang == "en":
        title = f"{t('statement', lang)} {st.fiscal_year} - {st.name} ({st.rep_id})"
        region = f"{st.region_name} ({st.region})"
    else:
        title = f"{st.fiscal_year}年{t('statement', lang)} · {st.name}（{st.rep_id}）"
        region = f"{st.region_name}（{st.region}）"
    info = [region, role_label(st.role, lang)]
    if st.hire_date:
        info.append(f"{t('hire_date', lang)} {st.hire_date.isoformat()}")
    if st.end_date:
        info.append(f"{t('end_date', lang)} {st.end_date.isoformat()}")
    info.append(f"{t('base_bonus', lang)} {yuan(st.base_bonus)}")
    return [title, sep.join(info)]


def quarter_heading(q: QuarterStatement, lang: str) -> str:
    """``第一季度（Q1） · 销售目标 ¥2,972,114 · 在岗 90/90 天``."""
    parts = [quarter_label(q.quarter, lang),
             f"{t('sales_target', lang)} {yuan(q.sales_target, 0)}",
             f"{t('active', lang)} {q.active_days}/{q.quarter_days} {t('days', lang)}"]
    if q.reported:
        parts.append(f"{t('kpi_score', lang)} {q.kpi_score:.2f}")
    else:
        parts.append(t("not_reported", lang))
    return " · ".join(parts)


def kpi_row(line: KpiLine, lang: str) -> list[str]:
    """One indicator as text cells: indicator, actual, target, achievement, cap, weight,
    effective weight, points, note."""
    return [indicator_label(line.indicator, lang), number_text(line.actual, line.kind),
            number_text(line.target, line.kind), _pct(line.achievement), _pct(line.cap),
            _num(line.weight), "—" if line.na_reason else f"{line.effective_weight:.2f}",
            "—" if line.na_reason else f"{line.points:.2f}", na_label(line.na_reason, lang)]


KPI_HEADER_KEYS = ("indicator", "actual", "target", "achievement", "cap", "weight",
                   "effective_weight", "points", "note")


def render_text(st: RepStatement, lang: str = "zh") -> str:
    """The statement as readable text (what ``xl-addin explain`` prints)."""
    colon = ": " if lang == "en" else "："
    out = header_lines(st, lang)
    if st.watch is not None:
        w = st.watch
        period = f" {w.period_start} – {w.period_end}" if w.period_start else ""
        since = f" ({w.since_quarter})" if lang == "en" else f"（{w.since_quarter}）"
        out.append(f"{t('watchlist', lang)}{colon}{watch_label(w.status, lang)}{since}{period}")
    if not st.quarters:
        out += ["", t("no_quarters", lang)]
    for q in st.quarters:
        out += ["", quarter_heading(q, lang)]
        if not q.reported:
            continue
        rows = [[t(k, lang) for k in KPI_HEADER_KEYS]] + [kpi_row(x, lang) for x in q.lines]
        rows.append([t("kpi_score", lang), "", "", "", "", "", "", f"{q.kpi_score:.2f}", ""])
        out += ["  " + line for line in _table(rows, [False] + [True] * 7 + [False])]
        out += [f"  {t('base', lang)}{colon}{gate_text(q, lang)}",
                f"  {t('excess_paid', lang)}{colon}{excess_text(q, lang)}",
                f"  {t('new_customer_award', lang)}{colon}{new_customer_text(q, lang)}",
                f"  {t('collection_award', lang)}{colon}{collection_text(q, lang)}",
                f"  {t('quarter_total', lang)}{colon}{yuan(q.total)}"]
    if st.awards:
        head = t("awards_section", lang)
        if st.provisional or any(a.provisional for a in st.awards):
            head += f" ({t('provisional', lang)})" if lang == "en" else f"（{t('provisional', lang)}）"
        out += ["", head]
        out += [f"  {award_label(a.award, lang)}{colon}{award_text(a, lang)}" for a in st.awards]
    scope = "" if st.only_quarter is None else (
        f" ({st.only_quarter})" if lang == "en" else f"（{st.only_quarter}）")
    out += ["", f"{t('quarterly_total', lang)}{scope}{colon}{yuan(st.quarterly_total)}"]
    if st.only_quarter is None:
        out.append(f"{t('awards_total', lang)}{colon}{yuan(st.awards_total)}")
    out.append(f"{t('grand_total', lang)}{scope}{colon}{yuan(st.total)}")
    out.append(f"{t('in_words', lang)}{colon}{st.words(lang)}")
    if lang == "en":
        out.append(f"大写：人民币{rmb_upper(st.total)}")
    out += ["", t("points_rule", lang)]
    return "\n".join(out) + "\n"
