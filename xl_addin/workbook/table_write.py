"""Replace one input table's data rows by rewriting only its sheet part (``xl-addin import``).

Loading a master of 10,000 reps into openpyxl and saving it again took 43 s and 900 MB to
import 40,000 actuals rows. :func:`replace_rows` instead writes the table's rows as sheet
XML into that one sheet part, resizes the table part, and has
:func:`xl_addin.ooxml.rewrite` copy every other part of the package byte for byte.

The cells are what :func:`~.tables.write_rows` would write in a loaded workbook: each
column's data look and number format (:func:`~.styles.value_number_format` for each value),
``set_value``'s rules (text that looks like a formula stays text with a quote prefix), rows
no longer used emptied, cells of another table beside it on the same rows kept. Style
indexes come from the workbook's own style table (``styles.xml`` loaded alone, without
the sheets); a look it lacks is added and the style table written again, as openpyxl's
save would. The Dashboard's stored formula results are dropped, as an openpyxl save drops
them (they may not hold for the new inputs; the next recalc stores them again). When the sheet holds anything this path does not rewrite safely (shared
formulas, a cell without a reference, a header that is not plain text, a 1904 date
system), :func:`replace_rows` returns False and the caller takes the openpyxl path,
which gives the same workbook.
"""
from __future__ import annotations

import re
from copy import copy
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

from .. import ooxml
from ..ooxml import cells as X
from ..ooxml.sheet import column_letter
from . import schema, styles
from .parse import RawTable, map_columns
from .tables import cell_value, looks_like_formula, set_value

_ROW_OPEN = re.compile(rb"<row\b([^>]*)>")
_ROW_XML = re.compile(rb"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
_CELL = re.compile(rb'<c\b[^>]*?\sr="([A-Z]+)\d+"[^>]*?(?:/>|>.*?</c>)', re.S)
_R_ATTR = re.compile(rb'\sr="(\d+)"')
_PLAIN_ROW_ATTR = re.compile(rb'\s(?:r|spans)="[^"]*"')
_CELL_REF = re.compile(rb'<c\b[^>]*?\sr="([A-Z]+)\d+"')
_CHUNK = 4096


class _Styles:
    """The workbook's style table (styles.xml alone, as openpyxl loads it), to find the
    style index of a look without loading any sheet."""

    def __init__(self, pkg: ooxml.Package):
        from openpyxl import Workbook
        from openpyxl.styles.stylesheet import apply_stylesheet

        class _Archive:
            def read(self, name):
                if name not in pkg:
                    raise KeyError(name)
                return pkg.read(name)

        import warnings

        self.wb = Workbook()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            apply_stylesheet(_Archive(), self.wb)
        self.ws = self.wb.active
        self.sizes = self._sizes()

    def _sizes(self) -> tuple[int, ...]:
        wb = self.wb
        return (len(wb._cell_styles), len(wb._fonts), len(wb._fills), len(wb._borders),
                len(wb._number_formats), len(wb._alignments), len(wb._protections))

    def grew(self) -> bool:
        return self._sizes() != self.sizes


def _header(pkg: ooxml.Package, xml: bytes, row: int, min_col: int, max_col: int) -> list[str] | None:
    """The texts of row ``row``, columns min_col..max_col, read from the sheet XML (None
    when a cell there is not plain text)."""
    from xml.etree import ElementTree as ET

    try:
        start, _ = ooxml.sheet.rows_span(xml, row)
    except ooxml.sheet.SheetXmlError:
        return None
    m = _ROW_XML.match(xml, start)
    if m is None or int(_R_ATTR.search(m.group(1)).group(1)) != row:
        return None
    ns = ooxml.names.MAIN
    root = ET.fromstring(b'<row xmlns="' + ns.encode() + b'">' + (m.group(2) or b"") + b"</row>")
    texts = [""] * (max_col - min_col + 1)
    sst = None
    for c in root.findall(f"{{{ns}}}c"):
        col = ooxml.sheet.column_index(re.match(r"[A-Z]+", c.get("r", "")).group(0))
        if not min_col <= col <= max_col:
            continue
        t = c.get("t", "n")
        if t == "inlineStr":
            text = "".join(x.text or "" for x in c.iter(f"{{{ns}}}t"))
        elif t == "s":
            if sst is None:
                sst = pkg.shared_strings() or []
            item = ET.fromstring(b'<si xmlns="' + ns.encode() + b'">' + sst[int(c.findtext(f"{{{ns}}}v"))] + b"</si>")
            text = "".join(x.text or "" for x in item.iter(f"{{{ns}}}t"))
        elif t == "str" and c.find(f"{{{ns}}}f") is None:
            text = c.findtext(f"{{{ns}}}v") or ""
        elif c.find(f"{{{ns}}}v") is None and c.find(f"{{{ns}}}is") is None:
            text = ""
        else:
            return None
        texts[col - min_col] = text
    return texts


def _lang(pkg: ooxml.Package, read) -> str | None:
    """zh or en from the Plan table's header (:func:`~.parse.detect_lang`), None when unread."""
    from .parse import detect_lang

    try:
        plan = pkg.table("tblPlan")
    except KeyError:
        return detect_lang({})
    c1, r1, c2, _ = ooxml.parse_range(plan.ref)
    header = _header(pkg, read(plan.sheet_part), r1, c1, c2)
    if header is None:
        return None
    return detect_lang({"tblPlan": RawTable("tblPlan", plan.sheet, header, [])})


def _outside_pattern(min_col: int, max_col: int) -> re.Pattern:
    """A cell whose reference is outside columns min_col..max_col."""
    letters = b"|".join(column_letter(c).encode() for c in range(min_col, max_col + 1))
    return re.compile(rb'<c(?=[\s>/])(?![^>]*\sr="(?:' + letters + rb')\d)')


def replace_rows(path: Path, name: str, rows: Sequence[Sequence[Any]], pkg: ooxml.Package) -> bool:
    """Write ``rows`` (contract key order) as table ``name``'s data rows into the workbook
    ``path`` (through ``replace_atomic``); ``pkg`` is the workbook as opened. False, with
    nothing written, when this path does not apply (the caller then saves through openpyxl)."""
    from .xlsx import WorkbookError, _missing_table, replace_atomic

    spec = schema.TABLES[name]
    try:
        place = pkg.table(name)
    except KeyError:
        raise _missing_table(path, name) from None
    book = pkg.read(pkg.workbook_part())
    if b'date1904="1"' in book or b'date1904="true"' in book:
        return False
    parts: dict[str, bytes] = {}

    def read(part: str) -> bytes:
        if part not in parts:
            parts[part] = pkg.read(part)
        return parts[part]

    lang = _lang(pkg, read)
    if lang is None:
        return False
    min_col, min_row, max_col, max_row = ooxml.parse_range(place.ref)
    width = max_col - min_col + 1
    new_last = min_row + max(1, len(rows))
    # other tables on the sheet: growing into one is refused by the openpyxl path
    for t in pkg.tables():
        if t.sheet_part == place.sheet_part and t.part != place.part:
            b = ooxml.parse_range(t.ref)
            if min_col <= b[2] and b[0] <= max_col and min_row <= b[3] and b[1] <= new_last:
                return False
    xml = read(place.sheet_part)
    if b't="shared"' in xml or b"<sheetData>" not in xml:
        return False
    last = max(max_row, new_last)
    try:
        start, _ = ooxml.sheet.rows_span(xml, min_row + 1)
        end, _ = ooxml.sheet.rows_span(xml, last + 1)
    except ooxml.sheet.SheetXmlError:
        return False
    if start > end:
        return False
    region = xml[start:end]
    if region.count(b"<c") != len(_CELL_REF.findall(region)):
        return False                    # a cell without a reference
    # the rows already there: their start tags (height, hidden ...), kept as they are
    row_tags: dict[int, bytes] = {}
    for m in _ROW_OPEN.finditer(region):
        r = _R_ATTR.search(m.group(1))
        if r is None:
            return False
        row_tags[int(r.group(1))] = m.group(1).rstrip(b"/")
    # cells beside the table (another table on the same rows), kept as they are: only the
    # rows that hold one are looked at cell by cell
    beside: dict[int, tuple[bytes, bytes]] = {}
    outside = _outside_pattern(min_col, max_col)
    seen = -1
    for hit in outside.finditer(region):
        if hit.start() < seen:
            continue
        row_start = region.rfind(b"<row", 0, hit.start())
        m = _ROW_XML.match(region, row_start)
        if m is None:
            return False
        seen = m.end()
        left, right = [], []
        for c in _CELL.finditer(m.group(2) or b""):
            col = ooxml.sheet.column_index(c.group(1).decode())
            if col < min_col:
                left.append(c.group(0))
            elif col > max_col:
                right.append(c.group(0))
        beside[int(_R_ATTR.search(m.group(1)).group(1))] = (b"".join(left), b"".join(right))
    header = _header(pkg, xml, min_row, min_col, max_col)
    if header is None:
        return False
    found = RawTable(name, place.sheet, header, [])
    from ..errors import Problems

    problems = Problems()
    map_columns(found, spec, problems)
    if problems or len(set(found.columns)) != len(spec.keys):
        return False
    keys = spec.keys
    by_index = {i: keys.index(k) for k, i in found.columns.items()}
    positions = [by_index.get(j) for j in range(width)]

    st = _Styles(pkg)
    kinds = [spec.columns[i].kind if i is not None else schema.TEXT for i in positions]
    looks = [styles.data_look(k, spec.direction, lang) for k in kinds]
    sids: dict[tuple[int, str], int] = {}
    models: dict[tuple[int, str], Any] = {}
    from openpyxl.cell import Cell

    def model(j: int, fmt: str):
        key = (j, fmt)
        c = models.get(key)
        if c is None:
            c = Cell(st.ws, row=min_row + 1, column=min_col + j)
            looks[j].apply(c, fmt)
            models[key] = c
            sids[key] = st.wb._cell_styles.add(c._style)
        return c

    def special(j: int, ref: str, value: Any, fmt: str) -> str:
        c = Cell(st.ws, row=min_row + 1, column=min_col + j)
        c._style = copy(model(j, fmt)._style)
        set_value(c, value)
        return X.openpyxl_cell(st.wb, c, ref, truncate=False)

    def one(j: int, ref: str, v: Any) -> str:
        v = cell_value(v)
        fmt = styles.value_number_format(kinds[j], lang, v, spec.direction)
        model(j, fmt)
        sid = sids[(j, fmt)]
        t = type(v)
        if v is None:
            return X.blank(ref, sid)
        if t is int or t is float or t is Decimal:
            return X.number(ref, sid, v)
        if t is str and not looks_like_formula(v) and v not in ooxml.ERROR_CODES:
            return X.text(ref, sid, v)
        return special(j, ref, v, fmt)

    col_letters = [column_letter(min_col + j) for j in range(width)]
    base = [styles.number_format(k, lang) for k in kinds]
    data = [list(r) for r in rows] or [[None] * len(spec.columns)]
    pieces: list[bytes] = []
    first = min_row + 1

    def open_tag(r: int) -> str:
        attrs = row_tags.get(r)
        return f'<row r="{r}">' if attrs is None else "<row" + attrs.decode() + ">"

    try:
        for a in range(0, len(data), _CHUNK):
            block = data[a:a + _CHUNK]
            rns = [str(first + a + k) for k in range(len(block))]
            cols = []
            for j, i in enumerate(positions):
                values = [r[i] for r in block] if i is not None else [None] * len(block)
                plain_fmt = base[j]
                model(j, plain_fmt)
                fast = kinds[j] != schema.SHARE or spec.direction != "in"
                if fast:
                    cols.append(X.column(col_letters[j], sids[(j, plain_fmt)], rns, values,
                                         lambda ref, v, j=j: one(j, ref, v)))
                else:
                    cols.append([one(j, col_letters[j] + rn, v) for rn, v in zip(rns, values)])
            if not beside:
                pieces.append("".join([f'{open_tag(int(rn))}{"".join(cs)}</row>'
                                       for rn, cs in zip(rns, zip(*cols))]).encode())
                continue
            for rn, cs in zip(rns, zip(*cols)):
                left, right = beside.get(int(rn), (b"", b""))
                pieces.append(open_tag(int(rn)).encode() + left + "".join(cs).encode() + right + b"</row>")
    except X.CellValueError as e:
        raise WorkbookError(f"{path}: table {name}: {e}") from None
    changes: dict[str, Any] = {}
    if st.grew():
        # looks the style table lacked: the whole table written again, as openpyxl's save
        # writes it (from the same style lists, loaded the same way)
        from openpyxl.styles.stylesheet import write_stylesheet
        from openpyxl.xml.functions import tostring

        changes["xl/styles.xml"] = tostring(write_stylesheet(st.wb))
    # rows that no longer hold data: emptied (kept only for their own settings)
    for r in range(first + len(data), last + 1):
        attrs = row_tags.get(r)
        if attrs is None:
            continue
        left, right = beside.get(r, (b"", b""))
        if left or right or _PLAIN_ROW_ATTR.sub(b"", attrs).strip(b" /"):
            pieces.append(b"<row" + attrs.rstrip(b"/") + b">" + left + right + b"</row>")
    new_ref = f"{column_letter(min_col)}{min_row}:{column_letter(max_col)}{new_last}"
    head = ooxml.sheet.widen_dimension(xml[:start], ooxml.parse_range(new_ref))
    sheet_pieces = [head, *pieces, xml[end:]]
    table_xml = ooxml.sheet.set_table_ref(pkg.read(place.part), new_ref)
    changes.update({place.sheet_part: sheet_pieces, place.part: table_xml})
    # The Dashboard's stored formula results may not hold for the new inputs: dropped, as
    # an openpyxl save drops them (spreadsheet programs compute them; the next recalc stores them)
    board = schema.SHEETS["dashboard"]
    for title, part in pkg.sheets():
        if title in (board.zh, board.en) and part not in changes:
            cleared, n = ooxml.sheet.clear_results(read(part))
            if n:
                changes[part] = cleared
    replace_atomic(path, lambda tmp: ooxml.rewrite(pkg, tmp, changes,
                                                   levels={place.sheet_part: 1}))
    return True
