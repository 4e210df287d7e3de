"""From raw table cells to the typed plan model.

Engine-agnostic: a :class:`RawTable` is a header row and data rows of plain cell values, as
openpyxl, python-calamine or xlwings deliver them. Columns are found by key or by label in
either language, so users may reorder them. Every bad cell becomes a located
:class:`~xl_addin.errors.Problem`; nothing is guessed.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from openpyxl.utils import get_column_letter

from ..errors import InputError, Problem, Problems
from ..core.model import (Actual, BudgetLine, Improvement, Indicator, PlanInputs, PriorCell, Region,
                     Rep, SplitLine, parse_settings)
from ..core.validate import validate
from . import rules, schema
from .schema import TABLES

EXCEL_EPOCH = dt.date(1899, 12, 30)
MAX_SERIAL = (dt.date(9999, 12, 31) - EXCEL_EPOCH).days
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
    """A header as compared: no spaces, full-width folded to half-width (NFKC), any case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(s or ""))).casefold()


def header_cell(raw: RawTable, index: int) -> str:
    """A1 address of the header cell of column ``index`` (0-based) of ``raw``."""
    return f"{get_column_letter(raw.origin[1] + index)}{raw.origin[0]}"


def table_lang(raw: RawTable, spec: schema.Table) -> str:
    """zh or en: the language most of the table's header labels are in."""
    heads = {norm_label(h) for h in raw.header}
    zh = sum(norm_label(c.zh) in heads for c in spec.columns)
    en = sum(norm_label(c.en) in heads and norm_label(c.en) != norm_label(c.key)
             for c in spec.columns)
    return "en" if en > zh else "zh"


def _likeness(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    r = difflib.SequenceMatcher(None, a, b).ratio()
    return r + 0.5 if (b in a or a in b) else r


def closest_column(header: str, columns: list[schema.Column]) -> schema.Column | None:
    """The contract column whose key or label looks most like ``header`` (None if none
    comes close)."""
    h = norm_label(header)
    best, score = None, 0.0
    for c in columns:
        s = max(_likeness(h, norm_label(n)) for n in (c.key, c.zh, c.en))
        if s > score:
            best, score = c, s
    return best if score >= 0.4 else None


def map_columns(raw: RawTable, spec: schema.Table, problems: Problems, *,
                strict: bool | None = None, lang: str | None = None) -> None:
    """Find each contract column in ``raw.header`` by key, zh label or en label (any case,
    full- or half-width).

    For an input table every contract column must be there and every header must be one
    of them: a header that matches none (a renamed column, say) is a problem at its cell
    naming the closest expected label, in the table's language (or ``lang``: ``zh``,
    ``en``, or ``key`` for a CSV file, whose headers are keys). Output tables are read
    leniently (a missing column reads as blank) unless ``strict``; then, since recalc
    rewrites them, every contract column must be found but other columns may be there."""
    lookup: dict[str, str] = {}
    for c in spec.columns:
        for name in (c.key, c.zh, c.en):
            lookup.setdefault(norm_label(name), c.key)
    raw.columns = {}
    unknown: list[int] = []
    extra_ok = spec.direction != "in"
    strict = spec.direction == "in" if strict is None else strict
    for i, h in enumerate(raw.header):
        key = lookup.get(norm_label(h))
        if key is None:
            unknown.append(i)
        elif key not in raw.columns:
            raw.columns[key] = i
        elif strict:
            first = header_cell(raw, raw.columns[key])
            problems.items.append(Problem(
                spec.name, None, key, f"header {h!r} repeats column {key!r} (already in cell {first})",
                sheet=raw.sheet, cell=header_cell(raw, i)))
    if not strict:
        for c in spec.columns:
            if c.required and c.key not in raw.columns:
                problems.items.append(Problem(spec.name, None, c.key,
                                              f"column {c.key!r} ({c.zh} / {c.en}) is missing",
                                              sheet=raw.sheet))
        return
    lang = lang or table_lang(raw, spec)

    def name(c: schema.Column) -> str:
        return c.key if lang == "key" else c.label(lang)
    missing = [c for c in spec.columns if c.key not in raw.columns]
    guessed: set[str] = set()
    for i in unknown:
        h = raw.header[i]
        if not str(h or "").strip():
            if extra_ok:
                continue
            problems.items.append(Problem(spec.name, None, None, "a column of the table has a blank "
                                          "header", sheet=raw.sheet, cell=header_cell(raw, i)))
            continue
        guess = closest_column(h, [c for c in missing if c.key not in guessed])
        if guess is None and extra_ok:
            continue
        if guess is None:
            guess_all = closest_column(h, list(spec.columns))
            hint = f"; did you mean {name(guess_all)}?" if guess_all else ""
            problems.items.append(Problem(
                spec.name, None, None, f"header {str(h)!r} is not a column of {spec.name}{hint}",
                sheet=raw.sheet, cell=header_cell(raw, i)))
        else:
            guessed.add(guess.key)
            problems.items.append(Problem(
                spec.name, None, guess.key, f"header {str(h)!r} is not a column of {spec.name}; "
                f"did you mean {name(guess)}?", sheet=raw.sheet, cell=header_cell(raw, i)))
    for c in missing:
        if c.key not in guessed:
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
    if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
        if not (1 <= v <= MAX_SERIAL):
            raise ValueError(f"{v} is not a date: Excel dates run from serial 1 (1900-01-01) "
                             f"to {MAX_SERIAL} (9999-12-31)")
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
        found: list[Problem] = []
        for c in spec.columns:
            i = raw.columns.get(c.key)
            v = row[i] if i is not None and i < len(row) else None
            try:
                val = PARSERS[c.kind](v)
                if type(val) is str and len(val) > rules.MAX_TEXT:
                    raise ValueError(rules.check_text(val))
            except ValueError as e:
                found.append(Problem(spec.name, n, c.key, str(e), sheet=raw.sheet,
                                     cell=raw.cell(n, c.key)))
                rec[c.key] = None
                rec["__bad__"] = True
                continue
            if c.required and i is not None and (val is None or val == ""):
                found.append(Problem(spec.name, n, c.key, "required value is blank",
                                     sheet=raw.sheet, cell=raw.cell(n, c.key)))
            rec[c.key] = val
        if found:
            key = row_key(spec.name, rec)
            problems.items.extend(replace(p, key=key) for p in found)
        out.append((n, rec))
    return out


# ----------------------------------------------------------------------------- the plan

def _split(rows, code_key: str) -> tuple[SplitLine, ...]:
    return tuple(SplitLine(r[code_key], r["amount"] if r["amount"] is not None else Decimal(0),
                           r.get("stated_share"), n) for n, r in rows)


ROW_KEYS = {"tblQuarterSplit": ("quarter",), "tblRegionSplit": ("region",),
            "tblProductSplit": ("product",), "tblCubePrior": ("region", "quarter", "product"),
            "tblRegions": ("region",), "tblTeam": ("rep_id",), "tblBudget": ("line_id",),
            "tblKpiScheme": ("indicator",), "tblActuals": ("rep_id", "quarter"),
            "tblImprovement": ("rep_id", "quarter")}
"""The business key of a row of each input table, shown with a problem (``R001/Q2``)."""


def row_key(table: str, rec: dict[str, Any]) -> str | None:
    parts = [str(rec.get(k) or "") for k in ROW_KEYS.get(table, ())]
    return "/".join(parts) if any(parts) else None


def apply_rules(raw: RawTable, spec: schema.Table, rows: list[tuple[int, dict[str, Any]]],
                fiscal_year: int, problems: Problems) -> None:
    """Check typed rows against :data:`.rules.RULES`; a value that breaks a rule is a
    problem at its cell and is blanked, so later checks do not trip over it."""
    table_rules = [r for r in rules.rules_for_table(spec.name) if r.column in raw.columns]
    if not table_rules:
        return
    for n, rec in rows:
        for rule in table_rules:
            if rule.when and str(rec.get(rule.when[0]) or "").lower() != rule.when[1]:
                continue
            why = rules.check_value(rule, rec.get(rule.column), fiscal_year)
            if why:
                problems.items.append(Problem(spec.name, n, rule.column, why, row_key(spec.name, rec),
                                              sheet=raw.sheet, cell=raw.cell(n, rule.column)))
                rec[rule.column] = None
                rec["__bad__"] = True


def _settings(plan_rows: dict[str, tuple[int, Any]], problems: Problems):
    """The typed settings and their rows; every bad value is a problem, and the settings
    go on with the built-in default in its place so that the rest can still be checked."""
    pairs = {k: v for k, (_, v) in plan_rows.items()}
    rows = {k: n for k, (n, _) in plan_rows.items()}
    first = Problems()
    settings = parse_settings(pairs, first, rows=rows)
    problems.extend(first.items)
    bad = {p.key for p in first.items}
    if settings is None:
        settings = parse_settings({k: v for k, v in pairs.items() if k not in bad}, Problems(),
                                  rows=rows)
    if settings is None:  # a default itself is bad: nothing more to check
        return None, bad
    year = settings.fiscal_year
    for rule in rules.RULES:
        if rule.table != "tblPlan" or rule.column in bad or rule.column not in pairs:
            continue
        why = rules.check_value(rule, getattr(settings, rule.column, None), year)
        if why:
            bad.add(rule.column)
            problems.add("tblPlan", rows.get(rule.column), "value",
                         f"setting {rule.column}={pairs[rule.column]!r}: {why}", rule.column)
    if bad & set(pairs):
        settings = parse_settings({k: v for k, v in pairs.items() if k not in bad}, Problems(),
                                  rows=rows)
    return settings, bad


def _order(problems: list[Problem]) -> list[Problem]:
    """Problems grouped by table (in contract order), then by row and column."""
    tables = {n: i for i, n in enumerate(TABLES)}
    def key(p: Problem):
        cols = TABLES[p.table].keys if p.table in TABLES else ()
        return (tables.get(p.table, len(tables)), p.row is not None, p.row or 0,
                cols.index(p.column) if p.column in cols else -1)
    return sorted(problems, key=key)


def inputs_from_raw(raws: dict[str, RawTable]) -> PlanInputs:
    """The plan model from raw input tables; raises InputError listing every problem with
    its sheet and cell: columns, cells, the meaning of values (:mod:`.rules`) and how the
    rows relate (:func:`~xl_addin.core.validate.validate`), all in one run."""
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

    plan_rows = {r["key"]: (n, r["value"]) for n, r in typed["tblPlan"] if r["key"]}
    settings, _ = _settings(plan_rows, problems)
    if settings is None:
        raise InputError(_order(locate(problems.items, raws)))
    for name in schema.INPUT_TABLES:
        if name in raws:
            apply_rules(raws[name], TABLES[name], typed[name], settings.fiscal_year, problems)
    t = typed

    def num(v, default=Decimal(0)):
        return v if v is not None else default

    inputs = PlanInputs(
        settings=settings,
        quarters=_split(t["tblQuarterSplit"], "quarter"),
        regions_split=_split(t["tblRegionSplit"], "region"),
        products=_split(t["tblProductSplit"], "product"),
        regions=tuple(Region(r["region"], r["name"], r["manager"], r["email"], n)
                      for n, r in t["tblRegions"]),
        budget=tuple(BudgetLine(r["line_id"], r["line"], r["parent_id"], num(r["amount"]),
                                r["stated_ratio"], bool(r["itemised"]), r["spent_to_date"], n)
                     for n, r in t["tblBudget"]),
        kpi_scheme=tuple(Indicator(r["indicator"], r["group"], num(r["weight"]), r["target"],
                                   r["basis"], num(r["cap"], Decimal(1)), n)
                         for n, r in t["tblKpiScheme"]),
        team=tuple(Rep(r["rep_id"], r["name"], r["region"], r["role"], r["hire_date"],
                       r["end_date"], num(r["quota_weight"], Decimal(1)), num(r["base_bonus"]),
                       r["mentor_id"], n)
                   for n, r in t["tblTeam"]),
        actuals=tuple(Actual(r["rep_id"], r["quarter"], r["sales"], r["collections"],
                             r["receivables"], r["new_customers"], r["visits"], r["reports"],
                             r["training_rate"], r["mentee_conversion"], r["proposals"], n)
                      for n, r in t["tblActuals"]),
        improvement=tuple(Improvement(r["rep_id"], r["quarter"], (r["outcome"] or "").lower(), n)
                          for n, r in t["tblImprovement"]),
        cube_prior=tuple(PriorCell(r["region"], r["quarter"], r["product"], r["weight"], n)
                         for n, r in t["tblCubePrior"] if r["weight"] is not None),
    )
    try:
        validate(inputs)
    except InputError as e:
        # A cell already reported (unreadable, or against a rule) is not reported again
        # through what its blank stands-in made the relations look like.
        flagged = {(p.table, p.column) for p in problems.items}
        flagged_rows = {(p.table, p.row) for p in problems.items if p.row is not None}
        for p in e.problems:
            if (p.table, p.column) in flagged and (p.row is None or (p.table, p.row) in flagged_rows):
                continue
            if p.table == "tblPlan" and p.row is None and p.key in plan_rows:
                p = replace(p, row=plan_rows[p.key][0])
            problems.items.append(p)
    if problems:
        raise InputError(_order(locate(problems.items, raws)))
    return inputs


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
