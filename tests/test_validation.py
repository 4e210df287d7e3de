"""Issue 11: no silent wrong numbers. Every case of the issue, with the exact message.

Cell addresses are found with openpyxl (scanning the sheet for the header text), not by
the reader under test; expected figures are computed in the comments.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from conftest import run_cli


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_ref(wb, name: str):
    for ws in wb.worksheets:
        if name in ws.tables:
            return ws, ws.tables[name].ref
    raise KeyError(name)


def header_cell(path: Path, table: str, label: str) -> tuple[str, str]:
    """(sheet title, address) of the header cell holding ``label`` in ``table``."""
    from openpyxl.utils.cell import range_boundaries

    wb = openpyxl.load_workbook(path)
    ws, ref = table_ref(wb, table)
    c1, r1, c2, _ = range_boundaries(ref)
    for c in range(c1, c2 + 1):
        if ws.cell(r1, c).value == label:
            return ws.title, f"{get_column_letter(c)}{r1}"
    raise KeyError(label)


def set_header(path: Path, table: str, label: str, new: str) -> str:
    sheet, addr = header_cell(path, table, label)
    wb = openpyxl.load_workbook(path)
    wb[sheet][addr] = new
    # keep the table's own column name in step, as Excel does when a header is edited
    ws, _ = table_ref(wb, table)
    for col in ws.tables[table].tableColumns:
        if col.name == label:
            col.name = new
    wb.save(path)
    return addr


def data_cell(path: Path, table: str, label: str, row: int) -> tuple[str, str]:
    sheet, addr = header_cell(path, table, label)
    col = addr.rstrip("0123456789")
    return sheet, f"{col}{int(addr[len(col):]) + row}"


def set_data(path: Path, table: str, label: str, row: int, value) -> str:
    sheet, addr = data_cell(path, table, label, row)
    wb = openpyxl.load_workbook(path)
    wb[sheet][addr] = value
    wb.save(path)
    return addr


def plan_row(path: Path, key: str) -> tuple[int, str]:
    """(data row, value cell) of a tblPlan setting."""
    from openpyxl.utils.cell import range_boundaries

    wb = openpyxl.load_workbook(path)
    ws, ref = table_ref(wb, "tblPlan")
    c1, r1, _, r2 = range_boundaries(ref)
    for r in range(r1 + 1, r2 + 1):
        if ws.cell(r, c1).value == key:
            return r - r1, f"{get_column_letter(c1 + 1)}{r}"
    raise KeyError(key)


def set_setting(path: Path, key: str, value) -> tuple[int, str]:
    row, addr = plan_row(path, key)
    wb = openpyxl.load_workbook(path)
    wb["计划" if "计划" in wb.sheetnames else "Plan"][addr] = value
    wb.save(path)
    return row, addr


def refused(path: Path, *expected: str, cmds=("check", "recalc")) -> str:
    """Every command exits 2 with every expected line, no traceback, the file unchanged."""
    before = sha(path)
    out = ""
    for cmd in cmds:
        r = run_cli(cmd, path)
        assert r.exit_code == 2, (cmd, r.output)
        assert "Traceback" not in r.output
        for line in expected:
            assert line in r.output, (line, r.output)
        out = r.output
    assert sha(path) == before
    return out


@pytest.fixture(scope="session")
def en_master_session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("master_en") / "plan_en.xlsx"
    assert run_cli("new", "--sample", "--lang", "en", "-o", path).exit_code == 0
    return path


@pytest.fixture
def en_master(en_master_session, tmp_path) -> Path:
    import shutil
    dst = tmp_path / "plan_en.xlsx"
    shutil.copy(en_master_session, dst)
    return dst


def kpi_scores(path: Path) -> list[Decimal]:
    wb = openpyxl.load_workbook(path)
    from openpyxl.utils.cell import range_boundaries
    ws, ref = table_ref(wb, "tblKpi")
    c1, r1, c2, r2 = range_boundaries(ref)
    heads = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
    col = c1 + heads.index("KPI得分")
    return [Decimal(str(ws.cell(r, col).value)) for r in range(r1 + 1, r2 + 1)
            if ws.cell(r, col).value is not None]


# ----------------------------------------------------------------------------- 1 columns

def test_renamed_sales_header_is_an_error_naming_the_cell_and_the_label(sample_master):
    addr = set_header(sample_master, "tblActuals", "销售额", "销售额(元)")
    refused(sample_master, f"sheet '实际业绩', table tblActuals, column sales, cell {addr}: "
                           "header '销售额(元)' is not a column of tblActuals; did you mean 销售额?")


def test_renamed_header_in_an_english_workbook_suggests_the_english_label(en_master):
    addr = set_header(en_master, "tblActuals", "Sales", "Sales (CNY)")
    refused(en_master, f"sheet 'Actuals', table tblActuals, column sales, cell {addr}: "
                       "header 'Sales (CNY)' is not a column of tblActuals; did you mean Sales?")


@pytest.mark.parametrize("table,label,new,key", [
    ("tblTeam", "季度基础奖金", "基础奖金(元)", "base_bonus"),
    ("tblTeam", "指标权重", "权重系数", "quota_weight"),
    ("tblKpiScheme", "权重", "权重%", "weight"),
])
def test_renamed_optional_looking_columns_are_errors_too(sample_master, table, label, new, key):
    sheet, _ = header_cell(sample_master, table, label)
    addr = set_header(sample_master, table, label, new)
    refused(sample_master, f"sheet '{sheet}', table {table}, column {key}, cell {addr}: "
                           f"header '{new}' is not a column of {table}; did you mean {label}?")


def test_headers_match_in_any_case_and_full_or_half_width(sample_master, tmp_path):
    before = run_cli("export", sample_master, "--table", "tblBonus").output
    set_header(sample_master, "tblActuals", "销售额", "ＳＡＬＥＳ")     # full-width, upper case
    set_header(sample_master, "tblTeam", "季度基础奖金", "Base Bonus")
    r = run_cli("recalc", sample_master)
    assert r.exit_code == 0, r.output
    assert run_cli("export", sample_master, "--table", "tblBonus").output == before


def test_a_deleted_column_is_reported_missing(sample_master):
    wb = openpyxl.load_workbook(sample_master)
    ws, ref = table_ref(wb, "tblTeam")
    sheet, addr = header_cell(sample_master, "tblTeam", "导师工号")   # the last column
    from openpyxl.utils.cell import range_boundaries
    c1, r1, c2, r2 = range_boundaries(ref)
    for r in range(r1, r2 + 1):
        ws.cell(r, c2).value = None
    t = ws.tables["tblTeam"]
    t.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2 - 1)}{r2}"
    t.autoFilter.ref = t.ref
    t.tableColumns = t.tableColumns[:-1]
    wb.save(sample_master)
    refused(sample_master, "sheet '团队', table tblTeam, column mentor_id: column 'mentor_id' "
                           "(导师工号 / Mentor ID) is missing")


def test_a_renamed_output_header_is_named_and_nothing_written(sample_master):
    # recalc rewrites tblBonus under its headers: one it cannot find is an input problem
    addr = set_header(sample_master, "tblBonus", "基础奖金", "基础奖金(元)")
    refused(sample_master, f"sheet '季度奖金', table tblBonus, column base_paid, cell {addr}: "
                           "header '基础奖金(元)' is not a column of tblBonus; did you mean 基础奖金?",
            cmds=("recalc",))


# ----------------------------------------------------------------------------- 2 values

@pytest.mark.parametrize("key,value,why", [
    ("excess_rate", 3, "3 looks like 3%; write 0.03"),
    ("collection_threshold", 100, "100 looks like 100%; write 1"),
    ("spend_lead_warn", 10, "10 looks like 10%; write 0.1"),
    ("base_gate", 150, "150 is outside 0..100, the range of the base-bonus gate (a KPI score)"),
    ("fiscal_year", 99999, "99999 is outside 2000..2100, the range of the plan year"),
    ("probation_months", 1e12, "1000000000000 is outside 0..24, the range of the probation period"),
    ("watch_consecutive", 20, "20 is outside 1..8, the range of the consecutive low quarters"),
])
def test_settings_by_meaning(sample_master, key, value, why):
    row, addr = set_setting(sample_master, key, value)
    # the value column holds text (a setting may be a number, a date or a list)
    raw = repr(str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))
    refused(sample_master, f"sheet '计划', table tblPlan, row {row}, ({key}), column value, "
                           f"cell {addr}: setting {key}={raw}: {why}")


def test_a_kpi_target_of_a_rate_typed_as_a_percentage(sample_master):
    # collection_rate is row 2 of the sample scheme (target 0.95)
    addr = set_data(sample_master, "tblKpiScheme", "季度目标", 2, 95)
    refused(sample_master, f"sheet '考核方案', table tblKpiScheme, row 2, (collection_rate), "
                           f"column target, cell {addr}: 95 looks like 95%; write 0.95")


def test_a_cap_below_one_is_an_error(sample_master):
    addr = set_data(sample_master, "tblKpiScheme", "封顶", 1, 0.5)
    refused(sample_master, f"table tblKpiScheme, row 1, (sales), column cap, cell {addr}: "
                           "0.5 is outside 1..10, the range of the cap on achievement (1 = 100%; above 1 "
                           "scores are still clipped to 100, with a warning)")


def test_cap_of_ten_clips_scores_to_100_with_a_warning(sample_master):
    set_data(sample_master, "tblKpiScheme", "封顶", 1, 10)   # sales
    r = run_cli("recalc", sample_master)
    assert r.exit_code == 0, r.output
    scores = kpi_scores(sample_master)
    assert scores and max(scores) == Decimal(100)   # the issue saw 146.72
    r = run_cli("check", sample_master, "--lang", "en")
    line = [x for x in r.output.splitlines() if "sales cap" in x][0]
    assert line.startswith("Warning")       # the WARN status, shown by its English label
    # the message column in the zh workbook
    wb = openpyxl.load_workbook(sample_master)
    ws, _ = table_ref(wb, "tblChecks")
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "sales：封顶 1000% 使超过 100% 的达成可弥补其他指标；KPI 得分仍以 100 封顶" in texts


def test_team_award_members_must_exist(sample_master):
    row, addr = set_setting(sample_master, "team_award_members", "R001,R999,=1+1")
    where = f"sheet '计划', table tblPlan, row {row}, (team_award_members), column value, cell {addr}"
    refused(sample_master,
            f"{where}: setting team_award_members: unknown rep 'R999' (not in tblTeam)",
            f"{where}: setting team_award_members: unknown rep '=1+1' (not in tblTeam)")


def test_team_award_member_named_twice(sample_master):
    row, addr = set_setting(sample_master, "team_award_members", "R001,R001")
    refused(sample_master, f"cell {addr}: setting team_award_members: 'R001' is named twice")


def cell_value(path: Path, table: str, label: str, row: int):
    sheet, addr = data_cell(path, table, label, row)
    return openpyxl.load_workbook(path)[sheet][addr].value


def test_amount_too_large_and_serial_date_out_of_range(sample_master):
    key = f"{cell_value(sample_master, 'tblActuals', '工号', 2)}/{cell_value(sample_master, 'tblActuals', '季度', 2)}"
    rep = cell_value(sample_master, "tblTeam", "工号", 2)
    a1 = set_data(sample_master, "tblActuals", "销售额", 2, 1e308)
    a2 = set_data(sample_master, "tblTeam", "入职日期", 2, 99999999)
    refused(sample_master,
            f"sheet '实际业绩', table tblActuals, row 2, ({key}), column sales, cell {a1}: 1E+308 is "
            "too large for an amount (at most 9999999999999.99: Excel keeps 15 significant digits)",
            f"sheet '团队', table tblTeam, row 2, ({rep}), column hire_date, cell {a2}: 99999999 is "
            "not a date: Excel dates run from serial 1 (1900-01-01) to 2958465 (9999-12-31)")


def test_sixteen_significant_digits_do_not_fit(sample_master):
    # 12,345,678,901,234.5 has 16 significant digits: above 9,999,999,999,999.99
    a = set_data(sample_master, "tblTeam", "季度基础奖金", 1, 12345678901234.5)
    refused(sample_master, f"cell {a}: 12345678901234.5 is too large for an amount")


def test_rate_typed_as_percentage_in_actuals(sample_master):
    a = set_data(sample_master, "tblActuals", "培训参与率", 3, 80)
    refused(sample_master, f"column training_rate, cell {a}: 80 looks like 80%; write 0.8")


def test_hire_date_far_from_the_plan_year(sample_master):
    import datetime as dt
    a = set_data(sample_master, "tblTeam", "入职日期", 1, dt.datetime(1900, 3, 1))
    refused(sample_master, f"cell {a}: the date 1900-03-01 is outside 1966..2027 (plan year 2026)")


def test_improvement_row_for_a_quarter_the_rep_does_not_work(sample_master, tmp_path):
    # R001 is in the sample team; a leaver date before Q4 makes a Q4 improvement row wrong
    import datetime as dt
    src = tmp_path / "imp.csv"
    src.write_text("rep_id,quarter,outcome\nR999,Q1,open\n", encoding="utf-8")
    before = sha(sample_master)
    r = run_cli("import", sample_master, "--table", "tblImprovement", src)
    assert r.exit_code == 2
    assert ("sheet 'imp.csv', table tblImprovement, row 1, (R999/Q1), column rep_id, cell A2: "
            "unknown rep 'R999' (not in tblTeam)") in r.output
    assert sha(sample_master) == before


def test_mentor_must_exist(sample_master):
    a = set_data(sample_master, "tblTeam", "导师工号", 3, "R777")
    refused(sample_master, f"column mentor_id, cell {a}: unknown mentor 'R777' (not in tblTeam)")


def test_text_longer_than_an_excel_cell(sample_master, tmp_path):
    src = tmp_path / "regions.csv"
    long = "长" * 40000
    src.write_text(f"region,name,manager,email\nEAST,{long},,\nSOUTH,华南,,\nNORTH,华北,,\n"
                   "OTHER,其他,,\nHQ,总部,,\n", encoding="utf-8")
    before = sha(sample_master)
    r = run_cli("import", sample_master, "--table", "tblRegions", src)
    assert r.exit_code == 2
    assert ("sheet 'regions.csv', table tblRegions, row 1, (EAST), column name, cell B2: text of 40,000 "
            "characters; an Excel cell holds at most 32,767") in r.output
    assert sha(sample_master) == before


# ----------------------------------------------------------------------------- 3 one run

def test_four_problems_in_four_tables_in_one_run(sample_master):
    a1 = set_header(sample_master, "tblActuals", "销售额", "销售额(元)")
    _, a2 = set_setting(sample_master, "excess_rate", 3)
    a3 = set_data(sample_master, "tblTeam", "区域", 2, "WEST")
    a4 = set_data(sample_master, "tblBudget", "预算金额", 2, -1200000)
    out = refused(sample_master,
                  "4 problem(s) in the input; nothing was written.",
                  f"cell {a2}: setting excess_rate='3': 3 looks like 3%; write 0.03",
                  f"cell {a3}: unknown region 'WEST' (not in tblRegions)",
                  f"cell {a4}: must not be negative, got -1200000",
                  f"cell {a1}: header '销售额(元)' is not a column of tblActuals; did you mean 销售额?")
    # grouped by table in contract order: tblPlan, tblTeam, tblBudget, tblActuals
    lines = [x for x in out.splitlines() if x.startswith("  - ")]
    assert [x.split("table ")[1].split(",")[0] for x in lines] == [
        "tblPlan", "tblTeam", "tblBudget", "tblActuals"]


def test_import_of_a_duplicated_rep_id_writes_nothing(sample_master, tmp_path):
    r = run_cli("export", sample_master, "--table", "tblTeam", "--raw")
    rows = list(csv.reader(io.StringIO(r.output)))
    rows.append(list(rows[1]))   # the first rep twice
    src = tmp_path / "team.csv"
    with open(src, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    rep = rows[1][0]
    n = len(rows) - 1
    before = sha(sample_master)
    r = run_cli("import", sample_master, "--table", "tblTeam", src)
    assert r.exit_code == 2, r.output
    assert (f"sheet 'team.csv', table tblTeam, row {n}, ({rep}), column rep_id, cell A{n + 1}: "
            f"duplicate rep_id '{rep}'") in r.output
    assert sha(sample_master) == before


def test_import_a_renamed_csv_header_is_named(sample_master, tmp_path):
    src = tmp_path / "regions.csv"
    src.write_text("region,name,manger,email\nEAST,华东,,\n", encoding="utf-8")
    r = run_cli("import", sample_master, "--table", "tblRegions", src)
    assert r.exit_code == 2
    assert ("sheet 'regions.csv', table tblRegions, column manager, cell C1: header 'manger' is "
            "not a column of tblRegions; did you mean manager?") in r.output


# ----------------------------------------------------------------------------- 4 exit codes

def test_recalc_exits_1_on_a_fail_check_with_outputs_written(sample_master):
    # base group 50 while its indicators weigh 40 + 15 + 5 = 60: a FAIL check
    set_setting(sample_master, "kpi_group_base", 50)
    before = sha(sample_master)
    r = run_cli("recalc", sample_master)
    assert r.exit_code == 1, r.output
    # the FAIL rows listed in the workbook's language (this sample is Chinese) ...
    assert "1 项检查不通过：\n  不通过 考核方案：基础类权重：基础类指标权重 40 + 15 + 5 = 60，" \
           "但该类权重为 50\n" in r.output
    # ... or in English when asked
    r = run_cli("recalc", sample_master, "--lang", "en")
    assert r.exit_code == 1
    assert "1 FAIL check(s):\n  Fail KPI scheme: base group weight: base indicators weigh " \
           "40 + 15 + 5 = 60, but the group's weight is 50\n" in r.output
    assert sha(sample_master) != before
    wb = openpyxl.load_workbook(sample_master)
    ws, _ = table_ref(wb, "tblChecks")
    assert "不通过" in [c.value for row in ws.iter_rows() for c in row] or \
        "FAIL" in [c.value for row in ws.iter_rows() for c in row]
    assert run_cli("check", sample_master).exit_code == 1


def test_recalc_exit_code_is_documented():
    r = run_cli("recalc", "--help")
    assert "1 when any check FAILs" in r.output
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "1 done but the plan has a FAIL check (`recalc`" in readme


# ----------------------------------------------------------------------------- 5 exports

NASTY = ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(1)", "-2+3", "\tTAB", "\rCR", "plain"]


def test_export_neutralises_formula_like_text(sample_master, tmp_path):
    src = tmp_path / "regions.csv"
    rows = [["region", "name", "manager", "email"]] + [
        [code, name, m, ""] for code, name, m in zip(
            ["EAST", "SOUTH", "NORTH", "OTHER", "HQ"], ["华东", "华南", "华北", "其他", "总部"],
            NASTY)]
    with open(src, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    assert run_cli("import", sample_master, "--table", "tblRegions", src).exit_code == 0
    r = run_cli("export", sample_master, "--table", "tblRegions")
    got = [row["manager"] for row in csv.DictReader(io.StringIO(r.output))]
    # the workbook strips surrounding blanks on reading, so "\tTAB" and "\rCR" arrive stripped
    assert got == ["'=HYPERLINK(\"http://x\",\"y\")", "'+1+1", "'@SUM(1)", "'-2+3", "TAB"]
    raw = run_cli("export", sample_master, "--table", "tblRegions", "--raw")
    assert [row["manager"] for row in csv.DictReader(io.StringIO(raw.output))] == [
        '=HYPERLINK("http://x","y")', "+1+1", "@SUM(1)", "-2+3", "TAB"]
    js = json.loads(run_cli("export", sample_master, "--table", "tblRegions", "--format", "json").output)
    assert [d["manager"] for d in js] == ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(1)", "-2+3", "TAB"]


def test_csv_safe_cells():
    from xl_addin.workbook.master import csv_safe
    assert [csv_safe(v) for v in NASTY] == ["'" + v for v in NASTY[:-1]] + ["plain"]
    # numbers stay numbers: a negative number is not a formula
    assert csv_safe(Decimal("-5")) == "-5" and csv_safe(-2) == "-2"
    assert csv_safe(Decimal("1.50")) == "1.50" and csv_safe(None) == ""


# ----------------------------------------------------------------------------- docs

def test_docs_list_every_rule():
    from xl_addin.workbook.rules import RULES, markdown_table

    doc = (Path(__file__).parents[1] / "docs" / "workbook.md").read_text(encoding="utf-8")
    start = doc.index("-->\n", doc.index("<!-- rules:start")) + 4
    assert doc[start:doc.index("<!-- rules:end -->")] == markdown_table()
    for r in RULES:
        assert f"| {r.table} | `{r.column}` | {r.zh} | {r.en} |" in doc
