"""Stored results of formulas: what a viewer that does not calculate shows.

openpyxl writes a formula cell as ``<c r="E40"><f>SUM(...)</f><v/></c>``: the formula
with an empty result. Excel and LibreOffice compute it when they open the file (we set
``fullCalcOnLoad``), but a mail or phone preview, pandas or ``openpyxl(data_only=True)``
shows the stored result, so it would show nothing. :func:`store_formula_results` patches
a saved package so that chosen formula cells carry their result: it rewrites only those
``<c>`` elements of the sheets concerned (the result in ``<v>``, ``t="str"`` for text,
``t="b"`` for TRUE/FALSE, ``t="e"`` for an error value) and copies every other part of
the package unchanged, byte for byte. The results are computed in Python by whoever
wrote the formulas (the Dashboard's reconciliation block, :mod:`.dashboard`).

The Dashboard hands its results to the save path through the workbook object:
:func:`remember` leaves them on the ``Workbook``, and :func:`~.xlsx.save_atomic` calls
:func:`store_formula_results` with :func:`remembered` right after ``wb.save``. A workbook
loaded and saved again without a Dashboard refresh (``xl-addin import``) loses openpyxl's
stored results until the next ``recalc``; Excel and LibreOffice still compute them.
"""
from __future__ import annotations

import datetime as dt
import math
import posixpath
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from openpyxl.workbook import Workbook

from ..storage import write_atomic

__all__ = ["store_formula_results", "read_formula_results", "remember", "remembered",
           "xml_value"]

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")

_ATTR = "_xl_addin_formula_results"

Results = Mapping[tuple[str, str], Any]


# ----------------------------------------------------------------------------- the hook

def remember(wb: Workbook, results: Results) -> None:
    """Leave formula results on ``wb`` for the next :func:`~.xlsx.save_atomic`; replaces
    whatever an earlier call left. Keys are (sheet title, "A1"), values as for
    :func:`store_formula_results`."""
    setattr(wb, _ATTR, dict(results))


def remembered(wb: Workbook) -> dict[tuple[str, str], Any]:
    """The results :func:`remember` left on ``wb`` (empty when none)."""
    return dict(getattr(wb, _ATTR, None) or {})


# ----------------------------------------------------------------------------- values

def xml_value(value: Any) -> tuple[str | None, str]:
    """The ``t`` attribute (None for a number) and ``<v>`` text of a formula result.

    Numbers (int, float, exact Decimal) become the nearest double, written as Excel does
    (``12`` rather than ``12.0``); text ``t="str"``; booleans ``t="b"``; Excel error
    values (``#DIV/0!``) ``t="e"``; dates their serial number (1900 date system)."""
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, str):
        return ("e", value) if value in ERRORS else ("str", value)
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime(1899, 12, 30)
        return None, _number(delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6)
    if isinstance(value, dt.date):
        return None, _number((value - dt.date(1899, 12, 30)).days)
    if isinstance(value, (int, float, Decimal)):
        return None, _number(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return xml_value(value.item())
    raise TypeError(f"cannot store {value!r} ({type(value).__name__}) as a formula result")


def _number(value: int | float | Decimal) -> str:
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"not a finite number: {value!r}")
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


# ----------------------------------------------------------------------------- the package

def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> part name (``xl/worksheets/sheet3.xml``)."""
    rels_root = ET.fromstring(z.read("_rels/.rels"))
    book = next(r.get("Target") for r in rels_root.iter(f"{{{PKG_REL_NS}}}Relationship")
                if r.get("Type", "").endswith("/officeDocument"))
    book = book.lstrip("/")
    book_dir = posixpath.dirname(book)
    rels_name = posixpath.join(book_dir, "_rels", posixpath.basename(book) + ".rels")
    targets = {r.get("Id"): r.get("Target")
               for r in ET.fromstring(z.read(rels_name)).iter(f"{{{PKG_REL_NS}}}Relationship")}
    out = {}
    for sheet in ET.fromstring(z.read(book)).iter(f"{{{MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{REL_NS}}}id"), "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(book_dir, target))
        out[sheet.get("name")] = part
    return out


_CELL = r'<c\b(?=[^>]*\sr="{addr}")[^>]*?(?<!/)>(.*?)</c>'


def _patch_cell(xml: str, addr: str, t: str | None, text: str) -> tuple[str, bool]:
    """``xml`` with cell ``addr``'s stored result replaced; (xml, found a formula there)."""
    pattern = re.compile(_CELL.format(addr=re.escape(addr)), re.S)
    m = pattern.search(xml)
    if m is None or "<f" not in m.group(1):
        return xml, False
    start_tag = xml[m.start():m.start(1)]
    start_tag = re.sub(r'\st="[^"]*"', "", start_tag)
    if t is not None:
        start_tag = start_tag[:-1] + f' t="{t}">'
    body = re.sub(r"<v\s*/>|<v>.*?</v>|<v\s[^>]*?/>|<v\s[^>]*>.*?</v>", "", m.group(1), flags=re.S)
    v = f"<v>{escape(text)}</v>"
    close_f = re.search(r"</f>|<f\b[^>]*/>", body)
    body = body[:close_f.end()] + v + body[close_f.end():] if close_f else body + v
    return xml[:m.start()] + start_tag + body + "</c>" + xml[m.end():], True


def store_formula_results(path: Path | str, values: Results, *, strict: bool = True) -> int:
    """Give formula cells of the saved workbook ``path`` their results.

    ``values`` maps (sheet title, "A1") to the result (number, Decimal, text, bool, date).
    Only the ``<c>`` elements named are rewritten; every other part of the package and
    every other byte of the sheets concerned stay as they were. The file is replaced
    atomically. Returns the number of cells patched. With ``strict`` (the default) a sheet
    or a formula cell that is not there raises ``KeyError``; otherwise it is skipped."""
    path = Path(path)
    if not values:
        return 0
    by_sheet: dict[str, dict[str, Any]] = {}
    for (sheet, addr), value in values.items():
        by_sheet.setdefault(sheet, {})[addr.replace("$", "").upper()] = value
    with zipfile.ZipFile(path) as z:
        parts = _sheet_parts(z)
        missing = [s for s in by_sheet if s not in parts]
        if missing and strict:
            raise KeyError(f"{path.name}: no sheet {', '.join(map(repr, missing))}")
        patched: dict[str, bytes] = {}
        count = 0
        for sheet, cells in by_sheet.items():
            if sheet not in parts:
                continue
            part = parts[sheet]
            xml = z.read(part).decode("utf-8")
            for addr, value in cells.items():
                t, text = xml_value(value)
                xml, found = _patch_cell(xml, addr, t, text)
                if not found and strict:
                    raise KeyError(f"{path.name}: sheet {sheet!r} has no formula in {addr}")
                count += found
            patched[part] = xml.encode("utf-8")

    def rewrite(tmp: Path) -> None:
        with zipfile.ZipFile(path) as z, zipfile.ZipFile(tmp, "w") as out:
            for info in z.infolist():
                data = patched.get(info.filename)
                out.writestr(info, z.read(info.filename) if data is None else data)

    write_atomic(path, rewrite)
    return count


def read_formula_results(path: Path | str) -> dict[tuple[str, str], tuple[str, Any]]:
    """Every formula cell of ``path`` with its stored result: (sheet, "A1") -> (formula
    text without "=", result or None). Read straight from the sheet XML, for tests and
    for checking a file written by another program."""
    out: dict[tuple[str, str], tuple[str, Any]] = {}
    with zipfile.ZipFile(path) as z:
        shared: list[str] = []
        if "xl/sharedStrings.xml" in z.namelist():
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iter(f"{{{MAIN_NS}}}si"):
                shared.append("".join(t.text or "" for t in si.iter(f"{{{MAIN_NS}}}t")))
        for sheet, part in _sheet_parts(z).items():
            root = ET.fromstring(z.read(part))
            for c in root.iter(f"{{{MAIN_NS}}}c"):
                f = c.find(f"{{{MAIN_NS}}}f")
                if f is None:
                    continue
                v = c.find(f"{{{MAIN_NS}}}v")
                text = v.text if v is not None else None
                t = c.get("t", "n")
                value: Any
                if text is None:
                    value = None
                elif t == "n":
                    value = float(text)
                elif t == "b":
                    value = text == "1"
                elif t == "s":
                    value = shared[int(text)]
                else:
                    value = text
                out[(sheet, c.get("r"))] = (f.text or "", value)
    return out
