"""Saving an openpyxl workbook through the layer: serialised once, compressed once.

:func:`save_openpyxl` has openpyxl serialise a workbook into an *uncompressed* package in
memory, then writes ``target`` with :func:`~.writer.rewrite`: every part compressed once,
formula results stored in the formula cells named (``results``), and, when a caller keeps
rows of some sheets out of openpyxl, those sheets' parts replaced by the caller's pieces
(``sheets``). openpyxl itself never compresses, so nothing is compressed twice.

Formula results are passed here explicitly: (sheet title, "A1") -> value, typed as
:func:`~.cells.result_value` says. A named cell that holds no formula is skipped.

Stable API: add, do not change.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from typing import Any, BinaryIO, Callable, Mapping

from .package import Package
from .sheet import store_results
from .writer import Content, rewrite

__all__ = ["save_openpyxl", "openpyxl_package", "Results"]

Results = Mapping[tuple[str, str], Any]


def openpyxl_package(wb) -> bytes:
    """``wb`` as openpyxl saves it, but with every part stored uncompressed."""
    from openpyxl.writer.excel import ExcelWriter

    buf = io.BytesIO()
    archive = zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED, allowZip64=True)
    wb.properties.modified = dt.datetime.now(tz=dt.timezone.utc).replace(tzinfo=None)
    ExcelWriter(wb, archive).save()
    return buf.getvalue()


def save_openpyxl(wb, target: str | os.PathLike | BinaryIO, *, results: Results | None = None,
                  sheets: Callable[[Package], Mapping[str, Content]] | None = None,
                  levels: Mapping[str, int] | None = None, level: int = 6) -> None:
    """Write ``wb`` to ``target`` (a path or binary file object), compressed once.

    ``results``: formula results to store, (sheet title, "A1") -> value. ``sheets``: given
    the saved package (uncompressed), the parts to replace (part name -> content pieces),
    for sheets whose rows were kept out of openpyxl; those parts are deflated at
    ``levels[part]`` (default ``level``)."""
    skeleton = openpyxl_package(wb)
    with Package(skeleton, name="the saved workbook") as pkg:
        changes: dict[str, Content] = dict(sheets(pkg)) if sheets is not None else {}
        if results:
            by_sheet: dict[str, dict[str, Any]] = {}
            for (title, addr), value in results.items():
                by_sheet.setdefault(title, {})[addr] = value
            parts = dict(pkg.sheets())
            for title, cells in by_sheet.items():
                part = parts.get(title)
                if part is None:
                    continue
                if part in changes:
                    raise ValueError(f"sheet {title!r}: results for a sheet whose rows are replaced")
                changes[part], _ = store_results(pkg.read(part), cells)
        rewrite(pkg, target, changes, level=level, levels=levels, compress_stored=True)
