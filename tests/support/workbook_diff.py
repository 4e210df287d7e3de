"""Compare two .xlsx files as a spreadsheet user sees them, independently of how the
package is laid out: sheets, every cell's value, type and look, tables, merged ranges,
column widths, row heights, validations, conditional formats, freeze panes, print setup,
defined names, and the stored results of formulas."""
from __future__ import annotations

from pathlib import Path

import openpyxl

from xl_addin.workbook.cached import read_formula_results


def _look(cell) -> tuple:
    return (cell.number_format, repr(cell.font), repr(cell.fill), repr(cell.border),
            repr(cell.alignment), repr(cell.protection), bool(cell.quotePrefix))


def _sheet(ws) -> dict:
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None and not c.has_style:
                continue
            cells[c.coordinate] = (c.value, c.data_type, _look(c))
    return {
        "cells": cells,
        "dimension": ws.calculate_dimension(),
        "tables": {t.name: (t.ref, t.autoFilter.ref if t.autoFilter else None,
                            [c.name for c in t.tableColumns], repr(t.tableStyleInfo))
                   for t in ws.tables.values()},
        "merged": sorted(str(r) for r in ws.merged_cells.ranges),
        "widths": {k: d.width for k, d in ws.column_dimensions.items() if d.customWidth},
        "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
        "validations": sorted((str(v.sqref), v.type, v.formula1, v.formula2)
                              for v in ws.data_validations.dataValidation),
        "conditional": sorted((str(rng.sqref), repr([(r.type, r.formula, r.operator) for r in rules]))
                              for rng, rules in ws.conditional_formatting._cf_rules.items()),
        "freeze": ws.freeze_panes,
        "print": (ws.page_setup.orientation, ws.page_setup.fitToWidth, ws.page_setup.fitToHeight,
                  ws.print_title_rows, ws.sheet_properties.tabColor.rgb if ws.sheet_properties.tabColor else None),
        "protection": ws.protection.sheet,
        "charts": len(ws._charts),
    }


def differences(a: Path | str, b: Path | str, *, limit: int = 20,
                formula_results: bool = True) -> list[str]:
    """Human-readable differences between workbooks ``a`` and ``b`` (empty: the same).
    ``formula_results=False`` compares the formulas but not the results stored with them."""
    wa, wb = openpyxl.load_workbook(a), openpyxl.load_workbook(b)
    out: list[str] = []
    if wa.sheetnames != wb.sheetnames:
        return [f"sheets {wa.sheetnames} != {wb.sheetnames}"]
    for name in wa.sheetnames:
        sa, sb = _sheet(wa[name]), _sheet(wb[name])
        for key in sa:
            if key == "cells":
                ca, cb = sa["cells"], sb["cells"]
                for coord in sorted(set(ca) | set(cb)):
                    if ca.get(coord) != cb.get(coord):
                        va, vb = ca.get(coord), cb.get(coord)
                        what = (f"{va[:2]} != {vb[:2]}" if va and vb and va[:2] != vb[:2]
                                else "look differs" if va and vb else f"{va} != {vb}")
                        out.append(f"{name}!{coord}: {what}")
                        if len(out) >= limit:
                            return out
            elif sa[key] != sb[key]:
                out.append(f"{name}: {key} {sa[key]} != {sb[key]}")
    names_a = {n: str(d.value) for n, d in wa.defined_names.items()}
    names_b = {n: str(d.value) for n, d in wb.defined_names.items()}
    if names_a != names_b:
        out.append(f"defined names {names_a} != {names_b}")
    if wa.calculation.fullCalcOnLoad != wb.calculation.fullCalcOnLoad:
        out.append("fullCalcOnLoad differs")
    ra, rb = read_formula_results(a), read_formula_results(b)
    if not formula_results:
        ra = {k: text for k, (text, _) in ra.items()}
        rb = {k: text for k, (text, _) in rb.items()}
    if ra != rb:
        diff = sorted(k for k in set(ra) | set(rb) if ra.get(k) != rb.get(k))[:5]
        out.append(f"formula results differ at {diff}")
    return out[:limit]
