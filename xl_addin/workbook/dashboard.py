"""The Dashboard sheet: the page a sales director opens first.

:func:`refresh_dashboard` rebuilds the whole sheet from the computed tables and the plan:

* eight headline cards (annual target as 2.8亿, growth, sales to date, bonuses paid, what is
  left of the excess-bonus pool, checks WARN / FAIL, reps on the watchlist, headcount);
* four small blocks of plain values: targets and sales by quarter, by region, the KPI
  score distribution, bonuses by region;
* four native Excel charts over those blocks;
* a reconciliation block (对账) of live formulas over the output tables' current data
  ranges (``=SUM('季度奖金'!$J$5:$J$98)``, SUMIFS per region, COUNTIF of scores under the
  gate and of FAIL checks), each beside what it should equal and the difference.

The content is one pure function, :func:`dashboard_cells` (A1 address -> value, formulas
as :class:`Formula` strings), so a program that can only write cell values (the Excel
add-in through xlwings) refreshes the existing sheet with it; :func:`refresh_dashboard`
adds the look, merges and charts when it (re)builds the sheet. The charts read the block
cells, so a values-only refresh moves them too. The numbers are computed by
:func:`dashboard_figures` (no workbook involved) and written as values, so the sheet reads
the same in Excel, LibreOffice and a file preview; the formulas' results are computed here
as well (:func:`dashboard_formula_results`) and stored in the saved file
(the save stores them, :func:`xl_addin.ooxml.save_openpyxl`), so a preview that does not calculate shows them too. The sheet is
replaced on every call: calling twice leaves one set of cards, blocks and charts.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.marker import DataPoint
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..core import fmt
from ..core.model import QUARTERS, PlanInputs, plan_labels
from ..core.money import dec
from . import schema, styles
from .styles import CellLook
from .layout import HEADER_ROW, column_letter, plan_rows, refresh_print_areas, workbook_title
from .parse import norm_label
from .tables import set_value

KPI_BUCKETS: tuple[tuple[str, Decimal | None], ...] = (
    ("<60", Decimal(60)), ("60-70", Decimal(70)), ("70-80", Decimal(80)),
    ("80-90", Decimal(90)), ("90-100", None))

FIRST_COL = 2            # column B; column A is a margin
CARD_COLS = 2            # each headline card spans two columns
COL_WIDTH = 11.5
CARD_ROW = 4
BLOCK_ROW = 8            # captions; headers one row below
CHART_WIDTH_CM, CHART_HEIGHT_CM = 21.5, 7.0
CHART_ROWS = 14          # rows a chart takes, with a blank row after it
TARGET_COLOR, ACTUAL_COLOR = "9DC3E6", "2F5597"
PIE_COLORS = ("2F5597", "BF8F00", "548235", "C65911", "7F7F7F", "8FAADC", "FFD966", "A9D18E")


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


# ----------------------------------------------------------------------------- figures

@dataclass
class Figures:
    """Everything the Dashboard shows, computed from the results and the plan."""

    annual_target: Decimal
    prior_year: Decimal
    stated_growth: Decimal | None
    quarters: list[tuple[str, str, Decimal, Decimal | None]]      # code, theme, target, sales
    regions: list[tuple[str, str, Decimal, Decimal | None]]       # code, name, target, sales
    kpi_buckets: list[tuple[str, int]]
    bonus_by_region: list[tuple[str, str, Decimal]]               # code, name, total
    bonus_total: Decimal = Decimal(0)
    bonus_quarters: int = 0
    pool: Decimal = Decimal(0)
    pool_used: Decimal = Decimal(0)
    statuses: Counter = field(default_factory=Counter)
    watch_reps: int = 0
    improvement_reps: int = 0        # in an improvement period, or past one (reassign)
    headcount: int = 0
    hires: int = 0

    @property
    def growth(self) -> Decimal | None:
        return self.annual_target / self.prior_year - 1 if self.prior_year else None

    @property
    def pool_left(self) -> Decimal:
        return self.pool - self.pool_used

    @property
    def sales_to_date(self) -> Decimal | None:
        reported = [s for *_, s in self.quarters if s is not None]
        return sum(reported, Decimal(0)) if reported else None


def _frame(results: Mapping[str, pd.DataFrame], name: str, *columns: str) -> pd.DataFrame:
    """A result table, or an empty one when it is missing or lacks a needed column."""
    df = results.get(name)
    if df is None or any(c not in df.columns for c in columns):
        return pd.DataFrame(columns=list(columns))
    return df


def _number(v: Any) -> Decimal | None:
    if v is None:
        return None
    try:
        d = dec(v)
    except (TypeError, ValueError):
        return None
    return d if d.is_finite() else None


def _sum_by(df: pd.DataFrame, key: str, value: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for k, v in zip(df[key], df[value]):
        d = _number(v)
        if d is not None:
            out[str(k)] = out.get(str(k), Decimal(0)) + d
    return out


def _bucket(score: Decimal) -> int:
    for i, (_, upper) in enumerate(KPI_BUCKETS):
        if upper is None or score < upper:
            return i
    return len(KPI_BUCKETS) - 1


def _themes(year: int, lang: str) -> dict[str, str]:
    try:
        names = plan_labels(year)["quarters"]
    except FileNotFoundError:
        return {}
    return {q: (zh if lang == "zh" else en) for q, (zh, en) in names.items()}


def _ordered(first: Iterable[str], more: Iterable[str]) -> list[str]:
    out = list(dict.fromkeys(first))
    out += [k for k in dict.fromkeys(more) if k not in out]
    return out


def dashboard_figures(results: Mapping[str, pd.DataFrame], inputs: PlanInputs,
                      lang: str) -> Figures:
    """The Dashboard's numbers. ``results`` maps output table names to frames with contract
    columns (any may be missing or empty: a plan without a team yet)."""
    s = inputs.settings
    cube = _frame(results, "tblTargetCube", "region", "quarter", "target")
    if len(cube):
        q_target, r_target = _sum_by(cube, "quarter", "target"), _sum_by(cube, "region", "target")
    else:
        q_target = {l.key: l.amount for l in inputs.quarters}
        r_target = {l.key: l.amount for l in inputs.regions_split}
    rep_region = {r.rep_id: r.region for r in inputs.team}
    q_sales: dict[str, Decimal] = {}
    r_sales: dict[str, Decimal] = {}
    for a in inputs.actuals:
        if a.sales is None:
            continue
        q_sales[a.quarter] = q_sales.get(a.quarter, Decimal(0)) + a.sales
        region = rep_region.get(a.rep_id, "")
        r_sales[region] = r_sales.get(region, Decimal(0)) + a.sales
    themes = _themes(s.fiscal_year, lang)
    names = {r.region: r.name or r.region for r in inputs.regions}
    quarters = [(q, themes.get(q, ""), q_target.get(q, Decimal(0)), q_sales.get(q))
                for q in _ordered(QUARTERS, q_target)]
    any_sales = bool(r_sales)
    regions = [(r, names.get(r, r), r_target.get(r, Decimal(0)),
                r_sales.get(r, Decimal(0)) if any_sales else None)
               for r in _ordered(inputs.region_codes(), r_target)]

    kpi = _frame(results, "tblKpi", "kpi_score")
    counts = Counter(_bucket(d) for d in map(_number, kpi["kpi_score"]) if d is not None)
    bonus = _frame(results, "tblBonus", "region", "quarter", "excess_paid", "total")
    by_region = _sum_by(bonus, "region", "total")
    checks = _frame(results, "tblChecks", "status")
    watch = _frame(results, "tblWatchlist", "rep_id", "status")
    return Figures(
        annual_target=s.annual_target, prior_year=s.prior_year, stated_growth=s.stated_growth,
        quarters=quarters, regions=regions,
        kpi_buckets=[(label, counts.get(i, 0)) for i, (label, _) in enumerate(KPI_BUCKETS)],
        bonus_by_region=[(r, names.get(r, r), by_region.get(r, Decimal(0)))
                         for r in _ordered(inputs.region_codes(), by_region)],
        bonus_total=sum(by_region.values(), Decimal(0)),
        bonus_quarters=int(bonus["quarter"].nunique()) if len(bonus) else 0,
        pool=s.excess_pool,
        pool_used=sum((d for d in map(_number, bonus["excess_paid"]) if d is not None), Decimal(0)),
        statuses=Counter(str(x) for x in checks["status"]),
        watch_reps=int(watch["rep_id"].nunique()) if len(watch) else 0,
        improvement_reps=int(watch.loc[watch["status"] != "warning", "rep_id"].nunique())
        if len(watch) else 0,
        headcount=len(inputs.team),
        hires=sum(1 for r in inputs.team if r.hire_date and r.hire_date.year == s.fiscal_year),
    )


# ----------------------------------------------------------------------------- where the tables are

@dataclass(frozen=True)
class Place:
    """Where a table sits: its sheet, header row and each contract column's letter. For
    tblPlan also the row of each setting whose value cell holds a number."""

    sheet: str
    header_row: int
    columns: Mapping[str, str]
    keyed_rows: Mapping[str, int] = field(default_factory=dict)

    def column(self, key: str, n_rows: int) -> str:
        """The data range of column ``key`` for ``n_rows`` rows (a table always has at
        least one data row), sheet-qualified and absolute: ``'季度奖金'!$J$5:$J$98``."""
        col = self.columns[key]
        last = self.header_row + max(1, n_rows)
        return f"{_quoted(self.sheet)}!${col}${self.header_row + 1}:${col}${last}"

    def cell(self, key: str, row: int) -> str:
        return f"{_quoted(self.sheet)}!${self.columns[key]}${row}"


PLACED = ("tblPlan", "tblTargetCube", "tblRepTargets", "tblKpi", "tblBonus", "tblChecks")
"""The tables the reconciliation formulas read."""


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def _place(name: str, sheet: str, header_row: int, first_col: int, header: Sequence[Any],
           rows: Sequence[Sequence[Any]] = ()) -> Place | None:
    lookup = {}
    for c in schema.TABLES[name].columns:
        for label in (c.key, c.zh, c.en):
            lookup.setdefault(norm_label(label), c.key)
    columns: dict[str, str] = {}
    index: dict[str, int] = {}
    for j, h in enumerate(header):
        key = lookup.get(norm_label(h))
        if key and key not in columns:
            columns[key] = get_column_letter(first_col + j)
            index[key] = j
    if any(k not in columns for k in schema.TABLES[name].keys):
        return None
    keyed = {}
    if name == "tblPlan":
        for n, row in enumerate(rows):
            key, value = row[index["key"]], row[index["value"]]
            if isinstance(key, str) and key.strip() and _is_number(value):
                keyed.setdefault(key.strip(), header_row + 1 + n)
    return Place(sheet, header_row, columns, keyed)


def default_places(inputs: PlanInputs, lang: str) -> dict[str, Place]:
    """Where :func:`~.build.build_master` puts the tables (its layout, columns in
    contract order); tblPlan's rows follow :func:`~.layout.plan_rows`."""
    out = {}
    for name in PLACED:
        spec = schema.TABLES[name]
        sheet = schema.SHEETS[spec.sheet].title(lang)
        keyed = {}
        if name == "tblPlan":
            keyed = {row[0]: HEADER_ROW + 1 + n for n, row in enumerate(plan_rows(inputs.settings, lang))
                     if _is_number(row[1])}
        out[name] = Place(sheet, HEADER_ROW, {k: column_letter(name, k) for k in spec.keys}, keyed)
    return out


def places_from_workbook(wb: Workbook) -> dict[str, Place]:
    """Where the tables really are in an openpyxl workbook (users may move columns);
    a table that cannot be found falls back to :func:`default_places`' guess."""
    from openpyxl.utils.cell import range_boundaries

    from .tables import find_table

    out = {}
    for name in PLACED:
        try:
            ws, table = find_table(wb, name)
        except KeyError:
            continue
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        cells = list(ws.iter_rows(min_row=min_row, max_row=max_row if name == "tblPlan" else min_row,
                                  min_col=min_col, max_col=max_col, values_only=True))
        place = _place(name, ws.title, min_row, min_col, cells[0], cells[1:])
        if place is not None:
            out[name] = place
    return out


def places_from_raw(raws: Mapping[str, Any]) -> dict[str, Place]:
    """Where the tables are, from :class:`~.parse.RawTable` s as any book port reads them
    (``RunOutcome.raws``; an xlwings book gives the same)."""
    out = {}
    for name in PLACED:
        raw = raws.get(name)
        if raw is None:
            continue
        place = _place(name, raw.sheet, raw.origin[0], raw.origin[1], raw.header, raw.rows)
        if place is not None:
            out[name] = place
    return out


# ----------------------------------------------------------------------------- layout and content

class Formula(str):
    """A formula for a cell (``"=SUM(...)"``), told apart from text that merely starts
    with "=": write a Formula as a formula, any other text as text."""


@dataclass
class Block:
    """A block of values on the sheet: where its header, categories and values sit."""

    header_row: int
    first_col: int
    last_row: int
    label_col: int
    value_cols: tuple[int, ...]
    formats: tuple[str, ...] = ()


@dataclass
class ReconRow:
    """A row of the reconciliation block: a live formula and, optionally, what it is
    compared with and the difference; each with the result Python expects."""

    label: str
    formula: str
    value: Any
    number_format: str
    note: str = ""
    compare: str | None = None
    compare_value: Any = None
    row: int = 0
    alarm: str | None = None        # "diff": red unless the difference is 0; "negative": red below 0


@dataclass
class Content:
    """Everything the Dashboard holds: cell values by address, the formulas' expected
    results, and where the blocks and the reconciliation rows sit (for styling)."""

    figures: Figures
    cells: dict[str, Any]
    results: dict[str, Any]
    blocks: list[Block]
    block_rows: list[list[Sequence[Any]]]
    recon: list[ReconRow]
    recon_row: int
    chart_row: int


RECON_LABEL_COL = FIRST_COL          # label B (merged B:D), formula E, compare F, difference G, note H
RECON_VALUE_COL = FIRST_COL + 3
RECON_MERGE = 3
RECON_NOTE_MERGE = 7                 # the note spans H:N
TOLERANCE = "0.005"                  # a difference shown red from half a fen on


def _a1(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


def _ratio(a: Decimal | None, b: Decimal) -> Decimal | None:
    return a / b if a is not None and b else None


def _block_specs(f: Figures, lang: str) -> list[tuple[int, str, list[str], list[Sequence[Any]], list[str], tuple[int, ...]]]:
    """(first column, caption, headers, rows, formats, value columns) of the four blocks."""
    big = styles.big_amount_format(lang)
    pct = "0.0%"
    quarter_rows = [(f"{q} {theme}".strip(), t, s, _ratio(s, t)) for q, theme, t, s in f.quarters]
    region_rows = [(name, t, s, _ratio(s, t)) for _, name, t, s in f.regions]
    return [
        (FIRST_COL, _t(lang, "季度目标与销售", "Targets and sales by quarter"),
         [_t(lang, "季度", "Quarter"), _t(lang, "目标", "Target"),
          _t(lang, "实际销售", "Sales"), _t(lang, "达成率", "Achieved")],
         quarter_rows, ["@", big, big, pct], (1, 2)),
        (FIRST_COL + 5, _t(lang, "区域目标与销售", "Targets and sales by region"),
         [_t(lang, "区域", "Region"), _t(lang, "全年目标", "Annual target"),
          _t(lang, "累计销售", "Sales to date"), _t(lang, "完成率", "Done")],
         region_rows, ["@", big, big, pct], (1, 2)),
        (FIRST_COL + 10, _t(lang, "KPI得分分布", "KPI score distribution"),
         [_t(lang, "得分", "Score"), _t(lang, "人次", "Rep-quarters")],
         list(f.kpi_buckets), ["@", "0"], (1,)),
        (FIRST_COL + 13, _t(lang, "季度奖金（按区域）", "Bonuses by region"),
         [_t(lang, "区域", "Region"), _t(lang, "奖金合计", "Total"), _t(lang, "占比", "Share")],
         [(name, total, _ratio(total, f.bonus_total)) for _, name, total in f.bonus_by_region],
         ["@", "#,##0", pct], (1,)),
    ]


def _sum(df: pd.DataFrame, key: str, where: Any = None) -> Decimal:
    values = df[key] if where is None else df.loc[where, key]
    return sum((d for d in map(_number, values) if d is not None), Decimal(0))


def _literal(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def _criterion(text: str) -> str:
    return '"' + str(text).replace('"', '""') + '"'


def _reconciliation(results: Mapping[str, pd.DataFrame], inputs: PlanInputs, lang: str,
                    places: Mapping[str, Place], f: Figures, bonus_block: Block,
                    first_row: int) -> list[ReconRow]:
    """The reconciliation rows: live formulas over the output tables' current data
    ranges, each with the result computed here from ``results``."""
    s = inputs.settings
    cube = _frame(results, "tblTargetCube", "target")
    reps = _frame(results, "tblRepTargets", "sales_target")
    bonus = _frame(results, "tblBonus", "region", "excess_paid", "total")
    kpi = _frame(results, "tblKpi", "kpi_score")
    checks = _frame(results, "tblChecks", "status")
    plan = places["tblPlan"]

    def setting(key: str, value: Decimal) -> str:
        row = plan.keyed_rows.get(key)
        return plan.cell("value", row) if row else _literal(value)

    money, whole, count = "#,##0.00", "#,##0", "0"
    rng = lambda name, key, df: places[name].column(key, len(df))  # noqa: E731
    bonus_total, bonus_region = rng("tblBonus", "total", bonus), rng("tblBonus", "region", bonus)
    regions = [(code, name) for code, name, _ in f.bonus_by_region]
    r_first = first_row + 3
    r_last = r_first + len(regions) - 1
    rows = [
        ReconRow(_t(lang, "目标分解合计", "Target cube total"),
                 f"=SUM({rng('tblTargetCube', 'target', cube)})", _sum(cube, "target"), whole,
                 _t(lang, "对照：计划表的年度目标", "vs the Plan's annual target"),
                 f"={setting('annual_target', s.annual_target)}", s.annual_target, alarm="diff"),
        ReconRow(_t(lang, "个人目标合计", "Rep targets total"),
                 f"=SUM({rng('tblRepTargets', 'sales_target', reps)})", _sum(reps, "sales_target"),
                 whole, _t(lang, "对照：目标分解合计（差额 = 无人承接的目标）",
                           "vs the target cube total (difference = targets nobody carries)"),
                 f"={_a1(first_row, RECON_VALUE_COL)}", _sum(cube, "target"), alarm="diff"),
        ReconRow(_t(lang, "季度奖金合计", "Quarterly bonuses total"), f"=SUM({bonus_total})",
                 _sum(bonus, "total"), money,
                 _t(lang, "对照：以下各区域奖金之和", "vs the sum of the regions below"),
                 f"=SUM({_a1(r_first, RECON_VALUE_COL)}:{_a1(r_last, RECON_VALUE_COL)})"
                 if regions else None, None, alarm="diff"),
    ]
    region_sums = []
    folded = bonus["region"].astype(str).str.casefold() if regions else None
    for n, (code, name) in enumerate(regions):
        mask = folded == str(code).casefold()
        value = _sum(bonus, "total", mask)
        region_sums.append(value)
        rows.append(ReconRow(
            _t(lang, f"区域奖金 · {name}", f"Bonuses · {name}"),
            f"=SUMIFS({bonus_total},{bonus_region},{_criterion(code)})", value, money,
            _t(lang, f"对照：上方“季度奖金（按区域）”的{name}", f"vs {name} in Bonuses by region above"),
            f"={_a1(bonus_block.header_row + 1 + n, bonus_block.value_cols[0])}",
            f.bonus_by_region[n][2], alarm="diff"))
    if regions:
        rows[2].compare_value = sum(region_sums, Decimal(0))
    pool_row = first_row + len(rows)
    used = _sum(bonus, "excess_paid")
    gate = s.base_gate
    under = sum(1 for d in map(_number, kpi["kpi_score"]) if d is not None and d < gate)
    statuses = Counter(str(x).casefold() for x in checks["status"])
    rows += [
        ReconRow(_t(lang, "超额奖池（计划）", "Excess pool (plan)"),
                 f"={setting('excess_pool', s.excess_pool)}", s.excess_pool, whole,
                 _t(lang, "计划表的全年超额奖励池", "the year's pool on the Plan")),
        ReconRow(_t(lang, "超额奖金已发", "Excess bonus paid"),
                 f"=SUM({rng('tblBonus', 'excess_paid', bonus)})", used, money,
                 _t(lang, "季度奖金表“超额奖金(实发)”之和", "sum of Excess paid on the Bonus sheet")),
        ReconRow(_t(lang, "超额奖池剩余", "Excess pool left"),
                 f"={_a1(pool_row, RECON_VALUE_COL)}-{_a1(pool_row + 1, RECON_VALUE_COL)}",
                 s.excess_pool - used, money,
                 _t(lang, "奖池 − 已发，不应为负", "pool minus paid; never below zero"),
                 alarm="negative"),
        ReconRow(_t(lang, "KPI得分低于门槛（人次）", "KPI scores under the gate"),
                 f'=COUNTIF({rng("tblKpi", "kpi_score", kpi)},"<"&{setting("base_gate", gate)})',
                 under, count,
                 _t(lang, f"门槛 = 计划表 base_gate（{_literal(gate)} 分）",
                    f"gate = base_gate on the Plan ({_literal(gate)})")),
        ReconRow(_t(lang, "检查“不通过”项", "Checks FAIL"),
                 f'=COUNTIF({rng("tblChecks", "status", checks)},"FAIL")',
                 statuses.get("fail", 0), count,
                 _t(lang, "检查结果表中状态为 FAIL 的行", "rows of the Checks table with status FAIL")),
        ReconRow(_t(lang, "检查“注意”项", "Checks WARN"),
                 f'=COUNTIF({rng("tblChecks", "status", checks)},"WARN")',
                 statuses.get("warn", 0), count,
                 _t(lang, "检查结果表中状态为 WARN 的行", "rows of the Checks table with status WARN")),
    ]
    for n, r in enumerate(rows):
        r.row = first_row + n
    return rows


def _content(results: Mapping[str, pd.DataFrame], inputs: PlanInputs, lang: str,
             places: Mapping[str, Place] | None) -> Content:
    f = dashboard_figures(results, inputs, lang)
    found = dict(places or {})
    places = {**default_places(inputs, lang), **found}
    cells: dict[str, Any] = {}
    year = inputs.settings.fiscal_year
    cells["B1"] = _t(lang, f"{year}年销售计划 · 仪表板", f"Sales plan {year} · Dashboard")
    cells["B2"] = _t(lang, "本页由 xl-addin 自动生成（new / recalc），请勿在此页输入。金额单位：元；"
                           "万 = 10,000 元，亿 = 100,000,000 元。",
                     "Made by xl-addin (new / recalc); do not type on this sheet. Amounts in "
                     "CNY; m = million.")
    for n, (label, value, note, _) in enumerate(_cards(f, lang)):
        col = FIRST_COL + n * CARD_COLS
        for row, text in ((CARD_ROW, label), (CARD_ROW + 1, value), (CARD_ROW + 2, note)):
            cells[_a1(row, col)] = text
    blocks, block_rows = [], []
    for col, caption, headers, rows, formats, value_cols in _block_specs(f, lang):
        cells[_a1(BLOCK_ROW, col)] = caption
        for j, h in enumerate(headers):
            cells[_a1(BLOCK_ROW + 1, col + j)] = h
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                cells[_a1(BLOCK_ROW + 2 + i, col + j)] = v
        blocks.append(Block(BLOCK_ROW + 1, col, BLOCK_ROW + 1 + len(rows), col,
                            tuple(col + v for v in value_cols), tuple(formats)))
        block_rows.append(rows)
    chart_row = max(b.last_row for b in blocks) + 2
    recon_row = chart_row + 2 * CHART_ROWS + 1
    recon = _reconciliation(results, inputs, lang, places, f, blocks[3], recon_row + 3)
    cells[_a1(recon_row, RECON_LABEL_COL)] = _t(lang, "对账 · 实时公式", "Reconciliation · live formulas")
    cells[_a1(recon_row + 1, RECON_LABEL_COL)] = _t(
        lang, "以下数值是直接汇总各计算表的公式，Excel、WPS 和 LibreOffice 打开文件时重新计算；差额应为 0。",
        "These cells are formulas over the computed tables, recalculated when Excel, WPS or "
        "LibreOffice opens the file; every difference should be 0.")
    headers = [_t(lang, "项目", "Item"), _t(lang, "公式结果", "Formula"), _t(lang, "对照值", "Expected"),
               _t(lang, "差额", "Difference"), _t(lang, "说明", "Note")]
    for j, h in zip((0, 3, 4, 5, 6), headers):
        cells[_a1(recon_row + 2, RECON_LABEL_COL + j)] = h
    results_by_cell: dict[str, Any] = {}
    v, c, d = (get_column_letter(RECON_VALUE_COL + k) for k in range(3))
    for r in recon:
        cells[_a1(r.row, RECON_LABEL_COL)] = r.label
        cells[f"{v}{r.row}"] = Formula(r.formula)
        results_by_cell[f"{v}{r.row}"] = r.value
        if r.compare is not None:
            cells[f"{c}{r.row}"] = Formula(r.compare)
            cells[f"{d}{r.row}"] = Formula(f"={v}{r.row}-{c}{r.row}")
            results_by_cell[f"{c}{r.row}"] = r.compare_value
            results_by_cell[f"{d}{r.row}"] = r.value - r.compare_value
        else:
            cells[f"{c}{r.row}"] = cells[f"{d}{r.row}"] = None
        cells[_a1(r.row, RECON_VALUE_COL + 3)] = r.note
    return Content(f, cells, results_by_cell, blocks, block_rows, recon, recon_row, chart_row)


def dashboard_cells(results: Mapping[str, pd.DataFrame], inputs: PlanInputs, lang: str,
                    places: Mapping[str, Place] | None = None) -> dict[str, Any]:
    """Every value of the Dashboard by A1 address: title, cards, the four blocks and the
    reconciliation block, whose live formulas are :class:`Formula` strings (``"=SUM(...)"``).

    Pure: no workbook involved, so any program that can write cells refreshes the sheet
    with it (the Excel add-in writes these values into the existing sheet; its charts
    point at the block cells, so they follow). The addresses depend only on the number of
    quarters and regions; a blank cell is listed as None, so writing every item also
    clears what a previous run left. ``places`` says where the tables are
    (:func:`places_from_workbook`, :func:`places_from_raw`); by default where
    :func:`~.build.build_master` puts them. Write a :class:`Formula` as a formula and any
    other text as text (quote it when it starts with =, +, - or @)."""
    return _content(results, inputs, lang, places).cells


def dashboard_formula_results(results: Mapping[str, pd.DataFrame], inputs: PlanInputs,
                              lang: str, places: Mapping[str, Place] | None = None
                              ) -> dict[str, Any]:
    """The result each formula of :func:`dashboard_cells` gives, computed here from
    ``results`` (exact Decimal for money, int for counts), by A1 address."""
    return _content(results, inputs, lang, places).results


# ----------------------------------------------------------------------------- the sheet

def _fresh_sheet(wb: Workbook, lang: str) -> Worksheet:
    """An empty Dashboard sheet in the Dashboard's place (first, unless moved)."""
    sheet = schema.SHEETS["dashboard"]
    index = 0
    for title in (sheet.title(lang), sheet.zh, sheet.en):
        if title in wb.sheetnames:
            old = wb[title]
            index = wb.index(old)
            wb.remove(old)
            break
    ws = wb.create_sheet(sheet.title(lang), index)
    ws.sheet_view.tabSelected = wb.active is ws
    ws.sheet_view.showGridLines = False
    ws.sheet_properties.tabColor = styles.TAB_COLORS["dashboard"]
    ws.column_dimensions["A"].width = 2
    for c in range(FIRST_COL, FIRST_COL + 8 * CARD_COLS):
        ws.column_dimensions[get_column_letter(c)].width = COL_WIDTH
    return ws


def _money_text(amount: Decimal | None, lang: str) -> str:
    return "—" if amount is None else fmt.wan_yi(amount, lang)


def _cards(f: Figures, lang: str) -> list[tuple[str, str, str, str]]:
    """(label, value, note, colour) of each headline card."""
    st = f.statuses
    checks_color = styles.BAD if st.get("FAIL") else styles.WARN if st.get("WARN") else styles.GOOD
    sales = f.sales_to_date
    done = fmt.percent(sales / f.annual_target) if sales is not None and f.annual_target else "—"
    stated = fmt.percent(f.stated_growth, 0) if f.stated_growth is not None else "—"
    return [
        (_t(lang, "年度目标", "Annual target"), fmt.wan_yi(f.annual_target, lang),
         _t(lang, f"上年 {fmt.wan_yi(f.prior_year, lang)}", f"prior year {fmt.wan_yi(f.prior_year, lang)}"),
         styles.TITLE_INK),
        (_t(lang, "同比增长", "Growth"), fmt.percent(f.growth),
         _t(lang, f"计划写明 {stated}", f"stated in the plan {stated}"), styles.TITLE_INK),
        (_t(lang, "累计销售", "Sales to date"), _money_text(sales, lang),
         _t(lang, f"完成全年目标 {done}", f"{done} of the annual target"), styles.OUTPUT_HEADER),
        (_t(lang, "已发季度奖金", "Bonuses paid"), _money_text(f.bonus_total, lang),
         _t(lang, f"{f.bonus_quarters} 个季度", f"{f.bonus_quarters} quarter(s)"), styles.OUTPUT_HEADER),
        (_t(lang, "超额奖池剩余", "Excess pool left"), _money_text(f.pool_left, lang),
         _t(lang, f"已用 {_money_text(f.pool_used, lang)} / 共 {_money_text(f.pool, lang)}",
            f"used {_money_text(f.pool_used, lang)} of {_money_text(f.pool, lang)}"),
         styles.BAD if f.pool_left <= 0 else styles.OUTPUT_HEADER),
        (_t(lang, "检查：注意 / 不通过", "Checks: WARN / FAIL"),
         f"{st.get('WARN', 0)} / {st.get('FAIL', 0)}",
         _t(lang, f"共 {sum(st.values())} 项，通过 {st.get('OK', 0)} 项",
            f"{sum(st.values())} checks, {st.get('OK', 0)} OK"), checks_color),
        (_t(lang, "观察名单", "Watchlist"), _t(lang, f"{f.watch_reps} 人", f"{f.watch_reps}"),
         _t(lang, f"其中改进期或调岗 {f.improvement_reps} 人",
            f"{f.improvement_reps} in improvement or reassign"),
         styles.BAD if f.improvement_reps else styles.WARN if f.watch_reps else styles.GOOD),
        (_t(lang, "团队人数", "Headcount"), _t(lang, f"{f.headcount} 人", f"{f.headcount}"),
         _t(lang, f"本年新招 {f.hires} 人", f"{f.hires} hired this year"), styles.TITLE_INK),
    ]


def _style_cards(ws: Worksheet, f: Figures, lang: str) -> None:
    fill = styles.solid(styles.CARD_FILL)
    white = Side(style="medium", color=styles.WHITE)
    edge = Border(left=white, right=white)
    for n, (*_, color) in enumerate(_cards(f, lang)):
        col = FIRST_COL + n * CARD_COLS
        for row, font in ((CARD_ROW, styles.font(lang, size=9, color=styles.MUTED)),
                          (CARD_ROW + 1, styles.font(lang, size=18, bold=True, color=color)),
                          (CARD_ROW + 2, styles.font(lang, size=8, color=styles.MUTED))):
            ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + CARD_COLS - 1)
            cell = ws.cell(row, col)
            cell.font = font
            cell.alignment = Alignment(horizontal="center", vertical="center")
            for c in range(col, col + CARD_COLS):
                ws.cell(row, c).fill = fill
                ws.cell(row, c).border = edge
    ws.row_dimensions[CARD_ROW + 1].height = 34


def _style_blocks(ws: Worksheet, content: Content, lang: str) -> None:
    header = styles.header_look("out", lang)
    for block, rows in zip(content.blocks, content.block_rows):
        col = block.first_col
        ws.cell(BLOCK_ROW, col).font = styles.caption_font("out", lang)
        for j in range(len(block.formats)):
            header.apply(ws.cell(BLOCK_ROW + 1, col + j))
        for i in range(len(rows)):
            for j, number_format in enumerate(block.formats):
                kind = schema.TEXT if col + j == block.label_col else schema.NUM
                styles.data_look(kind, "out", lang).apply(ws.cell(BLOCK_ROW + 2 + i, col + j), number_format)


def _style_reconciliation(ws: Worksheet, content: Content, lang: str) -> None:
    top = content.recon_row
    ws.cell(top, RECON_LABEL_COL).font = styles.caption_font("out", lang)
    ws.cell(top + 1, RECON_LABEL_COL).font = styles.hint_font(lang)
    header = styles.header_look("out", lang)
    label_end = RECON_LABEL_COL + RECON_MERGE - 1
    note_col = RECON_VALUE_COL + 3
    ws.merge_cells(start_row=top + 2, start_column=RECON_LABEL_COL, end_row=top + 2, end_column=label_end)
    for c in (*range(RECON_LABEL_COL, label_end + 1), RECON_VALUE_COL, RECON_VALUE_COL + 1,
              RECON_VALUE_COL + 2):
        header.apply(ws.cell(top + 2, c))
    note_end = note_col + RECON_NOTE_MERGE - 1
    ws.merge_cells(start_row=top + 2, start_column=note_col, end_row=top + 2, end_column=note_end)
    for c in range(note_col, note_end + 1):
        header.apply(ws.cell(top + 2, c))
    text = styles.data_look(schema.TEXT, "out", lang)
    note = CellLook(styles.font(lang, size=9, color=styles.MUTED), text.fill, text.border,
                    Alignment(horizontal="left", vertical="center", indent=1), "General")
    number = styles.data_look(schema.NUM, "out", lang)
    for r in content.recon:
        ws.merge_cells(start_row=r.row, start_column=RECON_LABEL_COL, end_row=r.row, end_column=label_end)
        ws.merge_cells(start_row=r.row, start_column=note_col, end_row=r.row, end_column=note_end)
        for c in range(RECON_LABEL_COL, label_end + 1):
            text.apply(ws.cell(r.row, c))
        for c in range(RECON_VALUE_COL, RECON_VALUE_COL + 3):
            number.apply(ws.cell(r.row, c), r.number_format)
        for c in range(note_col, note_end + 1):
            note.apply(ws.cell(r.row, c))
    bad = DifferentialStyle(font=Font(color=styles.BAD, bold=True), fill=styles.solid(styles.BAD_FILL))
    for r in content.recon:
        if r.alarm == "diff":
            target = _a1(r.row, RECON_VALUE_COL + 2)
            rule = Rule(type="expression", dxf=bad, formula=[f"ABS({target})>={TOLERANCE}"])
        elif r.alarm == "negative":
            target = _a1(r.row, RECON_VALUE_COL)
            rule = Rule(type="expression", dxf=bad, formula=[f"{target}<0"])
        else:
            continue
        ws.conditional_formatting.add(target, rule)


# ----------------------------------------------------------------------------- charts

def _bar(ws: Worksheet, block: Block, title: str, y_format: str, colors: Sequence[str]) -> BarChart:
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = title
    chart.style = 10
    chart.width, chart.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
    for n, col in enumerate(block.value_cols):
        data = Reference(ws, min_col=col, min_row=block.header_row, max_row=block.last_row)
        chart.add_data(data, titles_from_data=True)
        chart.series[-1].graphicalProperties = GraphicalProperties(solidFill=colors[n % len(colors)])
    chart.set_categories(Reference(ws, min_col=block.label_col, min_row=block.header_row + 1,
                                   max_row=block.last_row))
    chart.y_axis.number_format = y_format
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    if len(block.value_cols) == 1:
        chart.legend = None
    return chart


def _pie(ws: Worksheet, block: Block, title: str) -> PieChart:
    chart = PieChart()
    chart.title = title
    chart.width, chart.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
    chart.add_data(Reference(ws, min_col=block.value_cols[0], min_row=block.header_row,
                             max_row=block.last_row), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=block.label_col, min_row=block.header_row + 1,
                                   max_row=block.last_row))
    series = chart.series[0]
    for i in range(block.last_row - block.header_row):
        point = DataPoint(idx=i)
        point.graphicalProperties.solidFill = PIE_COLORS[i % len(PIE_COLORS)]
        series.dPt.append(point)
    series.dLbls = DataLabelList()
    series.dLbls.showPercent = True
    series.dLbls.showVal = False
    series.dLbls.showCatName = False
    series.dLbls.showSerName = False
    series.dLbls.showLeaderLines = False
    chart.legend.position = "r"
    return chart


def _axis(block: Block, rows: Sequence[Sequence[Any]], lang: str) -> str:
    """The axis format for a block's amounts, judged by its largest value."""
    offsets = [c - block.first_col for c in block.value_cols]
    values = [row[j] for row in rows for j in offsets]
    largest = max((float(v) for v in values if _is_number(v)), default=0.0)
    return styles.axis_amount_format(lang, largest)


def _write_charts(ws: Worksheet, content: Content, lang: str) -> None:
    quarter, region, kpi, bonus = content.blocks
    q_rows, r_rows, *_ = content.block_rows
    q = _bar(ws, quarter, _t(lang, "季度目标与实际销售", "Target and sales by quarter"),
             _axis(quarter, q_rows, lang), (TARGET_COLOR, ACTUAL_COLOR))
    r = _bar(ws, region, _t(lang, "区域全年目标与累计销售", "Annual target and sales by region"),
             _axis(region, r_rows, lang), (TARGET_COLOR, ACTUAL_COLOR))
    k = _bar(ws, kpi, _t(lang, "KPI得分分布（人次）", "KPI scores (rep-quarters)"), "0",
             (ACTUAL_COLOR,))
    under = DataPoint(idx=0)
    under.graphicalProperties.solidFill = styles.BAD
    k.series[0].dPt.append(under)
    k.series[0].dLbls = DataLabelList()
    k.series[0].dLbls.showVal = True
    for flag in ("showPercent", "showCatName", "showSerName", "showLegendKey"):
        setattr(k.series[0].dLbls, flag, False)
    b = _pie(ws, bonus, _t(lang, "季度奖金区域占比", "Bonuses by region"))
    top = content.chart_row
    left, right = get_column_letter(FIRST_COL), get_column_letter(FIRST_COL + 4 * CARD_COLS)
    ws.add_chart(q, f"{left}{top}")
    ws.add_chart(r, f"{right}{top}")
    ws.add_chart(k, f"{left}{top + CHART_ROWS}")
    ws.add_chart(b, f"{right}{top + CHART_ROWS}")


def _print_and_protect(ws: Worksheet, content: Content, inputs: PlanInputs, lang: str,
                       results: Mapping[str, pd.DataFrame]) -> None:
    """The whole Dashboard on one landscape page (cards, blocks, charts and the
    reconciliation); the other sheets' print areas follow their tables
    (:func:`.layout.refresh_print_areas`); the sheet and every other output sheet of the
    workbook protected with the Plan's current password (:func:`.protection.protect_master`)."""
    from .protection import protect_master

    if results:
        refresh_print_areas(ws.parent, results)

    last_row = max([r.row for r in content.recon] or [content.recon_row + 2])
    last_col = FIRST_COL + 8 * CARD_COLS - 1
    styles.print_setup(ws, workbook_title(inputs.settings.fiscal_year, lang), lang,
                       width=styles.columns_width(ws, 1, last_col), confidential=True,
                       print_area=f"A1:{get_column_letter(last_col)}{last_row}",
                       one_page=True, landscape=True)
    protect_master(ws.parent, inputs.settings, lang)


def write_cells(ws: Worksheet, cells: Mapping[str, Any]) -> None:
    """Write :func:`dashboard_cells` into ``ws``: a :class:`Formula` as a formula, other
    text as text (never evaluated), numbers and blanks as they are."""
    for address, value in cells.items():
        cell = ws[address]
        if isinstance(value, Formula):
            cell.value = str(value)
        else:
            set_value(cell, value)


def refresh_dashboard(wb: Workbook, results: Mapping[str, pd.DataFrame], inputs: PlanInputs,
                      lang: str) -> dict[tuple[str, str], Any]:
    """(Re)build the Dashboard sheet from the output tables in ``results`` (contract table
    name -> frame) and the plan. Replaces the sheet, so fetch it again from ``wb`` after.

    The cells come from :func:`dashboard_cells` (formulas read the tables where
    :func:`places_from_workbook` finds them); the look, merges, conditional formats and
    charts are made here. Returns the formulas' results, (sheet title, "A1") -> value, for
    the save to store in the file (``save_atomic(..., results=...)``)."""
    content = _content(results, inputs, lang, places_from_workbook(wb))
    ws = _fresh_sheet(wb, lang)
    ws["B1"].font = styles.font(lang, size=18, bold=True, color=styles.TITLE_INK)
    ws.row_dimensions[1].height = 30
    ws["B2"].font = styles.hint_font(lang)
    _style_cards(ws, content.figures, lang)
    _style_blocks(ws, content, lang)
    _style_reconciliation(ws, content, lang)
    write_cells(ws, content.cells)
    for address, value in content.cells.items():
        if isinstance(value, str) and not isinstance(value, Formula):
            # Text format: a values-only refresh (Excel's range.values) keeps "25.0%" or
            # "3 / 0" as the text it is instead of parsing it into a number or a date.
            ws[address].number_format = "@"
    _write_charts(ws, content, lang)
    _print_and_protect(ws, content, inputs, lang, results)
    return {(ws.title, address): value for address, value in content.results.items()}
