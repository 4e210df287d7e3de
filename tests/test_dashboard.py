"""The Dashboard: headline figures, value blocks and four charts, rebuilt idempotently from
the computed tables (or from the plan alone when nothing is computed yet)."""
from __future__ import annotations

from decimal import Decimal

import openpyxl
import pandas as pd
from openpyxl.chart import BarChart, PieChart

from tests.support import libreoffice as lo
from xl_addin.model import default_plan
from xl_addin.workbook import schema
from xl_addin.workbook.build import build_master
from xl_addin.workbook.dashboard import dashboard_figures, refresh_dashboard

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
    assert not any(isinstance(c.value, str) and c.value.startswith("=")
                   for row in ws.iter_rows() for c in row)      # values, never formulas


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
    assert len(ws._charts) == 4 and len(ws.merged_cells.ranges) == merged == 24
    assert wb.sheetnames.count(ws.title) == 1 and wb.sheetnames[0] == ws.title
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
    text = lo._run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], 60).stdout
    for expected in ("仪表板", "2.8亿", "4500.0万", "开门红", "华东"):
        assert expected in text, expected
