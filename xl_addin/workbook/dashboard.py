"""The Dashboard sheet: the page a sales director opens first.

:func:`refresh_dashboard` rebuilds the whole sheet from the computed tables and the plan:

* eight headline cards (annual target as 2.8亿, growth, sales to date, bonuses paid, what is
  left of the excess-bonus pool, checks WARN / FAIL, reps on the watchlist, headcount);
* four small blocks of plain values: targets and sales by quarter, by region, the KPI
  score distribution, bonuses by region;
* four native Excel charts over those blocks.

The numbers are computed by :func:`dashboard_figures` (no workbook involved) and written as
values, so the sheet reads the same in Excel, LibreOffice and a file preview. The sheet is
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
from openpyxl.styles import Alignment, Border, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from .. import fmt
from ..model import QUARTERS, PlanInputs, plan_labels
from ..money import dec
from . import schema, styles

KPI_BUCKETS: tuple[tuple[str, Decimal | None], ...] = (
    ("<60", Decimal(60)), ("60-70", Decimal(70)), ("70-80", Decimal(80)),
    ("80-90", Decimal(90)), ("90-100", None))

FIRST_COL = 2            # column B; column A is a margin
CARD_COLS = 2            # each headline card spans two columns
COL_WIDTH = 11.5
CARD_ROW = 4
BLOCK_ROW = 8            # captions; headers one row below
CHART_WIDTH_CM, CHART_HEIGHT_CM = 21.5, 8.0
CHART_ROWS = 16          # rows a chart takes, with a blank row after it
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
    styles.print_landscape(ws)
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


def _write_cards(ws: Worksheet, f: Figures, lang: str) -> None:
    fill = styles.solid(styles.CARD_FILL)
    white = Side(style="medium", color=styles.WHITE)
    edge = Border(left=white, right=white)
    for n, (label, value, note, color) in enumerate(_cards(f, lang)):
        col = FIRST_COL + n * CARD_COLS
        for row, text, font in ((CARD_ROW, label, styles.font(lang, size=9, color=styles.MUTED)),
                                (CARD_ROW + 1, value, styles.font(lang, size=18, bold=True, color=color)),
                                (CARD_ROW + 2, note, styles.font(lang, size=8, color=styles.MUTED))):
            ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + CARD_COLS - 1)
            cell = ws.cell(row, col, text)
            cell.font = font
            cell.alignment = Alignment(horizontal="center", vertical="center")
            for c in range(col, col + CARD_COLS):
                ws.cell(row, c).fill = fill
                ws.cell(row, c).border = edge
    ws.row_dimensions[CARD_ROW + 1].height = 34


@dataclass
class Block:
    """A block of values on the sheet: where its header, categories and values sit."""

    header_row: int
    first_col: int
    last_row: int
    label_col: int
    value_cols: tuple[int, ...]


def _write_block(ws: Worksheet, col: int, caption: str, headers: Sequence[str],
                 rows: Sequence[Sequence[Any]], formats: Sequence[str], lang: str,
                 label_col: int = 0, value_cols: tuple[int, ...] = (1,)) -> Block:
    ws.cell(BLOCK_ROW, col, caption).font = styles.caption_font("out", lang)
    header = styles.header_look("out", lang)
    for j, h in enumerate(headers):
        header.apply(ws.cell(BLOCK_ROW + 1, col + j, h))
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            cell = ws.cell(BLOCK_ROW + 2 + i, col + j, v)
            look = styles.data_look(schema.TEXT if j == label_col else schema.NUM, "out", lang)
            look.apply(cell, formats[j])
    return Block(BLOCK_ROW + 1, col, BLOCK_ROW + 1 + len(rows),
                 col + label_col, tuple(col + v for v in value_cols))


def _ratio(a: Decimal | None, b: Decimal) -> Decimal | None:
    return a / b if a is not None and b else None


def _write_blocks(ws: Worksheet, f: Figures, lang: str) -> list[Block]:
    big = styles.big_amount_format(lang)
    pct = "0.0%"
    has_sales = any(s is not None for *_, s in f.quarters)
    quarter_rows = [(f"{q} {theme}".strip(), t, s, _ratio(s, t)) for q, theme, t, s in f.quarters]
    region_rows = [(name, t, s, _ratio(s, t)) for _, name, t, s in f.regions]
    sales_cols = (1, 2) if has_sales else (1,)
    blocks = [
        _write_block(ws, FIRST_COL, _t(lang, "季度目标与销售", "Targets and sales by quarter"),
                     [_t(lang, "季度", "Quarter"), _t(lang, "目标", "Target"),
                      _t(lang, "实际销售", "Sales"), _t(lang, "达成率", "Achieved")],
                     quarter_rows, ["@", big, big, pct], lang, value_cols=sales_cols),
        _write_block(ws, FIRST_COL + 5, _t(lang, "区域目标与销售", "Targets and sales by region"),
                     [_t(lang, "区域", "Region"), _t(lang, "全年目标", "Annual target"),
                      _t(lang, "累计销售", "Sales to date"), _t(lang, "完成率", "Done")],
                     region_rows, ["@", big, big, pct], lang, value_cols=sales_cols),
        _write_block(ws, FIRST_COL + 10, _t(lang, "KPI得分分布", "KPI score distribution"),
                     [_t(lang, "得分", "Score"), _t(lang, "人次", "Rep-quarters")],
                     f.kpi_buckets, ["@", "0"], lang),
        _write_block(ws, FIRST_COL + 13, _t(lang, "季度奖金（按区域）", "Bonuses by region"),
                     [_t(lang, "区域", "Region"), _t(lang, "奖金合计", "Total"), _t(lang, "占比", "Share")],
                     [(name, total, _ratio(total, f.bonus_total)) for _, name, total in f.bonus_by_region],
                     ["@", "#,##0", pct], lang),
    ]
    return blocks


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


def _axis(ws: Worksheet, block: Block, lang: str) -> str:
    """The axis format for a block's amounts, judged by its largest value."""
    values = [ws.cell(r, c).value for r in range(block.header_row + 1, block.last_row + 1)
              for c in block.value_cols]
    largest = max((float(v) for v in values if isinstance(v, (int, float, Decimal))), default=0.0)
    return styles.axis_amount_format(lang, largest)


def _write_charts(ws: Worksheet, blocks: list[Block], lang: str) -> None:
    quarter, region, kpi, bonus = blocks
    q = _bar(ws, quarter, _t(lang, "季度目标与实际销售", "Target and sales by quarter"),
             _axis(ws, quarter, lang), (TARGET_COLOR, ACTUAL_COLOR))
    r = _bar(ws, region, _t(lang, "区域全年目标与累计销售", "Annual target and sales by region"),
             _axis(ws, region, lang), (TARGET_COLOR, ACTUAL_COLOR))
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
    top = max(bl.last_row for bl in blocks) + 2
    left, right = get_column_letter(FIRST_COL), get_column_letter(FIRST_COL + 4 * CARD_COLS)
    ws.add_chart(q, f"{left}{top}")
    ws.add_chart(r, f"{right}{top}")
    ws.add_chart(k, f"{left}{top + CHART_ROWS}")
    ws.add_chart(b, f"{right}{top + CHART_ROWS}")


def refresh_dashboard(wb: Workbook, results: Mapping[str, pd.DataFrame], inputs: PlanInputs,
                      lang: str) -> None:
    """(Re)build the Dashboard sheet from the output tables in ``results`` (contract table
    name -> frame) and the plan. Replaces the sheet, so fetch it again from ``wb`` after."""
    f = dashboard_figures(results, inputs, lang)
    ws = _fresh_sheet(wb, lang)
    year = inputs.settings.fiscal_year
    ws["B1"] = _t(lang, f"{year}年销售计划 · 仪表板", f"Sales plan {year} · Dashboard")
    ws["B1"].font = styles.font(lang, size=18, bold=True, color=styles.TITLE_INK)
    ws.row_dimensions[1].height = 30
    hint = _t(lang, "本页由 xl-addin 自动生成（new / recalc），请勿在此页输入。金额单位：元；万 = 10,000 元，亿 = 100,000,000 元。",
              "Made by xl-addin (new / recalc); do not type on this sheet. Amounts in CNY; m = million.")
    ws["B2"] = hint
    ws["B2"].font = styles.hint_font(lang)
    _write_cards(ws, f, lang)
    blocks = _write_blocks(ws, f, lang)
    _write_charts(ws, blocks, lang)
