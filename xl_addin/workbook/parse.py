"""From raw table cells to the typed plan model.

Engine-agnostic: a :class:`RawTable` is a header row and data rows of plain cell values, as
openpyxl, python-calamine or xlwings deliver them. Columns are found by key or by label in
either language, so users may reorder them. Every bad cell becomes a located
:class:`~xl_addin.errors.Problem`; nothing is guessed.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from openpyxl.utils import get_column_letter

from ..errors import InputError, Problem, Problems
from ..core.model import (Actual, BudgetLine, Improvement, Indicator, PlanInputs, PriorCell, Region,
                     Rep, SplitLine, parse_settings)
from . import schema
from .schema import TABLES

EXCEL_EPOCH = dt.date(1899, 12, 30)
# LibreOffice has no logical cell type: a master saved there holds TRUE and FALSE as the
# formulas =TRUE() and =FALSE(), which openpyxl reads as their text.
_TRUE = {"true", "yes", "y", "1", "是", "√", "x", "✓", "=true()"}
_FALSE = {"false", "no", "n", "0", "否", "", "=false()"}


@dataclass
class RawTable:
    """One table as found in a workbook: where it is and what its cells hold."""

    name: str
    sheet: str
    header: list[str]
    rows: list[list[Any]]
    origin: tuple[int, int] = (1, 1)   # (row, column) of the header's first cell, 1-based
    columns: dict[str, int] = field(default_factory=dict)  # key -> index into a row

    def cell(self, data_row: int | None, key: str | None) -> str | None:
        """A1 address of a data row (1-based) and column key, when both are known."""
        if key is None or key not in self.columns:
            return None
        col = get_column_letter(self.origin[1] + self.columns[key])
        if data_row is not None:
            return f"{col}{self.origin[0] + data_row}"
        if self.rows:  # the whole column of data
            return f"{col}{self.origin[0] + 1}:{col}{self.origin[0] + len(self.rows)}"
        return f"{col}{self.origin[0]}"


def norm_label(s: Any) -> str:
    return re.sub(r"\s+", "", str(s or "")).lower()


def map_columns(raw: RawTable, spec: schema.Table, problems: Problems) -> None:
    """Find each contract column in ``raw.header`` by key, zh label or en label."""
    lookup: dict[str, str] = {}
    for c in spec.columns:
        for name in (c.key, c.zh, c.en):
            lookup[norm_label(name)] = c.key
    raw.columns = {}
    for i, h in enumerate(raw.header):
        key = lookup.get(norm_label(h))
        if key and key not in raw.columns:
            raw.columns[key] = i
    for c in spec.columns:
        if c.key not in raw.columns and (c.required or spec.direction == "in"):
            if c.required:
                problems.items.append(Problem(spec.name, None, c.key,
                                              f"column {c.key!r} ({c.zh} / {c.en}) is missing",
                                              sheet=raw.sheet))


# ----------------------------------------------------------------------------- cell parsers

def parse_number(v: Any) -> Decimal | None:
    """A Decimal from a cell: numbers as they are; text like '1,200', '¥300', '43%'."""
    t = type(v)
    if t is int or t is Decimal:   # the usual cell, at once
        return Decimal(v)
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError(f"{v!r} is a yes/no value, not a number")
    if isinstance(v, (int, Decimal)):
        return Decimal(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return Decimal(repr(v))
    if isinstance(v, (dt.date, dt.datetime)):
        raise ValueError(f"a date ({v:%Y-%m-%d}) where a number belongs")
    s = str(v).strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    s = s.removesuffix("元").strip()
    if s == "":
        return None
    pct = s.endswith("%")
    try:
        d = Decimal(s.removesuffix("%").strip())
    except InvalidOperation:
        raise ValueError(f"text {str(v)!r} where a number belongs") from None
    if not d.is_finite():
        raise ValueError(f"text {str(v)!r} where a number belongs")
    return d / 100 if pct else d


def parse_date(v: Any) -> dt.date | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return EXCEL_EPOCH + dt.timedelta(days=int(v))
    s = str(v).strip().replace("/", "-").replace(".", "-")
    m = re.fullmatch(r"(\d{4})[-年](\d{1,2})[-月](\d{1,2})日?(?:[ T].*)?", s)
    if not m:
        raise ValueError(f"{str(v)!r} is not a date (use YYYY-MM-DD)")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as e:
        raise ValueError(f"{str(v)!r} is not a date ({e})") from None


def parse_bool(v: Any) -> bool | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return bool(v)
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False if s else None
    raise ValueError(f"{str(v)!r} is not yes/no (use TRUE or FALSE)")


def parse_code(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def parse_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


PARSERS: dict[str, Callable[[Any], Any]] = {
    schema.TEXT: parse_text, schema.CODE: parse_code, schema.DATE: parse_date,
    schema.DATETIME: lambda v: v, schema.BOOL: parse_bool,
    **{k: parse_number for k in (schema.MONEY, schema.YUAN, schema.INT, schema.NUM,
                                 schema.SHARE, schema.SCORE)},
}


def typed_rows(raw: RawTable, spec: schema.Table, problems: Problems) -> list[tuple[int, dict[str, Any]]]:
    """Data rows as ``(row number, {key: typed value})``; blank rows are skipped, every bad
    or missing required cell is a problem."""
    out = []
    for n, row in enumerate(raw.rows, 1):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        rec: dict[str, Any] = {}
        for c in spec.columns:
            i = raw.columns.get(c.key)
            v = row[i] if i is not None and i < len(row) else None
            try:
                val = PARSERS[c.kind](v)
            except ValueError as e:
                problems.items.append(Problem(spec.name, n, c.key, str(e), sheet=raw.sheet,
                                              cell=raw.cell(n, c.key)))
                val = None
                rec["__bad__"] = True
            if c.required and i is not None and (val is None or val == "") and not rec.get("__bad__"):
                problems.items.append(Problem(spec.name, n, c.key, "required value is blank",
                                              sheet=raw.sheet, cell=raw.cell(n, c.key)))
            rec[c.key] = val
        out.append((n, rec))
    return out


# ----------------------------------------------------------------------------- the plan

def _split(rows, code_key: str) -> tuple[SplitLine, ...]:
    return tuple(SplitLine(r[code_key], r["amount"] if r["amount"] is not None else Decimal(0),
                           r.get("stated_share"), n) for n, r in rows)


def inputs_from_raw(raws: dict[str, RawTable]) -> PlanInputs:
    """The plan model from raw input tables; raises InputError listing every problem with
    its sheet and cell."""
    problems = Problems()
    typed: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for name in schema.INPUT_TABLES:
        spec = TABLES[name]
        raw = raws.get(name)
        if raw is None:
            if not spec.optional:
                problems.add(name, None, None, f"table {name} ({spec.zh} / {spec.en}) is missing")
            typed[name] = []
            continue
        map_columns(raw, spec, problems)
        typed[name] = typed_rows(raw, spec, problems)
    problems.raise_if_any()

    plan_rows = {r["key"]: (n, r["value"]) for n, r in typed["tblPlan"] if r["key"]}
    settings = parse_settings({k: v for k, (_, v) in plan_rows.items()}, problems,
                              rows={k: n for k, (n, _) in plan_rows.items()})
    t = typed
    inputs = None
    if settings is not None:
        inputs = PlanInputs(
            settings=settings,
            quarters=_split(t["tblQuarterSplit"], "quarter"),
            regions_split=_split(t["tblRegionSplit"], "region"),
            products=_split(t["tblProductSplit"], "product"),
            regions=tuple(Region(r["region"], r["name"], r["manager"], r["email"], n)
                          for n, r in t["tblRegions"]),
            budget=tuple(BudgetLine(r["line_id"], r["line"], r["parent_id"],
                                    r["amount"] if r["amount"] is not None else Decimal(0),
                                    r["stated_ratio"], bool(r["itemised"]), r["spent_to_date"], n)
                         for n, r in t["tblBudget"]),
            kpi_scheme=tuple(Indicator(r["indicator"], r["group"],
                                       r["weight"] if r["weight"] is not None else Decimal(0),
                                       r["target"], r["basis"],
                                       r["cap"] if r["cap"] is not None else Decimal(1), n)
                             for n, r in t["tblKpiScheme"]),
            team=tuple(Rep(r["rep_id"], r["name"], r["region"], r["role"], r["hire_date"],
                           r["end_date"],
                           r["quota_weight"] if r["quota_weight"] is not None else Decimal(1),
                           r["base_bonus"] if r["base_bonus"] is not None else Decimal(0),
                           r["mentor_id"], n)
                       for n, r in t["tblTeam"]),
            actuals=tuple(Actual(r["rep_id"], r["quarter"], r["sales"], r["collections"],
                                 r["receivables"], r["new_customers"], r["visits"], r["reports"],
                                 r["training_rate"], r["mentee_conversion"], r["proposals"], n)
                          for n, r in t["tblActuals"]),
            improvement=tuple(Improvement(r["rep_id"], r["quarter"], r["outcome"].lower(), n)
                              for n, r in t["tblImprovement"]),
            cube_prior=tuple(PriorCell(r["region"], r["quarter"], r["product"], r["weight"], n)
                             for n, r in t["tblCubePrior"] if r["weight"] is not None),
        )
    if problems:
        raise InputError(locate(problems.items, raws))
    return inputs  # type: ignore[return-value]


def locate(problems: list[Problem], raws: dict[str, RawTable]) -> list[Problem]:
    """Add sheet and cell to problems raised by the core (which knows only table/row/column)."""
    out = []
    for p in problems:
        raw = raws.get(p.table)
        if raw is None:
            out.append(p)
        elif p.table == "tblPlan" and p.key and p.row is not None:
            out.append(p.located(raw.sheet, raw.cell(p.row, p.column or "value")))
        else:
            out.append(p.located(raw.sheet, raw.cell(p.row, p.column) if p.row is not None
                                 else raw.cell(None, p.column)))
    return out


def detect_lang(raws: dict[str, RawTable]) -> str:
    """zh or en, judged from the labels of the Plan table's header."""
    raw = raws.get("tblPlan")
    if raw and raw.header and norm_label(raw.header[0]) == norm_label(TABLES["tblPlan"].columns[0].en):
        return "en"
    return "zh"
