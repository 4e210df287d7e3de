"""The Dashboard: headline figures, value blocks, four charts and the reconciliation formulas,
rebuilt idempotently from the computed tables (or from the plan alone when nothing is computed
yet); its content is a pure function of the results, so a values-only refresh (the Excel
add-in through xlwings) gives the same sheet."""
from __future__ import annotations

from decimal import Decimal

import openpyxl
import pandas as pd
from openpyxl.chart import BarChart, PieChart

from tests.support import libreoffice as lo
from xl_addin.core.model import default_plan
from xl_addin.workbook import schema
from xl_addin.workbook.build import build_master
from xl_addin.workbook.dashboard import (Formula, dashboard_cells, dashboard_figures,
                                         dashboard_formula_results, default_places,
                                         places_from_raw, places_from_workbook,
                                         refresh_dashboard, write_cells)
from xl_addin.workbook.tables import find_table
from xl_addin.workbook.xlsx import raw_tables

PLAN = default_plan(2026, "zh")
D = Decimal


def results() -> dict[str, pd.DataFrame]:
    """A small hand-made set of output tables: two regions, two quarters."""
    cube = pd.DataFrame(
        [(r, q, p, t) for r, share in (("EAST", 43), ("SOUTH", 57))
         for q, amount in (("Q1", 45_000_000), ("Q2", 70_000_000))
         for p, t in (("A", amount * share // 100), )],
        columns=["region", "quarter", "product", "target"])
    kpi = pd.DataFrame({"rep_id": ["R1", "R2", "R3", "R4", "R5", "R6", "R7"],
                        "quarter": ["Q1"] * 7,
                        "kpi_score": [D("59.99"), D("60.00"), D("69.99"), D("75"), D("89.99"),
                                      D("90"), D("100")]})
    bonus = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "region": ["EAST", "SOUTH", "EAST"],
                          "quarter": ["Q1", "Q1", "Q2"], "kpi_score": [D(90), D(80), D(70)],
                          "excess_paid": [D("1000.50"), D(0), D("500")],
                          "total": [D("12000.50"), D("8000"), D("10500")]})
    checks = pd.DataFrame({"status": ["OK", "OK", "WARN", "FAIL", "WARN"]})
    watch = pd.DataFrame({"rep_id": ["R1", "R4"], "status": ["improvement_period", "warning"]})
    return {"tblTargetCube": cube, "tblKpi": kpi, "tblBonus": bonus, "tblChecks": checks,
            "tblWatchlist": watch}


def dashboard(wb, lang="zh"):
    return wb[schema.SHEETS["dashboard"].title(lang)]


def cell_texts(ws) -> list:
    return [c.value for row in ws.iter_rows() for c in row if c.value is not None]


# ----------------------------------------------------------------------------- figures

def test_figures_from_the_plan_alone():
    f = dashboard_figures({}, PLAN, "zh")
    assert [(q, t) for q, _, t, _ in f.quarters] == [
        ("Q1", 45_000_000), ("Q2", 70_000_000), ("Q3", 75_000_000), ("Q4", 90_000_000)]
    assert [(r, name, t) for r, name, t, _ in f.regions][:2] == [
        ("EAST", "华东", 120_000_000), ("SOUTH", "华南", 80_000_000)]
    assert f.quarters[0][1] == "开门红"
    assert f.growth == D("0.25")                       # 280,000,000 / 224,000,000 - 1
    assert f.kpi_buckets == [("<60", 0), ("60-70", 0), ("70-80", 0), ("80-90", 0), ("90-100", 0)]
    assert f.bonus_total == 0 and f.pool_left == D(2_000_000) and f.sales_to_date is None


def test_figures_from_results():
    f = dashboard_figures(results(), PLAN, "zh")
    # targets by quarter from the cube: 45,000,000 x (43 + 57)% = 45,000,000
    assert [(q, t) for q, _, t, _ in f.quarters][:2] == [("Q1", 45_000_000), ("Q2", 70_000_000)]
    assert dict((r, t) for r, _, t, _ in f.regions)["EAST"] == 45_000_000 * 43 // 100 + 70_000_000 * 43 // 100
    # 59.99 under 60; 60.00 and 69.99 in 60-70; 75; 89.99; 90 and 100 in 90-100
    assert f.kpi_buckets == [("<60", 1), ("60-70", 2), ("70-80", 1), ("80-90", 1), ("90-100", 2)]
    assert f.bonus_total == D("30500.50")
    assert [(r, t) for r, _, t in f.bonus_by_region][:2] == [("EAST", D("22500.50")), ("SOUTH", D(8000))]
    assert f.pool_used == D("1500.50") and f.pool_left == D("1998499.50")
    assert (f.statuses["WARN"], f.statuses["FAIL"]) == (2, 1)
    assert (f.watch_reps, f.improvement_reps, f.bonus_quarters) == (2, 1, 2)


def test_empty_frames_and_missing_tables_are_tolerated():
    empty = {name: pd.DataFrame(columns=list(schema.TABLES[name].keys))
             for name in ("tblTargetCube", "tblKpi", "tblBonus", "tblChecks", "tblWatchlist")}
    f = dashboard_figures(empty, PLAN, "en")
    assert f.quarters[0][2] == 45_000_000 and f.bonus_total == 0 and f.watch_reps == 0
    wb = build_master(PLAN, "en")
    refresh_dashboard(wb, empty, PLAN, "en")
    refresh_dashboard(wb, {"tblKpi": pd.DataFrame({"other": [1]})}, PLAN, "en")
    assert len(dashboard(wb, "en")._charts) == 4


# ----------------------------------------------------------------------------- the sheet

def test_headline_cards_read_like_a_chinese_report():
    wb = build_master(PLAN, "zh")
    refresh_dashboard(wb, results(), PLAN, "zh")
    texts = cell_texts(dashboard(wb))
    # bonuses 12,000.50 + 8,000 + 10,500 = 30,500.50 -> 3.05万; pool used 1,000.50 + 500
    for expected in ("年度目标", "2.8亿", "上年 2.24亿", "25.0%", "3.05万", "已用 ¥1,500.50 / 共 200万",
                     "2 / 1", "2 人", "其中改进期或调岗 1 人"):
        assert expected in texts, expected


def test_blocks_are_values_with_wan_formats():
    wb = build_master(PLAN, "zh")
    refresh_dashboard(wb, results(), PLAN, "zh")
    ws = dashboard(wb)
    assert ws["B10"].value == "Q1 开门红" and ws["C10"].value == 45_000_000
    assert ws["C10"].number_format == '0\\.0,"万"'
    assert ws["L9"].value == "得分" and [ws.cell(r, 13).value for r in range(10, 15)] == [1, 2, 1, 1, 2]
    assert ws["O10"].value == "华东" and ws["P10"].value == D("22500.50")
    # values everywhere; formulas only in the reconciliation block (columns E:G below the charts)
    formulas = [c for row in ws.iter_rows() for c in row if c.data_type == "f"]
    recon_top = next(c.row for row in ws.iter_rows() for c in row if c.value == "对账 · 实时公式")
    assert formulas and all(c.row > recon_top and c.column_letter in "EFG" for c in formulas)


def test_four_native_charts_over_the_blocks():
    wb = build_master(PLAN, "zh")
    refresh_dashboard(wb, results(), PLAN, "zh")
    charts = dashboard(wb)._charts
    assert [type(c) for c in charts] == [BarChart, BarChart, BarChart, PieChart]
    quarter = charts[0]
    assert quarter.series[0].val.numRef.f.endswith("$C$10:$C$13")
    assert quarter.y_axis.number_format.formatCode == '0\\.0,"万"'  # quarters stay under 1亿


def test_refreshing_twice_leaves_one_sheet_one_set_of_charts_and_blocks(tmp_path):
    wb = build_master(PLAN, "zh")
    refresh_dashboard(wb, results(), PLAN, "zh")
    first = cell_texts(dashboard(wb))
    merged = len(dashboard(wb).merged_cells.ranges)
    refresh_dashboard(wb, results(), PLAN, "zh")
    ws = dashboard(wb)
    assert cell_texts(ws) == first
    # 8 cards x 3 rows; the reconciliation: its header and each of its rows merge the
    # label (B:D) and the note (H:N): 3 totals, 4 regions of the plan, 6 more rows
    recon_rows = 3 + 4 + 6
    assert len(ws._charts) == 4 and len(ws.merged_cells.ranges) == merged == 24 + 2 * (1 + recon_rows)
    assert wb.sheetnames.count(ws.title) == 1 and wb.sheetnames[1] == ws.title   # after the cover
    path = tmp_path / "twice.xlsx"
    wb.save(path)
    again = openpyxl.load_workbook(path)
    refresh_dashboard(again, results(), PLAN, "zh")        # after a save and load, too
    assert len(dashboard(again)._charts) == 4 and cell_texts(dashboard(again)) == first


def test_english_dashboard():
    plan = default_plan(2026, "en")
    wb = build_master(plan, "en")
    refresh_dashboard(wb, results(), plan, "en")
    texts = cell_texts(dashboard(wb, "en"))
    assert "CNY 280.0m" in texts and "Annual target" in texts and "Q1 Strong start" in texts
    assert dashboard(wb, "en")["C10"].number_format == '#,##0.0,,"m"'


def test_libreoffice_renders_the_dashboard_in_chinese(tmp_path):
    lo.require_soffice()
    wb = build_master(PLAN, "zh")
    refresh_dashboard(wb, results(), PLAN, "zh")
    path = tmp_path / "dash.xlsx"
    wb.save(path)
    pdf = lo._convert(path, tmp_path / "pdf", "pdf:calc_pdf_Export", lo.DEFAULT_TIMEOUT)
    # page 1 is the cover sheet 说明, the Dashboard page 2
    text = lo._run(["pdftotext", "-f", "2", "-l", "2", str(pdf), "-"], 60).stdout
    for expected in ("仪表板", "2.8亿", "4500.0万", "开门红", "华东"):
        assert expected in text, expected


# ----------------------------------------------------------------------------- cells and formulas

def other_results() -> dict[str, pd.DataFrame]:
    """The hand-made tables with other numbers but the same shape (regions, quarters)."""
    r = results()
    r["tblBonus"] = r["tblBonus"].assign(total=[D("100.25"), D("200"), D("300.75")],
                                         excess_paid=[D(0), D("50.50"), D(0)])
    r["tblKpi"] = r["tblKpi"].assign(kpi_score=[D(10), D(20), D("59.99"), D(60), D(61), D(95), D(99)])
    r["tblChecks"] = pd.DataFrame({"status": ["FAIL", "FAIL", "OK"]})
    return r


def recon_rows(cells) -> dict[str, int]:
    """Reconciliation label -> row, from dashboard_cells."""
    top = next(int(a[1:]) for a, v in cells.items() if v in ("对账 · 实时公式", "Reconciliation · live formulas"))
    return {v: int(a[1:]) for a, v in cells.items() if a.startswith("B") and int(a[1:]) > top + 2}


def test_dashboard_cells_are_what_refresh_writes():
    for lang in ("zh", "en"):
        plan = default_plan(2026, lang)
        wb = build_master(plan, lang)
        refresh_dashboard(wb, results(), plan, lang)
        ws = dashboard(wb, lang)
        cells = dashboard_cells(results(), plan, lang)
        assert cells and all(ws[a].value == (str(v) if isinstance(v, Formula) else v)
                             for a, v in cells.items())
        # every other cell of the sheet is empty: the cells ARE the sheet's content
        assert {c.coordinate for row in ws.iter_rows() for c in row if c.value is not None} == {
            a for a, v in cells.items() if v is not None}
        # the same shape gives the same addresses (blanks listed as None), so a values-only
        # refresh overwrites everything an earlier run wrote
        assert dashboard_cells(other_results(), plan, lang).keys() == cells.keys()
        formulas = {a for a, v in cells.items() if isinstance(v, Formula)}
        assert formulas == set(dashboard_formula_results(results(), plan, lang))


def test_reconciliation_formulas_read_the_tables_and_the_plan():
    cells = dashboard_cells(results(), PLAN, "zh")
    got = dashboard_formula_results(results(), PLAN, "zh")
    rows = recon_rows(cells)
    f = lambda label, col="E": cells[f"{col}{rows[label]}"]           # noqa: E731
    v = lambda label, col="E": got[f"{col}{rows[label]}"]             # noqa: E731
    # two cube rows (EAST, SOUTH x Q1, Q2) -> the range covers data rows 5..8 of the table
    assert f("目标分解合计") == "=SUM('目标分解'!$U$5:$U$8)"
    assert f("目标分解合计", "F") == "='计划'!$B$6"                   # annual_target on the Plan
    assert v("目标分解合计") == 45_000_000 + 70_000_000 and v("目标分解合计", "F") == 280_000_000
    assert v("目标分解合计", "G") == 115_000_000 - 280_000_000
    assert f("季度奖金合计") == "=SUM('季度奖金'!$J$5:$J$7)" and v("季度奖金合计") == D("30500.50")
    assert f("区域奖金 · 华东") == "=SUMIFS('季度奖金'!$J$5:$J$7,'季度奖金'!$B$5:$B$7,\"EAST\")"
    assert v("区域奖金 · 华东") == D("22500.50") and f("区域奖金 · 华东", "F") == "=P10"
    assert v("区域奖金 · 华北") == 0 and v("区域奖金 · 华东", "G") == 0
    assert f("季度奖金合计", "F") == f"=SUM(E{rows['区域奖金 · 华东']}:E{rows['区域奖金 · 其他']})"
    assert v("季度奖金合计", "G") == 0
    assert f("超额奖池（计划）") == "='计划'!$B$12" and v("超额奖池（计划）") == 2_000_000
    assert v("超额奖金已发") == D("1500.50") and v("超额奖池剩余") == D("1998499.50")
    assert f("超额奖池剩余") == f"=E{rows['超额奖池（计划）']}-E{rows['超额奖金已发']}"
    assert f("KPI得分低于门槛（人次）") == "=COUNTIF('绩效得分'!$K$5:$K$11,\"<\"&'计划'!$B$9)"
    assert v("KPI得分低于门槛（人次）") == 1                           # 59.99; 60.00 is at the gate
    assert f("检查“不通过”项") == "=COUNTIF('检查结果'!$E$5:$E$9,\"FAIL\")"
    assert (v("检查“不通过”项"), v("检查“注意”项")) == (1, 2)
    # an empty table still has one (blank) data row: the range is that row
    empty = dashboard_cells({}, PLAN, "zh")
    assert empty[f"E{recon_rows(empty)['季度奖金合计']}"] == "=SUM('季度奖金'!$J$5:$J$5)"


def test_places_default_workbook_and_raw_agree():
    for lang in ("zh", "en"):
        plan = default_plan(2026, lang)
        wb = build_master(plan, lang)
        from_wb = places_from_workbook(wb)
        assert from_wb == default_places(plan, lang) == places_from_raw(raw_tables(wb))
        assert from_wb["tblPlan"].keyed_rows["annual_target"] == 6
        assert "base_mode" not in from_wb["tblPlan"].keyed_rows             # text, not a number


def test_formulas_follow_columns_the_user_moved():
    wb = build_master(PLAN, "zh")
    ws, _ = find_table(wb, "tblBonus")
    # swap the headers of region (B) and total (J): the user moved the columns
    ws["B4"], ws["J4"] = ws["J4"].value, ws["B4"].value
    refresh_dashboard(wb, results(), PLAN, "zh")
    formulas = [c.value for row in dashboard(wb).iter_rows() for c in row if c.data_type == "f"]
    assert "=SUMIFS('季度奖金'!$B$5:$B$7,'季度奖金'!$J$5:$J$7,\"EAST\")" in formulas
    assert "=SUM('季度奖金'!$B$5:$B$7)" in formulas


def test_text_that_looks_like_a_formula_stays_text():
    wb = build_master(PLAN, "zh")
    ws = dashboard(wb)
    write_cells(ws, {"A1": "=1+1", "A2": Formula("=1+1"), "A3": None})
    assert (ws["A1"].value, ws["A1"].data_type) == ("=1+1", "s")
    assert (ws["A2"].value, ws["A2"].data_type) == ("=1+1", "f")


def _chart_ranges(ws) -> list[str]:
    refs = []
    for chart in ws._charts:
        for s in chart.series:
            refs += [s.val.numRef.f, s.cat.strRef.f if s.cat.strRef is not None else s.cat.numRef.f]
            if s.tx is not None and s.tx.strRef is not None:
                refs.append(s.tx.strRef.f)
    return refs


def _range_values(ws, ref: str) -> list:
    from openpyxl.utils.cell import range_boundaries
    min_col, min_row, max_col, max_row = range_boundaries(ref.split("!")[1].replace("$", ""))
    return [ws.cell(r, c).value for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]


def _plain(v):
    """A number as Excel holds it (a double, 15 significant digits through Office.js)."""
    if isinstance(v, (D, float)):
        return float(f"{float(v):.15g}")
    return v


def test_values_only_refresh_through_xlwings_moves_the_charts(tmp_path):
    """What the Excel add-in does: write dashboard_cells into the existing sheet through
    xlwings' remote engine (values and formulas only; it cannot make charts). The charts
    built for the first results read cells that now hold the second results' values."""
    from tests.support.xlwings_remote import run_macro

    wb = build_master(PLAN, "zh")
    refresh_dashboard(wb, results(), PLAN, "zh")
    refs = _chart_ranges(dashboard(wb))
    # this macro writes the cells itself; lifting the Dashboard's protection around such
    # writes is the real macros' job (tests/test_print_protect.py)
    dashboard(wb).protection.sheet = False
    src = tmp_path / "dash.xlsx"
    wb.save(src)
    new_cells = dashboard_cells(other_results(), PLAN, "zh")

    def macro(book):
        sheet = book.sheets[schema.SHEETS["dashboard"].zh]
        for address, value in new_cells.items():
            if isinstance(value, Formula):
                sheet[address].formula = str(value)
            else:
                sheet[address].value = _plain(value)

    out = tmp_path / "out.xlsx"
    run_macro(src, macro, out)
    got = dashboard(openpyxl.load_workbook(out))
    fresh = build_master(PLAN, "zh")
    refresh_dashboard(fresh, other_results(), PLAN, "zh")
    want = dashboard(fresh)
    assert refs and refs == _chart_ranges(want)          # a rebuild would draw the same ranges
    for ref in refs:
        assert [_plain(v) for v in _range_values(got, ref)] == [_plain(v) for v in _range_values(want, ref)], ref
    for address, value in new_cells.items():
        expected = str(value) if isinstance(value, Formula) else _plain(value)
        assert _plain(got[address].value) == expected, address      # "25.0%", "3 / 0" stay text
    assert got["P10"].value == 401 and got["D5"].value == "25.0%"     # 100.25 + 300.75
