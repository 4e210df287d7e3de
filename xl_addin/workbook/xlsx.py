"""The master workbook as an .xlsx file (openpyxl): open safely, read tables, write output
tables, save atomically with one backup."""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.workbook.workbook import Workbook

from . import schema
from .parse import RawTable

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class WorkbookError(Exception):
    """A workbook that cannot be opened or saved; the message says why and what to do."""


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


def load(path: Path | str) -> Workbook:
    path = Path(path)
    check_openable(path)
    try:
        return openpyxl.load_workbook(path, keep_vba=path.suffix.lower() in (".xlsm", ".xlam"))
    except Exception as e:  # openpyxl raises many kinds for damaged packages
        raise WorkbookError(f"{path}: cannot be read as an .xlsx workbook ({type(e).__name__}: {e})") from None


def save_atomic(wb: Workbook, path: Path | str, *, backup: bool = True) -> None:
    """Write to a temporary file beside ``path``, then replace it; the previous file is kept
    as ``path.bak`` (one backup). A failure leaves the original untouched."""
    path = Path(path)
    check_not_locked(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~xl_addin_", suffix=path.suffix or ".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        if backup and path.exists():
            shutil.copy2(path, path.with_name(path.name + ".bak"))
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


class XlsxBook:
    """A :class:`~xl_addin.workbook.pipeline.BookPort` over an openpyxl workbook."""

    def __init__(self, wb: Workbook, path: Path | None = None):
        self.wb = wb
        self.path = path

    @classmethod
    def open(cls, path: Path | str) -> "XlsxBook":
        return cls(load(path), Path(path))

    def raw_tables(self) -> dict[str, RawTable]:
        return raw_tables(self.wb)

    def write_table(self, name: str, rows: list[list[Any]], lang: str) -> None:
        from .tables import find_table, write_rows

        ws, tbl = find_table(self.wb, name)
        write_rows(ws, tbl, schema.TABLES[name], rows, lang)

    def refresh_dashboard(self, results, inputs, lang: str) -> None:
        from .dashboard import refresh_dashboard

        refresh_dashboard(self.wb, results.tables(), inputs, lang)

    def save(self, path: Path | str | None = None) -> None:
        target = Path(path) if path else self.path
        if target is None:
            raise WorkbookError("no file name to save to")
        save_atomic(self.wb, target)
