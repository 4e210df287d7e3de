"""Tests for the xlwings harnesses: remote-engine macros and Office.js custom functions.

They double as executable documentation of what xlwings' remote engine (0.37.8) and
its custom-function bridge really do -- see the module docstrings of
tests/support/xlwings_remote.py and tests/support/xlwings_udfs.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table, TableStyleInfo

from tests.support.xlwings_remote import (
    Alert,
    apply_actions,
    book_json_from_xlsx,
    open_remote_book,
    run_macro,
)
from tests.support.xlwings_udfs import (
    call_udf,
    excel_error,
    load_udf_module,
    udf_cell,
    udf_request,
)

SALES = [
    ("张三", "华东", 120, dt.datetime(2024, 1, 5)),
    ("李四", "华北", 80.5, dt.datetime(2024, 2, 1)),
    ("王五", "华东", 45, dt.datetime(2024, 3, 1)),
    ("赵六", "华南", 200, dt.datetime(2024, 3, 15)),
]


def _add_table(ws: Any, name: str, ref: str) -> None:
    table = Table(displayName=name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)


@pytest.fixture
def sample_xlsx(tmp_path: Path) -> Path:
    """Two sheets: 销售 with table tblSales; 汇总 with table tblSummary (4 rows) + a name."""
    wb = openpyxl.Workbook()
    sales = wb.active
    sales.title = "销售"
    sales.append(["rep", "region", "amount", "day"])
    for row in SALES:
        sales.append(list(row))
    for cell in sales["D"][1:]:
        cell.number_format = "yyyy-mm-dd"
    _add_table(sales, "tblSales", "A1:D5")
    sales["F1"] = "备注"
    sales["F3"] = True

    summary = wb.create_sheet("汇总")
    summary.append(["region", "total"])
    for row in [["旧1", 1], ["旧2", 2], ["旧3", 3], ["旧4", 4]]:
        summary.append(row)
    _add_table(summary, "tblSummary", "A1:B5")
    summary["D1"], summary["E1"] = "rate", 0.13
    summary["D2"] = "=E1*2"  # no cached value (openpyxl): the client would send ""
    wb.defined_names["rate"] = DefinedName("rate", attr_text="汇总!$E$1")
    summary.defined_names["local_total"] = DefinedName(
        "local_total", attr_text="汇总!$B$2:$B$5"
    )
    wb.defined_names["vat"] = DefinedName("vat", attr_text="0.13")  # not a range
    path = tmp_path / "sample.xlsx"
    wb.save(path)
    return path


def _summarise(book: Any, *, by: str = "region") -> pd.DataFrame:
    sales = book.sheets["销售"].tables["tblSales"]
    df = sales.range.options(pd.DataFrame, index=False).value
    return df.groupby(by, as_index=False, sort=True)["amount"].sum().rename(
        columns={"amount": "total"}
    )


# ---------------------------------------------------------------------------------------
# payload
# ---------------------------------------------------------------------------------------


def test_payload_matches_the_office_js_client(sample_xlsx: Path) -> None:
    payload = book_json_from_xlsx(sample_xlsx)
    assert payload["client"] == "Office.js"
    assert payload["book"] == {
        "name": "sample.xlsx",
        "active_sheet_index": 0,
        "selection": "A1",
        "calculation": "Automatic",
    }
    sales = payload["sheets"][0]
    assert sales["name"] == "销售"
    assert sales["values"][0] == ["rep", "region", "amount", "day", "", "备注"]
    # JS numbers: 120 stays int, 80.5 float; date cells become ISO strings; empty -> ""
    assert sales["values"][1] == ["张三", "华东", 120, "2024-01-05T00:00:00.000Z", "", ""]
    assert sales["values"][2][2] == 80.5
    assert sales["values"][2][5] is True
    assert sales["tables"][0] == {
        "name": "tblSales",
        "range_address": "A1:D5",
        "header_row_range_address": "A1:D1",
        "data_body_range_address": "A2:D5",
        "total_row_range_address": None,
        "show_headers": True,
        "show_totals": False,
        "table_style": "TableStyleMedium2",
        "show_autofilter": True,
        "columns": ["rep", "region", "amount", "day"],
        "row_count": 5,
        "column_count": 4,
        "show_table_style_first_column": False,
        "show_table_style_last_column": False,
        "show_table_style_row_stripes": True,
        "show_table_style_column_stripes": False,
    }
    summary = payload["sheets"][1]
    assert summary["values"][1][3] == ""  # formula without cached value
    names = {name["name"]: name for name in payload["names"]}
    assert set(names) == {"rate", "local_total"}  # "vat" is a constant, not a range
    assert names["rate"] == {
        "name": "rate",
        "sheet_index": 1,
        "address": "E1",
        "scope_sheet_name": None,
        "scope_sheet_index": None,
        "book_scope": True,
        "refers_to": "=汇总!$E$1",
    }
    assert names["local_total"]["book_scope"] is False
    assert names["local_total"]["scope_sheet_index"] == 1

    minimal = book_json_from_xlsx(sample_xlsx, minimal=True)
    assert set(minimal["sheets"][0]) == {"name", "values", "pictures", "tables"}
    assert "refers_to" not in minimal["names"][0]

    vba = book_json_from_xlsx(sample_xlsx, client="VBA")
    assert vba["client"] == "VBA"
    assert vba["sheets"][0]["values"][1] == [
        "张三", "华东", 120, "2024-01-05T00:00:00.000Z", None, None
    ]
    assert vba["sheets"][0]["tables"][0]["data_body_range_address"] == "$A$2:$D$5"
    book = open_remote_book(vba)
    try:
        assert book.sheets[0].tables["tblSales"].data_body_range.value[0][0] == "张三"
        with pytest.raises(NotImplementedError, match="Office.js"):
            book.sheets[0].show_gridlines = False
    finally:
        book.close()


# ---------------------------------------------------------------------------------------
# reading through the real remote engine
# ---------------------------------------------------------------------------------------


def test_reading_through_the_remote_engine(sample_xlsx: Path) -> None:
    book = open_remote_book(book_json_from_xlsx(sample_xlsx))
    try:
        sheet = book.sheets["销售"]
        assert book.sheets.active.name == "销售"
        assert sheet["A2"].value == "张三"
        assert sheet["C2"].value == 120 and isinstance(sheet["C2"].value, int)
        assert sheet["D2"].value == dt.datetime(2024, 1, 5)
        assert sheet["Z99"].value is None  # outside the used range
        assert sheet["A1"].expand().shape == (5, 4)  # stops at the empty column E

        table = sheet.tables["tblSales"]
        assert table.range.address == "$A$1:$D$5"
        assert table.header_row_range.value == ["rep", "region", "amount", "day"]
        assert table.data_body_range.value[1] == ["李四", "华北", 80.5, dt.datetime(2024, 2, 1)]
        assert sheet["tblSales"].address == "$A$2:$D$5"  # a table name -> its data body
        assert len(table.rows) == 4
        assert [column.name for column in table.columns] == ["rep", "region", "amount", "day"]

        df = table.range.options(pd.DataFrame, index=False).value
        assert list(df.columns) == ["rep", "region", "amount", "day"]
        assert df["amount"].tolist() == [120, 80.5, 45, 200]
        df2 = sheet["A1"].options(pd.DataFrame, index=False, expand="table").value
        pd.testing.assert_frame_equal(df, df2)

        assert book.names["rate"].refers_to_range.value == pytest.approx(0.13)
        assert book.sheets["汇总"]["rate"].value == pytest.approx(0.13)
        assert book.sheets["汇总"].names[0].name == "汇总!local_total"
        with pytest.raises(KeyError):
            book.names["vat"]
        with pytest.raises(NotImplementedError):
            sheet["C2"].number_format  # noqa: B018  (sync getters are not available)
        with pytest.raises(NotImplementedError):
            sheet["C2"].formula  # noqa: B018
    finally:
        book.close()


def test_writes_are_not_visible_to_later_reads_in_the_same_macro(sample_xlsx: Path) -> None:
    seen = {}

    def macro(book: Any) -> None:
        cell = book.sheets["汇总"]["B2"]
        cell.value = 999
        seen["after_write"] = cell.value

    run_macro(sample_xlsx, macro, sample_xlsx.with_name("out.xlsx"))
    assert seen["after_write"] == 1  # the snapshot, not 999
    assert openpyxl.load_workbook(sample_xlsx.with_name("out.xlsx"))["汇总"]["B2"].value == 999


# ---------------------------------------------------------------------------------------
# macros: tables grow and shrink, formats, alerts
# ---------------------------------------------------------------------------------------


def _summary_macro(book: Any) -> None:
    summary = _summarise(book)
    table = book.sheets["汇总"].tables["tblSummary"]
    table.update(summary, index=False)
    rows = len(summary)
    book.sheets["汇总"].range((2, 2), (rows + 1, 2)).number_format = "#,##0.00"
    book.app.alert(f"已汇总 {rows} 个大区", title="汇总", buttons="ok", mode="info")


@pytest.mark.parametrize(
    ("client", "minimal"),
    [("Office.js", False), ("Office.js", True), ("VBA", True)],
    ids=["officejs-0.37.8", "officejs-minimal", "vba-remote"],
)
def test_macro_shrinks_a_table(
    sample_xlsx: Path, tmp_path: Path, client: str, minimal: bool
) -> None:
    out = tmp_path / "shrunk.xlsx"
    actions, alerts = run_macro(
        sample_xlsx, _summary_macro, out, minimal=minimal, client=client
    )

    assert [action["func"] for action in actions] == [
        "resizeTable",
        "rangeClearContents",
        "setValues",
        "setValues",
        "setNumberFormat",
        "alert",
    ]
    assert alerts == [Alert("已汇总 3 个大区", "汇总", "ok", "info", "")]
    ws = openpyxl.load_workbook(out)["汇总"]
    assert ws.tables["tblSummary"].ref == "A1:B4"
    assert [[c.value for c in row] for row in ws["A1:B5"]] == [
        ["region", "total"],
        ["华东", 165],
        ["华北", 80.5],
        ["华南", 200],
        [None, None],  # the left-over 4th row was cleared
    ]
    assert ws["B2"].number_format == "#,##0.00"
    assert ws["D2"].value == "=E1*2"  # untouched formulas are kept


def test_macro_grows_a_table(sample_xlsx: Path, tmp_path: Path) -> None:
    def macro(book: Any) -> None:
        sales = book.sheets["销售"].tables["tblSales"]
        df = sales.range.options(pd.DataFrame, index=False).value
        df["tax"] = (df["amount"] * book.names["rate"].refers_to_range.value).round(2)
        df = df[["rep", "region", "amount", "tax"]]
        grown = pd.concat([df, df.assign(rep=df["rep"] + "2")], ignore_index=True)
        book.sheets["汇总"].tables["tblSummary"].update(grown, index=False)
        book.sheets["汇总"]["D2:D9"].number_format = "0.00%"

    out = tmp_path / "grown.xlsx"
    actions, alerts = run_macro(sample_xlsx, macro, out)
    assert alerts == []
    assert actions[0]["func"] == "resizeTable" and actions[0]["args"] == [0, "$A$1:$D$9"]

    wb = openpyxl.load_workbook(out)
    ws = wb["汇总"]
    table = ws.tables["tblSummary"]
    assert table.ref == "A1:D9"
    assert [column.name for column in table.tableColumns] == ["rep", "region", "amount", "tax"]
    assert table.autoFilter.ref == "A1:D9"
    assert [c.value for c in ws[9]][:4] == ["赵六2", "华南", 200, 26]
    assert ws["D3"].value == pytest.approx(10.46)  # round(80.5 * 0.13, 2): 10.465 -> 10.46
    assert ws["D2"].number_format == "0.00%"

    # the result reads back through xlwings exactly as written
    book = open_remote_book(book_json_from_xlsx(out))
    try:
        back = book.sheets["汇总"].tables["tblSummary"].range.options(
            pd.DataFrame, index=False
        ).value
    finally:
        book.close()
    assert back.shape == (8, 4)
    assert back["rep"].tolist()[:5] == ["张三", "李四", "王五", "赵六", "张三2"]
    assert back["tax"].tolist() == pytest.approx([15.6, 10.46, 5.85, 26] * 2)


def test_table_row_and_column_api(sample_xlsx: Path, tmp_path: Path) -> None:
    def macro(book: Any) -> None:
        table = book.sheets["汇总"].tables["tblSummary"]
        table.rows(1).delete()  # 旧1
        table.rows.add(["新", 10])  # appended (snapshot still counts 4 rows)
        table.columns.add("share")
        table.sort([2], [False])

    out = tmp_path / "rows.xlsx"
    actions, _ = run_macro(sample_xlsx, macro, out)
    assert [a["func"] for a in actions] == [
        "deleteTableRow",
        "addTableRow",
        "addTableColumn",
        "tableSort",
    ]
    ws = openpyxl.load_workbook(out)["汇总"]
    assert ws.tables["tblSummary"].ref == "A1:C5"
    assert [[c.value for c in row] for row in ws["A1:C5"]] == [
        ["region", "total", "share"],
        ["新", 10, None],
        ["旧4", 4, None],
        ["旧3", 3, None],
        ["旧2", 2, None],
    ]
    # adding a table column inserts cells: what was right of the table (in its rows)
    # moves one column right, formulas included
    assert (ws["E1"].value, ws["F1"].value, ws["E2"].value) == ("rate", 0.13, "=F1*2")


def test_values_are_parsed_like_excel_typed_input(sample_xlsx: Path, tmp_path: Path) -> None:
    def macro(book: Any) -> None:
        sheet = book.sheets.add("结果", after=book.sheets["汇总"])
        sheet["A1"].value = [
            [dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 8, 30), "00123", "'00123"],
            ["=A2*2", True, None, 12.5],
            ["110101199003071234", "15%", "TRUE", "张三"],
            ["2024/5/1", "1,234", "1,234.5", "12-34"],
        ]
        sheet["A2"].value = 21
        sheet["D1"].number_format = "@"

    out = tmp_path / "typed.xlsx"
    actions, _ = run_macro(sample_xlsx, macro, out)
    assert actions[0] == {
        "func": "addSheet",
        "args": [2, "结果"],
        "values": None,
        "sheet_position": None,
        "start_row": None,
        "start_column": None,
        "row_count": None,
        "column_count": None,
    }
    # what xlwings sends: dates as ISO strings, None as ""
    assert actions[1]["values"][0][:2] == ["2024-05-01", "2024-05-01 08:30:00"]
    assert actions[1]["values"][1][2] == ""

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["销售", "汇总", "结果"]
    ws = wb["结果"]
    assert ws["A1"].value == dt.datetime(2024, 5, 1)
    assert ws["A1"].number_format == "yyyy-mm-dd"
    assert ws["B1"].value == dt.datetime(2024, 5, 1, 8, 30)
    assert ws["C1"].value == 123  # Excel drops the leading zeros
    assert ws["D1"].value == "00123"  # the apostrophe keeps text
    assert ws["A2"].value == 21  # later write wins
    assert ws["B2"].value is True
    assert ws["C2"].value is None
    assert ws["A3"].value == pytest.approx(1.10101199003071e17)  # 15 digits survive
    assert ws["B3"].value == pytest.approx(0.15) and ws["B3"].number_format == "0%"
    assert ws["C3"].value is True
    assert ws["A4"].value == dt.datetime(2024, 5, 1) and ws["A4"].number_format == "yyyy/m/d"
    assert (ws["B4"].value, ws["B4"].number_format) == (1234, "#,##0")
    assert ws["C4"].value == pytest.approx(1234.5)
    assert ws["D4"].value == "12-34"


def test_sheet_rename_rewrites_formulas_and_names(sample_xlsx: Path, tmp_path: Path) -> None:
    def macro(book: Any) -> None:
        book.sheets["汇总"].name = "Summary 2024"
        book.sheets["销售"]["H1"].value = "=SUM('汇总'!B2:B5)+汇总!E1"
        book.names.add("first_rep", "=销售!$A$2")

    out = tmp_path / "renamed.xlsx"
    run_macro(sample_xlsx, macro, out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["销售", "Summary 2024"]
    # setValues runs after the rename, as in Excel: the formula refers to a sheet
    # that no longer exists -- exactly what Excel would do (#REF! on recalculation).
    assert wb["销售"]["H1"].value == "=SUM('汇总'!B2:B5)+汇总!E1"
    assert wb.defined_names["rate"].attr_text == "'Summary 2024'!$E$1"
    assert wb.defined_names["first_rep"].attr_text == "销售!$A$2"


def test_rename_before_formula_write(sample_xlsx: Path, tmp_path: Path) -> None:
    def macro(book: Any) -> None:
        book.sheets["销售"]["H1"].value = "=SUM(汇总!B2:B5)"
        book.sheets["汇总"].name = "总表"

    out = tmp_path / "renamed2.xlsx"
    run_macro(sample_xlsx, macro, out)
    assert openpyxl.load_workbook(out)["销售"]["H1"].value == "=SUM(总表!B2:B5)"


def test_unknown_and_unemulated_actions_raise(sample_xlsx: Path, tmp_path: Path) -> None:
    with pytest.raises(NotImplementedError, match="'frobnicate'"):
        apply_actions(sample_xlsx, [{"func": "frobnicate", "args": [1]}], tmp_path / "x.xlsx")

    def macro(book: Any) -> None:
        book.sheets[0]["A1"].autofill(book.sheets[0]["A1:A3"], "fill_series")

    with pytest.raises(NotImplementedError, match="'rangeAutofill'"):
        run_macro(sample_xlsx, macro, tmp_path / "y.xlsx")


def test_async_macro_and_sheet_operations(sample_xlsx: Path, tmp_path: Path) -> None:
    async def macro(book: Any) -> None:
        book.sheets["汇总"].activate()
        book.sheets["销售"]["A2:D5"].clear_contents()
        book.sheets["汇总"]["A1"].color = "#FFCC00"
        book.sheets["汇总"]["A1"].font.bold = True

    out = tmp_path / "async.xlsx"
    actions, _ = run_macro(sample_xlsx, macro, out)
    wb = openpyxl.load_workbook(out)
    assert wb.active.title == "汇总"
    assert wb["销售"]["A2"].value is None and wb["销售"]["A1"].value == "rep"
    assert wb["汇总"]["A1"].fill.fgColor.rgb == "FFFFCC00"
    assert wb["汇总"]["A1"].font.b is True
    assert [a["func"] for a in actions] == [
        "activateSheet",
        "rangeClearContents",
        "setRangeColor",
        "setFontProperty",
    ]


# ---------------------------------------------------------------------------------------
# custom functions (UDFs)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def udfs() -> Any:
    return load_udf_module("tests.support.toy_udfs")


def test_udf_request_body(udfs: Any) -> None:
    body = udf_request(udfs, "add_tax", 100, caller_address="Sheet1!B2")
    assert body["func_name"] == "add_tax"
    assert body["args"] == [[[100]], None]  # every arg 2-D; omitted optional -> null
    assert body["caller_address"] == "[Book1.xlsx]Sheet1!B2"
    assert body["runtime"] == "1.4" and body["client"] == "Office.js"
    assert udf_request(udfs, "total_of", 1, [[2, 3]])["args"] == [[[[1]], [[2, 3]]]]


def test_udf_scalars_arrays_and_conversions(udfs: Any) -> None:
    assert call_udf(udfs, "add_tax", 100) == [[113.0]]
    assert call_udf(udfs, "add_tax", 100, 0.06) == [[106.0]]
    assert call_udf(udfs, "times_table", 3) == [[1, 2, 3], [2, 4, 6], [3, 6, 9]]
    assert call_udf(udfs, "row_sums", [[1, 2], [3, None]]) == [[3], [3]]
    assert call_udf(udfs, "row_sums", 5) == [[5]]  # ndim=2: a single cell stays 2-D
    assert call_udf(udfs, "describe", 3.0) == [["int:3件"]]  # numbers=int
    assert call_udf(udfs, "describe", 7, "个") == [["int:7个"]]
    df = pd.DataFrame({"region": ["华东", "华北", "华东"], "amount": [1, 2, 3.5]})
    assert call_udf(udfs, "region_totals", df) == [
        ["region", "amount"],
        ["华东", 4.5],
        ["华北", 2.0],
    ]
    # dates arrive as serial numbers; returned dates carry Excel's date format
    # (2024-02-02 = serial 45324) -- or are plain serials without a date format
    assert call_udf(udfs, "plus_days", dt.date(2024, 1, 30), 3) == [
        [{"type": "FormattedNumber", "basicValue": 45324.0, "numberFormat": "yyyy/M/d"}]
    ]
    assert call_udf(udfs, "plus_days", 45321, 3, date_format=None) == [[45324.0]]
    assert udf_cell(udfs, "plus_days", dt.date(2024, 1, 30), 3).value == 45324.0
    assert call_udf(udfs, "total_of", 1, [[2, 3]], 4) == [[10]]
    assert call_udf(udfs, "where_am_i", caller_address="'销售 表'!$C$3") == [
        ["销售 表!C3 in Book1.xlsx"]
    ]
    assert udf_request(udfs, "where_am_i")["args"] == []  # Caller is not an Excel arg


def test_udf_errors_as_the_cell_shows_them(udfs: Any) -> None:
    assert call_udf(udfs, "not_available", 1) == [[{"type": "Error", "errorType": "NotAvailable"}]]
    assert udf_cell(udfs, "not_available", 1).value == "#N/A"
    with pytest.raises(ValueError, match="无效的输入"):
        call_udf(udfs, "explode", 1)
    cell = udf_cell(udfs, "explode", 1)
    assert cell.error == "#VALUE!" and cell.value == "#VALUE!"
    assert cell.message == "ValueError: 无效的输入: 1"
    # an error cell passed as an argument arrives as None (err_to_str=False)
    assert udf_cell(udfs, "add_tax", excel_error("#N/A")).error == "#VALUE!"
    assert udf_cell(udfs, "times_table", 2).values == [[1, 2], [2, 4]]


@pytest.fixture
def ops_xlsx(tmp_path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Ops"
    for row in [["k", "v"], ["b", 2], ["a", 1], ["B", 3], ["c", None], ["a", 5]]:
        ws.append(row)
    ws["D1"] = "keep"
    wb.create_sheet("Two")["A1"] = "=Ops!B2*10"
    wb.defined_names["rate"] = DefinedName("rate", attr_text="Ops!$B$2")
    path = tmp_path / "ops.xlsx"
    wb.save(path)
    return path


def test_range_sheet_and_name_operations(ops_xlsx: Path, tmp_path: Path) -> None:
    def macro(book: Any) -> None:
        s = book.sheets["Ops"]
        s["A1:B6"].sort([1, 2], [True, False], has_headers=True)  # text: case-insensitive
        s["F1:G6"].copy_from(s["A1:B6"], copy_type="values")
        s["A1:B6"].copy(s["I1"])
        s["I1:J6"].remove_duplicates([1], has_headers=True)
        s["A1:B6"].replace_all("a", "x")
        s["D1"].insert("down", "format_from_left_or_above")
        s["F1"].delete("up")
        s["L1:M1"].merge()
        s.freeze_panes.freeze_at("1:1")  # the *frozen* cells: row 1
        s["B:B"].column_width = 30  # POINTS on this engine (desktop: characters)
        s["B2:B6"].name = "vals"
        book.names["rate"].delete()
        table = s.tables.add(source=s["P1:Q3"], name="tblNew")
        s["P1:Q3"].value = [["h1", "h2"], [1, 2], [3, 4]]
        table.show_totals = True
        table.name = "tblRenamed"
        book.sheets.add("New", after=book.sheets["Two"])
        book.sheets["Two"].move(before=s)
        s.copy(after=book.sheets["New"])
        book.sheets["New"].visible = False
        s["R1:R3"].formula = "=B1*2"

    out = tmp_path / "ops_out.xlsx"
    run_macro(ops_xlsx, macro, out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Two", "Ops", "New", "Ops (2)"]
    assert wb["New"].sheet_state == "hidden"
    ws = wb["Ops"]
    column = lambda letter: [ws[f"{letter}{r}"].value for r in range(1, 7)]  # noqa: E731
    assert column("A") == ["k", "x", "x", "B", "b", "c"]
    assert column("B") == ["v", 5, 1, 3, 2, None]
    assert column("F") == ["a", "a", "B", "b", "c", None]  # values copy, then F1 deleted up
    assert column("G") == ["v", 5, 1, 3, 2, None]
    assert column("I") == ["k", "a", "B", "c", None, None]  # duplicates removed
    assert ws["D2"].value == "keep"
    assert [str(r) for r in ws.merged_cells.ranges] == ["L1:M1"]
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["B"].width == pytest.approx(5.71)
    assert {k: v.attr_text for k, v in wb.defined_names.items()} == {"vals": "Ops!$B$2:$B$6"}
    assert ws.tables["tblRenamed"].ref == "P1:Q4"
    assert [c.name for c in ws.tables["tblRenamed"].tableColumns] == ["h1", "h2"]
    assert ws["P4"].value == "Total"
    assert ws["Q4"].value == "=SUBTOTAL(109,tblRenamed[h2])"
    assert [ws[f"R{r}"].value for r in (1, 2, 3)] == ["=B1*2", "=B2*2", "=B3*2"]
    assert "tblRenamed2" in wb["Ops (2)"].tables
