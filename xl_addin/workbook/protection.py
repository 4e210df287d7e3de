"""Which sheets of the master are protected, and how.

A sheet that holds no input table (the Dashboard, the cover, the computed tables, the run
log) is protected, so a computed result cannot be typed over by accident: without a
password unless the Plan table sets ``sheet_password``. Filtering and sorting stay allowed,
and so do column widths. Sheets with an input table (Plan, Targets, Budget, Team, KPI
scheme, Actuals) are not protected: Excel does not let a table grow on a protected
sheet, and a row typed under a table that did not grow would be silently left out. Their
input cells are unlocked all the same (:data:`styles.UNLOCKED`), so a user who protects
such a sheet can still type inputs.

Every writer lifts the protection around its writes: the file path writes the sheet XML
directly (a protected sheet's ``<sheetProtection>`` is kept as it is and applied again
by :func:`protect_master` on each recalc, with the Plan's current password); the ribbon
macros unprotect and re-protect through Excel (:mod:`xl_addin.excel.macros`).
"""
from __future__ import annotations

from typing import Any

from openpyxl.workbook import Workbook
from openpyxl.worksheet.protection import SheetProtection
from openpyxl.worksheet.worksheet import Worksheet

from . import schema
from .layout import table_layout

PASSWORD_KEY = "sheet_password"     # an extra tblPlan setting
COVER_KEY = "cover"


def protected_sheet_keys() -> tuple[str, ...]:
    """Keys of :data:`schema.SHEETS` whose sheet is protected: those with no input table."""
    layout = table_layout()
    return tuple(key for key in schema.SHEETS
                 if not any(schema.TABLES[name].direction == "in" for name, _ in layout.get(key, ())))


def sheet_password(settings: Any) -> str | None:
    """The Plan's ``sheet_password`` setting, or None (no password)."""
    extra = getattr(settings, "extra", None) or {}
    value = extra.get(PASSWORD_KEY)
    return str(value).strip() or None if value is not None else None


def protect(ws: Worksheet, password: str | None = None) -> None:
    """Protect ``ws``: cells locked unless unlocked, filter, sort and column widths allowed."""
    ws.protection = SheetProtection(
        sheet=True, objects=True, scenarios=True, autoFilter=False, sort=False,
        formatColumns=False, formatRows=False, selectLockedCells=False,
        selectUnlockedCells=False, password=password)


def protected_titles(wb: Workbook, lang: str) -> list[str]:
    """The titles, in ``wb``, of the sheets :func:`protect_master` protects."""
    from .cover import cover_title

    wanted = [schema.SHEETS[k].title(lang) for k in protected_sheet_keys()]
    wanted.append(cover_title(lang))
    return [t for t in wanted if t in wb.sheetnames]


def protect_master(wb: Workbook, settings: Any, lang: str) -> None:
    """Protect every output sheet, the Dashboard and the cover, with the Plan's password."""
    password = sheet_password(settings)
    for title in protected_titles(wb, lang):
        protect(wb[title], password)
