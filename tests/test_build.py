"""The master workbook as built: every sheet and contract table, the plan's inputs, drop-down
lists, conditional formats, frozen panes, and LibreOffice opening it."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.utils.cell import range_boundaries

from tests.support import libreoffice as lo
from xl_addin.core.model import SETTING_KEYS, default_plan
from xl_addin.core.sample import sample_actuals, sample_regions, sample_team
from xl_addin.core.splits import cube_frame, rep_target_frame
from xl_addin.workbook import schema
from xl_addin.workbook.build import (FIRST_DATA_ROW, HEADER_ROW, VALIDATION_ROWS, build_master,
                                     column_letter, table_layout)
from xl_addin.workbook.parse import RawTable, inputs_from_raw
from xl_addin.workbook.tables import find_table, read_rows

LANGS = ("zh", "en")


def sample_plan(lang: str):
    team = sample_team(2026)
    plan = default_plan(2026, lang, team=team, regions=sample_regions(lang))
    targets, _ = rep_target_frame(plan, cube_frame(plan))
    sales = {(r.rep_id, r.quarter): int(r.sales_target) for r in targets.itertuples()}
    return default_plan(2026, lang, team=team, regions=sample_regions(lang),
                        actuals=sample_actuals(team, sales))


@pytest.fixture(scope="module", params=LANGS)
def built(request):
    lang = request.param
    return build_master(default_plan(2026, lang), lang), lang


@pytest.fixture(scope="module")
def sample_zh():
    return build_master(sample_plan("zh"), "zh")


def rows_of(wb, name):
    ws, table = find_table(wb, name)
    return read_rows(ws, table)[1]


# ----------------------------------------------------------------------------- sheets, tables

def test_every_sheet_in_order_with_localised_titles(built):
    wb, lang = built
    # the cover sheet 说明 / About first and active, then the contract's sheets in order
    assert wb.sheetnames == [{"zh": "说明", "en": "About"}[lang]] + [s.title(lang) for s in schema.SHEETS.values()]
    assert wb.active.title == {"zh": "说明", "en": "About"}[lang]


def test_every_contract_table_on_its_sheet_with_labels_in_contract_order(built):
    wb, lang = built
    for name, spec in schema.TABLES.items():
        ws, table = find_table(wb, name)
        assert ws.title == schema.SHEETS[spec.sheet].title(lang)
        assert table.displayName == name
        header, _ = read_rows(ws, table)
        assert header == [c.label(lang) for c in spec.columns]
        assert range_boundaries(table.ref)[1] == HEADER_ROW


def test_tables_sharing_a_sheet_stand_side_by_side_one_column_apart(built):
    wb, _ = built
    for sheet, placed in table_layout().items():
        spans = []
        for name, top_left in placed:
            ws, table = find_table(wb, name)
            lo_col, lo_row, hi_col, _ = range_boundaries(table.ref)
            assert f"{top_left}" == ws.cell(lo_row, lo_col).coordinate
            spans.append((lo_col, hi_col))
        for (_, right), (left, _) in zip(spans, spans[1:]):
            assert left == right + 2, sheet


def test_the_layout_puts_the_targets_inputs_left_and_the_cube_right():
    placed = dict(table_layout()["targets"])
    assert placed == {"tblQuarterSplit": "A4", "tblRegionSplit": "E4", "tblProductSplit": "I4",
                      "tblCubePrior": "M4", "tblTargetCube": "R4"}
    assert dict(table_layout()["team"]) == {"tblTeam": "A4", "tblRegions": "K4"}


def test_title_and_hint_on_every_table_sheet(built):
    wb, lang = built
    for key, sheet in schema.SHEETS.items():
        ws = wb[sheet.title(lang)]
        title = ws["A1"].value if key != "dashboard" else ws["B1"].value
        assert sheet.title(lang) in title and "2026" in title
        assert (ws["A2"].value or ws["B2"].value)


def test_output_tables_are_empty_with_one_blank_row(built):
    wb, _ = built
    for name in schema.OUTPUT_TABLES + ("tblRunLog",):
        ws, table = find_table(wb, name)
        assert rows_of(wb, name) == []
        lo_col, lo_row, hi_col, hi_row = range_boundaries(table.ref)
        assert hi_row == lo_row + 1


# ----------------------------------------------------------------------------- inputs

def test_splits_hold_the_plans_numbers(built):
    wb, _ = built
    assert rows_of(wb, "tblQuarterSplit") == [
        ("Q1", 45_000_000, Decimal("0.16")), ("Q2", 70_000_000, Decimal("0.25")),
        ("Q3", 75_000_000, Decimal("0.27")), ("Q4", 90_000_000, Decimal("0.32"))]
    assert rows_of(wb, "tblRegionSplit") == [
        ("EAST", 120_000_000, Decimal("0.43")), ("SOUTH", 80_000_000, Decimal("0.29")),
        ("NORTH", 50_000_000, Decimal("0.18")), ("OTHER", 30_000_000, Decimal("0.10"))]
    assert rows_of(wb, "tblProductSplit") == [
        ("A", 150_000_000, Decimal("0.53")), ("B", 80_000_000, Decimal("0.29")),
        ("C", 50_000_000, Decimal("0.18"))]
    ws, _ = find_table(wb, "tblQuarterSplit")
    assert ws["B5"].number_format == "#,##0" and ws["C5"].number_format == "0%"


def test_plan_table_lists_every_setting_in_order_with_a_note(built):
    wb, lang = built
    rows = rows_of(wb, "tblPlan")
    assert [r[0] for r in rows] == list(SETTING_KEYS) + ["sheet_password"]   # offered blank
    values = {r[0]: r[1] for r in rows}
    assert values["annual_target"] == Decimal(280_000_000)
    assert values["prior_year"] == Decimal(224_000_000)
    assert values["base_gate"] == Decimal(60) and values["base_mode"] == "gate"
    assert values["excess_rate"] == Decimal("0.03") and values["excess_pool"] == Decimal(2_000_000)
    assert values["hires_by_region"] == "EAST:3,SOUTH:2,NORTH:1,HQ:2"
    assert values["team_award_members"] is None and values["as_of_date"] is None
    assert all(r[2] for r in rows)                      # every setting explained
    ws, _ = find_table(wb, "tblPlan")
    row = FIRST_DATA_ROW + list(SETTING_KEYS).index("excess_rate")
    assert ws[f"B{row}"].number_format == "0%"          # 0.03 shows as 3%


def test_budget_and_kpi_scheme_from_the_plan(built):
    wb, lang = built
    budget = rows_of(wb, "tblBudget")
    assert budget[0][:6] == ("MKT", "市场推广" if lang == "zh" else "Marketing", None,
                             3_000_000, Decimal("0.0107"), True)
    assert sum(r[3] for r in budget if r[2] == "MKT") == 3_000_000
    scheme = rows_of(wb, "tblKpiScheme")
    assert [r[0] for r in scheme][:2] == ["sales", "collection_rate"]
    assert sum(r[2] for r in scheme) == 100


def test_sample_inputs_fill_the_team_regions_and_actuals(sample_zh):
    team = rows_of(sample_zh, "tblTeam")
    assert len(team) == 28 and team[0][:4] == ("R001", "陈志远", "HQ", "director")
    regions = rows_of(sample_zh, "tblRegions")
    assert regions[0] == ("EAST", "华东", "王建华", "east.manager@example.com")
    assert len(rows_of(sample_zh, "tblActuals")) > 80
    assert rows_of(sample_zh, "tblImprovement") == [] and rows_of(sample_zh, "tblCubePrior") == []


def test_the_inputs_read_back_as_they_went_in(tmp_path, sample_zh):
    """Build, save, load, read every input table with the project's reader: same plan."""
    path = tmp_path / "master.xlsx"
    sample_zh.save(path)
    wb = openpyxl.load_workbook(path)
    raws = {}
    for name in schema.INPUT_TABLES:
        ws, table = find_table(wb, name)
        header, rows = read_rows(ws, table)
        lo_col, lo_row, _, _ = range_boundaries(table.ref)
        raws[name] = RawTable(name, ws.title, header, [list(r) for r in rows], (lo_row, lo_col))
    back = inputs_from_raw(raws)
    plan = sample_plan("zh")
    # the Plan offers a blank sheet_password row (an extra setting): it reads back blank
    assert back.settings == dataclasses.replace(plan.settings, extra={"sheet_password": ""})
    for field in ("quarters", "regions_split", "products", "regions", "team", "budget",
                  "kpi_scheme", "actuals", "improvement", "cube_prior"):
        assert getattr(back, field) == getattr(plan, field), field


# ----------------------------------------------------------------------------- helpers for users

def _validations(wb, name):
    ws, _ = find_table(wb, name)
    return [(str(dv.sqref), dv.formula1) for dv in ws.data_validations.dataValidation]


@pytest.mark.parametrize("table,key,source", [
    ("tblActuals", "quarter", '"Q1,Q2,Q3,Q4"'),
    ("tblQuarterSplit", "quarter", '"Q1,Q2,Q3,Q4"'),
    ("tblImprovement", "quarter", '"Q1,Q2,Q3,Q4"'),
    ("tblTeam", "region", "xl_regions"),
    ("tblCubePrior", "product", "xl_products"),
    ("tblActuals", "rep_id", "xl_reps"),
    ("tblTeam", "role", '"senior_sales,sales,channel_specialist,ka_manager,director,data_analyst"'),
    ("tblImprovement", "outcome", '"open,passed,failed"'),
    ("tblKpiScheme", "basis", '"sales_target,rate,count"'),
])
def test_code_columns_have_drop_down_lists_for_new_rows_too(built, table, key, source):
    wb, _ = built
    col = column_letter(table, key)
    expected = f"{col}{FIRST_DATA_ROW}:{col}{FIRST_DATA_ROW + VALIDATION_ROWS - 1}"
    assert (expected, source) in _validations(wb, table)


def test_list_names_point_at_the_regions_products_and_reps(built):
    wb, lang = built
    team = schema.SHEETS["team"].title(lang)
    regions = wb.defined_names["xl_regions"].attr_text
    assert f"'{team}'!$K$5" in regions and "COUNTA" in regions
    assert "$I$5" in wb.defined_names["xl_products"].attr_text
    assert f"'{team}'!$A$5" in wb.defined_names["xl_reps"].attr_text


def test_base_mode_value_has_its_own_list(built):
    wb, _ = built
    row = FIRST_DATA_ROW + list(SETTING_KEYS).index("base_mode")
    assert (f"B{row}", '"gate,linear"') in _validations(wb, "tblPlan")


def _rules(wb, name):
    ws, _ = find_table(wb, name)
    return [(str(cf.sqref), rule.formula[0]) for cf in ws.conditional_formatting for rule in cf.rules]


def test_conditional_formats_flag_low_scores_and_bad_checks(built):
    wb, lang = built
    gate_row = FIRST_DATA_ROW + list(SETTING_KEYS).index("base_gate")
    assert wb.defined_names["xl_base_gate"].attr_text == f"'{schema.SHEETS['plan'].title(lang)}'!$B${gate_row}"
    assert ("K5:K1048576", "AND(ISNUMBER($K5),$K5<xl_base_gate)") in _rules(wb, "tblKpi")
    assert ("D5:D1048576", "AND(ISNUMBER($D5),$D5<xl_base_gate)") in _rules(wb, "tblBonus")
    checks = _rules(wb, "tblChecks")
    assert ("A5:F1048576", '$E5="WARN"') in checks and ("A5:F1048576", '$E5="FAIL"') in checks
    watch = {f for _, f in _rules(wb, "tblWatchlist")}
    assert watch == {'$C5="warning"', '$C5="improvement_period"', '$C5="reassign_or_exit"'}


def test_panes_freeze_below_the_headers(built):
    wb, lang = built
    assert wb[schema.SHEETS["plan"].title(lang)].freeze_panes == "A5"
    assert wb[schema.SHEETS["kpi"].title(lang)].freeze_panes == "B5"
    assert wb[schema.SHEETS["checks"].title(lang)].freeze_panes == "A5"


def test_workbook_properties(built):
    wb, lang = built
    assert wb.properties.creator == "xl_addin"
    assert wb.properties.title == ("2026年销售计划" if lang == "zh" else "Sales plan 2026")
    assert wb.properties.subject


def test_unsupported_language_is_refused():
    with pytest.raises(ValueError, match="fr"):
        build_master(default_plan(2026), "fr")


# ----------------------------------------------------------------------------- LibreOffice

def test_libreoffice_opens_the_sample_master(tmp_path, sample_zh):
    lo.require_soffice()
    path = tmp_path / "sales_plan_2026.xlsx"
    sample_zh.save(path)
    pages = lo.render_png(path, tmp_path / "png", first_page_only=True, dpi=40)
    assert pages[0].exists() and pages[0].stat().st_size > 10_000
    resaved = openpyxl.load_workbook(lo.recalc_xlsx(path, tmp_path / "lo"))
    assert set(schema.TABLES) <= {n for ws in resaved.worksheets for n in ws.tables}
