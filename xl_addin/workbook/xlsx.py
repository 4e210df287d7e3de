"""The master workbook as an .xlsx file (openpyxl): open safely, read tables, write output
tables, save atomically with one backup."""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.workbook.workbook import Workbook

from .. import ooxml
from ..errors import WorkbookError
from . import schema
from .parse import RawTable

__all__ = ["WorkbookError", "XlsxBook", "check_openable", "check_not_locked", "load",
           "save_atomic", "replace_atomic", "raw_tables"]

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
    # zip entries, each part's inflated size and ratio, the shared strings (a zip bomb is
    # refused here, before openpyxl or calamine inflate anything)
    ooxml.check_package(path)


def lock_file(path: Path) -> Path:
    """The owner file Excel keeps next to a workbook it has open (``~$name.xlsx``)."""
    return path.with_name("~$" + path.name[2:] if len(path.name) > 2 else "~$" + path.name)


def check_not_locked(path: Path) -> None:
    """Excel and LibreOffice leave an owner file while a workbook is open; writing then would
    lose the user's unsaved edits or fail on Windows."""
    candidates = [path.with_name("~$" + path.name), lock_file(path),
                  path.with_name(f".~lock.{path.name}#")]
    for c in candidates:
        if c.exists():
            raise WorkbookError(f"{path}: the workbook is open in Excel or LibreOffice (found {c.name}); "
                                "close it there, or use the ribbon button inside Excel, then try again")
    if path.exists():
        try:
            with open(path, "r+b"):
                pass
        except PermissionError:
            raise WorkbookError(f"{path}: the file is locked or read-only (is it open in Excel?); "
                                "close it and try again") from None


def _keeps_vba(path: Path) -> bool:
    return path.suffix.lower() in (".xlsm", ".xlam")


def load(path: Path | str) -> Workbook:
    path = Path(path)
    check_openable(path)
    try:
        return openpyxl.load_workbook(path, keep_vba=_keeps_vba(path))
    except Exception as e:  # openpyxl raises many kinds for damaged packages
        raise WorkbookError(f"{path}: cannot be read as an .xlsx workbook ({type(e).__name__}: {e})") from None


def save_atomic(wb: Workbook, path: Path | str, *, backup: bool = True,
                results: Mapping[tuple[str, str], Any] | None = None) -> None:
    """Write to a temporary file beside ``path``, then replace it; the previous file is kept
    as ``path.bak`` (one backup). A failure leaves the original untouched. ``results``:
    formula results to store ((sheet, "A1") -> value; the Dashboard's reconciliation
    block), since openpyxl cannot; the package is written and compressed once
    (:func:`~xl_addin.ooxml.save_openpyxl`)."""
    def write(tmp: Path) -> None:
        ooxml.save_openpyxl(wb, tmp, results=results)

    replace_atomic(path, write, backup=backup)


def replace_atomic(path: Path | str, write, *, backup: bool = True) -> None:
    """``write(tmp)`` a temporary file beside ``path``, then replace ``path`` with it,
    keeping the previous file as ``path.bak`` (one backup). A failure leaves the original
    untouched."""
    path = Path(path)
    check_not_locked(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~xl_addin_", suffix=path.suffix or ".xlsx", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        if path.exists():
            shutil.copymode(path, tmp)  # keep the user's permissions, not mkstemp's 0600
            if backup:
                shutil.copy2(path, path.with_name(path.name + ".bak"))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except PermissionError:
        raise WorkbookError(f"{path}: cannot write (is it open in Excel?); close it and try again") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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

_FORMULA_OR_ERROR = re.compile(rb'<(?:\w+:)?f[\s>/]|\st="e"')
_INT_SAFE = 2 ** 53
MAX_TABLE_CELLS = 20_000_000   # rows x columns of one contract table (100,000 reps: about 4 million)


def _table_places(pkg: ooxml.Package, path: Path) -> list[tuple[str, str, str, str]]:
    """(table name, sheet name, ref, sheet part) of every contract table, sheets in workbook
    order, from the package's small XML parts (workbook, relationships, tables). A range
    that is not one (``A1:ZZZ``, reversed, outside the sheet, too big) is refused here,
    naming the table."""
    out = []
    for t in pkg.tables():
        if t.name not in schema.TABLES:
            continue
        try:
            c1, r1, c2, r2 = ooxml.parse_range(t.ref)
        except ooxml.RangeError as e:
            raise WorkbookError(f"{path}: table {t.name} on sheet {t.sheet!r} has a damaged range: {e}; "
                                "fix it in Excel (Table Design > Resize Table) or restore the .bak") from None
        if (c2 - c1 + 1) * (r2 - r1 + 1) > MAX_TABLE_CELLS:
            raise WorkbookError(f"{path}: table {t.name} on sheet {t.sheet!r} spans {t.ref} "
                                f"({(c2 - c1 + 1) * (r2 - r1 + 1):,} cells, over the limit of "
                                f"{MAX_TABLE_CELLS:,}); resize it to its data in Excel")
        out.append((t.name, t.sheet, t.ref, t.sheet_part))
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
        self.package = ooxml.Package(self.data, name=str(path))
        self.places = _table_places(self.package, path)
        self.calamine = CalamineWorkbook.from_filelike(io.BytesIO(self.data))
        self._grids: dict[str, list | None] = {}
        self._readonly = None
        self.parts: dict[str, bytes] = {}   # package parts read so far (:meth:`part`)

    def part(self, name: str) -> bytes:
        """A package part, decompressed once however many readers ask for it."""
        if name not in self.parts:
            self.parts[name] = self.package.read(name)
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
        _check_text(rows, self.path, sheet, min_row, min_col)
        header = ["" if v is None else str(v) for v in rows[0]]
        return RawTable(name, sheet, header, [list(r) for r in rows[1:]], (min_row, min_col))


def _check_text(rows: list[list[Any]], path: Path, sheet: str, min_row: int, min_col: int) -> None:
    """No cell text over Excel's 32,767 characters (a damaged or hostile file)."""
    limit = ooxml.MAX_CELL_TEXT
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if type(v) is str and len(v) > limit:
                cell = f"{ooxml.sheet.column_letter(min_col + j)}{min_row + i}"
                raise WorkbookError(f"{path}: sheet {sheet!r}, cell {cell}: text of {len(v):,} characters, "
                                    f"over Excel's limit of {limit:,} for a cell")


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
        # formula results to store at the next save ((sheet, "A1") -> value): the
        # Dashboard's reconciliation block, set by refresh_dashboard
        self.formula_results: dict[tuple[str, str], Any] = {}

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
    def open(cls, path: Path | str, *, splice: bool = False,
             fresh_dashboard: bool = False) -> "XlsxBook":
        """Open ``path`` for reading its tables. With ``splice`` (a recalculation, which
        rewrites every output table), the big sheets' data rows are kept out of openpyxl
        when it is safe (:mod:`.splice`): the saved workbook is the same, much sooner.
        :meth:`raw_tables` then always gives the tables as they were in the file. With
        ``fresh_dashboard`` too (a recalculation rebuilds the Dashboard), the old
        Dashboard is not loaded at all; :meth:`refresh_dashboard` must then run before
        :meth:`save`."""
        path = Path(path)
        check_openable(path)
        book = cls(None, path)
        try:
            book._snapshot = _Snapshot(path)
        except WorkbookError:
            raise
        except Exception:  # not readable this way: openpyxl decides (and explains)
            book._wb = load(path)
            return book
        if splice:
            from .splice import plan

            try:
                book._splice = plan(book._snapshot.package, book._snapshot.part,
                                    fresh_dashboard=fresh_dashboard)
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
        try:
            ws, tbl = find_table(wb, name)
        except KeyError:
            raise _missing_table(self.path, name) from None
        write_rows(ws, tbl, schema.TABLES[name], rows, lang)

    def refresh_dashboard(self, results, inputs, lang: str) -> None:
        from .dashboard import refresh_dashboard

        self.formula_results = dict(refresh_dashboard(self.wb, results.tables(), inputs, lang) or {})
        if self._splice is not None:
            self._splice.dashboard_rebuilt()

    def save(self, path: Path | str | None = None) -> None:
        target = Path(path) if path else self.path
        if target is None:
            raise WorkbookError("no file name to save to")
        wb = self.wb
        results = self.formula_results
        if self._splice is not None:
            replace_atomic(target, lambda tmp: self._splice.save(wb, tmp, results))
        else:
            save_atomic(wb, target, results=results)


def _missing_table(path: Path | None, name: str) -> WorkbookError:
    spec = schema.TABLES[name]
    where = f"{path}: " if path else ""
    return WorkbookError(f"{where}table {name} ({spec.zh} / {spec.en}) is missing from the workbook "
                         "(deleted or renamed?); restore it from the .bak file, or copy the sheet "
                         "from a new master (xl-addin new)")
