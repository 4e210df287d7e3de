"""Sheet cells kept out of openpyxl and written as sheet XML when the workbook is saved.

A regional workbook of 250 statements holds some 200,000 cells in its statements and data
tables. Creating an openpyxl :class:`~openpyxl.cell.cell.Cell` for each and having openpyxl
serialise it was most of the time of ``xl-addin regional``. A :class:`CellSheet` instead
keeps, for the rows of a worksheet from ``first_row`` down, each cell's value and style
array (the look openpyxl would give the cell), and :func:`save` writes them into the sheet
XML openpyxl saves, the way :mod:`xl_addin.workbook.splice` writes output tables: the cell XML is what
openpyxl writes for the same value and look, and every look is registered in the
workbook's style table. Everything else of the sheet stays in openpyxl (column widths,
merged ranges, row heights, print setup, header and footer, protection).
"""
from __future__ import annotations

import io
import re
import weakref
import zipfile
from copy import copy
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl.cell.cell import Cell
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..workbook.splice import (ERROR_CODES, cell_xml, row_attributes, text_cell_xml,
                                widen_dimension, worksheet_parts)
from ..workbook.tables import cell_value, looks_like_formula, set_value

__all__ = ["CellSheet", "cell_sheet", "keep_cells", "save"]

_ROW = re.compile(rb'<row\b[^>]*?\sr="(\d+)"')
_NUMBERS = (int, float, Decimal)

_SHEETS: "weakref.WeakKeyDictionary[Worksheet, CellSheet]" = weakref.WeakKeyDictionary()

# A cell as kept: (value, style array) for a value written the plain way (text, a finite
# number, None), else (value, style array, data type) as openpyxl's own rules type and
# style any other value (a date, a bool, an error code, text kept from being a formula).
# No entry refers to the sheet, so that the registry's weak keys can go.
_Entry = tuple[Any, StyleArray] | tuple[Any, StyleArray, str]


class CellSheet:
    """The cells of ``ws`` from ``first_row`` down, kept as values and style arrays.

    Nothing is put into ``ws`` for them; row heights and merged ranges are set on ``ws``
    as usual. A style array given to :meth:`put` is kept, not copied: it must not be
    changed afterwards (a cached look is replaced, never changed in place)."""

    def __init__(self, ws: Worksheet, first_row: int):
        self._ws = weakref.ref(ws)
        self.first_row = first_row
        self.cells: dict[tuple[int, int], _Entry] = {}

    @property
    def ws(self) -> Worksheet:
        ws = self._ws()
        if ws is None:
            raise RuntimeError("the worksheet of these cells is gone")
        return ws

    def put(self, row: int, col: int, value: Any, style: StyleArray, *,
            quote: bool = True) -> None:
        """The cell a fresh openpyxl cell would be after ``cell._style = copy(style)`` and
        :func:`~xl_addin.workbook.tables.set_value` (``quote``) or ``cell.value = value``."""
        if row < self.first_row:
            raise ValueError(f"row {row} is above the first kept row {self.first_row}")
        value = cell_value(value)
        t = type(value)
        if value is None or (t in _NUMBERS and t is not bool) or (
                t is str and not looks_like_formula(value) and value not in ERROR_CODES):
            self.cells[(row, col)] = (value, style)
            return
        cell = Cell(self.ws, row=row, column=col)
        cell._style = copy(style)
        if quote:
            set_value(cell, value)
        else:
            cell.value = value
        self.cells[(row, col)] = (cell._value, cell._style, cell.data_type)

    def style(self, row: int, col: int) -> StyleArray:
        return self.cells[(row, col)][1]

    def restyle(self, row: int, col: int, style: StyleArray) -> None:
        """Give a kept cell another look (a merged range's first cell)."""
        entry = self.cells[(row, col)]
        self.cells[(row, col)] = (entry[0], style, *entry[2:])

    def openpyxl_cell(self, row: int, col: int) -> Cell:
        """An openpyxl cell, not put into the sheet, with the kept cell's value and look
        (for merging on a scratch sheet)."""
        entry = self.cells.get((row, col))
        cell = Cell(self.ws, row=row, column=col)
        if entry is not None:
            cell._value, cell._style = entry[0], copy(entry[1])
            cell.data_type = entry[2] if len(entry) == 3 else "s" if isinstance(entry[0], str) else "n"
        return cell

    def extent(self) -> tuple[int, int, int, int] | None:
        """(min_col, min_row, max_col, max_row) of the kept cells."""
        if not self.cells:
            return None
        rows = [r for r, _ in self.cells]
        cols = [c for _, c in self.cells]
        return min(cols), min(rows), max(cols), max(rows)

    def rows_xml(self) -> bytes:
        """The ``<row>`` elements from ``first_row`` down: the kept cells, and the row
        settings (height ...) of ``ws.row_dimensions``, as openpyxl writes rows."""
        wb = self.ws.parent
        sids: dict[int, int] = {}     # by id(): the kept looks are few objects, shared

        def add(style: StyleArray) -> int:
            sid = sids.get(id(style))
            if sid is None:
                sid = sids[id(style)] = wb._cell_styles.add(style)
            return sid
        dims = self.ws.row_dimensions
        by_row: dict[int, list[tuple[int, _Entry]]] = {}
        for (r, c), entry in self.cells.items():
            by_row.setdefault(r, []).append((c, entry))
        for r in dims:
            if r >= self.first_row:
                by_row.setdefault(r, [])
        letters: dict[int, str] = {}
        out = []
        for r in sorted(by_row):
            rn = str(r)
            attrs = row_attributes(dims, r)
            cells = []
            for c, entry in sorted(by_row[r], key=lambda e: e[0]):
                letter = letters.get(c) or letters.setdefault(c, get_column_letter(c))
                ref = letter + rn
                if len(entry) == 3:
                    cells.append(cell_xml(wb, self.openpyxl_cell(r, c), ref))
                    continue
                value, style = entry
                if value is None:
                    if any(style):      # openpyxl skips an empty cell without a look
                        cells.append(f'<c r="{ref}" s="{add(style)}" t="n"/>')
                elif type(value) is str:
                    cells.append(text_cell_xml(ref, add(style), value))
                else:
                    cells.append(f'<c r="{ref}" s="{add(style)}" t="n"><v>{"%.16g" % value}</v></c>')
            out.append(f'<row r="{rn}"{attrs}>{"".join(cells)}</row>')
        return "".join(out).encode()


def cell_sheet(ws: Worksheet) -> CellSheet | None:
    """The :class:`CellSheet` that keeps cells of ``ws``, if any."""
    return _SHEETS.get(ws)


def keep_cells(ws: Worksheet, first_row: int) -> CellSheet:
    """From now on the cells that :mod:`~xl_addin.reports.regional` writes into rows
    ``first_row`` and below of ``ws`` are kept by the returned :class:`CellSheet`; the
    workbook must then be saved with :func:`save`."""
    if any(r >= first_row for r, _ in ws._cells):
        raise ValueError(f"sheet {ws.title!r} already has cells from row {first_row} down")
    sheet = _SHEETS[ws] = CellSheet(ws, first_row)
    return sheet


def _splice(xml: bytes, sheet: CellSheet, rows: bytes) -> bytes:
    """The sheet XML openpyxl saved, with the kept rows in place of its rows from
    ``first_row`` down (which hold row settings only) and the dimension widened."""
    end = xml.rfind(b"</sheetData>")
    if end < 0:
        m = re.search(rb"<sheetData\s*/>", xml)
        if m is None:
            raise RuntimeError(f"sheet {sheet.ws.title!r}: no sheetData in the saved sheet")
        xml = xml[:m.start()] + b"<sheetData></sheetData>" + xml[m.end():]
        end = xml.rfind(b"</sheetData>")
    start = end
    for m in _ROW.finditer(xml, xml.find(b"<sheetData"), end):
        if int(m.group(1)) >= sheet.first_row:
            start = m.start()
            break
    if b"<c " in xml[start:end] or b"<c>" in xml[start:end]:
        raise RuntimeError(f"sheet {sheet.ws.title!r}: openpyxl wrote cells into the kept rows")
    return widen_dimension(xml[:start], sheet.extent()) + rows + xml[end:]


_MODIFIED = re.compile(rb"(<dcterms:modified\b[^>]*>)[^<]*(</dcterms:modified>)")
_CREATED = re.compile(rb"<dcterms:created\b[^>]*>([^<]*)</dcterms:created>")


def _modified_as_created(core: bytes) -> bytes:
    """openpyxl stamps ``modified`` with the time of saving; a regional file is dated as
    made (its ``created``), so that the same figures give the same file all day."""
    made = _CREATED.search(core)
    if made is None:
        return core
    return _MODIFIED.sub(lambda m: m.group(1) + made.group(1) + m.group(2), core, count=1)


def save(wb: Workbook, target: Path | BinaryIO) -> None:
    """Save ``wb`` with openpyxl, with the cells kept by its :class:`CellSheet` objects written
    into their sheets (a workbook without any is simply saved)."""
    kept = {ws.title: s for ws in wb.worksheets if (s := _SHEETS.get(ws)) is not None}
    if not kept:
        wb.save(target)
        return
    # the rows first: their looks must be in the style table openpyxl saves
    rows = {title: s.rows_xml() for title, s in kept.items()}
    plain = io.BytesIO()
    wb.save(plain)
    made = wb.properties.created
    stamp = (made.year, made.month, made.day, made.hour, made.minute, made.second) \
        if made is not None and made.year >= 1980 else (1980, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(plain) as z, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        parts = {part: title for title, part in worksheet_parts(z) if title in kept}
        for info in z.infolist():
            content = z.read(info.filename)
            title = parts.get(info.filename)
            if title is not None:
                content = _splice(content, kept[title], rows[title])
            elif info.filename == "docProps/core.xml":
                content = _modified_as_created(content)
            # the parts dated as the workbook, so that a rebuild of the same figures on
            # the same day is the same file (and a send log's SHA-256 still matches it)
            info.date_time = stamp
            out.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED)
