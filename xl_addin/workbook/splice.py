"""Recalculate a big master without parsing and re-serialising what recalc does not change.

A recalculation changes the output tables, the Dashboard and the run log. In a master of
10,000 reps the input and output tables hold 1.6 million cells, and loading every one of
them into openpyxl and writing it out again was nine tenths of ``xl-addin recalc``. So the
data rows of the big sheets are kept away from openpyxl:

* :func:`plan` reads the package and picks the sheets whose data rows can safely stay out:

  - an **input sheet** (every table on it is an input table, tblPlan excepted): its rows from
    the first data row down are kept as their original XML and put back unchanged, byte for
    byte (shared strings written inline, since openpyxl writes no shared-string table);
  - an **output sheet** (one output table, and nothing in its data rows outside the table
    nor below it): its data rows are dropped, because recalc writes the whole table again.

  The rest of the package, the *skeleton* (titles, headers, the Plan, the Dashboard, the run
  log, styles, tables, validations, conditional formats, charts ...), goes through openpyxl
  exactly as a full load would.
* :meth:`SplicePlan.write_output` writes an output table's rows as sheet XML, cell for cell
  what openpyxl writes for the same values (types, number text, inline strings, cell styles
  registered in the skeleton's style table), and resizes the table in the skeleton.
* :meth:`SplicePlan.save` saves the skeleton with openpyxl and splices the rows back into
  the saved sheets.

A sheet that does not meet the conditions is loaded whole, as before; if openpyxl puts
anything into the data rows of a stripped sheet while loading (a hyperlink, a comment or a
merged range there), :meth:`SplicePlan.load` gives up and the caller loads the whole
workbook. Either way the result is the same workbook; only the time differs.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Sequence

from openpyxl.cell import Cell
from openpyxl.workbook import Workbook
from openpyxl.worksheet.filters import AutoFilter

from .. import ooxml
from ..ooxml import cells as _cells
from ..ooxml.cells import openpyxl_cell
from ..ooxml.names import ERROR_CODES
from ..ooxml.sheet import SheetXmlError, column_letter as get_column_letter, parse_range as range_boundaries
from ..ooxml.sheet import rows_span as _rows_span, widen_dimension as _widen
from . import schema, styles
from .tables import cell_value, column_positions, looks_like_formula, set_value

_ROW_TAG = re.compile(rb"<row\b([^>]*)>")
_R_ATTR = re.compile(rb'\sr="(\d+)"')
_ROW_PLAIN_ATTR = re.compile(rb'\s(?:r|spans)="[^"]*"')
_ROW_EXTRA = re.compile(rb'<row\b(?=[^>]*\s(?!r=|spans=)[\w:]+=)')
_DIM = re.compile(rb'<dimension\s+ref="([^"]*)"\s*/>')
_SHARED_CELL = re.compile(rb'<c((?:\s+[\w:]+="[^"]*")*?)\s+t="s"((?:\s+[\w:]+="[^"]*")*)\s*>'
                          rb"\s*<v>(\d+)</v>\s*</c>")
_CHUNK_ROWS = 4096
COMPRESSLEVEL = 1   # the big sheets: zlib level 1 is 3-4x faster than 6; the file is about a third larger


@dataclass
class _Strip:
    """A sheet whose rows from ``first_row`` down are not given to openpyxl."""

    title: str
    part: str                      # the sheet's part name in the original package
    first_row: int
    table: str | None = None       # an output sheet: its table (rows are written again)
    # an input sheet: the original rows, put back as they were; an output sheet: its rows'
    # settings (height, hidden) as empty rows, for openpyxl to load
    body: bytes = b""
    # the cells put back (min_col, min_row, max_col, max_row), for the sheet's dimension
    extent: tuple[int, int, int, int] | None = None
    rows: list[bytes] = field(default_factory=list)  # an output sheet: the new rows' XML
    cut: tuple[int, int] = (0, 0)  # the byte range of the rows taken out of the original sheet


class _Unsafe(Exception):
    """This sheet (or workbook) cannot be stripped safely; load it whole."""


def _table_parts(pkg: ooxml.Package, sheet_part: str) -> list[tuple[str, str]]:
    """(name, ref) of every table (contract or not) on a sheet."""
    return [(t.name, t.ref) for t in pkg.tables() if t.sheet_part == sheet_part]


def worksheet_parts(pkg) -> list[tuple[str, str]]:
    """(title, part) of every worksheet, in workbook order (a :class:`~xl_addin.ooxml.Package`,
    or a ``zipfile.ZipFile``, kept for callers of the old helper)."""
    if not isinstance(pkg, ooxml.Package):
        pkg = ooxml.Package(pkg.fp if hasattr(pkg, "fp") else pkg)
    return pkg.sheets()


def _inline_shared(body: bytes, sst: list[bytes] | None) -> bytes:
    """``body`` with every shared-string cell written as an inline string."""
    n = body.count(b't="s"')
    if not n:
        return body
    if sst is None:
        raise _Unsafe("shared strings without a shared-string table")
    done = 0

    def inline(m: re.Match) -> bytes:
        nonlocal done
        done += 1
        return b"<c" + m.group(1) + b' t="inlineStr"' + m.group(2) + b"><is>" + sst[int(m.group(3))] + b"</is></c>"

    try:
        out = _SHARED_CELL.sub(inline, body)
    except IndexError:
        raise _Unsafe("a shared-string index out of range") from None
    if done != n:
        raise _Unsafe("a shared-string cell in an unexpected form")
    return out


def _split_rows(xml: bytes, first_row: int) -> tuple[int, int]:
    """(start, end): the byte range of the rows numbered ``first_row`` and below, within
    ``<sheetData>``. Every row before it must carry its number."""
    try:
        return _rows_span(xml, first_row)
    except SheetXmlError as e:
        raise _Unsafe(str(e)) from None


def _last_row(xml: bytes, start: int, end: int) -> int | None:
    i = xml.rfind(b"<row", start, end)
    if i < 0:
        return None
    m = _ROW_TAG.match(xml, i)
    r = _R_ATTR.search(m.group(1)) if m else None
    if r is None:
        raise _Unsafe("a row without its number")
    return int(r.group(1))


def _row_shells(xml: bytes, start: int, end: int) -> bytes:
    """The rows between ``start`` and ``end`` that have attributes of their own (a height,
    hidden, an outline level) as empty rows, so that openpyxl loads those row settings as a
    full load would; their cells are left out."""
    if not _ROW_EXTRA.search(xml, start, end):
        return b""
    shells = []
    for m in _ROW_TAG.finditer(xml, start, end):
        attrs = _ROW_PLAIN_ATTR.sub(b"", m.group(1)).rstrip(b"/").strip()
        if attrs:
            shells.append(b"<row" + m.group(1).rstrip(b"/") + b"/>")
    return b"".join(shells)


def _letters_pattern(min_col: int, max_col: int) -> re.Pattern:
    """A cell whose reference is outside columns min_col..max_col (or has none)."""
    letters = b"|".join(get_column_letter(c).encode() for c in range(min_col, max_col + 1))
    return re.compile(rb'<c(?=[\s>/])(?![^>]*\sr="(?:' + letters + rb')\d)')


def _plan_sheet(pkg: ooxml.Package, title: str, part: str, sst, read) -> _Strip | None:
    tables = _table_parts(pkg, part)
    if not tables:
        return None
    specs = [schema.TABLES.get(name) for name, _ in tables]
    bounds = [range_boundaries(ref) for _, ref in tables]
    if all(s is not None and s.direction == "in" and s.name != "tblPlan" for s in specs):
        first_row = max(b[1] for b in bounds) + 1
        xml = read(part)
        start, end = _split_rows(xml, first_row)
        if start == end:
            return None
        body = xml[start:end]
        if b't="shared"' in body and b't="shared"' in xml[:start]:
            raise _Unsafe("a shared formula across the cut")
        dim = _DIM.search(xml, 0, start)
        extent = range_boundaries(dim.group(1).decode()) if dim and b":" in dim.group(1) else None
        for b in bounds:
            extent = b if extent is None else (min(extent[0], b[0]), min(extent[1], b[1]),
                                               max(extent[2], b[2]), max(extent[3], b[3]))
        return _Strip(title, part, first_row, body=_inline_shared(body, sst), extent=extent,
                      cut=(start, end))
    if len(tables) == 1 and specs[0] is not None and specs[0].direction == "out":
        min_col, min_row, max_col, max_row = bounds[0]
        xml = read(part)
        start, end = _split_rows(xml, min_row + 1)
        last = _last_row(xml, start, end)
        if last is not None and last > max_row:
            raise _Unsafe("rows below the output table")
        dim = _DIM.search(xml, 0, start)
        used = range_boundaries(dim.group(1).decode()) if dim and b":" in dim.group(1) else None
        inside = used is not None and None not in used and min_col <= used[0] and used[2] <= max_col
        # The used range (which Excel, LibreOffice and openpyxl keep) inside the table's columns
        # settles it; otherwise every cell is looked at.
        if not inside and _letters_pattern(min_col, max_col).search(xml, start, end):
            raise _Unsafe("cells beside the output table")
        return _Strip(title, part, min_row + 1, table=specs[0].name, body=_row_shells(xml, start, end),
                      cut=(start, end))
    return None


_EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="'
                + ooxml.names.MAIN.encode() + b'"><sheetData/></worksheet>')


def plan(pkg: ooxml.Package, read: Callable[[str], bytes] | None = None, *,
         fresh_dashboard: bool = False) -> "SplicePlan | None":
    """Which sheets of the package ``pkg`` to strip; None when none can be. ``read`` gives
    a part's content (a cache shared with the table reader); by default ``pkg.read``.

    With ``fresh_dashboard`` (the caller rebuilds the Dashboard, which replaces the sheet),
    the old Dashboard's cells, merged ranges and charts are not given to openpyxl either:
    the skeleton holds an empty sheet in its place, and :meth:`SplicePlan.save` refuses to
    save unless :meth:`SplicePlan.dashboard_rebuilt` was called."""
    strips: dict[str, _Strip] = {}
    read = read or pkg.read
    sst = None
    sheets = pkg.sheets()
    if any(b't="s"' in read(part) for _, part in sheets):
        sst = pkg.shared_strings()
    for title, part in sheets:
        try:
            strip = _plan_sheet(pkg, title, part, sst, read)
        except _Unsafe:
            strip = None
        if strip is not None:
            strips[title] = strip
    if not strips:
        return None
    changes = {}
    for s in strips.values():
        content = read(s.part)
        start, end = s.cut
        changes[s.part] = content[:start] + (s.body if s.table else b"") + content[end:]
    emptied = None
    if fresh_dashboard:
        board = schema.SHEETS["dashboard"]
        titles = dict(sheets)
        emptied = next((t for t in (board.zh, board.en) if t in titles and t not in strips), None)
        if emptied is not None:
            part = titles[emptied]
            changes[part] = _EMPTY_SHEET
            if ooxml.rels_part_name(part) in pkg:
                changes[ooxml.rels_part_name(part)] = None   # its drawing and charts
    buf = io.BytesIO()
    # every other part copied as it is compressed; the stripped sheets stored (openpyxl reads them once)
    ooxml.rewrite(pkg, buf, changes, compress=False)
    out = SplicePlan(strips, buf.getvalue())
    out.emptied_dashboard = emptied
    return out


def _rows_after(xml: bytes, start: int, end: int, last: int) -> bytes:
    """The rows of ``xml[start:end]`` numbered after ``last``, which must hold no cells
    (openpyxl writes a row for row settings alone)."""
    out = []
    for m in _ROW_TAG.finditer(xml, start, end):
        if m.group(0).endswith(b"/>"):
            element = m.group(0)
        else:
            close = xml.index(b"</row>", m.end())
            element = xml[m.start():close + 6]
            if b"<c" in element:
                raise RuntimeError("cells in the rows of a rewritten table")
        if int(_R_ATTR.search(m.group(1)).group(1)) > last:
            out.append(element)
    return b"".join(out)


# ----------------------------------------------------------------------------- cells
# (the cell XML is :mod:`xl_addin.ooxml.cells`; these names stay for the regional writer)

def text_cell_xml(ref: str, sid: int, text: str) -> str:
    return _cells.text(ref, sid, text, truncate=True)


def cell_xml(wb: Workbook, cell: Cell, ref: str) -> str:
    """What openpyxl writes for ``cell`` (any value type), given its style is registered."""
    return openpyxl_cell(wb, cell, ref)


def row_attributes(dims, row: int) -> str:
    """A row's settings (height, hidden, ...) as the attributes openpyxl writes on its
    ``<row>``; ``dims`` is the sheet's ``row_dimensions``."""
    return _cells_row_attrs(dims.get(row, {}))


def _cells_row_attrs(pairs) -> str:
    return "".join(f' {k}="{_cells.escape_attr(v)}"' for k, v in pairs)


def widen_dimension(head: bytes, extent: tuple[int, int, int, int] | None) -> bytes:
    """Sheet XML (up to its rows) whose ``<dimension>`` also covers ``extent``."""
    return _widen(head, extent)


# ----------------------------------------------------------------------------- the plan

class SplicePlan:
    """The stripped sheets of one workbook file and the skeleton openpyxl loads instead."""

    def __init__(self, strips: dict[str, _Strip], skeleton: bytes):
        self.strips = strips
        self.skeleton = skeleton
        self.emptied_dashboard: str | None = None   # the Dashboard left out of the skeleton
        self._dashboard_rebuilt = False

    def dashboard_rebuilt(self) -> None:
        """The caller has rebuilt the Dashboard sheet (so an emptied one may be saved)."""
        self._dashboard_rebuilt = True

    @property
    def outputs(self) -> set[str]:
        return {s.table for s in self.strips.values() if s.table}

    def load(self, *, keep_vba: bool = False) -> Workbook | None:
        """The skeleton as an openpyxl workbook, or None when openpyxl put something into
        the stripped rows (then the whole workbook must be loaded)."""
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(self.skeleton), keep_vba=keep_vba)
        for s in self.strips.values():
            ws = wb[s.title]
            if any(r >= s.first_row for r, _ in ws._cells):
                return None
            if not s.table and any(r >= s.first_row for r in ws.row_dimensions):
                return None
        return wb

    def write_output(self, wb: Workbook, name: str, rows: Sequence[Sequence[Any]], lang: str) -> None:
        """Table ``name``'s data rows as sheet XML, and the table resized to them (as
        :func:`~.tables.write_rows` does in a loaded sheet)."""
        from .tables import find_table

        spec = schema.TABLES[name]
        ws, table = find_table(wb, name)
        strip = self.strips[ws.title]
        min_col, min_row, max_col, _ = range_boundaries(table.ref)
        positions = column_positions(ws, table, spec)
        width = max_col - min_col + 1
        new_ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{min_row + max(1, len(rows))}"
        table.ref = new_ref
        if table.autoFilter is None:
            table.autoFilter = AutoFilter(ref=new_ref)
        else:
            table.autoFilter.ref = new_ref

        kinds = [spec.columns[i].kind if i is not None else schema.TEXT for i in positions]
        looks = [styles.data_look(k, spec.direction, lang) for k in kinds]
        fmts = [styles.number_format(k, lang) for k in kinds]   # an output column's format is its kind's
        letters = [get_column_letter(min_col + j) for j in range(width)]
        plain = []   # per column: the style id of a plain value
        for j in range(width):
            c = Cell(ws, row=min_row + 1, column=min_col + j)
            looks[j].apply(c, fmts[j])
            plain.append(wb._cell_styles.add(c._style))

        def special(j: int, value: Any, ref: str) -> str:
            c = Cell(ws, row=1, column=min_col + j)
            looks[j].apply(c, fmts[j])
            set_value(c, value)
            return cell_xml(wb, c, ref)

        data = list(rows) or [[None] * len(spec.columns)]
        for values in data:
            if len(values) != len(spec.columns):
                raise ValueError(f"{spec.name}: a row has {len(values)} values, the table has "
                                 f"{len(spec.columns)} columns ({', '.join(spec.keys)})")
        first = min_row + 1
        dims = ws.row_dimensions
        dimmed = any(r >= first for r in dims)

        def row_tag(rn: str) -> str:
            if not dimmed:
                return f'<row r="{rn}">'
            return f'<row r="{rn}"{row_attributes(dims, int(rn))}>'

        number = (int, float, Decimal)

        def one(j: int, ref: str, v: Any) -> str:
            """Any value, one cell (what a fast column cannot take)."""
            t = type(v)
            if t is not int and t is not str and v is not None:
                v = cell_value(v)
                t = type(v)
            if t in number:
                return _cells.number(ref, plain[j], v)
            if v is None:
                return _cells.blank(ref, plain[j])
            if t is str and not looks_like_formula(v) and v not in ERROR_CODES:
                return text_cell_xml(ref, plain[j], v)
            return special(j, v, ref)   # bool, dates, error codes, text kept from being a formula

        def column(j: int, rns: list[str], col: list[Any]) -> list[str]:
            return _cells.column(letters[j], plain[j], rns, col, lambda ref, v: one(j, ref, v))

        chunks = strip.rows
        chunks.clear()
        for a in range(0, len(data), _CHUNK_ROWS):
            block = data[a:a + _CHUNK_ROWS]
            rns = [str(first + a + k) for k in range(len(block))]
            cols = [column(j, rns, [r[i] for r in block] if i is not None else [None] * len(block))
                    for j, i in enumerate(positions)]
            if dimmed:
                xml = "".join([f'{row_tag(rn)}{"".join(cells)}</row>' for rn, cells in zip(rns, zip(*cols))])
            else:
                xml = "".join([f'<row r="{rn}">{"".join(cells)}</row>' for rn, cells in zip(rns, zip(*cols))])
            chunks.append(xml.encode())
        strip.extent = range_boundaries(new_ref)

    def save(self, wb: Workbook, target, results=None) -> None:
        """Write ``target`` (a path or binary file object) once: ``wb`` (the skeleton) as
        openpyxl serialises it, with the rows of every stripped sheet back in place and
        the formula ``results`` ((sheet, "A1") -> value) stored (:func:`~xl_addin.ooxml.save_openpyxl`)."""
        missing = [s.table for s in self.strips.values() if s.table and s.extent is None]
        if missing:  # recalc writes every output table; anything else is a caller's bug
            raise RuntimeError(f"output table(s) {', '.join(missing)} were not written")
        if self.emptied_dashboard is not None and not self._dashboard_rebuilt:
            raise RuntimeError(f"the Dashboard ({self.emptied_dashboard}) was not rebuilt")
        levels: dict[str, int] = {}

        def sheets(pkg: ooxml.Package) -> dict[str, list[bytes]]:
            parts = dict(pkg.sheets())
            out = {}
            for s in self.strips.values():
                part = parts[s.title]
                out[part] = self._sheet_pieces(pkg.read(part), s)
                levels[part] = COMPRESSLEVEL
            return out

        ooxml.save_openpyxl(wb, target, results=results, sheets=sheets, levels=levels)

    @staticmethod
    def _sheet_pieces(xml: bytes, strip: _Strip) -> list[bytes]:
        after = b""
        if b"<sheetData>" in xml:
            start, end = _split_rows(xml, strip.first_row)
            if start != end:
                if not strip.table:
                    raise RuntimeError(f"sheet {strip.title!r}: rows written into the stripped range")
                after = _rows_after(xml, start, end, strip.extent[3])
            head, tail = xml[:start], xml[end:]
        else:
            m = re.search(rb"<sheetData\s*/>", xml)
            if m is None:
                raise RuntimeError(f"sheet {strip.title!r}: no sheetData in the saved sheet")
            head, tail = xml[:m.start()] + b"<sheetData>", b"</sheetData>" + xml[m.end():]
        head = widen_dimension(head, strip.extent)
        pieces = [head, *strip.rows, after] if strip.table else [head, strip.body]
        pieces.append(tail)
        return pieces
