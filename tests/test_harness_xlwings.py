"""Tests for the xlwings harnesses: remote-engine macros and Office.js custom functions.

They double as executable documentation of what xlwings' remote engine (0.37.8) and
its custom-function bridge really do with the operations our macros and UDFs use -- see
the module docstrings of tests/support/xlwings_remote.py and tests/support/xlwings_udfs.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
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
    """Two sheets: 销售 with table tblSales; 汇总 with table tblSummary (4 rows), a rate
    in E1, a formula in D2 and a Text-formatted cell in H4."""
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
    summary["H4"].number_format = "@"
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
    assert payload["book"] == {"name": "sample.xlsx", "active_sheet_index": 0, "selection": "A1"}
    sales = payload["sheets"][0]
    assert sales["name"] == "销售"
    assert sales["values"][0] == ["rep", "region", "amount", "day", "", "备注"]
    # JS numbers: 120 stays int, 80.5 float; date cells become ISO strings; empty -> ""
    assert sales["values"][1] == ["张三", "华东", 120, "2024-01-05T00:00:00.000Z", "", ""]
    assert sales["values"][2][2] == 80.5
    assert sales["values"][2][5] is True
    assert len(sales["values"]) == 5  # A1 to the last used cell
    assert sales["tables"] == [{
        "name": "tblSales",
        "range_address": "A1:D5",
        "header_row_range_address": "A1:D1",
        "data_body_range_address": "A2:D5",
        "total_row_range_address": None,
        "show_headers": True,
        "show_totals": False,
        "table_style": "TableStyleMedium2",
        "show_autofilter": True,
    }]
    summary = payload["sheets"][1]
    assert summary["values"][1][3] == ""  # formula without cached value
    assert summary["values"][0][4] == 0.13


# ---------------------------------------------------------------------------------------
# reading through the real remote engine
# ---------------------------------------------------------------------------------------


def test_reading_through_the_remote_engine(sample_xlsx: Path) -> None:
    book = open_remote_book(book_json_from_xlsx(sample_xlsx))
    try:
        assert [sheet.name for sheet in book.sheets] == ["销售", "汇总"]
        assert book.name == "sample.xlsx"
        sheet = book.sheets["销售"]
        assert sheet["A2"].value == "张三"
        assert sheet["C2"].value == 120 and isinstance(sheet["C2"].value, int)
        assert sheet["D2"].value == dt.datetime(2024, 1, 5)
        assert sheet["Z99"].value is None  # outside the used range

        assert [table.name for table in sheet.tables] == ["tblSales"]
        table = sheet.tables["tblSales"]
        assert table.range.address == "$A$1:$D$5"
        header = table.header_row_range
        assert header.value == ["rep", "region", "amount", "day"]
        assert (header.row, header.column) == (1, 1)
        body = table.data_body_range.options(ndim=2).value
        assert body[1] == ["李四", "华北", 80.5, dt.datetime(2024, 2, 1)]
        assert len(body) == 4

        df = table.range.options(pd.DataFrame, index=False).value
        assert list(df.columns) == ["rep", "region", "amount", "day"]
        assert df["amount"].tolist() == [120, 80.5, 45, 200]
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
# macros: tables grow and shrink, values, formulas, alerts
# ---------------------------------------------------------------------------------------


def _summary_macro(book: Any) -> None:
    summary = _summarise(book)
    book.sheets["汇总"].tables["tblSummary"].update(summary, index=False)
    book.app.alert(f"已汇总 {len(summary)} 个大区", title="汇总", buttons="ok", mode="info")


def test_macro_shrinks_a_table(sample_xlsx: Path, tmp_path: Path) -> None:
    out = tmp_path / "shrunk.xlsx"
    actions, alerts = run_macro(sample_xlsx, _summary_macro, out)

    assert [action["func"] for action in actions] == [
        "resizeTable",
        "rangeClearContents",
        "setValues",
        "setValues",
        "alert",
    ]
    assert alerts == [Alert("已汇总 3 个大区", "汇总", "ok", "info", "")]
    ws = openpyxl.load_workbook(out)["汇总"]
    assert ws.tables["tblSummary"].ref == "A1:B4"
    assert ws.tables["tblSummary"].autoFilter.ref == "A1:B4"
    assert [[c.value for c in row] for row in ws["A1:B5"]] == [
        ["region", "total"],
        ["华东", 165],  # 120 + 45
        ["华北", 80.5],
        ["华南", 200],
        [None, None],  # the left-over 4th row was cleared
    ]
    assert ws["D2"].value == "=E1*2"  # untouched formulas are kept


def test_macro_grows_a_table(sample_xlsx: Path, tmp_path: Path) -> None:
    def macro(book: Any) -> None:
        sales = book.sheets["销售"].tables["tblSales"]
        df = sales.range.options(pd.DataFrame, index=False).value
        df["tax"] = (df["amount"] * book.sheets["汇总"]["E1"].value).round(2)
        df = df[["rep", "region", "amount", "tax"]]
        grown = pd.concat([df, df.assign(rep=df["rep"] + "2")], ignore_index=True)
        book.sheets["汇总"].tables["tblSummary"].update(grown, index=False)

    out = tmp_path / "grown.xlsx"
    actions, alerts = run_macro(sample_xlsx, macro, out)
    assert alerts == []
    assert actions[0]["func"] == "resizeTable" and actions[0]["args"] == [0, "$A$1:$D$9"]

    ws = openpyxl.load_workbook(out)["汇总"]
    table = ws.tables["tblSummary"]
    assert table.ref == "A1:D9"
    assert [column.name for column in table.tableColumns] == ["rep", "region", "amount", "tax"]
    assert table.autoFilter.ref == "A1:D9"
    assert [c.value for c in ws[9]][:4] == ["赵六2", "华南", 200, 26]  # 200 * 0.13
    assert ws["D3"].value == pytest.approx(10.46)  # round(80.5 * 0.13, 2): 10.465 -> 10.46

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


def test_table_columns_follow_the_header_cells(sample_xlsx: Path, tmp_path: Path) -> None:
    """A blank header becomes ColumnN and a repeated one gets a number, as Excel names them."""
    def macro(book: Any) -> None:
        df = pd.DataFrame([["华东", 1, 2]], columns=["region", "", "region"])
        book.sheets["汇总"].tables["tblSummary"].update(df, index=False)

    out = tmp_path / "headers.xlsx"
    run_macro(sample_xlsx, macro, out)
    ws = openpyxl.load_workbook(out)["汇总"]
    table = ws.tables["tblSummary"]
    assert table.ref == "A1:C2"
    assert [c.name for c in table.tableColumns] == ["region", "Column2", "region2"]
    assert [c.value for c in ws[1]][:3] == ["region", "Column2", "region2"]


def test_values_are_parsed_like_excel_typed_input(sample_xlsx: Path, tmp_path: Path) -> None:
    def macro(book: Any) -> None:
        sheet = book.sheets["汇总"]
        sheet["G1"].value = [
            [dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 8, 30), "00123", "'00123"],
            ["=G2*2", True, None, 12.5],
            ["110101199003071234", "15%", "TRUE", "张三"],
            ["'=1+1", "1,234", "1,234.5", "00123"],  # H4 is formatted as Text
        ]
        sheet["G2"].value = 21

    out = tmp_path / "typed.xlsx"
    actions, _ = run_macro(sample_xlsx, macro, out)
    # what xlwings sends: dates as ISO strings, None as ""
    assert actions[0]["values"][0][:2] == ["2024-05-01", "2024-05-01 08:30:00"]
    assert actions[0]["values"][1][2] == ""

    ws = openpyxl.load_workbook(out)["汇总"]
    assert ws["G1"].value == dt.datetime(2024, 5, 1)
    assert ws["G1"].number_format == "yyyy-mm-dd"
    assert ws["H1"].value == dt.datetime(2024, 5, 1, 8, 30)
    assert ws["H1"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert ws["I1"].value == 123  # Excel drops the leading zeros
    assert ws["J1"].value == "00123"  # the apostrophe keeps text
    assert ws["G2"].value == 21  # later write wins
    assert ws["H2"].value is True
    assert ws["I2"].value is None
    assert ws["G3"].value == pytest.approx(1.10101199003071e17)  # 15 digits survive
    assert ws["H3"].value == pytest.approx(0.15) and ws["H3"].number_format == "0%"
    assert ws["I3"].value is True
    # "'=1+1" (how our macros write text that looks like a formula): text, never a formula
    assert (ws["G4"].value, ws["G4"].data_type, ws["G4"].quotePrefix) == ("=1+1", "s", True)
    assert (ws["H4"].value, ws["H4"].number_format) == ("1,234", "@")  # a Text cell
    assert (ws["I4"].value, ws["I4"].number_format) == (1234.5, "#,##0.00")
    assert ws["J4"].value == 123


def test_formulas_fill_a_range_with_adjusted_references(sample_xlsx: Path, tmp_path: Path) -> None:
    def macro(book: Any) -> None:
        sheet = book.sheets["汇总"]
        sheet["R1:R3"].formula = "=B2*2"
        sheet["S1"].formula = "=SUM(tblSummary[total])"

    out = tmp_path / "formulas.xlsx"
    actions, _ = run_macro(sample_xlsx, macro, out)
    assert [a["func"] for a in actions] == ["setFormula", "setFormula"]
    ws = openpyxl.load_workbook(out)["汇总"]
    assert [ws[f"R{r}"].value for r in (1, 2, 3)] == ["=B2*2", "=B3*2", "=B4*2"]
    assert ws["S1"].value == "=SUM(tblSummary[total])"


def test_show_totals_adds_excels_default_totals_row(sample_xlsx: Path, tmp_path: Path) -> None:
    def macro(book: Any) -> None:
        book.sheets["汇总"].tables["tblSummary"].show_totals = True

    out = tmp_path / "totals.xlsx"
    run_macro(sample_xlsx, macro, out)
    ws = openpyxl.load_workbook(out)["汇总"]
    table = ws.tables["tblSummary"]
    assert (table.ref, table.totalsRowCount) == ("A1:B6", 1)
    assert table.autoFilter.ref == "A1:B5"  # header and body, not the totals row
    assert (ws["A6"].value, ws["B6"].value) == ("Total", "=SUBTOTAL(109,tblSummary[total])")


def test_unknown_and_unemulated_actions_raise(sample_xlsx: Path, tmp_path: Path) -> None:
    with pytest.raises(NotImplementedError, match="'frobnicate'"):
        apply_actions(sample_xlsx, [{"func": "frobnicate", "args": [1]}], tmp_path / "x.xlsx")

    def macro(book: Any) -> None:
        book.sheets[0]["A1"].number_format = "0.00"  # our macros never set formats

    with pytest.raises(NotImplementedError, match="'setNumberFormat'"):
        run_macro(sample_xlsx, macro, tmp_path / "y.xlsx")
    assert not (tmp_path / "y.xlsx").exists()  # nothing half-applied is saved


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
