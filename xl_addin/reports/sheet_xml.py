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

The statements are *copies* of one stamp sheet (:func:`add_copies`): openpyxl saves the
stamp once, and each copy is the stamp's XML around the copy's own rows and merged ranges,
so that no statement is an openpyxl sheet. The cell XML, the dimension and the package
written once are :mod:`xl_addin.ooxml`'s; what is here is the regional workbook's own
part (kept cells, the stamp and its copies in the workbook's sheet list, relationships and
content types).
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

from .. import ooxml
from ..ooxml import cells as xml_cells
from ..ooxml.names import ERROR_CODES
from ..ooxml.sheet import row_open, widen_dimension
from ..workbook.tables import FORMULA_PREFIXES, cell_value, looks_like_formula, set_value

__all__ = ["CellSheet", "cell_sheet", "keep_cells", "add_copies", "copies_of", "save"]

_ROW = re.compile(rb'<row\b[^>]*?\sr="(\d+)"')
_NUMBERS = (int, float, Decimal)

KEPT = _KEPT = "_xl_addin_kept"   # the attribute of a sheet that holds its CellSheet

# A cell as kept: (value, style array) for a value written the plain way (text, a finite
# number, None), else (value, style array, data type) as openpyxl's own rules type and
# style any other value (a date, a bool, an error code, text kept from being a formula).
# No entry refers to the sheet, so that the registry's weak keys can go.
_Entry = tuple[Any, StyleArray] | tuple[Any, StyleArray, str]


_LETTERS: dict[int, str] = {}            # column number -> letter
_TEXTS: dict[str, str] = {}              # text -> its inline-string cell after ``s="..."``
_TEXTS_MAX = 100_000                     # labels repeat in every statement; names do not


def _first(item: tuple) -> Any:
    return item[0]


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
        t = type(value)     # the common cases at once (a statement puts ~500 cells)
        if value is None or t is int or (t is str and not value.startswith(FORMULA_PREFIXES)
                                         and value not in ERROR_CODES) or (
                t is Decimal and value.is_finite()):
            self.cells[(row, col)] = (value, style)
            return
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
        add_style = wb._cell_styles.add
        dims = self.ws.row_dimensions
        by_row: dict[int, list[tuple[int, _Entry]]] = {}
        for (r, c), entry in self.cells.items():
            cells_of = by_row.get(r)
            if cells_of is None:
                by_row[r] = [(c, entry)]
            else:
                cells_of.append((c, entry))
        for r in dims:
            if r >= self.first_row:
                by_row.setdefault(r, [])
        letters = _LETTERS
        texts = _TEXTS
        text = xml_cells.text
        out = []
        for r in sorted(by_row):
            rn = str(r)
            dim = dims.get(r)
            head = f'<row r="{rn}">' if dim is None else row_open(rn, dim)
            cells = [head]
            row_cells = by_row[r]
            if len(row_cells) > 1:
                row_cells.sort(key=_first)
            for c, entry in row_cells:
                letter = letters.get(c) or letters.setdefault(c, get_column_letter(c))
                ref = letter + rn
                if len(entry) == 3:
                    cells.append(xml_cells.openpyxl_cell(wb, self.openpyxl_cell(r, c), ref))
                    continue
                value, style = entry
                if value is None and not any(style):
                    continue            # openpyxl skips an empty cell without a look
                sid = sids.get(id(style))
                if sid is None:
                    sid = sids[id(style)] = add_style(style)
                if value is None:
                    cells.append(f'<c r="{ref}" s="{sid}" t="n"/>')
                elif type(value) is str:
                    tail = texts.get(value)
                    if tail is None:
                        full = text(ref, sid, value, truncate=True)   # raises for bad text
                        tail = full[len(f'<c r="{ref}" s="{sid}"'):]
                        if len(texts) < _TEXTS_MAX:
                            texts[value] = tail
                    cells.append(f'<c r="{ref}" s="{sid}"{tail}')
                else:
                    cells.append(f'<c r="{ref}" s="{sid}" t="n"><v>{"%.16g" % value}</v></c>')
            cells.append("</row>")
            out.append("".join(cells))
        return "".join(out).encode()


def cell_sheet(ws: Worksheet) -> CellSheet | None:
    """The :class:`CellSheet` that keeps cells of ``ws``, if any."""
    return ws.__dict__.get(_KEPT)


def keep_cells(ws: Worksheet, first_row: int) -> CellSheet:
    """From now on the cells that :mod:`~xl_addin.reports.regional` writes into rows
    ``first_row`` and below of ``ws`` are kept by the returned :class:`CellSheet`; the
    workbook must then be saved with :func:`save`."""
    if any(r >= first_row for r, _ in getattr(ws, "_cells", ())):
        raise ValueError(f"sheet {ws.title!r} already has cells from row {first_row} down")
    sheet = CellSheet(ws, first_row)
    setattr(ws, _KEPT, sheet)
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


# ----------------------------------------------------------------------------- sheet copies

_COPIES = "_xl_addin_copies"     # the attribute of a workbook that holds its stamp and copies


def add_copies(stamp: Worksheet, copies: list[tuple[str, Worksheet]]) -> None:
    """Save ``stamp`` (a sheet of its workbook) as one sheet per ``(title, ws)`` of
    ``copies``, in place and in order: each with the stamp's sheet settings (properties,
    views, columns, protection, print setup, header and footer) and its own cells, row
    settings and merged ranges, all kept by a :class:`CellSheet` of ``ws`` from row 1 (``ws``
    is not part of the workbook). The sheet XML is written once per copy, straight into
    the package; openpyxl writes the stamp once. With no copies the stamp is left out."""
    for title, ws in copies:
        sheet = cell_sheet(ws)
        if sheet is None or sheet.first_row != 1:
            raise ValueError(f"copy {title!r}: its cells must be kept from row 1")
    setattr(stamp.parent, _COPIES, (stamp, list(copies)))


def copies_of(wb: Workbook) -> tuple[Worksheet | None, list[tuple[str, Worksheet]]]:
    """The stamp sheet of ``wb`` and its copies given to :func:`add_copies` (None, [])."""
    return wb.__dict__.get(_COPIES, (None, []))


def _merge_xml(ws: Worksheet) -> str:
    refs = [r.coord for r in ws.merged_cells.ranges]
    if not refs:
        return ""
    return (f'<mergeCells count="{len(refs)}">'
            + "".join(f'<mergeCell ref="{r}" />' for r in refs) + "</mergeCells>")


_MERGES = re.compile(rb"<mergeCells\b.*?</mergeCells>|<mergeCells\b[^>]*/>", re.S)
_BEFORE_MERGES = re.compile(rb"<(?:sheetProtection|autoFilter|sortState|dataConsolidate|customSheetViews)\b"
                            rb"(?:[^>]*/>|.*?</(?:sheetProtection|autoFilter|sortState|dataConsolidate|customSheetViews)>)", re.S)


def _copy_parts(stamp_xml: bytes) -> tuple[bytes, bytes, bytes]:
    """The stamp's sheet XML cut around its rows and merged ranges: (up to and with
    ``<sheetData>``, from ``</sheetData>`` to where ``<mergeCells>`` belongs, the rest)."""
    open_at = stamp_xml.find(b"<sheetData")
    close = stamp_xml.find(b"</sheetData>")
    if close < 0:
        m = re.search(rb"<sheetData\s*/>", stamp_xml)
        if m is None or open_at < 0:
            raise RuntimeError("the statement sheet saved without sheetData")
        head, tail = stamp_xml[:m.start()], b"</sheetData>" + stamp_xml[m.end():]
    else:
        head = stamp_xml[:open_at]
        tail = stamp_xml[close:]
    tail = _MERGES.sub(b"", tail)
    at = len(b"</sheetData>")
    for m in _BEFORE_MERGES.finditer(tail):
        at = m.end()
    return head + b"<sheetData>", tail[:at], tail[at:]


def _copy_xml(parts: tuple[bytes, bytes, bytes], ws: Worksheet, rows: bytes) -> bytes:
    head, middle, rest = parts
    sheet = cell_sheet(ws)
    return (widen_dimension(_DIMENSION_RESET.sub(rb'\g<1>A1\g<2>', head, count=1), sheet.extent())
            + rows + middle + _merge_xml(ws).encode() + rest)


_DIMENSION_RESET = re.compile(rb'(<dimension ref=")[^"]*(")')
_SHEET_ENTRY = re.compile(rb'<sheet\b[^>]*?/>')
_WS_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_WS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


def _attr_escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _with_copies(parts: dict[str, bytes], stamp_title: str, stamp_part: str,
                 copies: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The package's parts with the stamp sheet replaced by the copies: workbook.xml's
    sheet list, its relationships and the content types updated to match."""
    book = parts["xl/workbook.xml"]
    entry = next((m for m in _SHEET_ENTRY.finditer(book)
                  if f'name="{_attr_escape(stamp_title)}"'.encode() in m.group(0)), None)
    if entry is None:
        raise RuntimeError(f"sheet {stamp_title!r} not in workbook.xml")
    rid = re.search(rb'r:id="([^"]+)"', entry.group(0)).group(1).decode()
    sheet_ids = [int(x) for x in re.findall(rb'<sheet\b[^>]*?\ssheetId="(\d+)"', book)]
    rels = parts["xl/_rels/workbook.xml.rels"]
    used = {x.decode() for x in re.findall(rb'Id="([^"]+)"', rels)}
    sheet_parts = {n for n in parts if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)}
    numbers = [int(re.search(r"(\d+)\.xml$", n).group(1)) for n in sheet_parts] or [0]
    next_id, next_part, next_rid = max(sheet_ids) + 1, max(numbers) + 1, 1
    entries, new_rels, new_types, out_parts = [], [], [], []
    for i, (title, xml) in enumerate(copies):
        if i == 0:
            part, r, sid = stamp_part, rid, re.search(rb'sheetId="(\d+)"', entry.group(0)).group(1).decode()
        else:
            part = f"xl/worksheets/sheet{next_part}.xml"
            next_part += 1
            while f"rId{next_rid}" in used:
                next_rid += 1
            r = f"rId{next_rid}"
            used.add(r)
            sid = str(next_id)
            next_id += 1
            new_rels.append(f'<Relationship Type="{_WS_REL}" Target="/{part}" Id="{r}" />')
            new_types.append(f'<Override PartName="/{part}" ContentType="{_WS_TYPE.decode()}" />')
        entries.append(f'<sheet name="{_attr_escape(title)}" sheetId="{sid}" state="visible" r:id="{r}" />')
        out_parts.append((part, xml))
    parts["xl/workbook.xml"] = book[:entry.start()] + "".join(entries).encode() + book[entry.end():]
    if new_rels:
        end = rels.rfind(b"</Relationships>")
        parts["xl/_rels/workbook.xml.rels"] = rels[:end] + "".join(new_rels).encode() + rels[end:]
        types = parts["[Content_Types].xml"]
        end = types.rfind(b"</Types>")
        parts["[Content_Types].xml"] = types[:end] + "".join(new_types).encode() + types[end:]
    out: list[tuple[str, bytes]] = []
    for name, content in parts.items():
        if name == stamp_part:
            out.extend(out_parts)
        else:
            out.append((name, content))
    return out


def _without_sheet(parts: dict[str, bytes], title: str, part: str) -> list[tuple[str, bytes]]:
    """The package without the sheet ``title`` (a stamp with no copies; it is the last
    sheet and has no relationships of its own)."""
    book = parts["xl/workbook.xml"]
    entry = next(m for m in _SHEET_ENTRY.finditer(book)
                 if f'name="{_attr_escape(title)}"'.encode() in m.group(0))
    rid = re.search(rb'r:id="([^"]+)"', entry.group(0)).group(1)
    parts["xl/workbook.xml"] = book[:entry.start()] + book[entry.end():]
    parts["xl/_rels/workbook.xml.rels"] = re.sub(
        rb'<Relationship\b[^>]*\bId="' + re.escape(rid) + rb'"[^>]*/>', b"",
        parts["xl/_rels/workbook.xml.rels"])
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        f'<Override PartName="/{part}" ContentType="{_WS_TYPE.decode()}" />'.encode(), b"")
    return [(n, c) for n, c in parts.items() if n != part]


def _memory_writer():
    """openpyxl's package writer with each worksheet written into memory, not into a
    temporary file that is then read back and removed (as ``ExcelWriter.write_worksheet``
    does, otherwise the same)."""
    from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
    from openpyxl.worksheet._writer import WorksheetWriter
    from openpyxl.writer.excel import ExcelWriter

    class MemoryWriter(ExcelWriter):
        def write_worksheet(self, ws):
            if self.workbook.write_only:      # pragma: no cover - not used here
                return super().write_worksheet(ws)
            ws._drawing = SpreadsheetDrawing()
            ws._drawing.charts = ws._charts
            ws._drawing.images = ws._images
            out = io.BytesIO()
            writer = WorksheetWriter(ws, out=out)
            writer.write()
            ws._rels = writer._rels
            self._archive.writestr(ws.path[1:], out.getvalue())
            self.manifest.append(ws)

    return MemoryWriter


def save(wb: Workbook, target: Path | BinaryIO, *, compresslevel: int = 6) -> None:
    """Save ``wb`` with the cells kept by its :class:`CellSheet` objects written into their
    sheets and the copies of :func:`add_copies` in place of their stamp. openpyxl writes
    its parts uncompressed into memory; every part is then compressed once, into
    ``target``, dated as the workbook was made (:attr:`properties.created`), so that the
    same figures on the same day give the same file."""
    kept = {ws.title: s for ws in wb.worksheets if (s := cell_sheet(ws)) is not None}
    stamp, copies = copies_of(wb)
    if stamp is not None and stamp.title in kept:
        raise ValueError("a stamp sheet keeps no cells of its own")
    # the rows first: their looks must be in the style table openpyxl saves
    rows = {title: s.rows_xml() for title, s in kept.items()}
    copy_rows = [(title, ws, cell_sheet(ws).rows_xml()) for title, ws in copies]
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w", zipfile.ZIP_STORED) as z:
        _memory_writer()(wb, z).write_data()
    made = wb.properties.created
    stamp_time = (made.year, made.month, made.day, made.hour, made.minute, made.second) \
        if made is not None and made.year >= 1980 else (1980, 1, 1, 0, 0, 0)
    with ooxml.Package(plain.getvalue(), name="the regional workbook") as pkg:
        names = dict(pkg.sheets())
        parts = {name: pkg.read(name) for name in pkg.zip.namelist()}
    for title, sheet in kept.items():
        parts[names[title]] = _splice(parts[names[title]], sheet, rows[title])
    if stamp is not None:
        stamp_part = names[stamp.title]
        if copies:
            cut = _copy_parts(parts[stamp_part])
            ordered = _with_copies(parts, stamp.title, stamp_part,
                                   [(title, _copy_xml(cut, ws, xml)) for title, ws, xml in copy_rows])
        else:
            ordered = _without_sheet(parts, stamp.title, stamp_part)
    else:
        ordered = list(parts.items())
    ooxml.write_package(target, ordered, date_time=stamp_time, level=compresslevel)
