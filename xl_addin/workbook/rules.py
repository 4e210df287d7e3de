"""What the values of the master workbook mean: one table of rules, next to the contract.

:mod:`.schema` says which columns a table has and how a cell is parsed (a number, a date,
a code); this module says which parsed values make sense. Every rule is a row of
:data:`RULES`: where it applies (a table column, or a key of ``tblPlan``), the unit, the
allowed range, and whether a percentage typed as a whole number (``3`` for 3%) is a likely
slip to name in the message. ``docs/workbook.md`` shows the same table for people
(:func:`markdown_table` renders it; a test keeps the two equal).

Rules that relate rows to each other (an id that must exist, in the quarter where it is
used) are in :mod:`xl_addin.core.validate`, which every front end runs.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Rule", "RULES", "MAX_TEXT", "MAX_AMOUNT", "check_value", "rules_for_table",
           "rules_for_setting", "markdown_table"]

MAX_TEXT = 32767
"""Excel's limit on the characters of one cell."""
MAX_AMOUNT = Decimal("9999999999999.99")
"""The largest amount of money with 15 significant digits (Excel keeps 15) at fen precision."""
MAX_COUNT = 1_000_000
"""No count in a sales plan (visits, reports, people) comes near this."""

# units: how a rule reads and which checks it implies
MONEY, SHARE, SCORE, WEIGHT, NUMBER, COUNT, MONTHS, YEAR, DATE, TEXT = (
    "money", "share", "score", "weight", "number", "count", "months", "year", "date", "text")

UNIT_TEXT = {
    MONEY: ("金额（元，最多两位小数）", "amount of money (yuan, at most 2 decimals)"),
    SHARE: ("比例，写成小数（0.43 = 43%）", "fraction (0.43 = 43%)"),
    SCORE: ("得分 0..100", "score 0..100"),
    WEIGHT: ("权重", "weight"),
    NUMBER: ("数值", "number"),
    COUNT: ("整数", "whole number"),
    MONTHS: ("月数（整数）", "months (whole number)"),
    YEAR: ("年份", "year"),
    DATE: ("日期", "date"),
    TEXT: ("文本", "text"),
}


@dataclass(frozen=True)
class Rule:
    """The meaning of one column (``table``/``column``) or one plan setting
    (``table`` tblPlan, ``column`` the setting's key).

    ``low``/``high`` bound the value (None: no bound; for dates, years relative to the
    plan's fiscal year); ``percent_slip`` says that a value above ``high`` but at most 100
    times it is most likely a percentage typed as a whole number. ``when`` restricts the
    rule to rows whose other column holds a value (``("basis", "rate")``)."""

    table: str
    column: str
    unit: str
    low: Decimal | int | None = None
    high: Decimal | int | None = None
    percent_slip: bool = False
    when: tuple[str, str] | None = None
    zh: str = ""
    en: str = ""


D = Decimal
_M = dict(unit=MONEY, low=D(0), high=MAX_AMOUNT)
_S = dict(unit=SHARE, low=D(0), high=D(1), percent_slip=True)

MONEY_SETTINGS: tuple[str, ...] = (
    "fiscal_year", "annual_target", "base_gate", "base_mode", "excess_rate", "excess_pool",
    "new_customer_award", "new_customer_top_n", "collection_award", "collection_threshold",
    "champion_award", "growth_award", "team_award", "kpi_group_base",
    "kpi_group_process", "kpi_group_growth")
"""tblPlan settings that decide who is paid how much (targets, KPI scores, bonuses,
awards): a deleted row of one of them is an input error, never the built-in value. A
deleted row of any other setting falls back to the built-in value with a WARN check."""

RULES: tuple[Rule, ...] = (
    # ---- plan settings (tblPlan, one row per key)
    Rule("tblPlan", "fiscal_year", YEAR, 2000, 2100, zh="计划年度", en="plan year"),
    Rule("tblPlan", "annual_target", **_M, zh="年度目标", en="annual sales target"),
    Rule("tblPlan", "prior_year", **_M, zh="上年销售额", en="prior year's sales"),
    Rule("tblPlan", "stated_growth", SHARE, D(-1), D(10), percent_slip=True,
         zh="计划增长率（可超过 100%）", en="stated growth (may exceed 100%)"),
    Rule("tblPlan", "base_gate", SCORE, D(0), D(100), zh="基础奖金门槛（KPI 得分）",
         en="base-bonus gate (a KPI score)"),
    Rule("tblPlan", "excess_rate", **_S, zh="超额奖金提成率", en="excess-bonus rate"),
    Rule("tblPlan", "excess_pool", **_M, zh="超额奖金池", en="excess-bonus pool"),
    Rule("tblPlan", "new_customer_award", **_M, zh="新客户奖（每人）", en="new-customer award"),
    Rule("tblPlan", "new_customer_top_n", COUNT, 0, 1000, zh="新客户奖名额", en="new-customer award places"),
    Rule("tblPlan", "collection_award", **_M, zh="回款奖（每人）", en="collection award"),
    Rule("tblPlan", "collection_threshold", **_S, zh="回款奖门槛（回款率）",
         en="collection-award threshold (collection rate)"),
    Rule("tblPlan", "champion_award", **_M, zh="销售冠军奖金", en="sales-champion award"),
    Rule("tblPlan", "growth_award", **_M, zh="最佳成长奖奖金", en="best-growth award"),
    Rule("tblPlan", "team_award", **_M, zh="团队贡献奖（每人）", en="team-contribution award"),
    Rule("tblPlan", "watch_threshold", SCORE, D(0), D(100), zh="观察名单门槛（KPI 得分）",
         en="watchlist threshold (a KPI score)"),
    Rule("tblPlan", "watch_consecutive", COUNT, 1, 8, zh="连续低分季度数", en="consecutive low quarters"),
    Rule("tblPlan", "improvement_months", MONTHS, 1, 24, zh="改进期月数", en="improvement period"),
    Rule("tblPlan", "probation_months", MONTHS, 0, 24, zh="试用期月数", en="probation period"),
    Rule("tblPlan", "headcount_now", COUNT, 0, MAX_COUNT, zh="现有人数", en="headcount now"),
    Rule("tblPlan", "headcount_planned", COUNT, 0, MAX_COUNT, zh="计划人数", en="planned headcount"),
    Rule("tblPlan", "hires_total", COUNT, 0, MAX_COUNT, zh="计划招聘人数", en="planned hires"),
    Rule("tblPlan", "spend_lead_warn", **_S, zh="支出超前预警（百分点）", en="spend-lead warning"),
    Rule("tblPlan", "as_of_date", DATE, -1, 1, zh="数据截至日期（计划年度前后一年内）",
         en="as-of date (within a year of the plan year)"),
    Rule("tblPlan", "kpi_group_base", WEIGHT, D(0), D(100), zh="基础类权重", en="base group weight"),
    Rule("tblPlan", "kpi_group_process", WEIGHT, D(0), D(100), zh="过程类权重", en="process group weight"),
    Rule("tblPlan", "kpi_group_growth", WEIGHT, D(0), D(100), zh="成长类权重", en="growth group weight"),
    Rule("tblPlan", "sheet_password", TEXT, zh="结果页保护密码（留空则无密码；明文保存，只防误改）",
         en="password of the result sheets' protection (blank: none; plain text, against accidents only)"),
    # ---- target splits
    *(r for t in ("tblQuarterSplit", "tblRegionSplit", "tblProductSplit") for r in (
        Rule(t, "amount", **_M, zh="目标金额", en="target amount"),
        Rule(t, "stated_share", **_S, zh="计划占比", en="stated share"))),
    Rule("tblCubePrior", "weight", WEIGHT, D(0), D(1_000_000), zh="先验权重", en="prior weight"),
    # ---- team
    Rule("tblTeam", "hire_date", DATE, -60, 1, zh="入职日期（计划年度前 60 年至后 1 年）",
         en="hire date (60 years before to 1 year after the plan year)"),
    Rule("tblTeam", "end_date", DATE, -60, 10, zh="离职日期", en="end date"),
    Rule("tblTeam", "quota_weight", WEIGHT, D(0), D(100), zh="指标权重（1 = 一份标准指标）",
         en="quota weight (1 = one standard quota)"),
    Rule("tblTeam", "base_bonus", **_M, zh="季度基础奖金", en="quarterly base bonus"),
    # ---- budget
    Rule("tblBudget", "amount", **_M, zh="预算金额", en="budget amount"),
    Rule("tblBudget", "stated_ratio", **_S, zh="占营收比", en="stated ratio"),
    Rule("tblBudget", "spent_to_date", **_M, zh="累计支出", en="spent to date"),
    # ---- KPI scheme
    Rule("tblKpiScheme", "weight", WEIGHT, D(0), D(100), zh="权重（合计 100）", en="weight (total 100)"),
    Rule("tblKpiScheme", "target", SHARE, D(0), D(1), percent_slip=True, when=("basis", "rate"),
         zh="比率类指标的季度目标", en="quarterly target of a rate indicator"),
    Rule("tblKpiScheme", "target", NUMBER, D(0), D(MAX_COUNT), when=("basis", "count"),
         zh="计数类指标的季度目标", en="quarterly target of a count indicator"),
    Rule("tblKpiScheme", "cap", SHARE, D(1), D(10), percent_slip=True,
         zh="封顶（1 = 100%；高于 1 时得分仍以 100 封顶并提示）",
         en="cap on achievement (1 = 100%; above 1 scores are still clipped to 100, with a warning)"),
    # ---- actuals
    *(Rule("tblActuals", c, **_M, zh=zh, en=en) for c, zh, en in (
        ("sales", "销售额", "sales"), ("collections", "回款额", "collections"),
        ("receivables", "应收额", "receivables"))),
    *(Rule("tblActuals", c, COUNT, 0, MAX_COUNT, zh=zh, en=en) for c, zh, en in (
        ("new_customers", "新客户数", "new customers"), ("visits", "有效拜访", "visits"),
        ("reports", "痛点分析", "reports"), ("proposals", "创新提案", "proposals"))),
    Rule("tblActuals", "training_rate", **_S, zh="培训参与率", en="training rate"),
    Rule("tblActuals", "mentee_conversion", **_S, zh="带教转正率", en="mentee conversion"),
)


def rules_for_table(table: str) -> list[Rule]:
    return [r for r in RULES if r.table == table and r.table != "tblPlan"]


def rules_for_setting(key: str) -> list[Rule]:
    return [r for r in RULES if r.table == "tblPlan" and r.column == key]


def _fmt(v: Any) -> str:
    if isinstance(v, Decimal):
        s = format(v, "f")
        return s.rstrip("0").rstrip(".") if "." in s else s
    return str(v)


_WHOLE = (COUNT, MONTHS, YEAR)


def check_value(rule: Rule, v: Any, fiscal_year: int) -> str | None:
    """Why ``v`` breaks ``rule`` (a message), or None when it is fine (or blank)."""
    t = type(v)
    if t is Decimal or t is int:   # the usual cell, in range: at once
        lo, hi = rule.low, rule.high
        if (lo is None or v >= lo) and (hi is None or v <= hi):
            if t is int:
                return None
            if rule.unit == MONEY:
                if v == v.to_integral_value() or v.as_tuple().exponent >= -2:
                    return None
            elif rule.unit not in _WHOLE or v == v.to_integral_value():
                return None
    return _check_value(rule, v, fiscal_year)


def _check_value(rule: Rule, v: Any, fiscal_year: int) -> str | None:
    if v is None or v == "":
        return None
    if rule.unit == DATE:
        if not isinstance(v, dt.date):
            return None
        low, high = fiscal_year + int(rule.low or 0), fiscal_year + int(rule.high or 0)
        y = v.year
        if not (low <= y <= high):
            return f"the date {v:%Y-%m-%d} is outside {low}..{high} (plan year {fiscal_year})"
        return None
    if not isinstance(v, (int, Decimal)) or isinstance(v, bool):
        return None
    d = Decimal(v)
    if rule.unit == MONEY:
        if abs(d) > MAX_AMOUNT:
            return (f"{_fmt(d) if abs(d) < Decimal('1e30') else format(d, 'E')} is too large for "
                    f"an amount (at most {_fmt(MAX_AMOUNT)}: Excel keeps 15 significant digits)")
        if d != d.quantize(Decimal("0.01")):
            return f"an amount of money has at most 2 decimals (fen), got {_fmt(d)}"
    if abs(d) > Decimal("1e15"):
        return f"{format(d, 'E')} is too large"
    if rule.unit in (COUNT, MONTHS, YEAR) and d != d.to_integral_value():
        return f"must be a whole number, got {_fmt(d)}"
    low, high = rule.low, rule.high
    if high is not None and d > high:
        if rule.percent_slip and d <= 100 * Decimal(high) and d >= 1:
            return f"{_fmt(d)} looks like {_fmt(d)}%; write {_fmt(d / 100)}"
        return f"{_fmt(d)} is outside {_range(rule)}, the range of the {rule.en}"
    if low is not None and d < low:
        if low == 0:
            return f"must not be negative, got {_fmt(d)}"
        return f"{_fmt(d)} is outside {_range(rule)}, the range of the {rule.en}"
    return None


def _range(rule: Rule) -> str:
    lo = "" if rule.low is None else _fmt(rule.low)
    hi = "" if rule.high is None else _fmt(rule.high)
    return f"{lo}..{hi}"


def check_text(v: Any) -> str | None:
    if isinstance(v, str) and len(v) > MAX_TEXT:
        return f"text of {len(v):,} characters; an Excel cell holds at most {MAX_TEXT:,}"
    return None


def _range_text(r: Rule, lang: str) -> str:
    if r.unit == DATE:
        lo, hi = int(r.low or 0), int(r.high or 0)
        return (f"计划年度 {lo:+d} 年至 {hi:+d} 年" if lang == "zh"
                else f"plan year {lo:+d} to {hi:+d} years")
    def human(x):
        return f"{Decimal(x):,}" if abs(Decimal(x)) >= 10000 else _fmt(x)
    lo = "" if r.low is None else human(r.low)
    hi = "" if r.high is None else human(r.high)
    if r.unit == SHARE:
        lo = f"{_fmt(Decimal(r.low) * 100)}%" if r.low is not None else ""
        hi = f"{_fmt(Decimal(r.high) * 100)}%" if r.high is not None else ""
    return f"{lo} .. {hi}"


def markdown_table() -> str:
    """The rules as a Markdown table, Chinese and English side by side (docs/workbook.md
    holds this text between its ``rules`` markers; a test keeps them equal)."""
    head = ["表 Table", "列或参数 Column / setting", "含义", "Meaning", "单位 Unit",
            "允许 Allowed", "3 写成 3% 的错误 Percent slip", "仅当 Only when"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in RULES:
        unit = f"{UNIT_TEXT[r.unit][0]} / {UNIT_TEXT[r.unit][1]}"
        allowed = _range_text(r, "en")
        cells = [r.table, f"`{r.column}`", r.zh, r.en, unit, allowed,
                 "是 yes" if r.percent_slip else "", f"{r.when[0]} = {r.when[1]}" if r.when else ""]
        lines.append("| " + " | ".join(cells) + " |")
    extra = [
        ["(every text cell)", "", f"文本最多 {MAX_TEXT:,} 个字符", f"text of at most {MAX_TEXT:,} characters",
         UNIT_TEXT[TEXT][0] + " / " + UNIT_TEXT[TEXT][1], f"0 .. {MAX_TEXT:,}", "", ""],
    ]
    lines += ["| " + " | ".join(c) + " |" for c in extra]
    return "\n".join(lines) + "\n"
