"""How the master workbook looks: fonts, fills, borders and number formats.

One place decides the look, so every command that writes a cell (``new``, ``recalc``,
``import``, the regional workbooks) writes it the same way:

* inputs are pale yellow with a gold header, outputs pale blue with a blue header, the run
  log grey: a user sees at a glance which cells are theirs to type in;
* the font is a CJK-friendly one for Chinese workbooks (Microsoft YaHei, which Excel on
  Windows has and LibreOffice replaces by a CJK font it has) and Calibri for English ones;
* number formats follow the column kind of :mod:`xl_addin.workbook.schema`.

The 万 format :data:`WAN_FORMAT` divides by 10,000 with the usual trick that works in both
Excel and LibreOffice: a trailing comma divides by 1,000 and an escaped point sits before
the last digit, so 120,000,000 shows as ``12000.0万`` (LibreOffice does not understand
Excel's ``!`` escape, but both understand ``\\.``).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.worksheet import Worksheet

from . import schema

FONT_NAMES = {"zh": "Microsoft YaHei", "en": "Calibri"}
BODY_SIZE = 10

# colours (RGB hex)
INK = "262626"
MUTED = "7F7F7F"
WHITE = "FFFFFF"
TITLE_INK = "1F3864"
INPUT_HEADER, INPUT_FILL = "BF8F00", "FFF8E1"
OUTPUT_HEADER, OUTPUT_FILL = "2F5597", "EEF3FA"
LOG_HEADER, LOG_FILL = "595959", "F5F5F5"
GRID = "D9D9D9"
CARD_FILL = "F3F6FB"
GOOD, WARN, BAD = "548235", "C65911", "C00000"
GOOD_FILL, WARN_FILL, BAD_FILL = "E2EFDA", "FFE7B3", "FFC7CE"
ORANGE_FILL = "F8CBAD"

# Excel table styles by direction; the cells carry their own fills (LibreOffice ignores
# table styles), so these only matter for rows Excel adds when a user types below a table.
TABLE_STYLES = {"in": "TableStyleLight12", "out": "TableStyleLight9", "log": "TableStyleLight8"}
HEADER_FILLS = {"in": INPUT_HEADER, "out": OUTPUT_HEADER, "log": LOG_HEADER}
DATA_FILLS = {"in": INPUT_FILL, "out": OUTPUT_FILL, "log": LOG_FILL}
TAB_COLORS = {"in": INPUT_HEADER, "out": OUTPUT_HEADER, "log": LOG_HEADER, "dashboard": GOOD}

# Number formats by column kind. ``num`` stays General: a trailing ``.####`` would show
# whole numbers as "40." in Excel.
_FORMATS = {
    schema.TEXT: "General", schema.CODE: "@", schema.DATE: "yyyy-mm-dd",
    schema.DATETIME: "yyyy-mm-dd hh:mm:ss", schema.MONEY: "#,##0.00", schema.YUAN: "#,##0",
    schema.INT: "0", schema.NUM: "General", schema.SHARE: "0.00%", schema.SCORE: "0.00",
    schema.BOOL: "General",
}
WHOLE_PERCENT = "0%"
# 120,000,000 -> "12000.0万" (Excel and LibreOffice); English: 120,000,000 -> "120.0m".
WAN_FORMAT = '0\\.0,"万"'
MILLION_FORMAT = '#,##0.0,,"m"'
# For chart axes: 160,000,000 -> "1.60亿" / "160m" (no decimals to clutter the scale).
YI_FORMAT = '0\\.00,,"亿"'
MILLION_AXIS_FORMAT = '#,##0,,"m"'


def font_name(lang: str) -> str:
    """The body font for a workbook language."""
    return FONT_NAMES.get(lang, FONT_NAMES["en"])


def number_format(kind: str, lang: str) -> str:
    """The number format of a column kind (see :mod:`schema`); ``lang`` is accepted for
    kinds whose format differs by language (none today: dates are ISO in both)."""
    try:
        return _FORMATS[kind]
    except KeyError:
        raise ValueError(f"unknown column kind {kind!r}") from None


def big_amount_format(lang: str) -> str:
    """A short format for large yuan amounts: 万 in Chinese, millions in English."""
    return WAN_FORMAT if lang == "zh" else MILLION_FORMAT


def axis_amount_format(lang: str, largest: float) -> str:
    """A format for a chart axis of yuan amounts up to ``largest``: 亿 from 1亿 on, else 万;
    millions in English."""
    if lang != "zh":
        return MILLION_AXIS_FORMAT
    return YI_FORMAT if largest >= 100_000_000 else WAN_FORMAT


def value_number_format(kind: str, lang: str, value: Any, direction: str = "out") -> str:
    """The format of one cell: the column's, except that a share typed in whole percent in an
    input table shows as ``16%`` rather than ``16.00%`` (its precision stays as entered)."""
    fmt = number_format(kind, lang)
    if kind == schema.SHARE and direction == "in" and _whole_percent(value):
        return WHOLE_PERCENT
    return fmt


def _whole_percent(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return False
    try:
        hundred = Decimal(repr(value)) * 100 if isinstance(value, float) else Decimal(value) * 100
    except ArithmeticError:
        return False
    return hundred.is_finite() and hundred == hundred.to_integral_value()


# ----------------------------------------------------------------------------- cell styles

@dataclass(frozen=True)
class CellLook:
    """Everything a cell's look is made of, built once and shared by many cells."""

    font: Font
    fill: PatternFill
    border: Border
    alignment: Alignment
    number_format: str
    protection: Protection | None = None    # None: Excel's default, locked

    def apply(self, cell: Cell, number_format: str | None = None) -> None:
        cell.font = self.font
        cell.fill = self.fill
        cell.border = self.border
        cell.alignment = self.alignment
        cell.number_format = number_format or self.number_format
        if self.protection is not None:
            cell.protection = self.protection


def solid(rgb: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=rgb, end_color=rgb)


def font(lang: str, *, size: float = BODY_SIZE, bold: bool = False, italic: bool = False,
         color: str = INK) -> Font:
    return Font(name=font_name(lang), size=size, bold=bold, italic=italic, color=color)


_THIN = Side(style="thin", color=GRID)
GRID_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)


@lru_cache(maxsize=None)
def header_look(direction: str, lang: str) -> CellLook:
    """A table's header cells: white bold text on the direction's colour, wrapped."""
    return CellLook(font(lang, bold=True, color=WHITE), solid(HEADER_FILLS[direction]),
                    GRID_BORDER, Alignment(horizontal="center", vertical="center", wrap_text=True),
                    "General")


@lru_cache(maxsize=None)
def data_look(kind: str, direction: str, lang: str) -> CellLook:
    """A data cell of a column kind in an input, output or log table; input cells are
    unlocked, so they stay typeable on a protected sheet."""
    horizontal = {schema.CODE: "center", schema.BOOL: "center", schema.DATE: "center"}.get(kind)
    return CellLook(font(lang), solid(DATA_FILLS[direction]), GRID_BORDER,
                    Alignment(horizontal=horizontal, vertical="center"),
                    number_format(kind, lang), UNLOCKED if direction == "in" else None)


@lru_cache(maxsize=None)
def title_font(lang: str) -> Font:
    return font(lang, size=16, bold=True, color=TITLE_INK)


@lru_cache(maxsize=None)
def hint_font(lang: str) -> Font:
    return font(lang, size=9, italic=True, color=MUTED)


@lru_cache(maxsize=None)
def caption_font(direction: str, lang: str) -> Font:
    """The caption above a table, in the colour of its header."""
    return font(lang, size=11, bold=True, color=HEADER_FILLS.get(direction, TITLE_INK))


# ----------------------------------------------------------------------------- printing

# Printable width of an A4 page in column-width units (one unit is about one digit of the
# 10 pt body font, ~1.9 mm), inside the margins below: portrait 210 - 2 x 15 mm, landscape
# 297 - 2 x 15 mm. Used to choose an orientation and a scale without asking a printer.
PORTRAIT_UNITS, LANDSCAPE_UNITS = 95.0, 140.0
DEFAULT_WIDTH = 8.43            # Excel's default column width
MIN_SCALE = 70                  # a table sheet is never printed smaller than this


def columns_width(ws: Worksheet, first: int, last: int) -> float:
    """The width of columns ``first``..``last`` (1-based) in column-width units."""
    from openpyxl.utils import get_column_letter

    total = 0.0
    for c in range(first, last + 1):
        dim = ws.column_dimensions.get(get_column_letter(c))
        total += dim.width if dim is not None and dim.width else DEFAULT_WIDTH
    return total


def page_header_footer(ws: Worksheet, title: str, lang: str, *, confidential: bool) -> None:
    """Header: the workbook title left, the sheet's name centre (``&A``), 机密 / Confidential
    right where the sheet holds pay; footer: page x of y centre. The same on first, odd
    and even pages."""
    from ..text import t

    size = 9
    name = font_name(lang)

    def part(item, text: str, bold: bool = False) -> None:
        item.text = text
        item.size = size
        item.font = f"{name},Bold" if bold else name

    for header, footer in ((ws.oddHeader, ws.oddFooter), (ws.evenHeader, ws.evenFooter),
                           (ws.firstHeader, ws.firstFooter)):
        part(header.left, title.replace("&", "&&"))
        part(header.center, "&A", bold=True)
        if confidential:
            part(header.right, t("print.confidential", lang), bold=True)
        part(footer.center, t("print.page_of", lang, page="&P", pages="&N"))
        part(footer.right, t("print.made_by", lang))


def print_setup(ws: Worksheet, title: str, lang: str, *, width: float, confidential: bool,
                repeat_rows: str | None = None, print_area: str | None = None,
                one_page: bool = False, scale: int | None = None,
                landscape: bool | None = None) -> None:
    """A4, margins of 15 mm (header and footer inside them), centred horizontally.

    ``width`` (column-width units of what prints side by side) chooses the orientation:
    portrait when it fits a portrait page, else landscape (``landscape`` decides instead when
    given); the width is fitted to one page (``scale`` instead sets a fixed scale, for a
    sheet printed in column strips). With ``one_page`` the whole sheet fits one page."""
    if landscape is None:
        landscape = width > PORTRAIT_UNITS
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_margins.left = ws.page_margins.right = 0.6
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.print_options.horizontalCentered = True
    if scale is not None:
        ws.sheet_properties.pageSetUpPr.fitToPage = False
        ws.page_setup.scale = scale
    else:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 1 if one_page else 0
    if repeat_rows:
        ws.print_title_rows = repeat_rows
    if print_area:
        ws.print_area = print_area
    page_header_footer(ws, title, lang, confidential=confidential)


def print_landscape(ws: Worksheet) -> None:
    """Print (and render to PDF) on A4 landscape, the sheet's width fitted to one page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
