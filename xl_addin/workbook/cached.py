"""Stored results of formulas: what a viewer that does not calculate shows.

openpyxl writes a formula cell as ``<c r="E40"><f>SUM(...)</f><v/></c>``: the formula
with an empty result. Excel and LibreOffice compute it when they open the file (we set
``fullCalcOnLoad``), but a mail or phone preview, pandas or ``openpyxl(data_only=True)``
shows the stored result, so it would show nothing. The results are computed in Python by
whoever wrote the formulas (the Dashboard's reconciliation block, :mod:`.dashboard`) and
passed explicitly to the save (``save_atomic(wb, path, results=...)``), which stores them
while writing the package once (:func:`xl_addin.ooxml.save_openpyxl`).

This module keeps two helpers on top of :mod:`xl_addin.ooxml`: :func:`store_formula_results`
patches an already saved file, and :func:`read_formula_results` reads every formula with
its stored result (for tests, and for checking a file written by another program).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping
from xml.etree import ElementTree as ET

from .. import ooxml
from ..ooxml.cells import result_value as xml_value
from ..ooxml.names import MAIN as MAIN_NS

__all__ = ["store_formula_results", "read_formula_results", "xml_value"]

Results = Mapping[tuple[str, str], Any]


def store_formula_results(path: Path | str, values: Results, *, strict: bool = True) -> int:
    """Give formula cells of the saved workbook ``path`` their results.

    ``values`` maps (sheet title, "A1") to the result (number, Decimal, text, bool, date).
    Only the ``<c>`` elements named are rewritten; every other part of the package is
    copied as stored, byte for byte (:func:`xl_addin.ooxml.rewrite`). The file is replaced
    atomically. Returns the number of cells patched. With ``strict`` (the default) a sheet
    or a formula cell that is not there raises ``KeyError``; otherwise it is skipped."""
    from .xlsx import replace_atomic

    path = Path(path)
    if not values:
        return 0
    by_sheet: dict[str, dict[str, Any]] = {}
    for (sheet, addr), value in values.items():
        by_sheet.setdefault(sheet, {})[addr.replace("$", "").upper()] = value
    with ooxml.Package(path) as pkg:
        parts = dict(pkg.sheets())
        missing = [s for s in by_sheet if s not in parts]
        if missing and strict:
            raise KeyError(f"{path.name}: no sheet {', '.join(map(repr, missing))}")
        changes: dict[str, bytes] = {}
        count = 0
        for sheet, cells in by_sheet.items():
            if sheet not in parts:
                continue
            xml, absent = ooxml.sheet.store_results(pkg.read(parts[sheet]), cells)
            if absent and strict:
                raise KeyError(f"{path.name}: sheet {sheet!r} has no formula in {absent[0]}")
            count += len(cells) - len(absent)
            changes[parts[sheet]] = xml
        replace_atomic(path, lambda tmp: ooxml.rewrite(pkg, tmp, changes), backup=False)
    return count


def read_formula_results(path: Path | str) -> dict[tuple[str, str], tuple[str, Any]]:
    """Every formula cell of ``path`` with its stored result: (sheet, "A1") -> (formula
    text without "=", result or None). Read straight from the sheet XML."""
    out: dict[tuple[str, str], tuple[str, Any]] = {}
    with ooxml.Package(path) as pkg:
        shared: list[str] = []
        sst = pkg.shared_strings_part()
        if sst is not None:
            for si in ET.fromstring(pkg.read(sst)).iter(f"{{{MAIN_NS}}}si"):
                shared.append("".join(t.text or "" for t in si.iter(f"{{{MAIN_NS}}}t")))
        for sheet, part in pkg.sheets():
            root = ET.fromstring(pkg.read(part))
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
