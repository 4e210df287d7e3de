"""The master workbook as an .xlsx file (openpyxl): open safely, read tables, write output
tables, save atomically with one backup."""
from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.workbook.workbook import Workbook

from ..errors import WorkbookError
from ..storage import check_not_locked, write_atomic
from . import schema
from .cached import remembered, store_formula_results
from .parse import RawTable

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _is_encrypted_ooxml(path: Path) -> bool:
    try:
        import msoffcrypto

        with open(path, "rb") as f:
            return bool(msoffcrypto.OfficeFile(f).is_encrypted())
    except Exception:
        return False


def check_openable(path: Path) -> None:
    """Refuse, with a clear message, anything that is not a readable .xlsx file."""
    if not path.exists():
        raise WorkbookError(f"{path}: no such file")
    if path.is_dir():
        raise WorkbookError(f"{path}: is a folder, not a workbook")
    with open(path, "rb") as f:
        head = f.read(8)
    if head == OLE_MAGIC:
        if _is_encrypted_ooxml(path):
            raise WorkbookError(f"{path}: the workbook is password-protected; remove the password "
                                "in Excel (File > Info > Protect Workbook) and try again")
        raise WorkbookError(f"{path}: this is an old .xls workbook; save it as .xlsx in Excel first")
    if not zipfile.is_zipfile(path):
        raise WorkbookError(f"{path}: not an .xlsx workbook (the file is not an Office Open XML package)")


def lock_file(path: Path) -> Path:
    """The owner file Excel keeps next to a workbook it has open (``~$name.xlsx``)."""
    return path.with_name("~$" + path.name[2:] if len(path.name) > 2 else "~$" + path.name)


def _keeps_vba(path: Path) -> bool:
    return path.suffix.lower() in (".xlsm", ".xlam")


def load(path: Path | str) -> Workbook:
    path = Path(path)
    check_openable(path)
    try:
        return openpyxl.load_workbook(path, keep_vba=_keeps_vba(path))
    except Exception as e:  # openpyxl raises many kinds for damaged packages
        raise WorkbookError(f"{path}: cannot be read as an .xlsx workbook ({type(e).__name__}: {e})") from None


def save_atomic(wb: Workbook, path: Path | str, *, backup: bool = True) -> None:
    """Write to a temporary file beside ``path``, then replace it; the previous file is kept
    as ``path.bak`` (one backup). A failure leaves the original untouched."""
    def write(tmp: Path) -> None:
        wb.save(tmp)
        # Results of formulas someone computed (the Dashboard's reconciliation block):
        # openpyxl cannot store them, so patch them into the saved package.
        store_formula_results(tmp, remembered(wb), strict=False)

    replace_atomic(path, write, backup=backup)


def replace_atomic(path: Path | str, write, *, backup: bool = True) -> None:
    """``write(tmp)`` a temporary file beside ``path``, then replace ``path`` with it,
    keeping the previous file as ``path.bak`` (one backup). A failure leaves the original
    and its backup untouched; a workbook open in Excel or LibreOffice is refused
    (:func:`xl_addin.storage.write_atomic` does the work)."""
    path = Path(path)
    check_not_locked(path)
    write_atomic(path, write, backup=backup)


def raw_tables(wb: Workbook) -> dict[str, RawTable]:
    """Every Excel table of the workbook that the contract names, as raw cells."""
    out: dict[str, RawTable] = {}
    for ws in wb.worksheets:
        for tbl in ws.tables.values():
            name = tbl.name
            if name not in schema.TABLES:
                continue
            min_col, min_row, max_col, max_row = openpyxl.utils.cell.range_boundaries(tbl.ref)
            cells = list(ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col,
                                      max_col=max_col, values_only=True))
            header = ["" if v is None else str(v) for v in cells[0]] if cells else []
            out[name] = RawTable(name, ws.title, header, [list(r) for r in cells[1:]],
                                 (min_row, min_col))
    return out


# ----------------------------------------------------------------------------- fast reading

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
_TABLE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"
_FORMULA_OR_ERROR = re.compile(rb'<(?:\w+:)?f[\s>/]|\st="e"')
_INT_SAFE = 2 ** 53


def _part(base: str, target: str) -> str:
    """A relationship target as a package part name."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _rels(z: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, part) of every relationship of a package part."""
    from xml.etree import ElementTree as ET

    name = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    if name not in z.NameToInfo:
        return []
    return [(r.get("Id"), r.get("Type", ""), _part(part, r.get("Target", "")))
            for r in ET.fromstring(z.read(name)).findall("p:Relationship", _NS)]


def _table_places(z: zipfile.ZipFile) -> list[tuple[str, str, str, str]]:
    """(table name, sheet name, ref, sheet part) of every contract table, sheets in workbook
    order, from the package's small XML parts (workbook, relationships, tables)."""
    from xml.etree import ElementTree as ET

    rels = {rid: part for rid, _, part in _rels(z, "xl/workbook.xml")}
    book = ET.fromstring(z.read("xl/workbook.xml"))
    out = []
    for sheet in book.findall("m:sheets/m:sheet", _NS):
        part = rels.get(sheet.get(f"{{{_NS['r']}}}id"))
        if part is None or part not in z.NameToInfo:
            continue
        for _, kind, table_part in _rels(z, part):
            if kind != _TABLE_REL:
                continue
            table = ET.fromstring(z.read(table_part))
            name = table.get("name") or table.get("displayName")
            if name in schema.TABLES:
                out.append((name, sheet.get("name"), table.get("ref"), part))
    return out


def _has_formula_or_error(xml: bytes) -> bool:
    """Whether sheet XML holds a formula (``<f>``) or an error value (``t="e"``). Plain
    substring searches first: the regex alone takes seconds on a sheet of 100 MB."""
    if b't="e"' in xml:
        return True
    i = xml.find(b"<f")
    while i >= 0:
        if xml[i + 2:i + 3] in (b">", b"/", b" ", b"\t", b"\n", b"\r"):
            return True
        i = xml.find(b"<f", i + 2)
    return b":f" in xml and bool(_FORMULA_OR_ERROR.search(xml))   # a prefixed <x:f>


def _openpyxl_value(v: Any) -> Any:
    """A calamine cell value as openpyxl reads the same cell: blank None, whole numbers int,
    dates as midnight datetimes."""
    if v == "":
        return None
    if type(v) is float:
        return int(v) if v.is_integer() and -_INT_SAFE < v < _INT_SAFE else v
    if type(v) is dt.date:
        return dt.datetime(v.year, v.month, v.day)
    return v


class _Snapshot:
    """The workbook file as it was opened, read without openpyxl: python-calamine for the
    values of a sheet, unless the sheet holds a formula or an error value (openpyxl reads a
    formula's text where calamine gives its cached result), in which case openpyxl's
    read-only reader reads that sheet, so the values are always exactly openpyxl's."""

    def __init__(self, path: Path):
        from python_calamine import CalamineWorkbook

        self.path = path
        self.data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(self.data)) as z:
            self.places = _table_places(z)
        self.calamine = CalamineWorkbook.from_filelike(io.BytesIO(self.data))
        self._grids: dict[str, list | None] = {}
        self._readonly = None
        self.parts: dict[str, bytes] = {}   # package parts read so far (:meth:`part`)

    def part(self, name: str) -> bytes:
        """A package part, decompressed once however many readers ask for it."""
        if name not in self.parts:
            with zipfile.ZipFile(io.BytesIO(self.data)) as z:
                self.parts[name] = z.read(name)
        return self.parts[name]

    def _grid(self, sheet: str, part: str) -> list | None:
        """The sheet's calamine values from A1, or None when openpyxl must read it."""
        if sheet not in self._grids:
            grid = None
            plain = not _has_formula_or_error(self.part(part))
            if plain:
                grid = self.calamine.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            self._grids[sheet] = grid
        return self._grids[sheet]

    def table(self, name: str, sheet: str, ref: str, part: str) -> RawTable:
        min_col, min_row, max_col, max_row = openpyxl.utils.cell.range_boundaries(ref)
        width, height = max_col - min_col + 1, max_row - min_row + 1
        try:
            grid = self._grid(sheet, part)
        except Exception:  # calamine could not read this sheet: openpyxl will
            grid = self._grids[sheet] = None
        if grid is not None:
            conv = _openpyxl_value
            rows = [[conv(v) for v in grid[r][min_col - 1:max_col]] if r < len(grid) else []
                    for r in range(min_row - 1, max_row)]
        else:
            try:
                if self._readonly is None:
                    self._readonly = openpyxl.load_workbook(io.BytesIO(self.data), read_only=True)
                rows = [list(r) for r in self._readonly[sheet].iter_rows(
                    min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col,
                    values_only=True)]
            except Exception as e:  # as load() says it
                raise WorkbookError(f"{self.path}: cannot be read as an .xlsx workbook "
                                    f"({type(e).__name__}: {e})") from None
        rows = [r + [None] * (width - len(r)) for r in rows] + [[None] * width] * (height - len(rows))
        header = ["" if v is None else str(v) for v in rows[0]]
        return RawTable(name, sheet, header, [list(r) for r in rows[1:]], (min_row, min_col))


class _SnapshotTables(Mapping):
    """:func:`raw_tables` of a :class:`_Snapshot`: the input and log tables read at once,
    the output tables (which a recalculation only overwrites) when first asked for."""

    def __init__(self, snap: _Snapshot):
        self._snap = snap
        self._places = {p[0]: p for p in snap.places}
        self._read: dict[str, RawTable] = {}
        for name in self._places:
            if schema.TABLES[name].direction != "out":
                self[name]
        snap.parts.clear()   # the sheets' XML is not needed again (memory)

    def __getitem__(self, name: str) -> RawTable:
        if name not in self._read:
            self._read[name] = self._snap.table(*self._places[name])
        return self._read[name]

    def __iter__(self):
        return iter(self._places)

    def __len__(self) -> int:
        return len(self._places)


class XlsxBook:
    """A :class:`~xl_addin.workbook.pipeline.BookPort` over an openpyxl workbook.

    :meth:`open` checks the file and opens it with python-calamine; the openpyxl workbook
    (:attr:`wb`) is loaded only when something needs it (a write, a save, direct use), so
    reading the tables of a file that is never changed (check, export) costs no openpyxl
    load, and a recalculation reads its inputs at calamine's speed."""

    def __init__(self, wb: Workbook | None, path: Path | None = None):
        self._wb = wb
        self.path = path
        self._snapshot: _Snapshot | None = None
        self._splice = None   # a splice.SplicePlan when opened with splice=True

    @property
    def wb(self) -> Workbook:
        if self._wb is None:
            if self._splice is not None:
                try:
                    self._wb = self._splice.load(keep_vba=_keeps_vba(self.path))
                except Exception:
                    self._wb = None
                if self._wb is None:   # not safe after all: the whole workbook, as usual
                    self._splice = None
            if self._wb is None:
                self._wb = load(self.path)
            if self._splice is None:
                self._snapshot = None
        return self._wb

    @wb.setter
    def wb(self, wb: Workbook) -> None:
        self._wb = wb
        self._snapshot = None

    @classmethod
    def open(cls, path: Path | str, *, splice: bool = False) -> "XlsxBook":
        """Open ``path`` for reading its tables. With ``splice`` (a recalculation, which
        rewrites every output table), the big sheets' data rows are kept out of openpyxl
        when it is safe (:mod:`.splice`): the saved workbook is the same, much sooner.
        :meth:`raw_tables` then always gives the tables as they were in the file."""
        path = Path(path)
        check_openable(path)
        book = cls(None, path)
        try:
            book._snapshot = _Snapshot(path)
        except Exception:  # not readable this way: openpyxl decides (and explains)
            book._wb = load(path)
            return book
        if splice:
            from .splice import plan

            try:
                book._splice = plan(book._snapshot.data, book._snapshot.part)
            except Exception:  # a package we do not understand in full: load it whole
                book._splice = None
        return book

    def raw_tables(self) -> Mapping[str, RawTable]:
        """Every contract table as raw cells: from the file as opened while the openpyxl
        workbook has not been loaded (same values as :func:`raw_tables`), else from it."""
        if self._snapshot is not None and (self._wb is None or self._splice is not None):
            return _SnapshotTables(self._snapshot)
        return raw_tables(self.wb)

    def write_table(self, name: str, rows: list[list[Any]], lang: str) -> None:
        from .tables import find_table, write_rows

        wb = self.wb
        if self._splice is not None and name in self._splice.outputs:
            self._splice.write_output(wb, name, rows, lang)
            return
        ws, tbl = find_table(wb, name)
        write_rows(ws, tbl, schema.TABLES[name], rows, lang)

    def refresh_dashboard(self, results, inputs, lang: str) -> None:
        from .dashboard import refresh_dashboard

        refresh_dashboard(self.wb, results.tables(), inputs, lang)

    def save(self, path: Path | str | None = None) -> None:
        target = Path(path) if path else self.path
        if target is None:
            raise WorkbookError("no file name to save to")
        wb = self.wb
        if self._splice is not None:
            replace_atomic(target, lambda tmp: self._splice.save(wb, tmp))
        else:
            save_atomic(wb, target)
