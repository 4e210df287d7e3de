"""The typed plan model: every input of the engine as plain dataclasses.

Defaults for 2026 come from one data file, ``xl_addin/data/plan_2026.json`` (restating the
seed plan); nothing here hard-codes a plan figure. The workbook reader, the xlwings layer
and library users all build a :class:`PlanInputs` and hand it to :func:`xl_addin.engine.compute`.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, fields
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable

from ..errors import Problems
from .money import dec
from ..paths import data_path

QUARTERS = ("Q1", "Q2", "Q3", "Q4")
QUOTA_ROLES = ("senior_sales", "sales", "channel_specialist", "ka_manager")
STAFF_ROLES = ("director", "data_analyst")
ROLES = QUOTA_ROLES + STAFF_ROLES
INDICATORS = ("sales", "collection_rate", "new_customers", "visits", "reports",
              "training_rate", "mentee_conversion", "proposals")
BASES = ("sales_target", "rate", "count")
BASE_MODES = ("gate", "linear")
OUTCOMES = ("", "open", "passed", "failed")
HQ = "HQ"


def quarter_bounds(year: int, quarter: str) -> tuple[dt.date, dt.date]:
    """First and last day of a calendar quarter."""
    q = QUARTERS.index(quarter)
    start = dt.date(year, 3 * q + 1, 1)
    end = dt.date(year + (q == 3), (3 * q + 3) % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    m = day.month - 1 + months
    y, m = day.year + m // 12, m % 12 + 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(day.day, last))


# ----------------------------------------------------------------------------- settings

def _int(v: Any) -> int:
    d = dec(v)
    if d != d.to_integral_value():
        raise ValueError("must be a whole number")
    return int(d)


def _decimal(v: Any) -> Decimal:
    return dec(v)


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def _date(v: Any) -> dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v).strip()[:10])


def _members(v: Any) -> tuple[str, ...]:
    return tuple(x.strip() for x in str(v or "").replace(";", ",").replace("，", ",").split(",") if x.strip())


def _hires(v: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in _members(v):
        region, sep, n = item.partition(":")
        if not sep:
            raise ValueError(f"expected REGION:N pairs, got {item!r}")
        out[region.strip()] = _int(n)
    return out


def _mode(v: Any) -> str:
    s = _text(v).lower()
    if s not in BASE_MODES:
        raise ValueError(f"must be one of {', '.join(BASE_MODES)}")
    return s


@dataclass(frozen=True)
class Settings:
    """Scalar plan settings (the ``tblPlan`` key/value table)."""

    fiscal_year: int
    annual_target: Decimal
    prior_year: Decimal
    stated_growth: Decimal | None
    base_gate: Decimal
    base_mode: str
    excess_rate: Decimal
    excess_pool: Decimal
    new_customer_award: Decimal
    new_customer_top_n: int
    collection_award: Decimal
    collection_threshold: Decimal
    champion_award: Decimal
    champion_non_cash: str
    growth_award: Decimal
    growth_non_cash: str
    team_award: Decimal
    team_award_members: tuple[str, ...]
    watch_threshold: Decimal
    watch_consecutive: int
    improvement_months: int
    probation_months: int
    headcount_now: int
    headcount_planned: int
    hires_total: int
    hires_by_region: dict[str, int]
    spend_lead_warn: Decimal
    as_of_date: dt.date | None
    kpi_group_base: Decimal
    kpi_group_process: Decimal
    kpi_group_growth: Decimal
    extra: dict[str, str] = field(default_factory=dict)
    defaulted: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    """Settings whose tblPlan row is missing, with the built-in value used instead (as
    text): the checks show each as a WARN."""

    def kpi_groups(self) -> dict[str, Decimal]:
        return {"base": self.kpi_group_base, "process": self.kpi_group_process,
                "growth": self.kpi_group_growth}


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "fiscal_year": _int, "annual_target": _decimal, "prior_year": _decimal,
    "stated_growth": lambda v: None if v in (None, "") else dec(v),
    "base_gate": _decimal, "base_mode": _mode, "excess_rate": _decimal, "excess_pool": _decimal,
    "new_customer_award": _decimal, "new_customer_top_n": _int, "collection_award": _decimal,
    "collection_threshold": _decimal, "champion_award": _decimal, "champion_non_cash": _text,
    "growth_award": _decimal, "growth_non_cash": _text, "team_award": _decimal,
    "team_award_members": _members, "watch_threshold": _decimal, "watch_consecutive": _int,
    "improvement_months": _int, "probation_months": _int, "headcount_now": _int,
    "headcount_planned": _int, "hires_total": _int, "hires_by_region": _hires,
    "spend_lead_warn": _decimal, "as_of_date": _date, "kpi_group_base": _decimal,
    "kpi_group_process": _decimal, "kpi_group_growth": _decimal,
}
NON_NEGATIVE = {"annual_target", "prior_year", "base_gate", "excess_rate", "excess_pool",
                "new_customer_award", "new_customer_top_n", "collection_award",
                "champion_award", "growth_award", "team_award", "watch_consecutive",
                "improvement_months", "probation_months", "headcount_now",
                "headcount_planned", "hires_total"}
AT_LEAST_ONE = {"watch_consecutive", "improvement_months", "fiscal_year"}
WHOLE_FEN = {"excess_pool", "new_customer_award", "collection_award", "champion_award",
             "growth_award", "team_award"}
SETTING_KEYS = tuple(_PARSERS)


def parse_settings(pairs: dict[str, Any], problems: Problems,
                   rows: dict[str, int] | None = None, table: str = "tblPlan") -> Settings | None:
    """Typed settings from raw key/value pairs; missing keys fall back to the 2026 defaults.

    Every bad value is added to ``problems`` (column ``value``, row = the key's row)."""
    defaults = default_setting_values()
    values: dict[str, Any] = {}
    rows = rows or {}
    ok = True
    for key, parse in _PARSERS.items():
        raw = pairs.get(key, defaults.get(key))
        try:
            v = parse(raw)
            if key in NON_NEGATIVE and v is not None and v < 0:
                raise ValueError("must not be negative")
            if key in AT_LEAST_ONE and v < 1:
                raise ValueError("must be at least 1")
            if key in WHOLE_FEN and v != v.quantize(Decimal("0.01")):
                raise ValueError("an amount of money has at most 2 decimals (fen)")
            values[key] = v
        except (ValueError, TypeError) as e:
            ok = False
            problems.add(table, rows.get(key), "value", f"setting {key}={raw!r}: {e}", key)
    extra = {k: _text(v) for k, v in pairs.items() if k not in _PARSERS}
    return Settings(**values, extra=extra) if ok else None


@lru_cache(maxsize=None)
def _plan_json(year: int = 2026) -> dict[str, Any]:
    path = data_path(f"plan_{year}.json")
    if not path.exists():
        raise FileNotFoundError(f"no built-in plan for {year}")
    return json.loads(path.read_text(encoding="utf-8"))


def default_setting_values(year: int = 2026) -> dict[str, Any]:
    return dict(_plan_json(year)["settings"])


# ----------------------------------------------------------------------------- tables

@dataclass(frozen=True)
class SplitLine:
    """One line of a one-dimensional split (quarter, region or product)."""

    key: str
    amount: Decimal
    stated_share: Decimal | None = None
    row: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Region:
    region: str
    name: str
    manager: str = ""
    email: str = ""
    row: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Rep:
    rep_id: str
    name: str
    region: str
    role: str
    hire_date: dt.date | None = None
    end_date: dt.date | None = None
    quota_weight: Decimal = Decimal(1)
    base_bonus: Decimal = Decimal(0)
    mentor_id: str = ""
    row: int | None = field(default=None, compare=False)

    @property
    def carries_quota(self) -> bool:
        return self.role in QUOTA_ROLES


@dataclass(frozen=True)
class BudgetLine:
    line_id: str
    line: str
    parent_id: str = ""
    amount: Decimal = Decimal(0)
    stated_ratio: Decimal | None = None
    itemised: bool = False
    spent_to_date: Decimal | None = None
    row: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Indicator:
    """One KPI indicator: ``target`` is per full quarter (None for the sales basis, whose
    target is the rep's own sales target); ``cap`` caps achievement (1 = 100%)."""

    indicator: str
    group: str
    weight: Decimal
    target: Decimal | None
    basis: str
    cap: Decimal = Decimal(1)
    row: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Actual:
    """One rep-quarter of actuals. ``sales`` None means not yet reported."""

    rep_id: str
    quarter: str
    sales: Decimal | None = None
    collections: Decimal | None = None
    receivables: Decimal | None = None
    new_customers: Decimal | None = None
    visits: Decimal | None = None
    reports: Decimal | None = None
    training_rate: Decimal | None = None
    mentee_conversion: Decimal | None = None
    proposals: Decimal | None = None
    row: int | None = field(default=None, compare=False)


ACTUAL_FIGURES = tuple(f.name for f in fields(Actual) if f.name not in ("rep_id", "quarter", "row"))
# figures that may be blank in a reported quarter (blank = N/A: no mentees)
OPTIONAL_FIGURES = ("mentee_conversion",)


@dataclass(frozen=True)
class Improvement:
    """The outcome of an improvement period that started after ``quarter``."""

    rep_id: str
    quarter: str
    outcome: str
    row: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PriorCell:
    region: str
    quarter: str
    product: str
    weight: Decimal
    row: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PlanInputs:
    """Everything the engine needs; built by a reader or by :func:`default_plan`."""

    settings: Settings
    quarters: tuple[SplitLine, ...]
    regions_split: tuple[SplitLine, ...]
    products: tuple[SplitLine, ...]
    regions: tuple[Region, ...]
    budget: tuple[BudgetLine, ...]
    kpi_scheme: tuple[Indicator, ...]
    team: tuple[Rep, ...] = ()
    actuals: tuple[Actual, ...] = ()
    improvement: tuple[Improvement, ...] = ()
    cube_prior: tuple[PriorCell, ...] = ()

    def region_codes(self) -> tuple[str, ...]:
        return tuple(r.key for r in self.regions_split)

    def product_codes(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.products)


def _opt_dec(v: Any) -> Decimal | None:
    return None if v in (None, "") else dec(v)


def default_plan(year: int = 2026, lang: str = "zh", *, team: tuple[Rep, ...] = (),
                 actuals: tuple[Actual, ...] = (), regions: tuple[Region, ...] | None = None,
                 **setting_overrides: Any) -> PlanInputs:
    """The built-in plan for ``year`` (2026: the seed plan) with an optional team and actuals."""
    data = _plan_json(year)
    problems = Problems()
    settings = parse_settings({**data["settings"], **setting_overrides}, problems)
    problems.raise_if_any()
    assert settings is not None

    def split(items: list[dict[str, Any]]) -> tuple[SplitLine, ...]:
        return tuple(SplitLine(i["key"], dec(i["amount"]), _opt_dec(i.get("stated_share")), n)
                     for n, i in enumerate(items, 1))

    if regions is None:
        regions = tuple(Region(r["region"], r[f"name_{lang}"], row=n)
                        for n, r in enumerate(data["regions"], 1))
    return PlanInputs(
        settings=settings,
        quarters=split(data["quarters"]),
        regions_split=split(data["regions_split"]),
        products=split(data["products"]),
        regions=regions,
        budget=tuple(BudgetLine(b["line_id"], b[f"line_{lang}"], b["parent_id"], dec(b["amount"]),
                                _opt_dec(b["stated_ratio"]), bool(b["itemised"]), None, n)
                     for n, b in enumerate(data["budget"], 1)),
        kpi_scheme=tuple(Indicator(k["indicator"], k["group"], dec(k["weight"]),
                                   _opt_dec(k["target"]), k["basis"], dec(k["cap"]), n)
                         for n, k in enumerate(data["kpi_scheme"], 1)),
        team=team,
        actuals=actuals,
    )


def plan_labels(year: int = 2026) -> dict[str, Any]:
    """Localised names shipped with the plan data (quarter themes, product names)."""
    data = _plan_json(year)
    return {"quarters": {q["key"]: (q["name_zh"], q["name_en"]) for q in data["quarters"]},
            "products": {p["key"]: (p["name_zh"], p["name_en"]) for p in data["products"]},
            "regions": {r["region"]: (r["name_zh"], r["name_en"]) for r in data["regions"]}}
