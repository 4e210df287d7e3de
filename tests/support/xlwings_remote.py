"""Run Excel macros on Linux against xlwings' own *remote* engine.

Our Excel macros are plain Python functions taking an :class:`xlwings.Book`.  In Excel
they run on xlwings Server / xlwings Lite: the Office.js client collects the workbook
into a JSON payload, Python builds ``xw.Book(json=payload)``, the macro runs, and
``book.json()`` returns a list of *actions* that the client replays with Office.js.
This module plays the client's part for an ``.xlsx`` file on disk:

``book_json_from_xlsx(path)``
    openpyxl -> the payload the xlwings 0.37.8 Office.js client sends.
``apply_actions(path_in, actions, path_out)``
    replays the returned actions on the file with openpyxl (what the client does with
    Office.js), returns the alerts the macro raised.
``run_macro(path, func, out_path)``
    both, with ``xw.Book(json=...)`` and ``func(book)`` in between.

Everything on the Python side is *real* xlwings code (``xlwings/pro/_xlremote.py``,
xlwings 0.37.8, noncommercial licence enabled for tests only by
:func:`tests.support.enable_xlwings_server_mode`).

The payload (schema read from ``_xlremote.py`` and the public xlwings.js client)
--------------------------------------------------------------------------------
::

    {"client": "Office.js", "version": "0.37.8",
     "book": {"name": "plan.xlsx", "active_sheet_index": 0, "selection": "A1",
              "calculation": "Automatic"},
     "names": [{"name": "rate", "sheet_index": 1, "address": "B1",   # no "$"
                "scope_sheet_name": None, "scope_sheet_index": None,
                "book_scope": True, "refers_to": "=Params!$B$1"}],
     "sheets": [{"name": "Sales",
                 "values": [["rep", "amount"], ["a", 10], ["b", 2.5], ["", ""]],
                 "tables": [{"name": "tblSales", "range_address": "A1:B3",
                             "header_row_range_address": "A1:B1",
                             "data_body_range_address": "A2:B3",
                             "total_row_range_address": None,
                             "show_headers": True, "show_totals": False,
                             "table_style": "TableStyleMedium2",
                             "show_autofilter": True, "columns": ["rep", "amount"],
                             "row_count": 3, "column_count": 2,
                             "show_table_style_first_column": False, ...}],
                 "pictures": [], "shapes": [], "charts": [], "pivot_tables": [],
                 "notes": [{"address": "B2"}], "notes_supported": True,
                 "visibility": "Visible", "show_gridlines": True,
                 "used_range_address": "A1:B4", "print_area": None}]}

The keys beyond the public xlwings.js client (``calculation``, ``refers_to``,
``columns``/``row_count``/``column_count``/``show_table_style_*``, ``visibility``,
``show_gridlines``, ``used_range_address``, ``notes``, ``shapes``, ``charts``,
``pivot_tables``, ``print_area``) are inferred from what ``_xlremote.py`` 0.37.8 reads:
the matching Office.js client is not part of the wheel.

``values`` always starts at A1 and runs to the last used cell; empty cells are ``""``;
numbers arrive as JSON numbers, so *integral numbers come back as ``int``* (JS has one
number type: 10.0 is sent as ``10``); cells whose number format is a date/time are
sent as ISO strings ``"2024-01-05T00:00:00.000Z"`` which xlwings turns into
``datetime``; error cells are ``"#N/A"`` etc. (read as ``None`` unless
``err_to_str=True``); formulas are sent as their *cached* results (openpyxl
``data_only=True``) -- an xlsx written by openpyxl has no cached results, so pass it
through :func:`tests.support.libreoffice.recalc_xlsx` first.  ``minimal=True`` emits
only the keys the public (older) xlwings.js client sends, to catch macros that depend
on the newer keys.

What the remote engine supports (xlwings 0.37.8, verified by tests/test_harness_xlwings.py)
-------------------------------------------------------------------------------------------
The book is a *snapshot*: every read comes from the payload, every write is queued as
an action and applied by the client after the macro returns.  **A write is not visible
to a later read in the same macro** (``rng.value = 5; rng.value`` still gives the old
value; ``len(tbl.rows)`` is the only thing updated locally) -- read everything first,
compute in pandas, write once.

Reading (sync, from the snapshot)::

    sheet = book.sheets["销售"]            # or book.sheets[0], book.sheets.active
    sheet["A1"].value                       # scalar; "A1:C3" -> 2-D list
    sheet["Z99"].value                      # outside the used range -> None
    sheet["A1"].expand().value              # "table" (default) / "down" / "right"
    sheet.used_range.address
    tbl = sheet.tables["tblSales"]          # KeyError if absent; `"tblSales" in sheet.tables`
    tbl.range / tbl.header_row_range / tbl.data_body_range / tbl.totals_row_range
    len(tbl.rows); [c.name for c in tbl.columns]; tbl.show_totals; tbl.table_style
    df = tbl.range.options(pd.DataFrame, index=False).value           # header + body
    df = sheet["A1"].options(pd.DataFrame, index=False, expand="table").value
    sheet["tblSales"].value                 # a table name resolves to its DATA BODY
    book.names["rate"].refers_to_range.value; sheet["rate"].value     # range names
    sheet.names[0].name == "汇总!local_total"                         # sheet-scoped names
    sheet["D2"].options(dates=dt.date).value; rng.options(err_to_str=True).value

  Types: integral numbers are ``int`` (JSON), others ``float`` -- an all-integral
  DataFrame column is int64, not float64 as with desktop Excel; ``numbers=float``
  does NOT convert ints (use ``df.astype(float)``).  Date-formatted cells are
  ``datetime``; error cells ``None`` (``err_to_str=True`` gives ``"#N/A"``); formulas
  give their cached result.

Writing (queued actions)::

    sheet["A1"].value = [[...]]             # setValues; dates -> "2024-05-01"; None -> ""
    sheet["A1"].options(index=False).value = df
    tbl.update(df, index=False)             # resizeTable (grow OR shrink) + clear left-over
                                            # rows/cols + header + body (Table.update)
    tbl.resize(sheet["A1:C10"]); tbl.name = "tblNew"; tbl.show_totals = True
    tbl.rows.add(["华东", 10]); tbl.rows(1).delete(); tbl.columns.add("share")
    tbl.sort([2], [False])                  # 1-based keys
    sheet.tables.add(source=sheet["P1:Q3"], name="tblNew")   # has_headers=True only here
    rng.number_format = "#,##0.00"; rng.color = "#FFCC00"; rng.font.bold = True
    rng.formula = "=B1*2"                   # a scalar fills the range, refs adjusted
    rng.clear_contents(); rng.clear(); sheet.clear_contents()
    rng.sort([1, 2], [True, False], has_headers=True); rng.remove_duplicates([1], True)
    rng.replace_all("a", "x"); rng.copy(dest); dest.copy_from(src, copy_type="values")
    rng.insert("down", "format_from_left_or_above"); rng.delete("up"); rng.merge()
    rng.name = "vals"; book.names.add("target", "=销售!$B$2"); book.names["x"].delete()
    new = book.sheets.add("结果", after=sheet)   # default position: LAST (not desktop's)
    sheet.name = "新名"; sheet.move(before=other); sheet.copy(after=other) -> "名 (2)"
    sheet.delete(); sheet.activate(); sheet.visible = False
    sheet.freeze_panes.freeze_at("1:1")    # argument = the FROZEN cells ("A2" freezes
                                            # rows 1-2 AND column A)
    rng.column_width = 30                   # POINTS here (desktop: characters)
    book.app.alert("完成", title="目标分解", buttons="ok", mode="info")  # non-blocking;
                                            # callback = name of a JS function
    async def macro(book): ...              # async macros work too

Does NOT work:
    sync getters for formulas, number formats, colors, fonts, widths, alignment,
    ``rng.table``, ``TableRow.range``, ``TableColumn.range``, notes' text (they raise
    NotImplementedError; only ``await rng.get_x()`` in xlwings Lite); structured
    references ``sheet["tbl[Col]"]``; non-range defined names (constants such as
    ``=0.13``) -- not in the payload, ``book.names["vat"]`` raises KeyError;
    ``book.save(path)``; ``to_pdf``/``to_html``; ``app.quit``/``status_bar``/
    ``enable_events``; pictures are not read by this harness.

apply_actions() emulation notes
-------------------------------
``setValues`` follows Office.js ``range.values`` semantics (values are parsed like typed
input): ``"=..."`` becomes a formula, numeric strings become numbers (``"00123"`` ->
123; more than 15 digits lose precision), ``"2024-05-01"`` / ``"2024-05-01 08:30:00"``
become dates (with a ``yyyy-mm-dd`` format if the cell was General), ``"2024/5/1"``
-> date, ``"1,234"`` -> 1234, ``"15%"`` -> 0.15, ``"TRUE"`` -> True, ``"'text"``
stays text, ``""`` clears, ``null`` leaves the cell alone; cells formatted as Text
(``"@"``) keep strings.  Table column names are
synced to header cells as Excel does (blank -> ``ColumnN``), structured references
follow table renames, formulas and names follow sheet renames.  Adding a table
row/column inserts cells (what is below/right of the table, within its columns/rows,
moves).  openpyxl keeps formulas but drops cached results: recalculate the output with
:func:`tests.support.libreoffice.recalc_xlsx` before reading it with
``data_only=True``.  Charts, pictures, shapes, pivot tables, comments, conditional
formats, data validation, autofilter criteria, borders, autofill, ``runMacro`` and
``addTable(has_headers=False)`` raise ``NotImplementedError`` naming the action.
Autofit, calculate, screen updating and save are accepted as no-ops.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import functools
import inspect
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.formula.translate import Translator
from openpyxl.styles import Color, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from tests.support import enable_xlwings_server_mode

__all__ = [
    "Alert",
    "apply_actions",
    "book_json_from_xlsx",
    "open_remote_book",
    "run_macro",
]

MAX_ROW = 1_048_576
MAX_COL = 16_384
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_ERROR_STRINGS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}


@dataclass(frozen=True)
class Alert:
    """One ``book.app.alert(...)`` call, as the client would show it (non-blocking)."""

    prompt: str
    title: str
    buttons: str
    mode: str
    callback: str


# ---------------------------------------------------------------------------------------
# xlsx -> client JSON
# ---------------------------------------------------------------------------------------


def _js_number(value: int | float) -> int | float:
    """What ``JSON.parse(JSON.stringify(x))`` turns a JS number into on the Python side."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Excel cannot hold {value!r}")
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
    return value


def _js_iso(value: dt.datetime) -> str:
    """``new Date(...).toISOString()``: millisecond precision, ``Z`` suffix."""
    value = value.replace(tzinfo=None)
    ms = round(value.microsecond / 1000)
    value = value.replace(microsecond=0) + dt.timedelta(milliseconds=ms)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _client_value(value: Any) -> Any:
    """One cell as the Office.js client puts it into ``values``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return _js_number(value)
    if isinstance(value, dt.datetime):
        return _js_iso(value)
    if isinstance(value, dt.date):
        return _js_iso(dt.datetime(value.year, value.month, value.day))
    if isinstance(value, dt.time):
        return _js_iso(
            dt.datetime.combine(_EXCEL_EPOCH.date(), value.replace(tzinfo=None))
        )
    if isinstance(value, dt.timedelta):
        # [h]:mm:ss cells are in Excel's "Time" category: the client converts them too.
        return _js_iso(_EXCEL_EPOCH + value)
    return str(value)


def _bounds(ref: str) -> tuple[int, int, int, int]:
    """``"$A$1:$C$3"`` -> (min_row, min_col, max_row, max_col); "A:A"/"1:1" allowed."""
    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    return (
        min_row or 1,
        min_col or 1,
        max_row or MAX_ROW,
        max_col or MAX_COL,
    )


def _ref(min_row: int, min_col: int, max_row: int, max_col: int) -> str:
    first = f"{get_column_letter(min_col)}{min_row}"
    last = f"{get_column_letter(max_col)}{max_row}"
    return first if first == last else f"{first}:{last}"


def _table_parts(table: Table) -> dict[str, Any]:
    min_row, min_col, max_row, max_col = _bounds(table.ref)
    headers = 1 if table.headerRowCount is None else int(table.headerRowCount)
    totals = int(table.totalsRowCount or 0)
    return {
        "min_row": min_row,
        "min_col": min_col,
        "max_row": max_row,
        "max_col": max_col,
        "headers": headers,
        "totals": totals,
        "body_first": min_row + headers,
        "body_last": max_row - totals,
    }


def _table_json(table: Table) -> dict[str, Any]:
    p = _table_parts(table)
    style = table.tableStyleInfo
    return {
        "name": table.displayName,
        "range_address": table.ref.replace("$", ""),
        "header_row_range_address": (
            _ref(p["min_row"], p["min_col"], p["min_row"], p["max_col"])
            if p["headers"]
            else None
        ),
        "data_body_range_address": _ref(
            p["body_first"], p["min_col"], p["body_last"], p["max_col"]
        ),
        "total_row_range_address": (
            _ref(p["max_row"], p["min_col"], p["max_row"], p["max_col"])
            if p["totals"]
            else None
        ),
        "show_headers": bool(p["headers"]),
        "show_totals": bool(p["totals"]),
        "table_style": (style.name or "") if style is not None else "",
        "show_autofilter": table.autoFilter is not None,
        "columns": [column.name for column in table.tableColumns],
        "row_count": p["max_row"] - p["min_row"] + 1,
        "column_count": p["max_col"] - p["min_col"] + 1,
        "show_table_style_first_column": bool(style and style.showFirstColumn),
        "show_table_style_last_column": bool(style and style.showLastColumn),
        "show_table_style_row_stripes": bool(style and style.showRowStripes),
        "show_table_style_column_stripes": bool(style and style.showColumnStripes),
    }


def _name_json(
    defined: DefinedName,
    sheet_titles: list[str],
    scope_index: int | None,
    include_non_range: bool,
) -> dict[str, Any] | None:
    if defined.name.startswith("_xlnm.") or defined.hidden:
        return None
    destinations = list(defined.destinations) if defined.type == "RANGE" else []
    scope = {
        "name": defined.name,
        "scope_sheet_name": None if scope_index is None else sheet_titles[scope_index],
        "scope_sheet_index": scope_index,
        "book_scope": scope_index is None,
        "refers_to": "=" + (defined.attr_text or ""),
    }
    if len(destinations) == 1 and destinations[0][0] in sheet_titles:
        sheet_title, coordinates = destinations[0]
        return {
            **scope,
            "sheet_index": sheet_titles.index(sheet_title),
            "address": coordinates.replace("$", "").upper(),
        }
    if include_non_range:
        return {**scope, "sheet_index": None, "address": None}
    return None


def book_json_from_xlsx(
    path: str | Path,
    *,
    active_sheet: str | int | None = None,
    selection: str | None = None,
    minimal: bool = False,
    include_non_range_names: bool = False,
    client: str = "Office.js",
) -> dict[str, Any]:
    """Build the JSON payload the xlwings Office.js client sends for ``path``.

    Args:
        path: an ``.xlsx`` file. Formula cells contribute their cached results.
        active_sheet: sheet name or 0-based index to report as active (default: the
            workbook's active sheet).
        selection: selected address on the active sheet (default: the file's
            selection, else ``"A1"``).
        minimal: only the keys the public xlwings.js client sends (book name, active
            sheet, selection; names; sheets with name/values/pictures/tables).
        include_non_range_names: also list names that are not a single range
            (constants, formulas) with ``sheet_index``/``address`` = None.
        client: ``"Office.js"`` (xlwings Server/Lite add-in) or ``"VBA"`` (the
            ``RunRemotePython`` VBA client in xlwings' add-in, ``Remote.bas``): implies
            ``minimal``, absolute table addresses (``$A$1:$C$3``), empty cells as
            ``null`` and ``[[]]`` for an empty sheet.  With ``"VBA"`` xlwings refuses
            Office.js-only features (notes, gridlines, alignment, ``move``, autofilter).

    Returns:
        A JSON-compatible dict (already round-tripped through ``json``).
    """
    if client not in ("Office.js", "VBA"):
        raise ValueError(f"unknown client {client!r}")
    vba = client == "VBA"
    minimal = minimal or vba
    path = Path(path)
    wb = openpyxl.load_workbook(path, data_only=True)
    worksheets = wb.worksheets
    titles = [ws.title for ws in worksheets]

    if active_sheet is None:
        active_index = worksheets.index(wb.active) if wb.active in worksheets else 0
    elif isinstance(active_sheet, int):
        active_index = active_sheet
    else:
        active_index = titles.index(active_sheet)
    if selection is None:
        view = worksheets[active_index].sheet_view
        selection = (view.selection[0].sqref if view.selection else None) or "A1"
        selection = str(selection).split()[0]

    names: list[dict[str, Any]] = []
    for defined in wb.defined_names.values():
        entry = _name_json(defined, titles, None, include_non_range_names)
        if entry:
            names.append(entry)
    for index, ws in enumerate(worksheets):
        for defined in ws.defined_names.values():
            entry = _name_json(defined, titles, index, include_non_range_names)
            if entry:
                names.append(entry)

    sheets = []
    for ws in worksheets:
        max_row, max_col = ws.max_row, ws.max_column
        values = [
            [_client_value(cell.value) for cell in row]
            for row in ws.iter_rows(
                min_row=1, max_row=max_row, min_col=1, max_col=max_col
            )
        ]
        tables = [_table_json(table) for table in ws.tables.values()]
        if vba:  # Range.Value: Empty -> null; ListObject addresses are absolute
            values = [[None if v == "" else v for v in row] for row in values]
            if max_row == 1 and max_col == 1 and values[0][0] is None:
                values = [[]]
            for table in tables:
                for key in (
                    "range_address",
                    "header_row_range_address",
                    "data_body_range_address",
                    "total_row_range_address",
                ):
                    if table[key]:
                        table[key] = _abs_ref(*_bounds(table[key]))
        sheet: dict[str, Any] = {
            "name": ws.title,
            "values": values,
            "pictures": [],
            "tables": tables,
        }
        if not minimal:
            empty = max_row == 1 and max_col == 1 and ws.cell(1, 1).value is None
            sheet.update(
                {
                    "visibility": {
                        "visible": "Visible",
                        "hidden": "Hidden",
                        "veryHidden": "VeryHidden",
                    }[ws.sheet_state],
                    "show_gridlines": ws.sheet_view.showGridLines is not False,
                    "used_range_address": None
                    if empty
                    else _ref(ws.min_row, ws.min_column, max_row, max_col),
                    "notes": [
                        {"address": cell.coordinate}
                        for row in ws.iter_rows()
                        for cell in row
                        if cell.comment is not None
                    ],
                    "notes_supported": True,
                    "shapes": [],
                    "charts": [],
                    "pivot_tables": [],
                    "print_area": _print_area(ws),
                }
            )
            for table in sheet["tables"]:
                table.setdefault("columns", [])
        else:
            for table in tables:
                for key in list(table):
                    if key not in _MINIMAL_TABLE_KEYS:
                        del table[key]
        sheets.append(sheet)

    book: dict[str, Any] = {
        "name": path.name,
        "active_sheet_index": active_index,
        "selection": selection,
    }
    if not minimal:
        book["calculation"] = {
            "manual": "Manual",
            "autoNoTable": "AutomaticExceptTables",
        }.get(wb.calculation.calcMode or "auto", "Automatic")
    else:
        for name in names:
            name.pop("refers_to", None)

    import xlwings

    payload = {
        "client": client,
        "version": xlwings.__version__,
        "book": book,
        "names": names,
        "sheets": sheets,
    }
    return json.loads(json.dumps(payload))


_MINIMAL_TABLE_KEYS = {
    "name",
    "range_address",
    "header_row_range_address",
    "data_body_range_address",
    "total_row_range_address",
    "show_headers",
    "show_totals",
    "table_style",
    "show_autofilter",
}


def _print_area(ws: Worksheet) -> str | None:
    area = ws.print_area
    if not area:
        return None
    if isinstance(area, (list, tuple)):
        area = ",".join(area)
    return ",".join(part.split("!")[-1] for part in str(area).split(","))


# ---------------------------------------------------------------------------------------
# xlwings side
# ---------------------------------------------------------------------------------------


def open_remote_book(payload: dict[str, Any]) -> Any:
    """``xw.Book(json=payload)`` with the licence/engine set up for tests."""
    enable_xlwings_server_mode()
    import xlwings as xw

    return xw.Book(json=payload)


def run_macro(
    path: str | Path,
    func: Callable[..., Any],
    out_path: str | Path,
    *,
    active_sheet: str | int | None = None,
    selection: str | None = None,
    minimal: bool = False,
    client: str = "Office.js",
) -> tuple[list[dict[str, Any]], list[Alert]]:
    """Run ``func(book)`` like xlwings Server would and write the result to ``out_path``.

    ``func`` may be a plain or an ``async`` function taking the book.  The actions are
    JSON round-tripped (the server sends them over HTTP), so a macro that queues a
    value JSON cannot carry fails here as it would in production.

    Returns:
        (actions, alerts): the raw action list from ``book.json()`` and the alerts.
    """
    payload = book_json_from_xlsx(
        path,
        active_sheet=active_sheet,
        selection=selection,
        minimal=minimal,
        client=client,
    )
    book = open_remote_book(payload)
    try:
        result = func(book)
        if inspect.isawaitable(result):
            asyncio.run(_await(result))
        actions = json.loads(json.dumps(book.json()["actions"], allow_nan=False))
    finally:
        book.close()
    alerts = apply_actions(path, actions, out_path)
    return actions, alerts


async def _await(awaitable: Any) -> Any:
    return await awaitable


# ---------------------------------------------------------------------------------------
# actions -> xlsx
# ---------------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_PERCENT_RE = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*%\s*$")
_DATE_RE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(?:Z)?)?$"
)
_THOUSANDS_RE = re.compile(r"^\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*$")
_SLASH_DATE_RE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_DATE_FORMAT = "yyyy-mm-dd"
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def _typed_input(value: Any, cell: Cell) -> tuple[Any, str | None]:
    """Emulate how Excel parses a value assigned through Office.js ``range.values``.

    Returns (value_to_store, number_format_to_apply_or_None).
    """
    if isinstance(value, bool) or value is None:
        return value, None
    if isinstance(value, (int, float)):
        return value, None
    if not isinstance(value, str):
        raise TypeError(f"Office.js cannot receive {value!r} ({type(value).__name__})")
    if value == "":
        return None, None
    if cell.number_format == "@":
        return value, None
    if value.startswith("'"):
        return value[1:], None
    if value.startswith("=") and len(value) > 1:
        return value, None
    general = cell.number_format in ("General", None)
    if _NUMBER_RE.match(value):
        # Excel keeps 15 significant digits: an 18-digit ID typed as a number is lost.
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return int(number), None
        return number, None
    if _THOUSANDS_RE.match(value):
        number = float(value.replace(",", ""))
        number_value = int(number) if number.is_integer() and abs(number) < 1e15 else number
        return number_value, ("#,##0" if "." not in value else "#,##0.00") if general else None
    match = _SLASH_DATE_RE.match(value)
    if match:
        try:
            stamp = dt.datetime(*(int(part) for part in match.groups()))
        except ValueError:
            return value, None
        return stamp, "yyyy/m/d" if general else None
    match = _PERCENT_RE.match(value)
    if match:
        decimals = "0.00%" if "." in match.group(1) else "0%"
        return float(match.group(1)) / 100, decimals if general else None
    match = _DATE_RE.match(value)
    if match:
        parts = [int(p) if p else 0 for p in match.groups()[:6]]
        micro = int((match.group(7) or "0").ljust(6, "0"))
        try:
            stamp = dt.datetime(*parts, micro)  # type: ignore[misc]
        except ValueError:
            return value, None
        has_time = match.group(4) is not None
        fmt = (_DATETIME_FORMAT if has_time else _DATE_FORMAT) if general else None
        return stamp, fmt
    if value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE", None
    return value, None


class _Applier:
    """Replays xlwings remote actions on an openpyxl workbook."""

    def __init__(self, path_in: Path) -> None:
        self.path_in = path_in
        self.wb = openpyxl.load_workbook(path_in)
        self._cached: openpyxl.Workbook | None = None
        self.alerts: list[Alert] = []

    # -- helpers ------------------------------------------------------------------------

    def sheet(self, action: dict[str, Any]) -> Worksheet:
        position = action.get("sheet_position")
        if position is None:
            raise ValueError(f"action {action['func']} has no sheet_position")
        return self.wb.worksheets[position]

    @staticmethod
    def box(action: dict[str, Any]) -> tuple[int, int, int, int]:
        """1-based (min_row, min_col, max_row, max_col) of the action's range."""
        row = action["start_row"] + 1
        col = action["start_column"] + 1
        return row, col, row + action["row_count"] - 1, col + action["column_count"] - 1

    def cells(self, action: dict[str, Any]) -> Iterable[Cell]:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        r2 = min(r2, max(ws.max_row, r1))
        c2 = min(c2, max(ws.max_column, c1))
        for row in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                yield ws.cell(row, col)

    def tables(self, ws: Worksheet) -> list[Table]:
        return list(ws.tables.values())

    def table(self, action: dict[str, Any]) -> tuple[Worksheet, Table]:
        """The action's sheet and table (by index), with metadata synced to the cells."""
        ws = self.sheet(action)
        table = self.tables(ws)[int(action["args"][0])]
        _sync_table(ws, table)
        return ws, table

    def cached_value(self, ws: Worksheet, row: int, col: int) -> Any:
        """Cached result of a formula cell as it was in the input file."""
        if self._cached is None:
            self._cached = openpyxl.load_workbook(self.path_in, data_only=True)
        if ws.title not in self._cached.sheetnames:
            raise NotImplementedError("values of formulas on a new sheet are unknown")
        return self._cached[ws.title].cell(row, col).value

    def set_value(self, cell: Cell, value: Any) -> None:
        if value is None:  # Office.js: null leaves the cell unchanged
            return
        stored, number_format = _typed_input(value, cell)
        cell.value = stored
        if number_format:
            cell.number_format = number_format

    # -- dispatcher -----------------------------------------------------------------------

    def apply(self, action: dict[str, Any]) -> None:
        func = action.get("func")
        self.refuse_on_protected(action)
        handler = getattr(self, f"do_{func}", None)
        if handler is None:
            raise NotImplementedError(
                f"xlwings action {func!r} is not emulated by "
                "tests/support/xlwings_remote.py (args={action.get('args')!r})"
            )
        handler(action)

    # -- sheet protection (as Excel: a write to a protected sheet is refused) --------------

    # Actions that never change a sheet's cells.
    _NOT_WRITES = frozenset({"alert", "runMacro", "activateSheet", "rangeSelect", "setCalculation",
                             "setScreenUpdating", "calculate", "save", "addSheet", "setSheetName",
                             "setSheetPosition", "setSheetVisibility", "namesAdd", "nameDelete",
                             "setNameRefersTo"})

    def refuse_on_protected(self, action: dict[str, Any]) -> None:
        if action.get("func") in self._NOT_WRITES or action.get("sheet_position") is None:
            return
        ws = self.sheet(action)
        if ws.protection.sheet:
            raise PermissionError(f"{action['func']} on protected sheet {ws.title!r}: Excel "
                                  "refuses it (unprotect the sheet first)")

    def do_runMacro(self, action: dict[str, Any]) -> None:
        """The client callbacks our macros queue around writes to a protected sheet
        (``xlAddinUnprotectSheet`` / ``xlAddinProtectSheet``, args: sheet name, password);
        the password must match the sheet's, as in Excel."""
        from openpyxl.worksheet.protection import SheetProtection, hash_password

        name, *args = action["args"]
        if name not in ("xlAddinUnprotectSheet", "xlAddinProtectSheet"):
            raise NotImplementedError(f"runMacro {name!r} is not emulated")
        title, password = args[0], args[1] or None
        ws = self.wb[title]
        if name == "xlAddinUnprotectSheet":
            stored = ws.protection.password
            if ws.protection.sheet and stored and (not password or hash_password(password) != stored):
                raise PermissionError(f"wrong password for sheet {title!r}")
            ws.protection.sheet = False
        else:
            ws.protection = SheetProtection(sheet=True, autoFilter=False, sort=False,
                                            formatColumns=False, formatRows=False,
                                            selectLockedCells=False, selectUnlockedCells=False,
                                            password=password)

    def save(self, path_out: Path) -> None:
        for ws in self.wb.worksheets:
            for table in self.tables(ws):
                _sync_table(ws, table)
        self.wb.save(path_out)

    # -- values -----------------------------------------------------------------------------

    def do_setValues(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        values = action["values"]
        if len(values) != r2 - r1 + 1 or any(len(row) != c2 - c1 + 1 for row in values):
            raise ValueError(
                f"setValues: {len(values)}x{len(values[0]) if values else 0} values "
                f"for a {r2 - r1 + 1}x{c2 - c1 + 1} range"
            )
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                self.set_value(ws.cell(r1 + i, c1 + j), value)

    def do_setFormula(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        values = action["values"]
        if not isinstance(values, list):
            origin = f"{get_column_letter(c1)}{r1}"
            for row in range(r1, r2 + 1):
                for col in range(c1, c2 + 1):
                    target = f"{get_column_letter(col)}{row}"
                    value = values
                    if isinstance(value, str) and value.startswith("="):
                        value = Translator(value, origin=origin).translate_formula(target)
                    self.set_value(ws.cell(row, col), value)
            return
        self.do_setValues(action)

    def do_setFormulaArray(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        formula = action["args"][0]
        ws.cell(r1, c1).value = ArrayFormula(_ref(r1, c1, r2, c2), formula)

    def do_rangeClearContents(self, action: dict[str, Any]) -> None:
        for cell in self.cells(action):
            cell.value = None

    def do_rangeClearFormats(self, action: dict[str, Any]) -> None:
        for cell in self.cells(action):
            cell._style = StyleArray()

    def do_rangeClear(self, action: dict[str, Any]) -> None:
        for cell in self.cells(action):
            cell.value = None
            cell._style = StyleArray()
            cell.hyperlink = None
            cell.comment = None

    def do_sheetClearContents(self, action: dict[str, Any]) -> None:
        for row in self.sheet(action).iter_rows():
            for cell in row:
                cell.value = None

    def do_sheetClearFormats(self, action: dict[str, Any]) -> None:
        for row in self.sheet(action).iter_rows():
            for cell in row:
                cell._style = StyleArray()

    def do_sheetClear(self, action: dict[str, Any]) -> None:
        self.do_sheetClearContents(action)
        self.do_sheetClearFormats(action)

    def do_rangeReplaceAll(self, action: dict[str, Any]) -> None:
        old, new, whole, match_case = action["args"]
        flags = 0 if match_case else re.IGNORECASE
        pattern = re.compile(re.escape(str(old)), flags)
        for cell in self.cells(action):
            value = cell.value
            if value is None or isinstance(value, (bool, dt.datetime, ArrayFormula)):
                continue
            text = _number_text(value) if isinstance(value, (int, float)) else str(value)
            if whole:
                same = text == old if match_case else text.casefold() == str(old).casefold()
                replaced = str(new) if same else text
            else:
                replaced = pattern.sub(lambda _m: str(new), text)
            if replaced != text:
                # Excel re-parses the edited text like typed input ("" clears the cell).
                cell.value = None
                self.set_value(cell, replaced)

    # -- copy / move / insert / delete ----------------------------------------------------

    def _snapshot(
        self, ws: Worksheet, r1: int, c1: int, r2: int, c2: int, copy_type: str
    ) -> list[list[tuple[Any, Any]]]:
        block = []
        for row in range(r1, r2 + 1):
            line = []
            for col in range(c1, c2 + 1):
                cell = ws.cell(row, col)
                value = cell.value
                if copy_type == "values" and isinstance(value, str) and value.startswith("="):
                    value = self.cached_value(ws, row, col)
                elif copy_type == "link":
                    value = f"={_quote_sheet(ws.title)}!${get_column_letter(col)}${row}"
                line.append((value, copy.copy(cell._style)))
            block.append(line)
        return block

    def _paste(
        self,
        block: list[list[tuple[Any, Any]]],
        src_origin: tuple[int, int],
        ws: Worksheet,
        dest: tuple[int, int, int, int],
        copy_type: str,
        skip_blanks: bool,
        transpose: bool,
    ) -> None:
        if transpose:
            block = [list(col) for col in zip(*block)]
        height, width = len(block), len(block[0])
        d1, e1, d2, e2 = dest
        reps_r = (d2 - d1 + 1) // height if (d2 - d1 + 1) % height == 0 else 1
        reps_c = (e2 - e1 + 1) // width if (e2 - e1 + 1) % width == 0 else 1
        for rr in range(reps_r):
            for cc in range(reps_c):
                for i, line in enumerate(block):
                    for j, (value, style) in enumerate(line):
                        if skip_blanks and value is None:
                            continue
                        row, col = d1 + rr * height + i, e1 + cc * width + j
                        cell = ws.cell(row, col)
                        if copy_type in ("all", "formulas", "values", "link"):
                            if _is_formula(value) and copy_type != "link":
                                si, sj = (j, i) if transpose else (i, j)
                                src_row, src_col = src_origin[0] + si, src_origin[1] + sj
                                value = Translator(
                                    value, origin=f"{get_column_letter(src_col)}{src_row}"
                                ).translate_formula(f"{get_column_letter(col)}{row}")
                            cell.value = value
                        if copy_type in ("all", "formats"):
                            cell._style = copy.copy(style)

    def do_copyRange(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        block = self._snapshot(ws, r1, c1, r2, c2, "all")
        dest_ws = self.wb.worksheets[int(action["args"][0])]
        dest = _bounds(action["args"][1])
        self._paste(block, (r1, c1), dest_ws, dest, "all", False, False)

    def do_copyFromRange(self, action: dict[str, Any]) -> None:
        dest_ws = self.sheet(action)
        src_index, src_address, copy_type, skip_blanks, transpose = action["args"]
        copy_type = (copy_type or "all").lower()
        src_ws = self.wb.worksheets[int(src_index)]
        r1, c1, r2, c2 = _bounds(src_address)
        block = self._snapshot(src_ws, r1, c1, r2, c2, copy_type)
        self._paste(
            block, (r1, c1), dest_ws, self.box(action), copy_type,
            bool(skip_blanks), bool(transpose),
        )

    def do_moveRange(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        block = self._snapshot(ws, r1, c1, r2, c2, "all")
        dest_ws = self.wb.worksheets[int(action["args"][0])]
        d1, e1, _, _ = _bounds(action["args"][1])
        for row in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                ws.cell(row, col).value = None
                ws.cell(row, col)._style = StyleArray()
        dest = (d1, e1, d1 + r2 - r1, e1 + c2 - c1)
        self._paste(block, (r1, c1), dest_ws, dest, "all", False, False)

    def do_rangeInsert(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        if action["args"][0] == "down":
            _shift_rows(ws, r1, c1, r2, c2, insert=True)
        else:
            _shift_cols(ws, r1, c1, r2, c2, insert=True)

    def do_rangeDelete(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        if action["args"][0] == "up":
            _shift_rows(ws, r1, c1, r2, c2, insert=False)
        else:
            _shift_cols(ws, r1, c1, r2, c2, insert=False)

    def do_rangeSort(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        keys, ascending, has_headers = action["args"]
        _sort_rows(ws, r1 + (1 if has_headers else 0), c1, r2, c2, keys, ascending)

    def do_rangeRemoveDuplicates(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        columns, has_headers = action["args"]
        first = r1 + (1 if has_headers else 0)
        rows = _read_rows(ws, first, c1, r2, c2)
        seen: set[tuple[Any, ...]] = set()
        kept = []
        for line in rows:
            key = tuple(_dedupe_key(line[c - 1][0]) for c in columns)
            if key not in seen:
                seen.add(key)
                kept.append(line)
        blank = [(None, StyleArray())] * (c2 - c1 + 1)
        _write_rows(ws, first, c1, kept + [blank] * (len(rows) - len(kept)))

    # -- formats ------------------------------------------------------------------------------

    def do_setNumberFormat(self, action: dict[str, Any]) -> None:
        for cell in self.cells_full(action):
            cell.number_format = str(action["args"][0])

    def cells_full(self, action: dict[str, Any]) -> Iterable[Cell]:
        """Every cell of the range (formats are applied to empty cells too)."""
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        if (r2 - r1 + 1) * (c2 - c1 + 1) > 2_000_000:
            raise NotImplementedError("formatting whole rows/columns is not emulated")
        for row in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                yield ws.cell(row, col)

    def do_setRangeColor(self, action: dict[str, Any]) -> None:
        for cell in self.cells_full(action):
            cell.fill = _fill(action["args"][0])

    def do_setRangeColors(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, _, _ = self.box(action)
        for i, row in enumerate(action["args"][0]):
            for j, color in enumerate(row):
                if color != "keep":
                    ws.cell(r1 + i, c1 + j).fill = _fill(color)

    def do_setFontProperty(self, action: dict[str, Any]) -> None:
        attribute, value = action["args"]
        for cell in self.cells_full(action):
            font = copy.copy(cell.font)
            if attribute == "bold":
                font.b = bool(value)
            elif attribute == "italic":
                font.i = bool(value)
            elif attribute == "size":
                font.sz = float(value)
            elif attribute == "name":
                font.name = str(value)
            elif attribute == "color":
                font.color = None if value is None else Color(rgb="FF" + value.lstrip("#").upper())
            else:
                raise NotImplementedError(f"setFontProperty {attribute!r}")
            cell.font = font

    def _align(self, action: dict[str, Any], **changes: Any) -> None:
        for cell in self.cells_full(action):
            alignment = copy.copy(cell.alignment)
            for key, value in changes.items():
                setattr(alignment, key, value)
            cell.alignment = alignment

    def do_setWrapText(self, action: dict[str, Any]) -> None:
        self._align(action, wrap_text=bool(action["args"][0]))

    def do_setHorizontalAlignment(self, action: dict[str, Any]) -> None:
        mapping = {"CenterAcrossSelection": "centerContinuous"}
        value = action["args"][0]
        self._align(action, horizontal=mapping.get(value, value[0].lower() + value[1:]))

    def do_setVerticalAlignment(self, action: dict[str, Any]) -> None:
        self._align(action, vertical=action["args"][0].lower())

    def do_rangeAdjustIndent(self, action: dict[str, Any]) -> None:
        for cell in self.cells_full(action):
            alignment = copy.copy(cell.alignment)
            alignment.indent = max(0, (alignment.indent or 0) + int(action["args"][0]))
            cell.alignment = alignment

    def do_setColumnWidth(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        _, c1, _, c2 = self.box(action)
        points = float(action["args"][0])
        # Office.js works in points; xlsx stores character widths (Calibri 11: 7 px/char).
        width = max(0.0, (points * 96 / 72 - 5) / 7 + 0.71)
        for col in range(c1, c2 + 1):
            ws.column_dimensions[get_column_letter(col)].width = round(width, 2)

    def do_setRowHeight(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, _, r2, _ = self.box(action)
        for row in range(r1, r2 + 1):
            ws.row_dimensions[row].height = float(action["args"][0])

    def do_setColumnHidden(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        _, c1, _, c2 = self.box(action)
        for col in range(c1, c2 + 1):
            ws.column_dimensions[get_column_letter(col)].hidden = bool(action["args"][0])

    def do_setRowHidden(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, _, r2, _ = self.box(action)
        for row in range(r1, r2 + 1):
            ws.row_dimensions[row].hidden = bool(action["args"][0])

    def do_rangeGroup(self, action: dict[str, Any], delta: int = 1) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        if str(action["args"][0]).startswith("column"):
            for col in range(c1, c2 + 1):
                dim = ws.column_dimensions[get_column_letter(col)]
                dim.outline_level = max(0, (dim.outline_level or 0) + delta)
        else:
            for row in range(r1, r2 + 1):
                dim = ws.row_dimensions[row]
                dim.outline_level = max(0, (dim.outline_level or 0) + delta)

    def do_rangeUngroup(self, action: dict[str, Any]) -> None:
        self.do_rangeGroup(action, delta=-1)

    def do_rangeMerge(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        if action["args"][0]:
            for row in range(r1, r2 + 1):
                if c2 > c1:
                    ws.merge_cells(start_row=row, start_column=c1, end_row=row, end_column=c2)
        else:
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)

    def do_rangeUnmerge(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        target = CellRange(min_row=r1, min_col=c1, max_row=r2, max_col=c2)
        for merged in list(ws.merged_cells.ranges):
            if not merged.isdisjoint(target):
                ws.unmerge_cells(str(merged))

    def do_addHyperlink(self, action: dict[str, Any]) -> None:
        address, text, tip = action["args"]
        for cell in self.cells_full(action):
            cell.hyperlink = address
            cell.hyperlink.tooltip = tip or None
            cell.value = text if text else address
            cell.style = "Hyperlink"

    def do_addNote(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        address, text = action["args"]
        ws[address.replace("$", "")].comment = Comment(str(text), "xlwings")

    def do_setNoteText(self, action: dict[str, Any]) -> None:
        self.do_addNote(action)

    def do_deleteNote(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        ws[action["args"][0].replace("$", "")].comment = None

    def do_rangeSelect(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        selection = ws.sheet_view.selection[0]
        selection.activeCell = f"{get_column_letter(c1)}{r1}"
        selection.sqref = _ref(r1, c1, r2, c2)
        self.wb.active = self.wb.worksheets.index(ws)

    # -- sheets ----------------------------------------------------------------------------

    def do_addSheet(self, action: dict[str, Any]) -> None:
        index, name = action["args"][0], action["args"][1]
        self.wb.create_sheet(title=name, index=int(index))

    def do_setSheetName(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        old, new = ws.title, str(action["args"][0])
        ws.title = new
        _rename_sheet_references(self.wb, old, new)

    def do_setSheetPosition(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        self.wb.move_sheet(ws, offset=int(action["args"][0]) - self.wb.worksheets.index(ws))

    def do_sheetDelete(self, action: dict[str, Any]) -> None:
        self.wb.remove(self.sheet(action))

    def do_copySheet(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        where, target_index, name = action["args"]
        new = self.wb.copy_worksheet(ws)
        new.title = name
        existing = {t.displayName.casefold() for s in self.wb.worksheets for t in s.tables.values()}
        for table in ws.tables.values():
            clone = copy.deepcopy(table)
            suffix = 2
            while f"{table.displayName}{suffix}".casefold() in existing:
                suffix += 1
            clone.displayName = clone.name = f"{table.displayName}{suffix}"
            existing.add(clone.displayName.casefold())
            new.add_table(clone)
        new_index = int(target_index) + (0 if where == "Before" else 1)
        self.wb.move_sheet(new, offset=new_index - self.wb.worksheets.index(new))

    def do_activateSheet(self, action: dict[str, Any]) -> None:
        self.wb.active = int(action["args"][0])

    def do_setSheetVisibility(self, action: dict[str, Any]) -> None:
        state = {"Visible": "visible", "Hidden": "hidden", "VeryHidden": "veryHidden"}
        self.sheet(action).sheet_state = state[action["args"][0]]

    def do_setShowGridlines(self, action: dict[str, Any]) -> None:
        self.sheet(action).sheet_view.showGridLines = bool(action["args"][0])

    def do_freezePaneAtRange(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        address = str(action["args"][0]).replace("$", "")
        _, _, max_row, max_col = _bounds(address)
        row = 1 if max_row == MAX_ROW else max_row + 1
        col = 1 if max_col == MAX_COL else max_col + 1
        ws.freeze_panes = f"{get_column_letter(col)}{row}"

    def do_freezePaneUnfreeze(self, action: dict[str, Any]) -> None:
        self.sheet(action).freeze_panes = None

    def do_setPrintArea(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        value = action["args"][0]
        if value:
            ws.print_area = str(value).replace("$", "")
        else:
            ws._print_area = None

    # -- names ---------------------------------------------------------------------------------

    def _names_container(self, book_scope: bool, scope_index: int | None) -> Any:
        if book_scope:
            return self.wb.defined_names
        return self.wb.worksheets[int(scope_index)].defined_names  # type: ignore[arg-type]

    def do_setRangeName(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        name = str(action["args"][0])
        self.wb.defined_names[name] = DefinedName(
            name, attr_text=f"{_quote_sheet(ws.title)}!{_abs_ref(r1, c1, r2, c2)}"
        )

    def do_namesAdd(self, action: dict[str, Any]) -> None:
        name, refers_to = str(action["args"][0]), str(action["args"][1])
        container = self._names_container(
            action.get("sheet_position") is None, action.get("sheet_position")
        )
        container[name] = DefinedName(name, attr_text=refers_to.lstrip("="))

    def do_nameDelete(self, action: dict[str, Any]) -> None:
        args = action["args"]
        container = self._names_container(bool(args[4]), args[5])
        del container[str(args[2])]

    def do_setNameRefersTo(self, action: dict[str, Any]) -> None:
        name, book_scope, scope_index, value = action["args"]
        container = self._names_container(bool(book_scope), scope_index)
        container[name].attr_text = str(value).lstrip("=")

    # -- tables -------------------------------------------------------------------------------

    def do_addTable(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        address, has_headers, style, name = action["args"]
        if not has_headers:
            raise NotImplementedError("addTable with has_headers=False is not emulated")
        taken = {
            t.displayName.casefold() for s in self.wb.worksheets for t in s.tables.values()
        }
        if not name:
            number = 1
            while f"table{number}" in taken:
                number += 1
            name = f"Table{number}"
        elif name.casefold() in taken:
            raise ValueError(f"A table named {name!r} already exists")
        ref = address.replace("$", "")
        table = Table(displayName=name, name=name, ref=ref)
        table.tableStyleInfo = TableStyleInfo(
            name=style or "TableStyleMedium2", showRowStripes=True
        )
        table.autoFilter = AutoFilter(ref=ref)
        ws.tables.add(table)
        _sync_table(ws, table)

    def do_setTableName(self, action: dict[str, Any]) -> None:
        ws, table = self.table(action)
        items = self.tables(ws)
        old, new = table.displayName, str(action["args"][1])
        table.displayName = table.name = new
        ws.tables.clear()
        for item in items:
            ws.tables.add(item)
        # Excel rewrites structured references such as =SUM(tblOld[amount]).
        pattern = re.compile(
            r'"(?:[^"]|"")*"|(?<![\w.])' + re.escape(old) + r"(?=\[)", re.IGNORECASE
        )
        for sheet in self.wb.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value.startswith("="):
                        cell.value = pattern.sub(
                            lambda m: m.group(0) if m.group(0).startswith('"') else new,
                            cell.value,
                        )

    def do_resizeTable(self, action: dict[str, Any]) -> None:
        ws, table = self.table(action)
        old = _table_parts(table)
        r1, c1, r2, c2 = _bounds(action["args"][1])
        if r1 != old["min_row"]:
            raise ValueError("Excel: the header row must stay in the same row on resize")
        table.ref = _ref(r1, c1, r2, c2)
        _sync_table(ws, table)

    def do_showAutofilterTable(self, action: dict[str, Any]) -> None:
        ws, table = self.table(action)
        if action["args"][1]:
            if table.autoFilter is None:
                table.autoFilter = AutoFilter(ref=table.ref)
        else:
            table.autoFilter = None
        _sync_table(ws, table)

    def do_showHeadersTable(self, action: dict[str, Any]) -> None:
        ws, table = self.table(action)
        p = _table_parts(table)
        if bool(action["args"][1]) == bool(p["headers"]):
            return
        names = [column.name for column in table.tableColumns]
        if action["args"][1]:
            if p["min_row"] == 1:
                raise ValueError("no row above the table for its header row")
            for j, name in enumerate(names):
                ws.cell(p["min_row"] - 1, p["min_col"] + j).value = name
            table.ref = _ref(p["min_row"] - 1, p["min_col"], p["max_row"], p["max_col"])
            table.headerRowCount = 1
        else:
            for j in range(len(names)):
                ws.cell(p["min_row"], p["min_col"] + j).value = None
            table.ref = _ref(p["min_row"] + 1, p["min_col"], p["max_row"], p["max_col"])
            table.headerRowCount = 0
            table.autoFilter = None
        _sync_table(ws, table)

    def do_showTotalsTable(self, action: dict[str, Any]) -> None:
        ws, table = self.table(action)
        p = _table_parts(table)
        if bool(action["args"][1]) == bool(p["totals"]):
            return
        columns = list(table.tableColumns)
        if action["args"][1]:
            row = p["max_row"] + 1
            table.ref = _ref(p["min_row"], p["min_col"], row, p["max_col"])
            table.totalsRowCount = 1
            table.totalsRowShown = True
            columns[0].totalsRowLabel = "Total"
            ws.cell(row, p["min_col"]).value = "Total"
            if len(columns) > 1:
                last = columns[-1]
                last.totalsRowFunction = "sum"
                ws.cell(row, p["max_col"]).value = (
                    f"=SUBTOTAL(109,{table.displayName}[{last.name}])"
                )
        else:
            for col in range(p["min_col"], p["max_col"] + 1):
                ws.cell(p["max_row"], col).value = None
            table.ref = _ref(p["min_row"], p["min_col"], p["max_row"] - 1, p["max_col"])
            table.totalsRowCount = None
            for column in columns:
                column.totalsRowLabel = None
                column.totalsRowFunction = None
        _sync_table(ws, table)

    def do_setTableStyle(self, action: dict[str, Any]) -> None:
        _, table = self.table(action)
        style = table.tableStyleInfo or TableStyleInfo()
        style.name = str(action["args"][1]) or None
        table.tableStyleInfo = style

    def _style_flag(self, action: dict[str, Any], attribute: str) -> None:
        _, table = self.table(action)
        style = table.tableStyleInfo or TableStyleInfo(name="TableStyleMedium2")
        setattr(style, attribute, bool(action["args"][1]))
        table.tableStyleInfo = style

    def do_showTableStyleFirstColumn(self, action: dict[str, Any]) -> None:
        self._style_flag(action, "showFirstColumn")

    def do_showTableStyleLastColumn(self, action: dict[str, Any]) -> None:
        self._style_flag(action, "showLastColumn")

    def do_showTableStyleRowStripes(self, action: dict[str, Any]) -> None:
        self._style_flag(action, "showRowStripes")

    def do_showTableStyleColumnStripes(self, action: dict[str, Any]) -> None:
        self._style_flag(action, "showColumnStripes")

    def do_addTableRow(self, action: dict[str, Any]) -> None:
        ws, table = self.table(action)
        _, position, values = action["args"]
        p = _table_parts(table)
        row = p["body_first"] + int(position)
        _move_block(ws, row, p["min_col"], ws.max_row, p["max_col"], rows=1, cols=0)
        for j in range(p["max_col"] - p["min_col"] + 1):
            ws.cell(row, p["min_col"] + j).value = None
        table.ref = _ref(p["min_row"], p["min_col"], p["max_row"] + 1, p["max_col"])
        if values is not None:
            for j, value in enumerate(values):
                self.set_value(ws.cell(row, p["min_col"] + j), value)
        _sync_table(ws, table)

    def do_deleteTableRow(self, action: dict[str, Any]) -> None:
        ws, table = self.table(action)
        p = _table_parts(table)
        row = p["body_first"] + int(action["args"][1])
        for col in range(p["min_col"], p["max_col"] + 1):
            ws.cell(row, col).value = None
        _move_block(ws, row + 1, p["min_col"], ws.max_row, p["max_col"], rows=-1, cols=0)
        table.ref = _ref(p["min_row"], p["min_col"], p["max_row"] - 1, p["max_col"])
        _sync_table(ws, table)

    def do_addTableColumn(self, action: dict[str, Any]) -> None:
        ws, table = self.table(action)
        _, position, name = action["args"]
        p = _table_parts(table)
        col = p["min_col"] + int(position)
        _move_block(ws, p["min_row"], col, p["max_row"], ws.max_column, rows=0, cols=1)
        for row in range(p["min_row"], p["max_row"] + 1):
            ws.cell(row, col).value = None
        columns = list(table.tableColumns)
        columns.insert(int(position), TableColumn(id=0, name=str(name or "")))
        table.tableColumns = columns
        if p["headers"]:
            ws.cell(p["min_row"], col).value = name or None
        table.ref = _ref(p["min_row"], p["min_col"], p["max_row"], p["max_col"] + 1)
        _sync_table(ws, table)

    def do_deleteTableColumn(self, action: dict[str, Any]) -> None:
        ws, table = self.table(action)
        p = _table_parts(table)
        names = [column.name for column in table.tableColumns]
        index = names.index(action["args"][1])
        col = p["min_col"] + index
        for row in range(p["min_row"], p["max_row"] + 1):
            ws.cell(row, col).value = None
        _move_block(ws, p["min_row"], col + 1, p["max_row"], ws.max_column, rows=0, cols=-1)
        columns = list(table.tableColumns)
        del columns[index]
        table.tableColumns = columns
        table.ref = _ref(p["min_row"], p["min_col"], p["max_row"], p["max_col"] - 1)
        _sync_table(ws, table)

    def do_tableSort(self, action: dict[str, Any]) -> None:
        ws, table = self.table(action)
        _, keys, ascending = action["args"]
        p = _table_parts(table)
        _sort_rows(ws, p["body_first"], p["min_col"], p["body_last"], p["max_col"], keys, ascending)

    # -- application / misc -------------------------------------------------------------------

    def do_alert(self, action: dict[str, Any]) -> None:
        prompt, title, buttons, mode, callback = (list(action["args"]) + [""] * 5)[:5]
        self.alerts.append(Alert(str(prompt), str(title), str(buttons), str(mode), str(callback)))

    def do_setCalculation(self, action: dict[str, Any]) -> None:
        mode = {"Automatic": "auto", "Manual": "manual", "AutomaticExceptTables": "autoNoTable"}
        self.wb.calculation.calcMode = mode[action["args"][0]]

    # Things Office.js does that leave no trace in an xlsx (or that Excel does anyway).
    def _noop(self, action: dict[str, Any]) -> None:
        return None

    do_setAutofit = _noop  # openpyxl cannot measure text
    do_setSheetAutofit = _noop
    do_calculate = _noop  # recalculate with tests.support.libreoffice.recalc_xlsx
    do_setScreenUpdating = _noop
    do_save = _noop  # the harness saves to path_out anyway


def apply_actions(
    path_in: str | Path, actions: Sequence[dict[str, Any]], path_out: str | Path
) -> list[Alert]:
    """Apply xlwings remote actions (``book.json()["actions"]``) to an xlsx file.

    Args:
        path_in: workbook the payload was built from.
        actions: the action dicts, in order.
        path_out: where to save the result (may equal ``path_in``).

    Returns:
        The alerts (``book.app.alert``) in the order the macro raised them.

    Raises:
        NotImplementedError: for an action this harness does not emulate; the message
            names the action.
    """
    applier = _Applier(Path(path_in))
    for action in actions:
        applier.apply(action)
    applier.save(Path(path_out))
    return applier.alerts


# ---------------------------------------------------------------------------------------
# openpyxl helpers
# ---------------------------------------------------------------------------------------


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quote_sheet(name: str) -> str:
    if re.fullmatch(r"[^\W\d][\w.]*", name) and not re.fullmatch(
        r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*", name
    ):
        return name
    return "'" + name.replace("'", "''") + "'"


def _abs_ref(r1: int, c1: int, r2: int, c2: int) -> str:
    first = f"${get_column_letter(c1)}${r1}"
    if (r1, c1) == (r2, c2):
        return first
    return f"{first}:${get_column_letter(c2)}${r2}"


def _fill(color: str | None) -> PatternFill:
    if color is None:
        return PatternFill(fill_type=None)
    rgb = "FF" + color.lstrip("#").upper()
    return PatternFill(fill_type="solid", fgColor=rgb, bgColor=rgb)


_SHEET_REF = re.compile(
    r'"(?:[^"]|"")*"'  # string literal: left alone
    r"|'((?:[^']|'')+)'!"  # 'quoted sheet'!
    r"|(?<![\w.\]])([^\W\d][\w.]*)!"  # unquoted sheet!
)


def _rename_in_formula(formula: str, old: str, new: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is not None:
            name = name.replace("''", "'")
        else:
            name = match.group(2)
        if name is None or name.casefold() != old.casefold():
            return match.group(0)
        return _quote_sheet(new) + "!"

    return _SHEET_REF.sub(replace, formula)


def _rename_sheet_references(wb: openpyxl.Workbook, old: str, new: str) -> None:
    """What Excel does on a sheet rename: rewrite formulas and defined names."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.value = _rename_in_formula(cell.value, old, new)
                elif isinstance(cell.value, ArrayFormula):
                    cell.value.text = _rename_in_formula(cell.value.text, old, new)
        for defined in ws.defined_names.values():
            defined.attr_text = _rename_in_formula("=" + defined.attr_text, old, new)[1:]
    for defined in wb.defined_names.values():
        if defined.attr_text:
            defined.attr_text = _rename_in_formula("=" + defined.attr_text, old, new)[1:]


def _move_block(
    ws: Worksheet, r1: int, c1: int, r2: int, c2: int, *, rows: int, cols: int
) -> None:
    if r2 < r1 or c2 < c1 or (rows == 0 and cols == 0):
        return
    ws.move_range(
        CellRange(min_row=r1, min_col=c1, max_row=r2, max_col=c2),
        rows=rows,
        cols=cols,
        translate=True,
    )


def _shift_rows(ws: Worksheet, r1: int, c1: int, r2: int, c2: int, *, insert: bool) -> None:
    """Insert (shift down) or delete (shift up) the cells r1:r2 x c1:c2, like Excel."""
    n = r2 - r1 + 1
    c2 = min(c2, max(ws.max_column, c1))
    for table in list(ws.tables.values()):
        p = _table_parts(table)
        inside = c1 <= p["min_col"] and p["max_col"] <= c2
        overlaps_cols = not (p["max_col"] < c1 or p["min_col"] > c2)
        if not overlaps_cols or p["max_row"] < r1:
            continue
        if not inside:
            raise ValueError("Excel: this would shift cells in a table on your worksheet")
        if insert:
            top = p["min_row"] + n if p["min_row"] >= r1 else p["min_row"]
            table.ref = _ref(top, p["min_col"], p["max_row"] + n, p["max_col"])
        elif p["min_row"] > r2:  # table below the deleted rows moves up
            table.ref = _ref(p["min_row"] - n, p["min_col"], p["max_row"] - n, p["max_col"])
        elif r1 <= p["min_row"] and p["max_row"] <= r2:  # table deleted entirely
            del ws.tables[table.name]
        elif r1 > p["min_row"]:  # body rows deleted, header kept: table shrinks
            overlap = min(r2, p["max_row"]) - r1 + 1
            table.ref = _ref(p["min_row"], p["min_col"], p["max_row"] - overlap, p["max_col"])
        else:
            raise ValueError("Excel: cannot delete part of a table's header row")
    if insert:
        _move_block(ws, r1, c1, ws.max_row, c2, rows=n, cols=0)
    else:
        for row in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                ws.cell(row, col).value = None
                ws.cell(row, col)._style = StyleArray()
        _move_block(ws, r2 + 1, c1, ws.max_row, c2, rows=-n, cols=0)


def _shift_cols(ws: Worksheet, r1: int, c1: int, r2: int, c2: int, *, insert: bool) -> None:
    """Insert (shift right) or delete (shift left) the cells r1:r2 x c1:c2."""
    n = c2 - c1 + 1
    r2 = min(r2, max(ws.max_row, r1))
    for table in list(ws.tables.values()):
        p = _table_parts(table)
        overlaps_rows = not (p["max_row"] < r1 or p["min_row"] > r2)
        if not overlaps_rows or p["max_col"] < c1:
            continue
        if not (r1 <= p["min_row"] and p["max_row"] <= r2):
            raise ValueError("Excel: this would shift cells in a table on your worksheet")
        if insert and p["min_col"] >= c1:
            table.ref = _ref(p["min_row"], p["min_col"] + n, p["max_row"], p["max_col"] + n)
        elif not insert and p["min_col"] > c2:
            table.ref = _ref(p["min_row"], p["min_col"] - n, p["max_row"], p["max_col"] - n)
        else:
            raise NotImplementedError("inserting/deleting columns inside a table")
    if insert:
        _move_block(ws, r1, c1, r2, ws.max_column, rows=0, cols=n)
    else:
        for row in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                ws.cell(row, col).value = None
                ws.cell(row, col)._style = StyleArray()
        _move_block(ws, r1, c2 + 1, r2, ws.max_column, rows=0, cols=-n)


def _read_rows(
    ws: Worksheet, r1: int, c1: int, r2: int, c2: int
) -> list[list[tuple[Any, Any]]]:
    """(value, style) of every cell in the block, row by row."""
    return [
        [
            (ws.cell(row, col).value, copy.copy(ws.cell(row, col)._style))
            for col in range(c1, c2 + 1)
        ]
        for row in range(r1, r2 + 1)
    ]


def _is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _write_rows(ws: Worksheet, r1: int, c1: int, rows: list[list[tuple[Any, Any]]]) -> None:
    for i, line in enumerate(rows):
        for j, (value, style) in enumerate(line):
            cell = ws.cell(r1 + i, c1 + j)
            cell.value = value
            cell._style = copy.copy(style)


def _sort_group(value: Any) -> tuple[int, Any]:
    """Excel's ascending order: numbers/dates < text < logicals < errors; blanks last."""
    if value is None or value == "":
        return (4, 0)
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, dt.datetime):
        return (0, (value - _EXCEL_EPOCH).total_seconds() / 86400)
    if isinstance(value, str) and value in _ERROR_STRINGS:
        return (3, 0)
    return (1, str(value).casefold())


def _sort_rows(
    ws: Worksheet,
    r1: int,
    c1: int,
    r2: int,
    c2: int,
    keys: Sequence[int],
    ascending: Sequence[bool] | bool,
) -> None:
    if r2 <= r1:
        return
    if isinstance(ascending, bool):
        ascending = [ascending] * len(keys)
    rows = _read_rows(ws, r1, c1, r2, c2)

    def compare(a: list[tuple[Any, Any]], b: list[tuple[Any, Any]]) -> int:
        for key, asc in zip(keys, ascending):
            ka, kb = _sort_group(a[key - 1][0]), _sort_group(b[key - 1][0])
            if ka == kb:
                continue
            if ka[0] == 4 or kb[0] == 4:  # blanks always last
                return 1 if ka[0] == 4 else -1
            result = -1 if ka < kb else 1
            return result if asc else -result
        return 0

    _write_rows(ws, r1, c1, sorted(rows, key=functools.cmp_to_key(compare)))


def _dedupe_key(value: Any) -> Any:
    if isinstance(value, str):
        return ("s", value.casefold())
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", float(value))
    return ("o", value)


def _header_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _sync_table(ws: Worksheet, table: Table) -> None:
    """Make a table's metadata consistent with its cells, as Excel does on save.

    Column names follow the header cells (blank -> ``ColumnN``, duplicates get a
    numeric suffix); the column list follows the width of ``ref``; the autofilter
    covers header + body.
    """
    table.ref = table.ref.replace("$", "")
    p = _table_parts(table)
    width = p["max_col"] - p["min_col"] + 1
    old_columns = list(table.tableColumns)
    by_name = {column.name: column for column in old_columns}
    seen: set[str] = set()
    columns = []
    for j in range(width):
        if p["headers"]:
            cell = ws.cell(p["min_row"], p["min_col"] + j)
            name = _header_text(cell.value)
        else:
            name = old_columns[j].name if j < len(old_columns) else None
        if name is None:
            name = f"Column{j + 1}"
        base, suffix = name, 2
        while name.casefold() in seen:
            name = f"{base}{suffix}"
            suffix += 1
        seen.add(name.casefold())
        if p["headers"]:
            ws.cell(p["min_row"], p["min_col"] + j).value = name
        column = by_name.get(name)
        column = copy.copy(column) if column is not None else TableColumn(id=j + 1, name=name)
        column.id = j + 1
        column.name = name
        columns.append(column)
    table.tableColumns = columns
    if table.autoFilter is not None:
        table.autoFilter.ref = _ref(p["min_row"], p["min_col"], p["body_last"], p["max_col"])
