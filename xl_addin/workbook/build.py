"""The master planning workbook, built from a :class:`~xl_addin.model.PlanInputs`.

Layout (the contract fixes table names and column keys, not places; this is ours):

* one sheet per :data:`schema.SHEETS` entry, in that order, titled in the workbook's
  language; row 1 a title, row 2 a one-line hint, row 3 the caption of each table and
  row 4 every table's header;
* tables sharing a sheet stand side by side, one blank column apart, all with their header
  on row 4, so output tables grow downward without ever meeting another table;
* input tables are yellow with a gold header, outputs blue, the run log grey;
* drop-down lists on every code column of the input tables (2,000 rows deep, so new rows
  get them too) and conditional formats on the outputs (KPI under the gate, WARN/FAIL
  checks, watchlist statuses).

:func:`table_layout` says where each table sits; :func:`input_rows` turns the plan model
into the rows of the input tables.
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..core.model import BASE_MODES, BASES, INDICATORS, OUTCOMES, QUARTERS, ROLES, PlanInputs
from . import schema, styles
from .cover import add_cover, text_units
from .dashboard import refresh_dashboard
from .protection import protect_master
from .layout import (CAPTION_ROW, FIRST_DATA_ROW, GAP_WIDTH, HEADER_ROW, LAST_ROW,
                     PLAN_VALUE_WIDTH, TITLE_ROW, VALIDATION_ROWS, column_letter,
                     plan_rows, refresh_print_areas, table_layout, workbook_title)
from .tables import add_table

OUTCOME_CODES = tuple(o for o in OUTCOMES if o)



# ----------------------------------------------------------------------------- texts

def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


SHEET_HINTS: dict[str, tuple[str, str]] = {
    "dashboard": ("本页由 xl-addin 自动生成（new / recalc），请勿在此页输入。",
                  "Made by xl-addin (new / recalc); do not type on this sheet."),
    "plan": ("黄色单元格是输入：改完参数后运行 xl-addin recalc。金额单位为元，比例按小数填写（3% 填 0.03）。",
             "Yellow cells are inputs: change a value, then run xl-addin recalc. Money in yuan; "
             "ratios as fractions (3% = 0.03)."),
    "targets": ("左边三张表是计划的目标分解（输入，各表金额合计应等于年度目标）；最右边是计算出的区域×季度×产品目标。",
                "Left: the plan's three splits (inputs; each adds up to the annual target). "
                "Right: the computed region x quarter x product targets."),
    "budget": ("按科目填写预算；年内请更新“累计支出”列。已全部细分 = 下级科目合计应等于本科目。",
               "One row per budget line; update Spent to date during the year. Itemised = "
               "the children add up to the line."),
    "team": ("每人一行：新员工填写入职日期和导师工号，离职员工填写离职日期；区域表列出各区域经理及邮箱。",
             "One row per person: hires get a hire date and a mentor, leavers an end date. "
             "Regions list each region's manager and mailbox."),
    "kpi_scheme": ("指标权重合计为100；季度目标按满勤季度填写，计数类目标按在岗天数折算。",
                   "Weights add up to 100; targets are per full quarter (counts scale with "
                   "the days employed)."),
    "actuals": ("每季度结束后，为每位在岗的销售人员填写一行。填了销售额即视为已上报，其余数据须填全（为零填 0）。",
                "After each quarter, one row per employed quota carrier. A row with sales is "
                "reported: fill every other figure too (0 when zero)."),
    "rep_targets": ("计算结果：区域季度目标按 指标权重×在岗比例 分到每个人，合计精确到元。",
                    "Computed: each region-quarter target split by quota weight x active "
                    "fraction, exact to the yuan."),
    "kpi": ("计算结果：达成率封顶100%；得分低于 {gate} 分标红。",
            "Computed: achievements capped at 100%; scores under {gate} in red."),
    "bonus": ("计算结果：季度奖金 = 基础奖金 + 超额奖金 + 单项奖；超额奖金从全年奖池中支付。",
              "Computed: quarterly bonus = base + excess + single-item awards; the excess is "
              "paid from the year's pool."),
    "awards": ("计算结果：第四季度数据录入前均为暂定。",
               "Computed: provisional until Q4 is in."),
    "watchlist": ("计算结果：连续两个季度得分低于 {gate} 分进入改进期，由区域经理负责。",
                  "Computed: two consecutive quarters under {gate} start an improvement "
                  "period owned by the region's manager."),
    "checks": ("计算结果：计划数与计算数逐项核对；注意 (WARN) 标黄，不通过 (FAIL) 标红。",
               "Computed: every stated figure against the computed one; WARN amber, FAIL red."),
    "run_log": ("每次运行 xl-addin 自动追加一行。", "xl-addin adds a row on every run."),
}

# How a setting's value is shown (a column kind of the schema); others stay General.
SETTING_KINDS = {
    **dict.fromkeys(("annual_target", "prior_year", "excess_pool", "new_customer_award",
                     "collection_award", "champion_award", "growth_award", "team_award"),
                    schema.YUAN),
    **dict.fromkeys(("stated_growth", "excess_rate", "collection_threshold", "spend_lead_warn"),
                    schema.SHARE),
    "as_of_date": schema.DATE,
}


# ----------------------------------------------------------------------------- input rows

def _blank(v: Any) -> Any:
    return None if v == "" else v


def input_rows(inputs: PlanInputs, lang: str) -> dict[str, list[list[Any]]]:
    """The rows of every input table, in contract column order."""
    split = lambda lines: [[s.key, s.amount, s.stated_share] for s in lines]  # noqa: E731
    return {
        "tblPlan": plan_rows(inputs.settings, lang),
        "tblQuarterSplit": split(inputs.quarters),
        "tblRegionSplit": split(inputs.regions_split),
        "tblProductSplit": split(inputs.products),
        "tblCubePrior": [[c.region, c.quarter, c.product, c.weight] for c in inputs.cube_prior],
        "tblRegions": [[r.region, r.name, _blank(r.manager), _blank(r.email)] for r in inputs.regions],
        "tblTeam": [[r.rep_id, r.name, r.region, r.role, r.hire_date, r.end_date, r.quota_weight,
                     r.base_bonus, _blank(r.mentor_id)] for r in inputs.team],
        "tblBudget": [[b.line_id, b.line, _blank(b.parent_id), b.amount, b.stated_ratio,
                       b.itemised, b.spent_to_date] for b in inputs.budget],
        "tblKpiScheme": [[i.indicator, i.group, i.weight, i.target, i.basis, i.cap]
                         for i in inputs.kpi_scheme],
        "tblActuals": [[a.rep_id, a.quarter, a.sales, a.collections, a.receivables,
                        a.new_customers, a.visits, a.reports, a.training_rate,
                        a.mentee_conversion, a.proposals] for a in inputs.actuals],
        "tblImprovement": [[i.rep_id, i.quarter, _blank(i.outcome)] for i in inputs.improvement],
    }


# ----------------------------------------------------------------------------- sheets

def _sheet_frame(ws: Worksheet, key: str, year: int, lang: str, gate: Any) -> None:
    """Title, hint, page setup and tab colour of a sheet."""
    sheet = schema.SHEETS[key]
    ws["A1"] = f"{workbook_title(year, lang)} · {sheet.title(lang)}"
    ws["A1"].font = styles.title_font(lang)
    ws["A2"] = _t(lang, *SHEET_HINTS[key]).format(gate=_plain(gate))
    ws["A2"].font = styles.hint_font(lang)
    ws.row_dimensions[TITLE_ROW].height = 26
    directions = {schema.TABLES[n].direction for n, _ in table_layout().get(key, ())}
    tab = "dashboard" if key == "dashboard" else ("in" if "in" in directions else
                                                  "log" if "log" in directions else "out")
    ws.sheet_properties.tabColor = styles.TAB_COLORS[tab]


# Sheets whose page header says 机密 / Confidential: they hold pay (base bonuses, bonuses,
# award money; the Dashboard's bonus totals).
CONFIDENTIAL = frozenset({"dashboard", "team", "bonus", "awards"})
# A sheet prints portrait when its width fits a portrait page at this scale or more.
PORTRAIT_FIT = 0.85
# Sheets printed in column strips (left to right), each strip starting at this table:
# 目标分解 holds five tables side by side, too wide for one page at a readable size.
STRIPS = {"targets": ("tblCubePrior",)}
# Column widths print wider than their nominal units (cell padding, font substitution):
# a strip's scale leaves this much of the page for them (measured with LibreOffice).
STRIP_MARGIN = 0.7


def _table_columns(key: str) -> list[tuple[str, int, int]]:
    """(table, first column, last column) of each table on sheet ``key``, left to right."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    out = []
    for name, top_left in table_layout().get(key, ()):
        first = column_index_from_string(coordinate_from_string(top_left)[0])
        out.append((name, first, first + len(schema.TABLES[name].columns) - 1))
    return out


def print_layout(ws: Worksheet, key: str, title: str, lang: str) -> None:
    """Print area (the tables' columns, every row, so the area grows with the output
    tables), orientation, fit, the header row repeated on every page, header and footer."""
    placed = _table_columns(key)
    if not placed:
        return
    last = placed[-1][2]
    area = None     # set by :func:`refresh_print_areas` once the tables are filled
    starts = [first for name, first, _ in placed if name in STRIPS.get(key, ())]
    confidential = key in CONFIDENTIAL
    if starts:
        edges = [1, *starts, last + 1]
        widest = max(styles.columns_width(ws, a, b - 1) for a, b in zip(edges, edges[1:]))
        landscape = widest > styles.PORTRAIT_UNITS / PORTRAIT_FIT
        page = styles.LANDSCAPE_UNITS if landscape else styles.PORTRAIT_UNITS
        from openpyxl.worksheet.pagebreak import Break

        for first in starts:
            ws.col_breaks.append(Break(id=first - 1))
        styles.print_setup(ws, title, lang, width=widest, confidential=confidential,
                           repeat_rows=f"{HEADER_ROW}:{HEADER_ROW}", print_area=area,
                           scale=min(100, int(page / widest * 100 * STRIP_MARGIN)), landscape=landscape)
        return
    width = styles.columns_width(ws, 1, last)
    styles.print_setup(ws, title, lang, width=width, confidential=confidential,
                       repeat_rows=f"{HEADER_ROW}:{HEADER_ROW}", print_area=area,
                       landscape=width > styles.PORTRAIT_UNITS / PORTRAIT_FIT)


def _plain(v: Any) -> str:
    """60 rather than 60.00 or Decimal('60')."""
    if isinstance(v, Decimal):
        return format(v.normalize(), "f")
    return str(v)


def _place_tables(ws: Worksheet, key: str, rows: dict[str, list[list[Any]]], lang: str) -> None:
    placed = table_layout().get(key, ())
    for n, (name, top_left) in enumerate(placed):
        spec = schema.TABLES[name]
        col = ws[top_left].column
        caption = ws.cell(CAPTION_ROW, col, f"{spec.title(lang)} · " + (
            _t(lang, "输入", "input") if spec.direction == "in" else
            _t(lang, "日志", "log") if spec.direction == "log" else _t(lang, "计算结果", "computed")))
        caption.font = styles.caption_font(spec.direction, lang)
        add_table(ws, spec, top_left, lang, rows.get(name, ()))
        if n + 1 < len(placed):
            gap = get_column_letter(col + len(spec.columns))
            ws.column_dimensions[gap].width = GAP_WIDTH
    if placed:
        ws.row_dimensions[HEADER_ROW].height = 32
        first = schema.TABLES[placed[0][0]]
        ws.freeze_panes = f"{'B' if first.keys[0] == 'rep_id' else 'A'}{FIRST_DATA_ROW}"


def _format_plan_values(ws: Worksheet, settings_rows: list[list[Any]], lang: str) -> dict[str, int]:
    """Per-setting number formats in the Plan table's value column, keys and values read
    from the left like a list of settings; returns key -> row."""
    key_col, value_col = column_letter("tblPlan", "key"), column_letter("tblPlan", "value")
    note_col = column_letter("tblPlan", "note")
    ws.column_dimensions[value_col].width = PLAN_VALUE_WIDTH
    left = Alignment(horizontal="left", vertical="center", indent=1)
    wrapped = Alignment(vertical="center", wrap_text=True)   # a long note stays on the page
    note_width = schema.TABLES["tblPlan"].column("note").width or styles.DEFAULT_WIDTH
    where = {}
    for n, row in enumerate(settings_rows):
        r = FIRST_DATA_ROW + n
        where[row[0]] = r
        ws[f"{note_col}{r}"].alignment = wrapped
        lines = math.ceil(text_units(str(row[2] or "")) / (note_width * 0.95))
        if lines > 1:       # spreadsheet programs do not grow a row for wrapped text on load
            ws.row_dimensions[r].height = 14 * lines + 2
        ws[f"{key_col}{r}"].alignment = left
        cell = ws[f"{value_col}{r}"]
        cell.alignment = left
        kind = SETTING_KINDS.get(row[0])
        if kind:
            cell.number_format = styles.value_number_format(kind, lang, cell.value, "in")
    return where


# ----------------------------------------------------------------------------- validation

def _range(name: str, key: str, last: int = FIRST_DATA_ROW + VALIDATION_ROWS - 1) -> str:
    col = column_letter(name, key)
    return f"{col}{FIRST_DATA_ROW}:{col}{last}"


def quote_sheet(title: str) -> str:
    """A sheet name as formulas refer to it, always quoted (safe for CJK and spaces)."""
    return "'" + title.replace("'", "''") + "'"


def _sheet_of(name: str, wb: Workbook, lang: str) -> Worksheet:
    return wb[schema.SHEETS[schema.TABLES[name].sheet].title(lang)]


def _list_name(wb: Workbook, lang: str, name: str, table: str, key: str) -> None:
    """A workbook name for the filled part of an input column (a drop-down source that grows
    as users add rows)."""
    ws = _sheet_of(table, wb, lang)
    col = column_letter(table, key)
    sheet = quote_sheet(ws.title)
    first = f"{sheet}!${col}${FIRST_DATA_ROW}"
    whole = f"{sheet}!${col}${FIRST_DATA_ROW}:${col}${FIRST_DATA_ROW + VALIDATION_ROWS - 1}"
    wb.defined_names[name] = DefinedName(name, attr_text=f"OFFSET({first},0,0,MAX(1,COUNTA({whole})),1)")


def _code_list(codes: tuple[str, ...]) -> str:
    return '"' + ",".join(c for c in codes if c) + '"'


def _validation(lang: str, source: str, what: tuple[str, str], prompt: tuple[str, str] | None = None
                ) -> DataValidation:
    dv = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=True,
                        errorTitle=_t(lang, "无效代码", "Unknown code"),
                        error=_t(lang, f"请从下拉列表中选择{what[0]}。", f"Pick a {what[1]} from the list."))
    if prompt:
        dv.showInputMessage = True
        dv.promptTitle = _t(lang, what[0], what[1].capitalize())
        dv.prompt = _t(lang, *prompt)
    return dv


def _add_validations(wb: Workbook, lang: str, plan_row: dict[str, int],
                     kpi_groups: tuple[str, ...]) -> None:
    """Drop-down lists on the input tables' code columns."""
    _list_name(wb, lang, "xl_regions", "tblRegions", "region")
    _list_name(wb, lang, "xl_products", "tblProductSplit", "product")
    _list_name(wb, lang, "xl_reps", "tblTeam", "rep_id")
    roles = "; ".join(f"{k} {schema.ROLE_LABELS[k][0]}" for k in ROLES)
    roles_en = "; ".join(f"{k} ({schema.ROLE_LABELS[k][1]})" for k in ROLES)
    lists = [
        (_code_list(QUARTERS), ("季度", "quarter"), None,
         [("tblQuarterSplit", "quarter"), ("tblCubePrior", "quarter"), ("tblActuals", "quarter"),
          ("tblImprovement", "quarter")]),
        ("xl_regions", ("区域", "region"), None,
         [("tblTeam", "region"), ("tblRegionSplit", "region"), ("tblCubePrior", "region")]),
        ("xl_products", ("产品", "product"), None, [("tblCubePrior", "product")]),
        ("xl_reps", ("工号", "rep ID"), None,
         [("tblActuals", "rep_id"), ("tblImprovement", "rep_id"), ("tblTeam", "mentor_id")]),
        (_code_list(ROLES), ("岗位", "role"), (roles, roles_en), [("tblTeam", "role")]),
        (_code_list(OUTCOME_CODES), ("改进结果", "outcome"),
         ("open 进行中; passed 通过; failed 未通过", "open; passed; failed"),
         [("tblImprovement", "outcome")]),
        (_code_list(BASES), ("口径", "basis"), None, [("tblKpiScheme", "basis")]),
        (_code_list(kpi_groups), ("类别", "group"), None, [("tblKpiScheme", "group")]),
        (_code_list(INDICATORS), ("指标", "indicator"), None, [("tblKpiScheme", "indicator")]),
    ]
    for source, what, prompt, targets in lists:
        for table, key in targets:
            ws = _sheet_of(table, wb, lang)
            dv = _validation(lang, source, what, prompt)
            dv.add(_range(table, key))
            ws.add_data_validation(dv)
    if "base_mode" in plan_row:
        ws = _sheet_of("tblPlan", wb, lang)
        dv = _validation(lang, _code_list(BASE_MODES), ("发放方式", "mode"),
                         ("gate 达标全额; linear 按得分比例", "gate: in full; linear: by score"))
        dv.add(f"{column_letter('tblPlan', 'value')}{plan_row['base_mode']}")
        ws.add_data_validation(dv)


# ----------------------------------------------------------------------------- conditional formats

def _rule(formula: str, fill: str, color: str | None = None, bold: bool = False) -> FormulaRule:
    return FormulaRule(formula=[formula], fill=styles.solid(fill),
                       font=Font(color=color, bold=bold) if color else None, stopIfTrue=False)


def _whole(name: str) -> str:
    spec = schema.TABLES[name]
    first, last = column_letter(name, spec.keys[0]), column_letter(name, spec.keys[-1])
    return f"{first}{FIRST_DATA_ROW}:{last}{LAST_ROW}"


def _add_conditional_formats(wb: Workbook, lang: str, plan_row: dict[str, int]) -> None:
    """Red KPI scores under the gate, amber/red checks, coloured watchlist statuses, lines
    spent above budget."""
    plan_ws = _sheet_of("tblPlan", wb, lang)
    if "base_gate" in plan_row:
        ref = f"{quote_sheet(plan_ws.title)}!${column_letter('tblPlan', 'value')}${plan_row['base_gate']}"
        wb.defined_names["xl_base_gate"] = DefinedName("xl_base_gate", attr_text=ref)
        gate = "xl_base_gate"
    else:
        gate = "60"
    for name in ("tblKpi", "tblBonus"):
        c = column_letter(name, "kpi_score")
        _sheet_of(name, wb, lang).conditional_formatting.add(
            f"{c}{FIRST_DATA_ROW}:{c}{LAST_ROW}",
            _rule(f"AND(ISNUMBER(${c}{FIRST_DATA_ROW}),${c}{FIRST_DATA_ROW}<{gate})",
                  styles.BAD_FILL, styles.BAD, bold=True))
    ws = _sheet_of("tblChecks", wb, lang)
    s = f"${column_letter('tblChecks', 'status')}{FIRST_DATA_ROW}"
    ws.conditional_formatting.add(_whole("tblChecks"), _rule(f'{s}="FAIL"', styles.BAD_FILL, styles.BAD))
    ws.conditional_formatting.add(_whole("tblChecks"), _rule(f'{s}="WARN"', styles.WARN_FILL, styles.WARN))
    c = column_letter("tblChecks", "status")
    ws.conditional_formatting.add(f"{c}{FIRST_DATA_ROW}:{c}{LAST_ROW}",
                                  _rule(f'{s}="OK"', styles.GOOD_FILL, styles.GOOD))
    ws = _sheet_of("tblWatchlist", wb, lang)
    s = f"${column_letter('tblWatchlist', 'status')}{FIRST_DATA_ROW}"
    for status, fill, color in (("warning", styles.WARN_FILL, styles.WARN),
                                ("improvement_period", styles.ORANGE_FILL, styles.BAD),
                                ("reassign_or_exit", styles.BAD_FILL, styles.BAD)):
        ws.conditional_formatting.add(_whole("tblWatchlist"), _rule(f'{s}="{status}"', fill, color))
    ws = _sheet_of("tblBudget", wb, lang)
    spent, amount = column_letter("tblBudget", "spent_to_date"), column_letter("tblBudget", "amount")
    r = FIRST_DATA_ROW
    ws.conditional_formatting.add(
        f"{spent}{r}:{spent}{r + VALIDATION_ROWS - 1}",
        _rule(f"AND(ISNUMBER(${spent}{r}),${spent}{r}>${amount}{r})", styles.BAD_FILL, styles.BAD))


# ----------------------------------------------------------------------------- the workbook

def build_master(inputs: PlanInputs, lang: str = "zh") -> Workbook:
    """A fresh master workbook: every sheet and contract table, the inputs filled from
    ``inputs``, the outputs empty (one blank row each) and the Dashboard showing the plan."""
    if lang not in ("zh", "en"):
        raise ValueError(f"unsupported language {lang!r} (use 'zh' or 'en')")

    year = inputs.settings.fiscal_year
    wb = Workbook()
    wb.remove(wb.active)
    rows = input_rows(inputs, lang)
    for key, sheet in schema.SHEETS.items():
        ws = wb.create_sheet(sheet.title(lang))
        if key != "dashboard":  # refresh_dashboard draws that one
            _sheet_frame(ws, key, year, lang, inputs.settings.base_gate)
            _place_tables(ws, key, rows, lang)
            print_layout(ws, key, workbook_title(year, lang), lang)
    plan_row = _format_plan_values(_sheet_of("tblPlan", wb, lang), rows["tblPlan"], lang)
    _add_validations(wb, lang, plan_row, tuple(inputs.settings.kpi_groups()))
    _add_conditional_formats(wb, lang, plan_row)
    wb.properties.title = workbook_title(year, lang)
    wb.properties.subject = _t(lang, "销售目标分解、考核与奖金", "Sales targets, KPI and bonuses")
    wb.properties.creator = "xl_addin"
    refresh_print_areas(wb)
    refresh_dashboard(wb, {}, inputs, lang)
    add_cover(wb, workbook_title(year, lang), lang)
    protect_master(wb, inputs.settings, lang)
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is wb.active
    return wb
