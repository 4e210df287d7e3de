"""Run our ribbon macros on Linux against xlwings' own *remote* engine.

Our macros (:mod:`xl_addin.excel.macros`) are Python functions taking an
:class:`xlwings.Book`. On Linux there is no Excel, but xlwings' remote engine
(``xw.Book(json=payload)``, ``xlwings/pro/_xlremote.py``, run under the noncommercial
licence that :func:`tests.support.enable_xlwings_server_mode` sets for tests only) is a
real implementation of ``Book``: it reads from a JSON snapshot of the workbook that
xlwings' Office.js client sends, and queues every write as an *action* that the client
replays in Excel. This module plays the client's part, for an ``.xlsx`` file:

``book_json_from_xlsx(path)``
    openpyxl -> the snapshot, as the xlwings 0.37.8 Office.js client sends it, limited to
    what our macros read: each sheet's name and values, its tables' names and ranges,
    the book's name and active sheet.
``apply_actions(path_in, actions, path_out)``
    replays the actions our macros queue on the file with openpyxl, as Excel would, and
    returns the alerts.
``run_macro(path, func, out_path)``
    both, with ``xw.Book(json=...)`` and ``func(book)`` in between.

What our macros call, and so all this fake covers
--------------------------------------------------
Reads (from the snapshot): ``book.sheets`` (names), ``sheet.tables``,
``table.header_row_range`` / ``table.data_body_range`` (values, row, column),
``book.name``. Writes (actions): ``table.update(df)`` (``resizeTable``, then
``rangeClearContents`` of left-over rows when a table shrinks, then ``setValues`` of header
and body), ``range.value = ...`` (``setValues``), ``range.formula = ...`` (``setFormula``;
the Dashboard's reconciliation formulas) and ``book.app.alert(...)`` (``alert``, not
blocking). ``table.show_totals`` (``showTotalsTable``) is also replayed, for
``tests/test_harness_libreoffice.py``. Any other action raises ``NotImplementedError``
naming it, so a macro that starts using something new fails loudly here until the fake
learns it; defined names, pictures and notes are not in the snapshot.

The snapshot, and what Excel does with the writes
-------------------------------------------------
``values`` start at A1 and run to the last used cell; empty cells are ``""``; numbers
arrive as JSON numbers, so *integral numbers come back as ``int``* (JS has one number
type); date cells arrive as ISO strings (``"2024-01-05T00:00:00.000Z"``) that xlwings turns
into ``datetime``; formulas give their cached result (openpyxl ``data_only=True``: a file
written by openpyxl has none, recalculate it with
:func:`tests.support.libreoffice.recalc_xlsx` first). The book is a snapshot: **a write is
not visible to a later read in the same macro.**

``setValues`` follows Office.js ``range.values``: a string is parsed as typed input
(``"=..."`` a formula, ``"00123"`` the number 123, ``"2024-05-01"`` a date, ``"15%"``
0.15, ``"1,234"`` 1234, ``"TRUE"`` True), except with a leading apostrophe or in a cell
formatted as Text (``@``); ``""`` clears a cell, ``null`` leaves it alone. Table column
names follow the header cells when the file is saved (blank -> ``ColumnN``), as Excel
keeps them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.formula.translate import Translator
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.table import Table, TableColumn
from openpyxl.worksheet.worksheet import Worksheet

from tests.support import enable_xlwings_server_mode

__all__ = ["Alert", "apply_actions", "book_json_from_xlsx", "open_remote_book", "run_macro"]


@dataclass(frozen=True)
class Alert:
    """One ``book.app.alert(...)`` call, as the client would show it."""

    prompt: str
    title: str
    buttons: str
    mode: str
    callback: str


# ---------------------------------------------------------------------------------------
# xlsx -> the client's snapshot
# ---------------------------------------------------------------------------------------


def _client_value(value: Any) -> Any:
    """One cell as the Office.js client puts it into ``values``."""
    if value is None:
        return ""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"Excel cannot hold {value!r}")
        # JSON.stringify of a JS number: 10.0 is sent as 10
        return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, dt.date):
        if not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        value = value.replace(tzinfo=None) + dt.timedelta(microseconds=500)  # toISOString: ms
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    raise NotImplementedError(f"a {type(value).__name__} cell is not sent by this harness")


def _bounds(ref: str) -> tuple[int, int, int, int]:
    """``"$A$1:$C$3"`` -> (min_row, min_col, max_row, max_col)."""
    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    return min_row, min_col, max_row, max_col


def _ref(min_row: int, min_col: int, max_row: int, max_col: int) -> str:
    first, last = f"{get_column_letter(min_col)}{min_row}", f"{get_column_letter(max_col)}{max_row}"
    return first if first == last else f"{first}:{last}"


def _parts(table: Table) -> tuple[int, int, int, int, int, int]:
    """(min_row, min_col, max_row, max_col, header rows, totals rows) of a table."""
    r1, c1, r2, c2 = _bounds(table.ref)
    headers = 1 if table.headerRowCount is None else int(table.headerRowCount)
    return r1, c1, r2, c2, headers, int(table.totalsRowCount or 0)


def _table_json(table: Table) -> dict[str, Any]:
    r1, c1, r2, c2, headers, totals = _parts(table)
    return {
        "name": table.displayName,
        "range_address": _ref(r1, c1, r2, c2),
        "header_row_range_address": _ref(r1, c1, r1, c2) if headers else None,
        "data_body_range_address": _ref(r1 + headers, c1, r2 - totals, c2),
        "total_row_range_address": _ref(r2, c1, r2, c2) if totals else None,
        "show_headers": bool(headers),
        "show_totals": bool(totals),
        "table_style": table.tableStyleInfo.name if table.tableStyleInfo is not None else "",
        "show_autofilter": table.autoFilter is not None,
    }


def book_json_from_xlsx(path: str | Path) -> dict[str, Any]:
    """The snapshot the xlwings Office.js client sends for ``path`` (JSON round-tripped)."""
    import xlwings

    path = Path(path)
    wb = openpyxl.load_workbook(path, data_only=True)
    sheets = [
        {
            "name": ws.title,
            "values": [[_client_value(v) for v in row]
                       for row in ws.iter_rows(max_row=ws.max_row, max_col=ws.max_column, values_only=True)],
            "tables": [_table_json(t) for t in ws.tables.values()],
            "pictures": [],
        }
        for ws in wb.worksheets
    ]
    book = {"name": path.name, "active_sheet_index": wb.worksheets.index(wb.active), "selection": "A1"}
    payload = {"client": "Office.js", "version": xlwings.__version__, "book": book,
               "names": [], "sheets": sheets}
    return json.loads(json.dumps(payload))


# ---------------------------------------------------------------------------------------
# xlwings side
# ---------------------------------------------------------------------------------------


def open_remote_book(payload: dict[str, Any]) -> Any:
    """``xw.Book(json=payload)`` with the licence and engine set up for tests."""
    enable_xlwings_server_mode()
    import xlwings as xw

    return xw.Book(json=payload)


def run_macro(path: str | Path, func: Callable[[Any], Any],
              out_path: str | Path) -> tuple[list[dict[str, Any]], list[Alert]]:
    """Run ``func(book)`` as xlwings' remote engine does and write the result to ``out_path``.

    The actions are JSON round-tripped (the server sends them over HTTP), so a macro that
    queues a value JSON cannot carry fails here as it would in production.

    Returns:
        (actions, alerts): the action list of ``book.json()`` and the alerts raised.
    """
    book = open_remote_book(book_json_from_xlsx(path))
    try:
        func(book)
        actions = json.loads(json.dumps(book.json()["actions"], allow_nan=False))
    finally:
        book.close()
    return actions, apply_actions(path, actions, out_path)


# ---------------------------------------------------------------------------------------
# actions -> xlsx
# ---------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_PERCENT = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*%\s*$")
_THOUSANDS = re.compile(r"^\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def _typed_input(value: Any, cell: Cell) -> tuple[Any, str | None]:
    """What Excel stores for a value assigned through Office.js ``range.values``, and the
    number format it gives a General cell: (value, number format or None)."""
    if value is None or isinstance(value, bool | int | float):
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
    if _NUMBER.match(value) or _THOUSANDS.match(value):
        number = float(value.replace(",", ""))    # Excel keeps 15 significant digits
        number = int(number) if number.is_integer() and abs(number) < 1e15 else number
        fmt = ("#,##0.00" if "." in value else "#,##0") if "," in value and general else None
        return number, fmt
    if m := _PERCENT.match(value):
        return float(m.group(1)) / 100, ("0.00%" if "." in m.group(1) else "0%") if general else None
    if m := _DATE.match(value):
        try:
            stamp = dt.datetime(*(int(p) if p else 0 for p in m.groups()))
        except ValueError:
            return value, None
        timed = m.group(4) is not None
        return stamp, ("yyyy-mm-dd hh:mm:ss" if timed else "yyyy-mm-dd") if general else None
    if value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE", None
    return value, None


class _Applier:
    """Replays our macros' actions on an openpyxl workbook, as Excel would."""

    def __init__(self, path_in: Path) -> None:
        self.wb = openpyxl.load_workbook(path_in)
        self.alerts: list[Alert] = []

    def apply(self, action: dict[str, Any]) -> None:
        self.refuse_on_protected(action)
        handler = getattr(self, f"do_{action.get('func')}", None)
        if handler is None:
            raise NotImplementedError(
                f"xlwings action {action.get('func')!r} is not emulated by "
                f"tests/support/xlwings_remote.py (args={action.get('args')!r})")
        handler(action)

    def sheet(self, action: dict[str, Any]) -> Worksheet:
        return self.wb.worksheets[action["sheet_position"]]

    @staticmethod
    def box(action: dict[str, Any]) -> tuple[int, int, int, int]:
        """1-based (min_row, min_col, max_row, max_col) of the action's range."""
        r, c = action["start_row"] + 1, action["start_column"] + 1
        return r, c, r + action["row_count"] - 1, c + action["column_count"] - 1

    def table(self, action: dict[str, Any]) -> tuple[Worksheet, Table]:
        ws = self.sheet(action)
        table = list(ws.tables.values())[int(action["args"][0])]
        _sync_table(ws, table)
        return ws, table

    def set_value(self, cell: Cell, value: Any) -> None:
        if value is None:                          # Office.js: null leaves the cell alone
            return
        cell.value, fmt = _typed_input(value, cell)
        if fmt:
            cell.number_format = fmt
        if isinstance(value, str) and value.startswith("'") and cell.number_format != "@":
            cell.data_type = "s"                   # "'=1+1" is the text =1+1, as typed in
            cell.quotePrefix = True                # Excel: never a formula

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

    def do_setValues(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        values = action["values"]
        if len(values) != r2 - r1 + 1 or any(len(row) != c2 - c1 + 1 for row in values):
            raise ValueError(f"setValues: {len(values)}x{len(values[0]) if values else 0} values "
                             f"for a {r2 - r1 + 1}x{c2 - c1 + 1} range")
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                self.set_value(ws.cell(r1 + i, c1 + j), value)

    def do_setFormula(self, action: dict[str, Any]) -> None:
        if isinstance(action["values"], list):
            return self.do_setValues(action)
        ws = self.sheet(action)                    # one formula for the range: refs adjusted
        r1, c1, r2, c2 = self.box(action)
        formula, origin = action["values"], f"{get_column_letter(c1)}{r1}"
        for row in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                value = formula
                if isinstance(formula, str) and formula.startswith("="):
                    value = Translator(formula, origin=origin).translate_formula(
                        f"{get_column_letter(col)}{row}")
                self.set_value(ws.cell(row, col), value)

    def do_rangeClearContents(self, action: dict[str, Any]) -> None:
        ws = self.sheet(action)
        r1, c1, r2, c2 = self.box(action)
        for row in ws.iter_rows(min_row=r1, max_row=min(r2, ws.max_row), min_col=c1, max_col=c2):
            for cell in row:
                cell.value = None

    def do_resizeTable(self, action: dict[str, Any]) -> None:
        ws, table = self.table(action)
        r1, c1, r2, c2 = _bounds(action["args"][1])
        if r1 != _parts(table)[0]:
            raise ValueError("Excel: the header row must stay in the same row on resize")
        table.ref = _ref(r1, c1, r2, c2)
        _sync_table(ws, table)

    def do_showTotalsTable(self, action: dict[str, Any]) -> None:
        """Excel's default totals row: "Total" under the first column, SUBTOTAL(109, ...)
        (a sum of the visible rows) under the last."""
        ws, table = self.table(action)
        r1, c1, r2, c2, _, totals = _parts(table)
        if bool(action["args"][1]) == bool(totals):
            return
        if not action["args"][1]:
            raise NotImplementedError("removing a totals row")
        columns = list(table.tableColumns)
        table.ref, table.totalsRowCount, table.totalsRowShown = _ref(r1, c1, r2 + 1, c2), 1, True
        columns[0].totalsRowLabel = "Total"
        ws.cell(r2 + 1, c1).value = "Total"
        if len(columns) > 1:
            columns[-1].totalsRowFunction = "sum"
            ws.cell(r2 + 1, c2).value = f"=SUBTOTAL(109,{table.displayName}[{columns[-1].name}])"
        _sync_table(ws, table)

    def do_alert(self, action: dict[str, Any]) -> None:
        prompt, title, buttons, mode, callback = (list(action["args"]) + [""] * 5)[:5]
        self.alerts.append(Alert(str(prompt), str(title), str(buttons), str(mode), str(callback)))


def apply_actions(path_in: str | Path, actions: Sequence[dict[str, Any]],
                  path_out: str | Path) -> list[Alert]:
    """Apply the actions of ``book.json()`` to ``path_in`` in order, save to ``path_out``
    (which may be ``path_in``) and return the alerts in the order they were raised.

    Raises ``NotImplementedError`` naming an action this harness does not emulate."""
    applier = _Applier(Path(path_in))
    for action in actions:
        applier.apply(action)
    for ws in applier.wb.worksheets:
        for table in ws.tables.values():
            _sync_table(ws, table)
    applier.wb.save(path_out)
    return applier.alerts


def _sync_table(ws: Worksheet, table: Table) -> None:
    """A table's columns made to follow its header cells and width, and its autofilter its
    header and body, as Excel keeps them: a blank header becomes ``ColumnN``, a repeated one
    gets a number (``region2``)."""
    table.ref = table.ref.replace("$", "")
    r1, c1, r2, c2, headers, totals = _parts(table)
    old = {column.name: column for column in table.tableColumns}
    old_names = [column.name for column in table.tableColumns]
    seen: set[str] = set()
    columns = []
    for j in range(c2 - c1 + 1):
        if headers:
            value = ws.cell(r1, c1 + j).value
            name = None if value in (None, "") else (
                str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))
        else:
            name = old_names[j] if j < len(old_names) else None
        base, suffix, name = name or f"Column{j + 1}", 2, name or f"Column{j + 1}"
        while name.casefold() in seen:
            name, suffix = f"{base}{suffix}", suffix + 1
        seen.add(name.casefold())
        if headers:
            ws.cell(r1, c1 + j).value = name
        column = old.get(name) or TableColumn(id=j + 1, name=name)
        column.id, column.name = j + 1, name
        columns.append(column)
    table.tableColumns = columns
    if table.autoFilter is not None:
        table.autoFilter.ref = _ref(r1, c1, r2 - totals, c2)
