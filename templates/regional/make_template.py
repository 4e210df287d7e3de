"""Regenerate ``templates/regional/regional.xlsx``, the template of every regional workbook.

Run from the repository root::

    .venv/bin/python templates/regional/make_template.py

The template holds the parts of a regional workbook's look that a user may want to change
in Excel without touching code: the cover sheet and the statement sheet, with their
column widths, fonts, colours, row heights and page margins, and ``{placeholder}`` cells
that :mod:`xl_addin.reports.regional` fills in. Move or restyle those cells freely; keep
the placeholders and the two sheet names (``cover``, ``statement``). The data sheets
(targets, KPI, bonus, ...) are written by code with the master workbook's table styles.

Placeholders (any cell text may contain them):

* cover: ``{title}``, ``{subtitle}``, ``{notice}``; the key figures, the quarter block, the
  rep list and the chart are written from row 5 down (``FIGURES_ROW``);
* statement: ``{title}``, ``{info}``, ``{scope}``; the statement body starts at row 5.
"""
from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.page import PageMargins

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from xl_addin.workbook import styles  # noqa: E402

OUT = Path(__file__).with_name("regional.xlsx")
FONT = styles.FONT_NAMES["zh"]     # a CJK font that also reads well for Latin text

COVER_WIDTHS = {"A": 2, "B": 16, "C": 16, "D": 13, "E": 13, "F": 13, "G": 13, "H": 13,
                "I": 13, "J": 16}
# indicator, actual, target, achievement, cap, weight, effective weight, points, note
STATEMENT_WIDTHS = {"A": 14, "B": 13.5, "C": 12, "D": 11, "E": 10, "F": 11.5, "G": 10.5, "H": 10.5,
                    "I": 18}


def _text(ws, ref: str, value: str, font: Font, height: float | None = None) -> None:
    ws[ref] = value
    ws[ref].font = font
    ws[ref].alignment = Alignment(vertical="center")
    if height:
        ws.row_dimensions[ws[ref].row].height = height


def make() -> Path:
    wb = Workbook()
    cover = wb.active
    cover.title = "cover"
    for col, width in COVER_WIDTHS.items():
        cover.column_dimensions[col].width = width
    _text(cover, "B1", "{title}", Font(name=FONT, size=18, bold=True, color=styles.TITLE_INK), 32)
    _text(cover, "B2", "{subtitle}", Font(name=FONT, size=10, color=styles.MUTED), 18)
    _text(cover, "B3", "{notice}", Font(name=FONT, size=9, italic=True, color=styles.BAD), 16)
    cover.sheet_view.showGridLines = False
    cover.page_margins = PageMargins(left=0.5, right=0.5, top=0.75, bottom=0.75,
                                     header=0.3, footer=0.3)

    st = wb.create_sheet("statement")
    for col, width in STATEMENT_WIDTHS.items():
        st.column_dimensions[col].width = width
    _text(st, "A1", "{title}", Font(name=FONT, size=15, bold=True, color=styles.TITLE_INK), 26)
    _text(st, "A2", "{info}", Font(name=FONT, size=10, color=styles.INK), 16)
    _text(st, "A3", "{scope}", Font(name=FONT, size=9, italic=True, color=styles.MUTED), 14)
    st.sheet_view.showGridLines = False
    st.page_margins = PageMargins(left=0.5, right=0.5, top=0.7, bottom=0.7,
                                  header=0.3, footer=0.3)

    wb.properties.creator = "xl_addin"
    wb.properties.title = "xl_addin regional workbook template"
    wb.save(OUT)
    return OUT


if __name__ == "__main__":
    print(make())
