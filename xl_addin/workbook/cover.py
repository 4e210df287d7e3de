"""The cover sheet 说明 (About), first in the master: what the workbook is, how to use it,
what each sheet holds (each name a link to its sheet) and the colour legend.

Every text comes from the catalog (``cover.*`` keys of :mod:`xl_addin.text`). The sheet is
part of the skeleton a recalc keeps as it is; it holds no table and is protected like the
output sheets.
"""
from __future__ import annotations

import math

from openpyxl.styles import Alignment, Font
from openpyxl.workbook import Workbook
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from ..text import t
from . import schema, styles
from .layout import table_layout

WIDTHS = {"A": 2, "B": 16, "C": 14, "D": 62}
TEXT_UNITS = sum(WIDTHS[c] for c in "BCD")      # a paragraph spans B:D
LINE_HEIGHT = 15                                # points per line of 10 pt text


def cover_title(lang: str) -> str:
    return t("cover.sheet_name", lang)


def sheet_kind(key: str) -> str:
    """in, out, mixed, log or summary: what a sheet of the master holds."""
    if key == "dashboard":
        return "summary"
    directions = {schema.TABLES[n].direction for n, _ in table_layout().get(key, ())}
    if directions == {"in", "out"}:
        return "mixed"
    return next(iter(directions)) if directions else "summary"


def text_units(text: str) -> float:
    """Column-width units ``text`` takes at 10 pt (one unit is a digit of the 11 pt default
    font): a CJK character about 1.9, a Latin one about 0.75 (measured in LibreOffice)."""
    return sum(1.9 if ord(ch) > 0x2E80 else 0.75 for ch in text)


def _paragraph(ws: Worksheet, row: int, text: str, lang: str, *, size: float = 10,
               color: str = styles.INK) -> None:
    ws.merge_cells(f"B{row}:D{row}")
    cell = ws[f"B{row}"]
    cell.value = text
    cell.font = styles.font(lang, size=size, color=color)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    lines = max(1, math.ceil(text_units(text) / (TEXT_UNITS * 0.92)))
    ws.row_dimensions[row].height = lines * LINE_HEIGHT + 3


def _heading(ws: Worksheet, row: int, key: str, lang: str) -> None:
    cell = ws[f"B{row}"]
    cell.value = t(key, lang)
    cell.font = styles.caption_font("out", lang)
    ws.row_dimensions[row].height = 22


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def add_cover(wb: Workbook, title: str, lang: str) -> Worksheet:
    """Insert the cover sheet first in ``wb`` (replacing one that is there)."""
    name = cover_title(lang)
    if name in wb.sheetnames:
        wb.remove(wb[name])
    ws = wb.create_sheet(name, 0)
    ws.sheet_view.showGridLines = False
    ws.sheet_properties.tabColor = styles.TITLE_INK
    for col, width in WIDTHS.items():
        ws.column_dimensions[col].width = width

    ws["B1"] = title
    ws["B1"].font = styles.font(lang, size=20, bold=True, color=styles.TITLE_INK)
    ws.row_dimensions[1].height = 34
    ws["B2"] = t("cover.subtitle", lang)
    ws["B2"].font = styles.font(lang, size=11, color=styles.MUTED)

    row = 4
    _heading(ws, row, "cover.what.heading", lang)
    _paragraph(ws, row + 1, t("cover.what.text", lang), lang)
    row += 3
    _heading(ws, row, "cover.how.heading", lang)
    for n in range(1, 5):
        _paragraph(ws, row + n, t(f"cover.how.step{n}", lang), lang)
    row += 6

    _heading(ws, row, "cover.sheets.heading", lang)
    row += 1
    header = styles.header_look("out", lang)
    for col, key in zip("BCD", ("cover.sheets.sheet", "cover.sheets.kind", "cover.sheets.holds")):
        header.apply(ws[f"{col}{row}"])
        ws[f"{col}{row}"] = t(key, lang)
    ws.row_dimensions[row].height = 20
    link_font = styles.font(lang, color="0563C1")
    link_font = Font(name=link_font.name, size=link_font.size, color=link_font.color, underline="single")
    kind_fill = {"in": styles.INPUT_FILL, "out": styles.OUTPUT_FILL, "mixed": styles.INPUT_FILL,
                 "log": styles.LOG_FILL, "summary": styles.CARD_FILL}
    for key, sheet in schema.SHEETS.items():
        row += 1
        kind = sheet_kind(key)
        look = styles.data_look(schema.TEXT, "out", lang)
        for col in "BCD":
            look.apply(ws[f"{col}{row}"])
            ws[f"{col}{row}"].fill = styles.solid(kind_fill[kind])
            ws[f"{col}{row}"].protection = styles.LOCKED
        link = ws[f"B{row}"]
        link.value = sheet.title(lang)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{_quoted(sheet.title(lang))}!A1",
                                   display=sheet.title(lang))
        link.font = link_font
        ws[f"C{row}"] = t(f"cover.kind.{kind}", lang)
        ws[f"D{row}"] = t(f"cover.holds.{key}", lang)
        ws[f"D{row}"].alignment = Alignment(wrap_text=True, vertical="center")
        lines = max(1, math.ceil(text_units(ws[f"D{row}"].value) / (WIDTHS["D"] * 0.92)))
        ws.row_dimensions[row].height = max(18, lines * LINE_HEIGHT + 3)
    row += 2

    _heading(ws, row, "cover.legend.heading", lang)
    for direction in ("in", "out", "log"):
        row += 1
        swatch = ws[f"B{row}"]
        styles.header_look(direction, lang).apply(swatch)
        swatch.fill = styles.solid(styles.DATA_FILLS[direction])
        swatch.border = styles.Border(left=styles.Side(style="medium", color=styles.HEADER_FILLS[direction]),
                                      right=styles._THIN, top=styles._THIN, bottom=styles._THIN)
        swatch.value = t(f"cover.kind.{direction}", lang)
        swatch.font = styles.font(lang, bold=True, color=styles.HEADER_FILLS[direction])
        ws.merge_cells(f"C{row}:D{row}")
        ws[f"C{row}"] = t(f"cover.legend.{direction}", lang)
        ws[f"C{row}"].font = styles.font(lang)
        ws[f"C{row}"].alignment = Alignment(vertical="center", indent=1)
        ws.row_dimensions[row].height = 20
    row += 2
    _paragraph(ws, row, t("cover.protection", lang), lang, size=9, color=styles.MUTED)

    styles.print_setup(ws, title, lang, width=sum(WIDTHS.values()), confidential=False,
                       print_area=f"A1:D{row}", one_page=True, landscape=False)
    return ws
