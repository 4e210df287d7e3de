"""Excel tables with openpyxl: create, find, grow, shrink, read; text that looks like a
formula stays text in openpyxl and in LibreOffice; number formats by column kind."""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl import Workbook

from tests.support import libreoffice as lo
from xl_addin.workbook import schema, styles
from xl_addin.workbook.tables import add_table, find_table, read_rows, write_rows

SPLIT = schema.TABLES["tblQuarterSplit"]
REGIONS = schema.TABLES["tblRegionSplit"]
TEAM = schema.TABLES["tblTeam"]
KPI = schema.TABLES["tblKpi"]
CHECKS = schema.TABLES["tblChecks"]

# "Save cell contents as shown" on, UTF-8: the CSV holds the text LibreOffice displays.
CSV_AS_SHOWN = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true"


def _csv_as_shown(path: Path, out_dir: Path) -> list[list[str]]:
    lo.require_soffice()
    out = lo._convert(path, out_dir, CSV_AS_SHOWN, lo.DEFAULT_TIMEOUT, force_recalc=False)
    with open(out, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def _sheet(title: str = "Sheet") -> tuple[Workbook, openpyxl.worksheet.worksheet.Worksheet]:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    return wb, ws


# ----------------------------------------------------------------------------- add / find

def test_add_table_writes_localised_headers_rows_and_registers_the_table():
    wb, ws = _sheet()
    rows = [("Q1", 45_000_000, Decimal("0.16")), ("Q2", 70_000_000, Decimal("0.25"))]
    table = add_table(ws, SPLIT, "B4", "zh", rows)
    assert table.displayName == table.name == "tblQuarterSplit"
    assert table.ref == "B4:D6" and table.autoFilter.ref == "B4:D6"
    assert [c.value for c in ws[4][1:4]] == ["季度", "目标金额", "计划占比"]
    assert [c.name for c in table.tableColumns] == ["季度", "目标金额", "计划占比"]
    assert ws["B5"].value == "Q1" and ws["C5"].value == 45_000_000 and ws["D6"].value == Decimal("0.25")
    assert table.tableStyleInfo.name == styles.TABLE_STYLES["in"]


def test_add_table_in_english_and_with_no_rows_keeps_one_blank_data_row():
    wb, ws = _sheet()
    table = add_table(ws, KPI, "A4", "en")
    assert table.ref == "A4:K5"
    assert ws["A4"].value == "Rep ID" and ws["K4"].value == "KPI score"
    assert all(c.value is None for c in ws[5])
    assert ws["K5"].number_format == "0.00"           # the blank row is styled already


def test_number_formats_follow_the_column_kind():
    wb, ws = _sheet()
    add_table(ws, TEAM, "A4", "zh", [("R001", "王建华", "EAST", "senior_sales", dt.date(2015, 7, 1),
                                      None, Decimal("1.2"), Decimal("15000"), None)])
    assert ws["A5"].number_format == "@"               # code
    assert ws["E5"].number_format == "yyyy-mm-dd"      # date
    assert ws["H5"].number_format == "#,##0.00"        # money
    assert ws["G5"].number_format == "General"         # num
    assert ws.column_dimensions["F"].width == TEAM.column("end_date").width
    assert [styles.number_format(k, "zh") for k in (schema.YUAN, schema.SHARE, schema.SCORE,
                                                    schema.INT, schema.DATETIME)] == [
        "#,##0", "0.00%", "0.00", "0", "yyyy-mm-dd hh:mm:ss"]
    with pytest.raises(ValueError):
        styles.number_format("colour", "zh")


def test_shares_entered_in_whole_percent_show_without_decimals_in_input_tables_only():
    # 0.16 is a whole percent (16%), 0.0107 is not (1.07%); outputs keep one format
    assert styles.value_number_format(schema.SHARE, "zh", Decimal("0.16"), "in") == "0%"
    assert styles.value_number_format(schema.SHARE, "zh", 0.0107, "in") == "0.00%"
    assert styles.value_number_format(schema.SHARE, "zh", Decimal("0.16"), "out") == "0.00%"
    assert styles.value_number_format(schema.SHARE, "zh", None, "in") == "0.00%"


def test_inputs_and_outputs_look_different():
    wb, ws = _sheet()
    add_table(ws, SPLIT, "A4", "zh", [("Q1", 1, None)])
    add_table(ws, KPI, "E4", "zh")
    in_fill, out_fill = ws["A5"].fill.start_color.rgb, ws["E5"].fill.start_color.rgb
    assert in_fill != out_fill
    assert ws["A4"].fill.start_color.rgb != ws["E4"].fill.start_color.rgb
    assert ws["A4"].font.name == "Microsoft YaHei" and ws["A4"].font.bold


def test_find_table_searches_every_sheet_and_raises_key_error_when_absent():
    wb, first = _sheet("First")
    second = wb.create_sheet("Second")
    add_table(second, CHECKS, "C4", "en")
    ws, table = find_table(wb, "tblChecks")
    assert ws is second and table.ref == "C4:H5"
    assert find_table(wb, "TBLCHECKS")[1] is table   # Excel table names ignore case
    with pytest.raises(KeyError):
        find_table(wb, "tblNope")


def test_add_table_refuses_to_overlap_another_table():
    wb, ws = _sheet()
    add_table(ws, SPLIT, "A4", "zh", [("Q1", 1, None)] * 3)
    with pytest.raises(ValueError, match="overlap"):
        add_table(ws, REGIONS, "C6", "zh")


# ----------------------------------------------------------------------------- write_rows

def _two_tables():
    """tblQuarterSplit at A4 (A:C) and tblRegionSplit at E4 (E:G), a note in I5."""
    wb, ws = _sheet()
    add_table(ws, SPLIT, "A4", "zh", [("Q1", 1, None)])
    add_table(ws, REGIONS, "E4", "zh", [("EAST", 120, Decimal("0.43")), ("SOUTH", 80, None)])
    ws["I5"] = "note beside"
    ws["D7"] = "in the gap"
    return wb, ws


def test_write_rows_grows_a_table_and_leaves_its_neighbours_alone():
    wb, ws = _two_tables()
    table = ws.tables["tblQuarterSplit"]
    neighbour_before = [[(c.value, c.number_format, c.fill.start_color.rgb) for c in row]
                        for row in ws["E4:G6"]]
    rows = [(f"Q{i}", i * 1000, Decimal("0.25")) for i in range(1, 5)] + [("Q9", 9, None)] * 4
    write_rows(ws, table, SPLIT, rows, "zh")
    assert table.ref == "A4:C12" and table.autoFilter.ref == "A4:C12"
    assert ws["A12"].value == "Q9" and ws["B12"].number_format == "#,##0"
    assert ws["C8"].number_format == "0%"
    assert [[(c.value, c.number_format, c.fill.start_color.rgb) for c in row]
            for row in ws["E4:G6"]] == neighbour_before
    assert ws["D7"].value == "in the gap" and ws["I5"].value == "note beside"
    assert ws["D12"].value is None and ws["D12"].has_style is False


def test_write_rows_shrinks_a_table_and_clears_rows_no_longer_used():
    wb, ws = _two_tables()
    table = ws.tables["tblRegionSplit"]
    write_rows(ws, table, REGIONS, [(f"R{i}", i, Decimal("0.1")) for i in range(6)], "zh")
    assert table.ref == "E4:G10"
    write_rows(ws, table, REGIONS, [("NORTH", 50, Decimal("0.18"))], "zh")
    assert table.ref == "E4:G5" and table.autoFilter.ref == "E4:G5"
    assert ws["E5"].value == "NORTH"
    for row in ws["E6:G10"]:
        for cell in row:
            assert cell.value is None
            assert cell.number_format == "General"
            assert cell.fill.fill_type is None
    write_rows(ws, table, REGIONS, [], "zh")          # empty: one blank, styled row remains
    assert table.ref == "E4:G5" and ws["E5"].value is None and ws["F5"].number_format == "#,##0"
    assert ws["I5"].value == "note beside" and ws["A5"].value == "Q1"


def test_write_rows_refuses_to_grow_into_a_table_below():
    wb, ws = _sheet()
    top = add_table(ws, SPLIT, "A4", "zh", [("Q1", 1, None)])
    add_table(ws, REGIONS, "A10", "zh")
    with pytest.raises(ValueError, match="tblRegionSplit"):
        write_rows(ws, top, SPLIT, [("Q1", 1, None)] * 8, "zh")
    assert top.ref == "A4:C5"


def test_write_rows_finds_columns_by_label_when_users_reorder_them():
    wb, ws = _sheet()
    table = add_table(ws, SPLIT, "A4", "en", [("Q1", 1, None)])
    ws["A4"], ws["C4"] = "Stated share", "季度"       # moved, and one in the other language
    write_rows(ws, table, SPLIT, [{"quarter": "Q2", "amount": 70_000_000, "stated_share": Decimal("0.25")}], "en")
    assert (ws["A5"].value, ws["B5"].value, ws["C5"].value) == (Decimal("0.25"), 70_000_000, "Q2")
    assert ws["A5"].number_format == "0%"              # a share, wherever it moved
    ws["B4"] = "Something else"
    from xl_addin.errors import InputError
    with pytest.raises(InputError, match="column 'amount' .* is missing"):
        write_rows(ws, table, SPLIT, [("Q1", 1, None)], "en")
    assert ws["B5"].value == 70_000_000                # nothing written


def test_write_rows_turns_missing_values_into_empty_cells():
    wb, ws = _sheet()
    table = add_table(ws, KPI, "A4", "en")
    nan = float("nan")
    write_rows(ws, table, KPI, [("R001", "Q1", 0.5, nan, None, 1.0, 1.0, pd.NaT, Decimal("NaN"), 0.0,
                                 Decimal("83.25"))], "en")
    assert ws["D5"].value is None and ws["H5"].value is None and ws["I5"].value is None
    assert ws["J5"].value == 0.0
    assert ws["K5"].value == Decimal("83.25")
    with pytest.raises(ValueError, match="11 columns"):
        write_rows(ws, table, KPI, [("R001", "Q1")], "en")


FORMULA_LIKE = ["=1+1", "+86 138 0013 8000", "-5", "@x", "=SUM(A1:A3)"]


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    wb, ws = _sheet("Checks")
    table = add_table(ws, CHECKS, "A4", "en")
    rows = [("area", text, None, None, "OK", text) for text in FORMULA_LIKE]
    write_rows(ws, table, CHECKS, rows, "en")
    assert all(ws.cell(5 + i, 2).data_type == "s" for i in range(len(FORMULA_LIKE)))
    assert ws["B5"].quotePrefix                           # Excel keeps it text when edited
    path = tmp_path / "formula_like.xlsx"
    wb.save(path)

    back = openpyxl.load_workbook(path)["Checks"]
    assert [back.cell(5 + i, 2).value for i in range(len(FORMULA_LIKE))] == FORMULA_LIKE
    assert {back.cell(5 + i, 2).data_type for i in range(len(FORMULA_LIKE))} == {"s"}
    assert read_rows(back, back.tables["tblChecks"])[1][0][1] == "=1+1"

    # LibreOffice shows the text, not the result of a formula ("2")
    shown = _csv_as_shown(path, tmp_path / "csv")
    assert [r[1] for r in shown[4:4 + len(FORMULA_LIKE)]] == FORMULA_LIKE
    # ... and saves it back as text
    resaved = lo.recalc_xlsx(path, tmp_path / "lo")
    again = openpyxl.load_workbook(resaved)["Checks"]
    assert [again.cell(5 + i, 2).value for i in range(len(FORMULA_LIKE))] == FORMULA_LIKE
    assert {again.cell(5 + i, 2).data_type for i in range(len(FORMULA_LIKE))} == {"s"}


def test_a_number_that_replaces_formula_like_text_loses_the_quote_prefix():
    wb, ws = _sheet()
    table = add_table(ws, CHECKS, "A4", "en", [("a", "=1+1", None, None, "OK", None)])
    assert ws["B5"].quotePrefix
    write_rows(ws, table, CHECKS, [("a", "plain", 1, 2, "OK", "-")], "en")
    assert not ws["B5"].quotePrefix and ws["F5"].quotePrefix


# ----------------------------------------------------------------------------- read_rows

def test_read_rows_gives_headers_and_rows_without_trailing_blank_rows():
    wb, ws = _sheet()
    table = add_table(ws, SPLIT, "A4", "zh", [("Q1", 45_000_000, Decimal("0.16")), ("Q2", 1, None)])
    table.ref = "A4:C8"                                  # as if a user had dragged it larger
    ws["A7"] = "  "
    header, rows = read_rows(ws, table)
    assert header == ["季度", "目标金额", "计划占比"]
    assert rows == [("Q1", 45_000_000, Decimal("0.16")), ("Q2", 1, None)]


# ----------------------------------------------------------------------------- 万

def test_wan_format_shows_wan_in_libreoffice(tmp_path):
    # 120,000,000 / 10,000 = 12,000万; Excel reads the same format the same way
    wb, ws = _sheet()
    for row, value in enumerate((120_000_000, 45_000_000, 12_345_678, 5_000), 1):
        ws.cell(row, 1, value).number_format = styles.WAN_FORMAT
        ws.cell(row, 2, value).number_format = styles.MILLION_FORMAT
        ws.cell(row, 3, value).number_format = styles.YI_FORMAT
    path = tmp_path / "wan.xlsx"
    wb.save(path)
    shown = _csv_as_shown(path, tmp_path / "csv")
    assert [r[0] for r in shown] == ["12000.0万", "4500.0万", "1234.6万", "0.5万"]
    assert [r[1] for r in shown] == ["120.0m", "45.0m", "12.3m", "0.0m"]
    assert shown[0][2] == "1.20亿"
