"""One workbook per sales region, with a bonus statement per rep, and the manifest that
tells ``xl-addin email`` which files belong to which master.

:func:`write_regional` is the library entry point (``xl-addin regional`` wraps it): for every
sales region (tblRegionSplit's regions; never HQ) it writes ``<year>_<period>_<REGION>_<name>.xlsx``
built from ``templates/regional/regional.xlsx``:

* a cover (key figures, the region's quarters, its reps, a chart of target vs sales);
* the region's slice of the target cube, its team, rep targets, actuals, KPI, bonuses,
  awards and watchlist rows, as Excel tables with the master's column labels (plus the
  rep's name next to the rep ID);
* a one-page bonus statement per quota-carrying rep (:mod:`xl_addin.core.statement`).

Decisions:

* **period** = the latest quarter in which any rep has reported sales, or ``Q0`` (the plan
  alone, before any actuals); every file of one run carries the same period;
* **values only**: every cell is a plain value (no formula, no link to the master), text that
  looks like a formula stays text;
* **confidential**: a file holds only its own region's rows; names, codes and rep IDs of
  other regions appear nowhere in the package (shared strings, sheet names, defined names,
  document properties, charts). Annual-award and new-customer ranks are shown as numbers
  only;
* **protected** sheets (no password; Review > Unprotect Sheet) so that a manager does not
  overwrite a figure by accident; filters and column widths still work;
* **print**: data sheets and the cover landscape, fitted to the page width; statements
  portrait on exactly one page; every sheet has the region and period in the header and
  the generation date and page numbers in the footer;
* **encryption** (optional) with a password per region from ``XL_ADDIN_PASSWORD_<REGION>`` or
  the keyring (service ``xl-addin-regional``, username = region code), never stored;
* **manifest** ``manifest.json`` in the output folder records the master's fiscal year and
  input digest (:func:`xl_addin.workbook.pipeline.input_digest`), and per region the file,
  its SHA-256, recipient and the totals shown in the email. It is written last, so an
  interrupted run leaves no manifest that matches.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import math
import multiprocessing
import os
import re
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from copy import copy
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import openpyxl
import pandas as pd
from openpyxl.chart import BarChart, Reference
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.styles import Alignment
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook import Workbook
from openpyxl.worksheet.dimensions import DimensionHolder, RowDimension
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.table import Table
from openpyxl.worksheet.worksheet import Worksheet

from ..core import statement as stm
from ..core.engine import Results
from ..core.fmt import wan_yi
from ..core.model import HQ, QUARTERS, PlanInputs, Region, Rep
from ..paths import template_path
from ..workbook import schema, styles
from ..workbook import tables as _tables
from ..workbook.tables import add_table, cell_value, set_value
from ..storage import check_not_locked, write_atomic, write_text
from ..workbook.xlsx import WorkbookError
from . import sheet_xml
from ..mail.email import RegionalFile

__all__ = ["RegionalError", "RegionSlice", "RegionalEntry", "Manifest", "TEMPLATE",
           "MANIFEST_NAME", "PASSWORD_ENV_PREFIX", "KEYRING_SERVICE", "report_period",
           "period_words", "file_name", "sales_regions", "region_slice", "build_workbook",
           "password_env", "region_password", "encrypt_file", "write_regional",
           "read_manifest", "current_manifest", "manifest_of_file", "file_sha256",
           "regional_files"]

TEMPLATE = ("regional", "regional.xlsx")
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
PASSWORD_ENV_PREFIX = "XL_ADDIN_PASSWORD_"
KEYRING_SERVICE = "xl-addin-regional"
PLAN_PERIOD = "Q0"
FIGURES_ROW = 5          # cover: first row written by code
BODY_ROW = 5             # statement: first row written by code
STATEMENT_COLS = 9       # statement: columns A..I
ZERO = Decimal(0)

MONEY, YUAN, PCT, SCORE, INT = "#,##0.00", "#,##0", "0.0%", "0.00", "0"


class RegionalError(WorkbookError):
    """The regional workbooks cannot be written (no sales region, a missing password, a
    broken template); the message says what to do. The manifest is written only after
    every file, so ``email`` never sends from a run that stopped half-way."""


def _t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


# ----------------------------------------------------------------------------- naming

def report_period(inputs: PlanInputs) -> str:
    """The latest quarter in which any rep has reported sales, or ``Q0`` before any."""
    reported = {a.quarter for a in inputs.actuals if a.sales is not None}
    return next((q for q in reversed(QUARTERS) if q in reported), PLAN_PERIOD)


def period_words(year: int, period: str, lang: str) -> str:
    """``2026年第四季度`` / ``FY2026 Q4``; ``Q0``: ``2026年度计划`` / ``FY2026 plan``."""
    if period == PLAN_PERIOD:
        return _t(lang, f"{year}年度计划", f"FY{year} plan")
    return _t(lang, f"{year}年{stm.QUARTER_WORDS.get(period, period)}", f"FY{year} {period}")


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def file_name(year: int, period: str, region: str, name: str) -> str:
    """``2026_Q3_EAST_华东.xlsx`` (characters that no file system accepts are dropped)."""
    clean = _UNSAFE.sub("", f"{year}_{period}_{region}_{name}".strip()).strip(". ")
    return f"{clean}.xlsx"


def sales_regions(inputs: PlanInputs) -> list[Region]:
    """The sales regions (tblRegionSplit's order; HQ never), with tblRegions' name,
    manager and email."""
    by_code = {r.region: r for r in inputs.regions}
    return [by_code.get(code, Region(code, code)) for code in inputs.region_codes() if code != HQ]


# ----------------------------------------------------------------------------- the slice

@dataclass
class RegionSlice:
    """Everything one regional workbook shows, and nothing of another region."""

    region: Region
    fiscal_year: int
    period: str
    reps: list[Rep]
    cube: pd.DataFrame
    rep_targets: pd.DataFrame
    actuals: list[list[Any]]
    kpi: pd.DataFrame
    bonus: pd.DataFrame
    awards: pd.DataFrame
    watchlist: pd.DataFrame
    statements: list[stm.RepStatement]
    quarter_sales: dict[str, Decimal | None] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.region.region

    @property
    def names(self) -> dict[str, str]:
        return {r.rep_id: r.name for r in self.reps}

    @property
    def annual_target(self) -> Decimal:
        return Decimal(int(self.cube["target"].sum())) if len(self.cube) else ZERO

    def quarter_target(self, quarter: str) -> Decimal:
        return Decimal(int(self.cube.loc[self.cube["quarter"] == quarter, "target"].sum()))

    @property
    def target_to_date(self) -> Decimal:
        if self.period == PLAN_PERIOD:
            return self.annual_target
        upto = QUARTERS[:QUARTERS.index(self.period) + 1]
        return sum((self.quarter_target(q) for q in upto), ZERO)

    @property
    def sales(self) -> Decimal:
        return sum((v for v in self.quarter_sales.values() if v is not None), ZERO)

    @property
    def bonus_total(self) -> Decimal:
        return sum(self.bonus["total"], ZERO) if len(self.bonus) else ZERO

    @property
    def awards_total(self) -> Decimal:
        return sum(self.awards["amount"], ZERO) if len(self.awards) else ZERO

    @property
    def quota_reps(self) -> int:
        return len(self.statements)

    def totals(self) -> dict[str, Any]:
        """What the email shows: target (to date), sales, bonus_total, reps; plus the
        annual target and awards for the summary."""
        return {"target": self.target_to_date, "sales": self.sales,
                "bonus_total": self.bonus_total, "reps": self.quota_reps,
                "annual_target": self.annual_target, "awards_total": self.awards_total}


def _of_region(df: pd.DataFrame, reps: set[str]) -> pd.DataFrame:
    return df[df["rep_id"].isin(reps)].reset_index(drop=True)


def region_slice(inputs: PlanInputs, results: Results, region: Region,
                 period: str | None = None, *,
                 index: stm.StatementIndex | None = None) -> RegionSlice:
    """The rows of one region: its cube cells, its reps and their rows in every table.
    ``index`` is the :class:`~xl_addin.statement.StatementIndex` of the same inputs and
    results (built here when not given; give it when slicing every region)."""
    code = region.region
    if index is None:
        index = stm.StatementIndex(inputs, results)
    reps = [r for r in inputs.team if r.region == code]
    ids = {r.rep_id for r in reps}
    statements = [stm.build_statement(inputs, results, r.rep_id, index=index)
                  for r in reps if r.carries_quota and r.rep_id in index.targets]
    actual_keys = schema.TABLES["tblActuals"].keys
    actuals = [[getattr(a, k) for k in actual_keys] for a in inputs.actuals if a.rep_id in ids]
    quarter_sales: dict[str, Decimal | None] = {}
    for q in QUARTERS:
        values = [a.sales for a in inputs.actuals
                  if a.rep_id in ids and a.quarter == q and a.sales is not None]
        quarter_sales[q] = sum(values, ZERO) if values else None
    return RegionSlice(
        region=region, fiscal_year=inputs.settings.fiscal_year,
        period=period or report_period(inputs), reps=reps,
        cube=results.target_cube[results.target_cube["region"] == code].reset_index(drop=True),
        rep_targets=_of_region(results.rep_targets, ids), actuals=actuals,
        kpi=_of_region(results.kpi, ids),
        bonus=results.bonus[results.bonus["region"] == code].reset_index(drop=True),
        awards=_of_region(results.awards, ids), watchlist=_of_region(results.watchlist, ids),
        statements=statements, quarter_sales=quarter_sales)


# ----------------------------------------------------------------------------- cell helpers

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


_LOOKS = "_xl_addin_looks"      # the attribute of a workbook that holds its looks


def _style_cache(wb: Workbook) -> dict:
    """The looks made for ``wb`` so far (kept on the workbook: looked up a few times per
    cell, faster than a weak-keyed registry)."""
    cache = wb.__dict__.get(_LOOKS)
    if cache is None:
        cache = wb.__dict__[_LOOKS] = {}
    return cache


_IDS = "_xl_addin_style_ids"   # the attribute of a workbook: its style objects' indices

_LOOK_PARTS = (("font", "_fonts", "fontId"), ("fill", "_fills", "fillId"),
               ("border", "_borders", "borderId"), ("alignment", "_alignments", "alignmentId"))


def _apply(cell: Cell, look: styles.CellLook, number_format: str | None = None) -> None:
    """``look.apply(cell, number_format)``, with each style object's index in the
    workbook's style lists remembered by identity: the looks are shared objects (built
    once per run), and openpyxl would hash every font, fill and border again for each
    cell it is given to. The lists get the same entries in the same order."""
    wb = cell.parent.parent
    ids = wb.__dict__.get(_IDS)
    if ids is None:
        ids = wb.__dict__[_IDS] = {}
    if not cell._style:
        cell._style = StyleArray()
    style = cell._style
    for attr, collection, slot in _LOOK_PARTS:
        obj = getattr(look, attr)
        known = ids.get((collection, id(obj)))
        if known is None:       # the object is kept with its index, so its id stays its own
            known = ids[(collection, id(obj))] = (getattr(wb, collection).add(obj), obj)
        setattr(style, slot, known[0])
    cell.number_format = number_format or look.number_format


def _kept_table(ws: Worksheet, spec: schema.Table, top_left: str, lang: str) -> Table:
    """What :func:`~xl_addin.workbook.tables.add_table` makes with no rows (header, column
    widths, one blank row, the table), with :func:`_apply` for the looks; the blank row's
    looks are registered in the same order and its cells then left out, as
    :func:`_kept_table_rows` writes the rows."""
    row, col = _tables.table_origin(top_left)
    header = styles.header_look(spec.direction, lang)
    for j, column in enumerate(spec.columns):
        cell = ws.cell(row, col + j, column.label(lang))
        _apply(cell, header)
        if column.width:
            ws.column_dimensions[get_column_letter(col + j)].width = column.width
    for j, column in enumerate(spec.columns):
        fmt = styles.value_number_format(column.kind, lang, None, spec.direction)
        _apply(Cell(ws, row + 1, col + j), styles.data_look(column.kind, spec.direction, lang), fmt)
    return _tables.place_table(ws, spec, row, col, 1, lang)


class _StatementSheet:
    """What a statement's layout needs of a worksheet, without one: the workbook (for
    looks), row settings and merged ranges; the cells are kept by a
    :class:`~.sheet_xml.CellSheet` from row 1 and written as a copy of the stamp sheet
    (:func:`.sheet_xml.add_copies`). An openpyxl ``Worksheet`` costs more to make than the
    whole statement costs to lay out."""

    def __init__(self, wb: Workbook, title: str) -> None:
        self.parent = wb
        self.title = title
        self.row_dimensions = DimensionHolder(worksheet=self, default_factory=self._add_row)
        self.merged_cells = _Merges()

    def _add_row(self) -> RowDimension:
        return RowDimension(self)


class _MergedRef:
    __slots__ = ("coord",)

    def __init__(self, coord: str) -> None:
        self.coord = coord


class _Merges:
    """A statement's merged ranges: what :class:`~openpyxl.worksheet.cell_range.MultiCellRange`
    keeps (a range inside one already there is not added), in the order its set of ranges
    gives them (a set of their bounds: a ``CellRange`` hashes as its bounds), without
    making a ``CellRange`` per range."""

    def __init__(self) -> None:
        self._bounds: set[tuple[int, int, int, int]] = set()
        self._coords: dict[tuple[int, int, int, int], str] = {}

    def add(self, coord: str) -> None:
        min_col, min_row, max_col, max_row = range_boundaries(coord)
        for r0, c0, r1, c1 in self._bounds:
            if r0 <= min_row and max_row <= r1 and c0 <= min_col and max_col <= c1:
                return
        bounds = (min_row, min_col, max_row, max_col)
        self._bounds.add(bounds)
        first = f"{get_column_letter(min_col)}{min_row}"      # as CellRange.coord spells it
        self._coords[bounds] = first if (min_col, min_row) == (max_col, max_row) else \
            f"{first}:{get_column_letter(max_col)}{max_row}"

    @property
    def ranges(self) -> list[_MergedRef]:
        return [_MergedRef(self._coords[b]) for b in self._bounds]


def _look(cell: Cell, lang: str, fmt: str | None, bold: bool, color: str, size: float,
          fill: str | None, border: bool, horizontal: str | None, wrap: bool,
          italic: bool) -> StyleArray:
    """Give ``cell`` a look (see :func:`_put`); a copy of its style array."""
    cell.font = styles.font(lang, size=size, bold=bold, italic=italic, color=color)
    if fill:
        cell.fill = styles.solid(fill)
    if border:
        cell.border = styles.GRID_BORDER
    cell.alignment = Alignment(horizontal=horizontal, vertical="center", wrap_text=wrap)
    if fmt:
        cell.number_format = fmt
    return copy(cell._style)


def _put(ws: Worksheet, row: int, col: int, value: Any, lang: str, *, fmt: str | None = None,
         bold: bool = False, color: str = styles.INK, size: float = styles.BODY_SIZE,
         fill: str | None = None, border: bool = False, horizontal: str | None = None,
         wrap: bool = False, italic: bool = False) -> None:
    """Write a value with a look. Looks are built once per workbook and copied (openpyxl's
    own way of copying a style, ~10x faster than assigning font, fill, border, ...). In
    rows whose cells a :class:`~.sheet_xml.CellSheet` keeps, the value and look go there."""
    if horizontal is None and value is not None:
        t = type(value)
        if t is Decimal or t is int or t is float or (
                t is not str and isinstance(value, (int, float, Decimal)) and t is not bool):
            horizontal = "right"
    key = (lang, fmt, bold, color, size, fill, border, horizontal, wrap, italic)
    wb = ws.parent
    cache = wb.__dict__.get(_LOOKS)
    if cache is None:
        cache = _style_cache(wb)
    model = cache.get(key)
    kept = ws.__dict__.get(sheet_xml.KEPT)
    if kept is not None and row >= kept.first_row:
        if model is None:   # the look is made on a cell that is not put into the sheet
            model = cache[key] = _look(Cell(ws, row, col), lang, fmt, bold, color, size, fill,
                                       border, horizontal, wrap, italic)
        kept.put(row, col, value, model)
        return
    cell = ws.cell(row, col)
    if model is not None:
        cell._style = copy(model)
    else:
        cache[key] = _look(cell, lang, fmt, bold, color, size, fill, border, horizontal, wrap,
                           italic)
    # The value last: its quote prefix (text that looks like a formula) and a date's
    # format belong to this cell, not to the look shared with other cells.
    set_value(cell, value)


def _head(ws: Worksheet, row: int, col: int, text: str | None, lang: str) -> None:
    """A header cell in the output-table look of the master workbook."""
    cache = _style_cache(ws.parent)
    model = cache.get(("head", lang))
    kept = sheet_xml.cell_sheet(ws)
    if kept is not None and row >= kept.first_row:
        if model is None:
            scratch = Cell(ws, row, col)
            styles.header_look("out", lang).apply(scratch)
            model = cache[("head", lang)] = copy(scratch._style)
        kept.put(row, col, text, model, quote=False)
        return
    cell = ws.cell(row, col)
    cell.value = text
    if model is None:
        styles.header_look("out", lang).apply(cell)
        cache[("head", lang)] = copy(cell._style)
    else:
        cell._style = copy(model)


def _heads(ws: Worksheet, row: int, cols: range, lang: str) -> None:
    for c in cols:
        _head(ws, row, c, None, lang)


def _merged(ws: Worksheet, row: int, first: int, last: int, value: Any, lang: str, *,
            width_chars: float | None = None, merge: bool = False, **look: Any) -> None:
    """A value over columns first..last, all of them styled alike. Only wrapped text is
    merged (it must wrap across the whole width); other text simply flows over the empty
    neighbours, which prints the same and keeps files small and fast to write. With
    ``width_chars`` the row is made tall enough for the wrapped text (merged rows never
    grow by themselves). ``merge`` merges unwrapped text too (inside bordered rows)."""
    def rest() -> None:
        for c in range(first + 1, last + 1):
            _put(ws, row, c, None, lang, **look)

    _put(ws, row, first, value, lang, **look)
    if last > first and (merge or look.get("wrap")):
        _merge(ws, row, first, last, ("put", lang, *sorted(look.items())), rest)
    else:
        rest()
    if width_chars and look.get("wrap"):
        size = look.get("size", styles.BODY_SIZE)
        lines = max(1, math.ceil(_width(str(value)) * size / styles.BODY_SIZE * 1.05 / width_chars))
        ws.row_dimensions[row].height = (size + 4) * lines + 3


def _merge(ws: Worksheet, row: int, first: int, last: int, look: Any,
           rest: Callable[[], Any]) -> None:
    """Merge columns first..last of ``row``, whose first cell is written; ``rest()`` writes
    the other cells in the same ``look`` (any hashable naming it).

    openpyxl's merge replaces every cell but the first by a MergedCell that gets the
    borders of the range's edges and the first cell's protection, and gives the first cell
    the right and bottom border of the last: slow (border objects are added up and looked
    up cell by cell) and always the same for the same looks and width. So openpyxl merges
    the first range of each look and width in a workbook, the resulting looks are kept,
    and later ranges get them directly (the other cells are then never written). In rows
    that a :class:`~.sheet_xml.CellSheet` keeps, the first range of a look is merged on a
    scratch sheet that is not part of the workbook."""
    cache = _style_cache(ws.parent)
    ref = f"{get_column_letter(first)}{row}:{get_column_letter(last)}{row}"
    kept = sheet_xml.cell_sheet(ws)
    if kept is not None and row >= kept.first_row:
        key = ("merge", last - first, tuple(kept.style(row, first)), look)
        stamp = cache.get(key)
        if stamp is None:
            rest()
            scratch = Worksheet(ws.parent)
            for c in range(first, last + 1):
                scratch._cells[(row, c)] = kept.openpyxl_cell(row, c)
            scratch.merge_cells(ref)
            stamp = cache[key] = [copy(scratch._cells[(row, c)]._style)
                                  for c in range(first, last + 1)]
        kept.restyle(row, first, stamp[0])
        for c, style in zip(range(first + 1, last + 1), stamp[1:]):
            kept.put(row, c, None, style)       # a MergedCell: no value, the range's look
        ws.merged_cells.add(ref)
        return
    start = ws._cells[(row, first)]
    key = ("merge", last - first, tuple(start._style), look)
    stamp = cache.get(key)
    if stamp is None:
        rest()
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        cache[key] = [copy(ws._cells[(row, c)]._style) for c in range(first, last + 1)]
        return
    for c in range(first + 1, last + 1):
        ws._cells.pop((row, c), None)     # so that adding the range changes no border
    ws.merged_cells.add(MergedCellRange(ws, ref))
    start._style = copy(stamp[0])
    for c, style in zip(range(first + 1, last + 1), stamp[1:]):
        cell = MergedCell(ws, row, c)
        cell._style = copy(style)
        ws._cells[(row, c)] = cell


def _filled(text: str, values: Mapping[str, str], where: str, sheet: str = "statement") -> str:
    try:
        return text.format_map(values)
    except (KeyError, ValueError, IndexError) as e:
        raise RegionalError(f"regional template, sheet {sheet!r} cell {where}: "
                            f"unknown placeholder {e}") from None


def _fill_placeholders(ws: Worksheet, values: Mapping[str, str]) -> None:
    """Replace ``{key}`` in every text cell; an unknown key is a broken template."""
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and "{" in cell.value:
                cell.value = _filled(cell.value, values, cell.coordinate, ws.title)


def _sheet_name(text: str, taken: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "", text).strip("' ")[:31] or "Sheet"
    base, n = name, 2
    while name.casefold() in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.casefold())
    return name


# ----------------------------------------------------------------------------- page setup

def _header_footer(ws: Worksheet, sl: RegionSlice, lang: str, today: dt.date) -> None:
    def esc(s: str) -> str:
        return s.replace("&", "&&")

    region = _t(lang, f"{sl.region.name}（{sl.code}）", f"{sl.region.name} ({sl.code})")
    for hf in (ws.oddHeader, ws.evenHeader, ws.firstHeader):
        hf.left.text = esc(region)
        hf.right.text = esc(period_words(sl.fiscal_year, sl.period, lang))
        hf.left.size = hf.right.size = 8
    for hf in (ws.oddFooter, ws.evenFooter, ws.firstFooter):
        hf.left.text = esc(_t(lang, f"生成日期 {today.isoformat()} · 机密", f"Generated {today.isoformat()} · confidential"))
        hf.right.text = _t(lang, "第 &P 页 / 共 &N 页", "Page &P of &N")
        hf.left.size = hf.right.size = 8


def _protect(ws: Worksheet) -> None:
    """Sheet protection without a password against accidental edits; filtering, sorting
    and resizing rows and columns stay allowed."""
    p = ws.protection
    p.sheet = True
    p.autoFilter = False
    p.sort = False
    p.formatColumns = False
    p.formatRows = False
    p.selectLockedCells = False
    p.selectUnlockedCells = False


def _finish_sheet(ws: Worksheet, sl: RegionSlice, lang: str, today: dt.date, *,
                  orientation: str = "landscape", one_page: bool = False) -> None:
    """Print setup (A4, fitted to the page width; ``one_page`` also to one page tall),
    header and footer, protection."""
    styles.print_landscape(ws)
    ws.page_setup.orientation = orientation
    if one_page:
        ws.page_setup.fitToHeight = 1
    ws.print_options.horizontalCentered = True
    _header_footer(ws, sl, lang, today)
    _protect(ws)


# ----------------------------------------------------------------------------- cover

def _cover(ws: Worksheet, sl: RegionSlice, lang: str, today: dt.date) -> None:
    region = _t(lang, f"{sl.region.name}（{sl.code}）", f"{sl.region.name} ({sl.code})")
    period = period_words(sl.fiscal_year, sl.period, lang)
    manager = sl.region.manager or "—"
    _fill_placeholders(ws, {
        "title": _t(lang, f"{region}区域报表 · {period}", f"{region} regional report - {period}"),
        "subtitle": _t(lang, f"区域经理 {manager} · 生成日期 {today.isoformat()} · 已报告季度："
                             f"{'、'.join(q for q in QUARTERS if sl.quarter_sales.get(q) is not None) or '无'}",
                       f"Regional manager {manager} · generated {today.isoformat()} · quarters "
                       f"reported: {', '.join(q for q in QUARTERS if sl.quarter_sales.get(q) is not None) or 'none'}"),
        "notice": _t(lang, f"机密：仅供{sl.region.name}区域经理及授权人员查阅。本文件为数值副本，与总表无链接；"
                           "工作表已保护以防误改（无密码：审阅 › 撤消工作表保护）。",
                     f"Confidential: for the {sl.region.name} regional manager and authorised staff only. "
                     "Plain values with no links to the master; sheets are protected against "
                     "accidental edits (no password: Review › Unprotect Sheet)."),
    })
    row = FIGURES_ROW
    _put(ws, row, 2, _t(lang, "主要数据", "Key figures"), lang, bold=True, size=11,
         color=styles.OUTPUT_HEADER)
    ratio = sl.sales / sl.target_to_date if sl.target_to_date else None
    upto = _t(lang, "截至本期", "to date")
    figures = [
        (_t(lang, "年度目标", "Annual target"), sl.annual_target, YUAN),
        (_t(lang, f"{upto}目标", f"Target {upto}"), sl.target_to_date, YUAN),
        (_t(lang, f"{upto}销售额", f"Sales {upto}"), sl.sales, MONEY),
        (_t(lang, "目标完成率", "Attainment"), ratio, PCT),
        (_t(lang, "季度奖金合计", "Quarterly bonuses"), sl.bonus_total, MONEY),
        (_t(lang, "年度评优奖金", "Annual awards"), sl.awards_total, MONEY),
        (_t(lang, "销售人数", "Sales reps"), sl.quota_reps, INT),
        (_t(lang, "观察名单人数", "On the watchlist"), len(sl.watchlist), INT),
    ]
    for i, (label, value, fmt) in enumerate(figures, 1):
        _put(ws, row + i, 2, label, lang, border=True, fill=styles.CARD_FILL)
        _put(ws, row + i, 3, value, lang, fmt=fmt, border=True, bold=True)
        short = wan_yi(value, lang) if fmt in (MONEY, YUAN) and value is not None else ""
        _put(ws, row + i, 4, short, lang, border=True, color=styles.MUTED, horizontal="right")
    q_first, q_row = 6, row
    _put(ws, q_row, q_first, _t(lang, "按季度", "By quarter"), lang, bold=True, size=11,
         color=styles.OUTPUT_HEADER)
    head = [_t(lang, "季度", "Quarter"), _t(lang, "目标", "Target"), _t(lang, "销售额", "Sales"),
            _t(lang, "完成率", "Attainment"), _t(lang, "季度奖金", "Bonus")]
    for j, h in enumerate(head):
        _head(ws, q_row + 1, q_first + j, h, lang)
    bonus_by_q = {q: sum(sl.bonus.loc[sl.bonus["quarter"] == q, "total"], ZERO) for q in QUARTERS}
    for i, q in enumerate(QUARTERS, 2):
        target, sales = sl.quarter_target(q), sl.quarter_sales.get(q)
        values = [(q, None), (target, YUAN), (sales, MONEY),
                  (sales / target if sales is not None and target else None, PCT),
                  (bonus_by_q[q] if sales is not None else None, MONEY)]
        for j, (v, fmt) in enumerate(values):
            _put(ws, q_row + i, q_first + j, v, lang, fmt=fmt, border=True,
                 horizontal="center" if j == 0 else None)
    total_row = q_row + 2 + len(QUARTERS)
    totals = [(_t(lang, "合计", "Total"), None), (sl.annual_target, YUAN), (sl.sales, MONEY),
              (ratio, PCT), (sl.bonus_total, MONEY)]
    for j, (v, fmt) in enumerate(totals):
        _put(ws, total_row, q_first + j, v, lang, fmt=fmt, border=True, bold=True,
             fill=styles.CARD_FILL, horizontal="center" if j == 0 else None)
    reps_end = _cover_reps(ws, sl, lang, row + len(figures) + 2)
    _chart(ws, sl, lang, q_first, q_row + 1, q_row + 1 + len(QUARTERS), f"B{reps_end + 2}")


def _chart(ws: Worksheet, sl: RegionSlice, lang: str, col: int, header_row: int,
           last_row: int, anchor: str) -> None:
    """A small clustered bar chart of the region's target and sales by quarter, over the
    cover's quarter block (same sheet, so nothing points outside the file)."""
    chart = BarChart()
    chart.type, chart.grouping, chart.style = "col", "clustered", 10
    chart.title = _t(lang, f"{sl.region.name} 季度目标与销售额", f"{sl.region.name}: target and sales by quarter")
    chart.width, chart.height = 16.0, 6.5
    for c, colour in ((col + 1, "9DC3E6"), (col + 2, styles.OUTPUT_HEADER)):
        chart.add_data(Reference(ws, min_col=c, min_row=header_row, max_row=last_row),
                       titles_from_data=True)
        chart.series[-1].graphicalProperties = GraphicalProperties(solidFill=colour)
    chart.set_categories(Reference(ws, min_col=col, min_row=header_row + 1, max_row=last_row))
    largest = max([float(sl.quarter_target(q)) for q in QUARTERS] +
                  [float(v) for v in sl.quarter_sales.values() if v is not None] + [1.0])
    chart.y_axis.number_format = styles.axis_amount_format(lang, largest)
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    ws.add_chart(chart, anchor)


def _cover_reps(ws: Worksheet, sl: RegionSlice, lang: str, row: int) -> int:
    """One line per quota-carrying rep: targets, sales, bonuses, awards, watchlist.
    Returns the last row written."""
    _put(ws, row, 2, _t(lang, "销售人员", "Sales reps"), lang, bold=True, size=11,
         color=styles.OUTPUT_HEADER)
    head = [_t(lang, "工号", "Rep ID"), _t(lang, "姓名", "Name"), _t(lang, "岗位", "Role"),
            _t(lang, "年度目标", "Annual target"), _t(lang, "销售额", "Sales"),
            _t(lang, "完成率", "Attainment"), _t(lang, "季度奖金", "Bonuses"),
            _t(lang, "年度评优", "Awards"), _t(lang, "观察名单", "Watchlist")]
    for j, h in enumerate(head):
        _head(ws, row + 1, 2 + j, h, lang)
    for i, st in enumerate(sl.statements, 2):
        target = sum((Decimal(q.sales_target) for q in st.quarters), ZERO)
        sales = sum((q.sales for q in st.quarters if q.sales is not None), ZERO)
        reported = [q for q in st.quarters if q.reported]
        reported_target = sum((Decimal(q.sales_target) for q in reported), ZERO)
        values = [(st.rep_id, None), (st.name, None), (stm.role_label(st.role, lang), None),
                  (target, YUAN), (sales if reported else None, MONEY),
                  (sales / reported_target if reported and reported_target else None, PCT),
                  (st.quarterly_total, MONEY), (st.awards_total, MONEY),
                  (stm.watch_label(st.watch.status, lang) if st.watch else "", None)]
        for j, (v, fmt) in enumerate(values):
            _put(ws, row + i, 2 + j, v, lang, fmt=fmt, border=True,
                 horizontal="center" if j == 0 else None)
    return row + 1 + len(sl.statements)


# ----------------------------------------------------------------------------- data sheets

_NAME = schema.Column("name", "姓名", "Name", schema.TEXT, width=10)


def _with_name(spec: schema.Table) -> schema.Table:
    cols = list(spec.columns)
    at = next(i for i, c in enumerate(cols) if c.key == "rep_id") + 1
    return replace(spec, columns=tuple(cols[:at] + [_NAME] + cols[at:]))


# In a regional file every table is a report (the output look), including the master's
# input tables team and actuals.
_TEAM_SPEC = replace(schema.TABLES["tblTeam"], name="tblRegionTeam", direction="out", columns=tuple(
    c for c in schema.TABLES["tblTeam"].columns if c.key not in ("region", "mentor_id")))

# sheet key, zh title, en title, table spec, where the rows come from
_SHEETS = (
    ("targets", "目标分解", "Targets"),
    ("team", "团队", "Team"),
    ("rep_targets", "个人目标", "Rep targets"),
    ("actuals", "实际业绩", "Actuals"),
    ("kpi", "绩效得分", "KPI"),
    ("bonus", "季度奖金", "Bonus"),
    ("awards", "年度评优", "Awards"),
    ("watchlist", "观察名单", "Watchlist"),
)


def _frame_rows(df: pd.DataFrame, spec: schema.Table, names: Mapping[str, str]) -> list[list[Any]]:
    out = []
    for rec in df.to_dict("records"):
        rec = dict(rec, name=names.get(rec.get("rep_id"), ""))
        out.append([rec.get(k) for k in spec.keys])
    return out


def _data_tables(sl: RegionSlice) -> dict[str, tuple[schema.Table, list[list[Any]]]]:
    names = sl.names
    team_rows = [[getattr(r, k) for k in _TEAM_SPEC.keys] for r in sl.reps]
    actual_spec = replace(_with_name(schema.TABLES["tblActuals"]), direction="out")
    actual_keys = schema.TABLES["tblActuals"].keys
    actual_rows = []
    for values in sl.actuals:
        rec = dict(zip(actual_keys, values), name=names.get(values[0], ""))
        actual_rows.append([rec.get(k) for k in actual_spec.keys])
    out: dict[str, tuple[schema.Table, list[list[Any]]]] = {
        "targets": (schema.TABLES["tblTargetCube"],
                    _frame_rows(sl.cube, schema.TABLES["tblTargetCube"], names)),
        "team": (_TEAM_SPEC, team_rows),
        "actuals": (actual_spec, actual_rows),
    }
    for key, table, df in (("rep_targets", "tblRepTargets", sl.rep_targets),
                           ("kpi", "tblKpi", sl.kpi), ("bonus", "tblBonus", sl.bonus),
                           ("awards", "tblAwards", sl.awards),
                           ("watchlist", "tblWatchlist", sl.watchlist)):
        spec = _with_name(schema.TABLES[table])
        out[key] = (spec, _frame_rows(df, spec, names))
    return out


def _data_sheet(ws: Worksheet, sl: RegionSlice, lang: str, title: str, spec: schema.Table,
                rows: list[list[Any]], keep_cells: bool = False) -> None:
    region = _t(lang, f"{sl.region.name}（{sl.code}）", f"{sl.region.name} ({sl.code})")
    ws["A1"] = f"{region} · {title}"
    ws["A1"].font = styles.title_font(lang)
    ws.row_dimensions[1].height = 26
    ws["A2"] = _t(lang, f"{period_words(sl.fiscal_year, sl.period, lang)} · 数值副本，工作表已保护；"
                        f"列与总表的“{spec.title('zh')}”一致，另加姓名列。",
                  f"{period_words(sl.fiscal_year, sl.period, lang)} · plain values, protected sheet; "
                  f"columns as in the master's {spec.title('en')} table.")
    ws["A2"].font = styles.hint_font(lang)
    if keep_cells:
        _kept_table_rows(ws, _kept_table(ws, spec, "A4", lang), spec, rows, lang)
    else:
        add_table(ws, spec, "A4", lang, rows)
    ws.row_dimensions[4].height = 30          # headers wrap onto two lines
    ws.freeze_panes = "A5"
    ws.print_title_rows = "4:4"
    ws.sheet_view.showGridLines = False


def _kept_table_rows(ws: Worksheet, table: Table, spec: schema.Table, rows: list[list[Any]],
                     lang: str) -> None:
    """The data rows of ``table`` (made by :func:`~xl_addin.workbook.tables.add_table` with
    its one blank row), kept by a :class:`~.sheet_xml.CellSheet` from the first data row
    down: the cells that ``add_table`` writes for ``rows`` (each column's look and number
    format, per value), and the table's range grown to them."""
    min_col, min_row, max_col, _ = range_boundaries(table.ref)
    first = min_row + 1
    for c in range(min_col, max_col + 1):
        ws._cells.pop((first, c), None)       # the blank row (if made)
    kept = sheet_xml.keep_cells(ws, first)
    data = rows or [[None] * len(spec.columns)]
    kinds = [c.kind for c in spec.columns]
    looks = [styles.data_look(k, spec.direction, lang) for k in kinds]
    models: dict[tuple[int, str], StyleArray] = {}
    for r, values in enumerate(data, first):
        if len(values) != len(kinds):
            raise ValueError(f"{spec.name}: a row has {len(values)} values, the table has "
                             f"{len(kinds)} columns")
        for j, v in enumerate(values):
            value = cell_value(v)
            fmt = styles.value_number_format(kinds[j], lang, value, spec.direction)
            model = models.get((j, fmt))
            if model is None:
                scratch = Cell(ws, r, min_col + j)
                _apply(scratch, looks[j], fmt)
                model = models[(j, fmt)] = copy(scratch._style)
            kept.put(r, min_col + j, value, model)
    ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{first + len(data) - 1}"
    table.ref = table.autoFilter.ref = ref


def _cube_pivot(ws: Worksheet, sl: RegionSlice, lang: str, first_col: int) -> None:
    """Quarter x product next to the cube table, with totals; the grand total is the
    region's plan amount."""
    products = list(dict.fromkeys(sl.cube["product"]))
    _put(ws, 3, first_col, _t(lang, "季度 × 产品", "Quarter x product"), lang, bold=True,
         color=styles.OUTPUT_HEADER, size=11)
    head = [_t(lang, "季度", "Quarter"), *products, _t(lang, "合计", "Total")]
    for j, h in enumerate(head):
        _head(ws, 4, first_col + j, h, lang)
        ws.column_dimensions[get_column_letter(first_col + j)].width = 9 if j == 0 else 14
    cube = sl.cube
    for i, q in enumerate(QUARTERS, 5):
        _put(ws, i, first_col, q, lang, border=True, horizontal="center")
        for j, p in enumerate(products, 1):
            v = cube.loc[(cube["quarter"] == q) & (cube["product"] == p), "target"].sum()
            _put(ws, i, first_col + j, int(v), lang, fmt=YUAN, border=True)
        _put(ws, i, first_col + len(products) + 1, int(sl.quarter_target(q)), lang, fmt=YUAN,
             border=True, bold=True)
    last = 5 + len(QUARTERS)
    _put(ws, last, first_col, _t(lang, "合计", "Total"), lang, border=True, bold=True,
         fill=styles.CARD_FILL, horizontal="center")
    for j, p in enumerate(products, 1):
        _put(ws, last, first_col + j, int(cube.loc[cube["product"] == p, "target"].sum()), lang,
             fmt=YUAN, border=True, bold=True, fill=styles.CARD_FILL)
    _put(ws, last, first_col + len(products) + 1, int(sl.annual_target), lang, fmt=YUAN,
         border=True, bold=True, fill=styles.CARD_FILL)


# ----------------------------------------------------------------------------- statements

def _statement_placeholders(st: stm.RepStatement, sl: RegionSlice, lang: str,
                            today: dt.date) -> dict[str, str]:
    """What the template's ``{title}``, ``{info}`` and ``{scope}`` become for ``st``."""
    title, info = stm.header_lines(st, lang)
    scope = _t(lang, f"{period_words(sl.fiscal_year, sl.period, lang)} · 生成日期 {today.isoformat()}"
                     " · 金额单位：元",
               f"{period_words(sl.fiscal_year, sl.period, lang)} · generated {today.isoformat()}"
               " · amounts in yuan (CNY)")
    if st.watch is not None:
        w = st.watch
        period = f" {w.period_start}–{w.period_end}" if w.period_start else ""
        scope += f" · {stm.t('watchlist', lang)}: {stm.watch_label(w.status, lang)} ({w.since_quarter}){period}"
    return {"title": title, "info": info, "scope": scope}


def _statement_widths(ws: Worksheet) -> float:
    """The statement's width in characters (columns A..I of the template)."""
    return sum(ws.column_dimensions[get_column_letter(c)].width or 9
               for c in range(1, STATEMENT_COLS + 1))


def _statement_sheet(ws: Worksheet, st: stm.RepStatement, sl: RegionSlice, lang: str,
                     today: dt.date) -> None:
    """Lay one statement out on a copy of the template's statement sheet (openpyxl cells
    throughout: the reference path of :func:`build_workbook` without ``keep_cells``)."""
    _fill_placeholders(ws, _statement_placeholders(st, sl, lang, today))
    _statement_body(ws, st, lang, _statement_widths(ws))


def _statement_body(ws: Worksheet, st: stm.RepStatement, lang: str, widths: float) -> None:
    """The statement from row :data:`BODY_ROW` down."""
    row = BODY_ROW
    if not st.quarters:
        _merged(ws, row, 1, STATEMENT_COLS, stm.t("no_quarters", lang), lang)
        return
    for q in st.quarters:
        row = _statement_quarter(ws, q, lang, row) + 1
    reported = [q for q in st.quarters if q.reported]
    if reported:
        row = _statement_bonus(ws, reported, lang, row, widths) + 1
    if st.awards:
        row = _statement_awards(ws, st, lang, row) + 1
    row = _statement_total(ws, st, lang, row)
    _merged(ws, row + 1, 1, STATEMENT_COLS, stm.t("points_rule", lang), lang, wrap=True,
            width_chars=widths, size=8, italic=True, color=styles.MUTED)


def _statement_quarter(ws: Worksheet, q: stm.QuarterStatement, lang: str, row: int) -> int:
    _merged(ws, row, 1, STATEMENT_COLS, stm.quarter_heading(q, lang), lang, bold=True,
            fill=styles.OUTPUT_FILL, color=styles.TITLE_INK)
    ws.row_dimensions[row].height = 18
    if not q.reported:
        return row + 1
    for j, key in enumerate(stm.KPI_HEADER_KEYS, 1):
        _head(ws, row + 1, j, stm.t(key, lang), lang)
    r = row + 2
    for line in q.lines:
        if line.kind == "count":       # whole counts as such, scaled targets with 2 decimals
            fmt, target_fmt = (INT if v is None or v == v.to_integral_value() else "0.00"
                               for v in (line.actual, line.target))
        else:
            fmt = MONEY if line.kind == "money" else PCT
            target_fmt = YUAN if line.kind == "money" else PCT
        na = bool(line.na_reason)
        cells = [(stm.indicator_label(line.indicator, lang), None),
                 (line.actual if line.actual is not None else "—", fmt),
                 (line.target if line.target is not None else "—", target_fmt),
                 (line.achievement if line.achievement is not None else "—", PCT),
                 (line.cap, "0%"), (line.weight, "0.##"),
                 ("—" if na else line.effective_weight, SCORE),
                 ("—" if na else line.points, SCORE),
                 (stm.na_label(line.na_reason, lang), None)]
        for j, (v, f) in enumerate(cells, 1):
            _put(ws, r, j, v, lang, fmt=f if not isinstance(v, str) else None, border=True,
                 horizontal="right" if v == "—" else None,
                 color=styles.MUTED if na and j > 1 else styles.INK, size=9 if j == 9 else styles.BODY_SIZE)
        r += 1
    _merged(ws, r, 1, 7, stm.t("kpi_score", lang) + _t(lang, "（各项得分之和）", " (sum of points)"),
            lang, bold=True, border=True, fill=styles.CARD_FILL)
    _put(ws, r, 8, q.kpi_score, lang, fmt=SCORE, bold=True, border=True, fill=styles.CARD_FILL)
    _put(ws, r, 9, "", lang, border=True, fill=styles.CARD_FILL)
    return r + 1


def _statement_bonus(ws: Worksheet, quarters: Sequence[stm.QuarterStatement], lang: str,
                     row: int, widths: float) -> int:
    _merged(ws, row, 1, STATEMENT_COLS, stm.t("bonus_section", lang), lang, bold=True, size=11,
            color=styles.OUTPUT_HEADER)
    head = ["quarter", "kpi_score", "base", "excess_raw", "pool_scale", "excess_paid",
            "new_customer_award", "collection_award", "quarter_total"]
    for j, key in enumerate(head, 1):
        _head(ws, row + 1, j, stm.t(key, lang), lang)
    ws.row_dimensions[row + 1].height = 42 if lang == "en" else 28
    r = row + 2
    for q in quarters:
        values = [(q.quarter, None), (q.kpi_score, SCORE), (q.base_paid, MONEY),
                  (q.excess_raw, MONEY), (q.pool_scale, "0.000000"), (q.excess_paid, MONEY),
                  (q.new_customer_award, MONEY), (q.collection_award, MONEY), (q.total, MONEY)]
        for j, (v, f) in enumerate(values, 1):
            _put(ws, r, j, v, lang, fmt=f, border=True, bold=j == 9,
                 horizontal="center" if j == 1 else None)
        r += 1
    sums = [sum((getattr(q, k) for q in quarters), ZERO) for k in
            ("base_paid", "excess_raw", "excess_paid", "new_customer_award", "collection_award", "total")]
    cells = [(stm.t("total", lang), None), ("", None), (sums[0], MONEY), (sums[1], MONEY),
             ("", None), (sums[2], MONEY), (sums[3], MONEY), (sums[4], MONEY), (sums[5], MONEY)]
    for j, (v, f) in enumerate(cells, 1):
        _put(ws, r, j, v, lang, fmt=f, border=True, bold=True, fill=styles.CARD_FILL,
             horizontal="center" if j == 1 else None)
    r += 1
    sep = "; " if lang == "en" else "；"
    for q in quarters:
        text = (f"{q.quarter}{': ' if lang == 'en' else '：'}" + sep.join([
            f"{stm.t('base', lang)} {stm.gate_text(q, lang)}",
            f"{stm.t('excess_paid', lang)} {stm.excess_text(q, lang)}",
            stm.new_customer_text(q, lang),
            f"{stm.t('collection_award', lang)} {stm.collection_text(q, lang)}"]))
        _merged(ws, r, 1, STATEMENT_COLS, text, lang, wrap=True, width_chars=widths, size=8,
                color=styles.INK)
        r += 1
    return r


def _statement_awards(ws: Worksheet, st: stm.RepStatement, lang: str, row: int) -> int:
    head = stm.t("awards_section", lang)
    if any(a.provisional for a in st.awards):
        head += _t(lang, f"（{stm.t('provisional', lang)}）", f" ({stm.t('provisional', lang)})")
    _merged(ws, row, 1, STATEMENT_COLS, head, lang, bold=True, size=11, color=styles.OUTPUT_HEADER)
    spans = [(1, 1, "award"), (2, 4, "basis"), (5, 5, "rank"), (6, 8, "result"), (9, 9, "amount")]
    for first, last, key in spans:
        _head(ws, row + 1, first, stm.t(key, lang), lang)
        if last > first:
            _merge(ws, row + 1, first, last, ("head", lang),
                   functools.partial(_heads, ws, row + 1, range(first + 1, last + 1), lang))
    r = row + 2
    for a in st.awards:
        if a.award == "team_contribution":
            measure = stm.t("team_member" if a.rank else "not_member", lang)
            rank = "—"
        elif a.award == "sales_champion":
            measure = (_t(lang, "年度销售额 ", "annual sales ") + f"{a.measure:,.2f}") if a.measure is not None else "—"
            rank = f"{a.rank}/{a.field}" if a.rank else "—"
        else:
            measure = (_t(lang, "KPI提升 ", "KPI rise ") + f"{a.measure:+.2f}") if a.measure is not None \
                else _t(lang, "报告季度不足两个", "fewer than two quarters")
            rank = f"{a.rank}/{a.field}" if a.rank else "—"
        result = stm.t("won", lang) + (f" + {a.non_cash}" if a.won and a.non_cash else "") \
            if a.won else stm.t("not_won", lang)
        cells = [(1, 1, stm.award_label(a.award, lang), None), (2, 4, measure, None),
                 (5, 5, rank, None), (6, 8, result, None), (9, 9, a.amount, MONEY)]
        for first, last, v, f in cells:
            _merged(ws, r, first, last, v, lang, fmt=f, border=True, merge=True,
                    horizontal="center" if first == 5 else None, bold=a.won and first == 9)
        r += 1
    return r


def _statement_total(ws: Worksheet, st: stm.RepStatement, lang: str, row: int) -> int:
    lines = [(stm.t("quarterly_total", lang), st.quarterly_total, False),
             (stm.t("awards_total", lang), st.awards_total, False),
             (stm.t("grand_total", lang), st.total, True)]
    for i, (label, value, strong) in enumerate(lines):
        fill = styles.CARD_FILL if strong else None
        for c in range(1, 8):
            _put(ws, row + i, c, None, lang, fill=fill)
        # right-aligned in H, the label flows left over the empty cells
        _put(ws, row + i, 8, label, lang, bold=strong, horizontal="right", fill=fill)
        _put(ws, row + i, 9, value, lang, fmt=MONEY, bold=True, border=True, fill=fill)
    r = row + len(lines)
    words = [(stm.t("in_words", lang), st.words(lang))]
    if lang == "en":
        words.append(("大写", "人民币" + stm.rmb_upper(st.total)))
    for label, text in words:
        _put(ws, r, 1, label, lang, bold=True, border=True)
        _merged(ws, r, 2, STATEMENT_COLS, text, lang, bold=True, border=True, merge=True)
        r += 1
    return r


# ----------------------------------------------------------------------------- workbook

def _load_template() -> Workbook:
    path = template_path(*TEMPLATE)
    try:
        wb = openpyxl.load_workbook(path)
    except FileNotFoundError:
        raise RegionalError(f"regional template not found: {path}") from None
    except Exception as e:  # a damaged template
        raise RegionalError(f"regional template {path} cannot be read ({type(e).__name__}: {e})") from None
    for name in ("cover", "statement"):
        if name not in wb.sheetnames:
            raise RegionalError(f"regional template {path} has no sheet {name!r}")
    return wb


def _statement_copies(wb: Workbook, proto: Worksheet, sl: RegionSlice, lang: str,
                      today: dt.date, taken: set[str]) -> None:
    """The statements as copies of one stamp sheet (:func:`.sheet_xml.add_copies`): the
    template's statement sheet is copied once, finished (tab colour, print setup, header
    and footer, protection) and saved once by openpyxl; each rep's sheet is that sheet's
    XML with its own rows (the template's rows with the placeholders filled, then the
    statement), row heights and merged ranges. Nothing is copied cell by cell per rep."""
    stamp = wb.copy_worksheet(proto)
    stamp.title = _sheet_name("statement stamp", set())
    stamp.sheet_properties.tabColor = styles.GOOD
    _finish_sheet(stamp, sl, lang, today, orientation="portrait", one_page=True)
    widths = _statement_widths(stamp)
    template = [(r, c, cell) for (r, c), cell in sorted(proto._cells.items())]
    for r, _, cell in template:
        if r >= BODY_ROW:
            raise RegionalError(f"regional template, sheet 'statement' cell {cell.coordinate}: "
                                f"the statement body starts at row {BODY_ROW}; keep rows "
                                f"{BODY_ROW} and below empty")
    copies = []
    for st in sl.statements:
        title = _sheet_name(f"{st.rep_id} {st.name}", taken)
        ws = _StatementSheet(wb, title)
        for r, dim in proto.row_dimensions.items():
            ws.row_dimensions[r] = copy(dim)
            ws.row_dimensions[r].worksheet = ws
        for rng in proto.merged_cells.ranges:
            ws.merged_cells.add(rng.coord)
        kept = sheet_xml.keep_cells(ws, 1)
        values = _statement_placeholders(st, sl, lang, today)
        for r, c, cell in template:
            value = cell.value
            if isinstance(value, str) and "{" in value:
                value = _filled(value, values, cell.coordinate)
            kept.put(r, c, value, cell._style, quote=False)
        _statement_body(ws, st, lang, widths)
        copies.append((title, ws))
    sheet_xml.add_copies(stamp, copies)


def build_workbook(sl: RegionSlice, *, lang: str = "zh", today: dt.date | None = None,
                   keep_cells: bool = False) -> Workbook:
    """The regional workbook of one region, in memory. With ``keep_cells`` the cells of the
    data sheets' table rows (and what is beside them) and of the statements below the
    template's rows are not openpyxl cells but kept by :class:`~.sheet_xml.CellSheet` objects
    (much faster); such a workbook must be saved with :func:`.sheet_xml.save`."""
    today = today or dt.date.today()
    wb = _load_template()
    cover, proto = wb["cover"], wb["statement"]
    taken: set[str] = set()
    cover.title = _sheet_name(_t(lang, "概览", "Summary"), taken)
    _cover(cover, sl, lang, today)
    _finish_sheet(cover, sl, lang, today, orientation="landscape", one_page=True)
    tables = _data_tables(sl)
    for key, zh, en in _SHEETS:
        spec, rows = tables[key]
        ws = wb.create_sheet(_sheet_name(_t(lang, zh, en), taken))
        _data_sheet(ws, sl, lang, _t(lang, zh, en), spec, rows, keep_cells)
        if key == "targets":
            _cube_pivot(ws, sl, lang, len(spec.columns) + 2)
        ws.sheet_properties.tabColor = styles.OUTPUT_HEADER
        _finish_sheet(ws, sl, lang, today)
    if keep_cells:
        _statement_copies(wb, proto, sl, lang, today, taken)
    else:
        for st in sl.statements:
            ws = wb.copy_worksheet(proto)
            ws.title = _sheet_name(f"{st.rep_id} {st.name}", taken)
            ws.sheet_properties.tabColor = styles.GOOD
            _statement_sheet(ws, st, sl, lang, today)
            _finish_sheet(ws, sl, lang, today, orientation="portrait", one_page=True)
    wb.remove(proto)
    wb.active = 0
    props = wb.properties
    props.creator = props.lastModifiedBy = "xl_addin"
    props.title = _t(lang, f"{sl.region.name}（{sl.code}）区域报表 {period_words(sl.fiscal_year, sl.period, lang)}",
                     f"{sl.region.name} ({sl.code}) regional report {period_words(sl.fiscal_year, sl.period, lang)}")
    props.subject = props.description = props.keywords = props.category = None
    props.created = props.modified = dt.datetime.combine(today, dt.time())
    return wb


# ----------------------------------------------------------------------------- passwords

def password_env(region: str) -> str:
    """``XL_ADDIN_PASSWORD_EAST`` for region ``EAST`` (other characters become ``_``)."""
    return PASSWORD_ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", region).upper()


def region_password(region: str) -> str | None:
    """The region's file password: the environment variable :func:`password_env`, else
    the keyring (service ``xl-addin-regional``, username = region code), else None."""
    from_env = os.environ.get(password_env(region))
    if from_env:
        return from_env
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a declared dependency
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, region) or None
    except (KeyringError, RuntimeError):
        return None


def encrypt_file(src: Path, dst: Path, password: str) -> None:
    """Encrypt an .xlsx with ``password`` (ECMA-376 agile encryption, as Excel does)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    with open(src, "rb") as f, open(dst, "wb") as out:
        OOXMLFile(f).encrypt(password, out)


# ----------------------------------------------------------------------------- manifest

@dataclass(frozen=True)
class RegionalEntry:
    """One written regional file."""

    region: str
    region_name: str
    manager: str
    email: str
    file: str
    sha256: str
    totals: dict[str, str]
    reps: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Manifest:
    """What ``regional`` wrote into a folder, and for which master."""

    fiscal_year: int
    input_sha256: str
    master: str
    period: str
    lang: str
    encrypted: bool
    generated: str
    files: list[RegionalEntry]
    format: int = MANIFEST_FORMAT
    #: SHA-256 of the master file's bytes as read for this run ("" when not known): the
    #: same bytes have the same inputs, so ``email`` need not read the master again
    master_sha256: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        files = [RegionalEntry(**f) for f in data.pop("files")]
        return cls(files=files, **data)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(out_dir: Path) -> Manifest | None:
    """The manifest in ``out_dir``, or None when there is none or it cannot be read."""
    path = Path(out_dir) / MANIFEST_NAME
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (a master's, for :attr:`Manifest.master_sha256`)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files_unchanged(m: Manifest, out_dir: Path) -> bool:
    return all((Path(out_dir) / e.file).is_file() and _sha256(Path(out_dir) / e.file) == e.sha256
               for e in m.files)


def current_manifest(out_dir: Path, fiscal_year: int, input_sha256: str, *,
                     encrypted: bool | None = None) -> Manifest | None:
    """The manifest of ``out_dir`` if it was written for this master (same fiscal year and
    input digest; same encryption when given) and every file it lists is still there
    unchanged; else None."""
    m = read_manifest(out_dir)
    if m is None or m.fiscal_year != fiscal_year or m.input_sha256 != input_sha256:
        return None
    if encrypted is not None and m.encrypted != encrypted:
        return None
    return m if _files_unchanged(m, out_dir) else None


def manifest_of_file(out_dir: Path, master_sha256: str, *,
                     encrypted: bool | None = None) -> Manifest | None:
    """The manifest of ``out_dir`` if it was written from a master file with exactly these
    bytes (:func:`file_sha256`; then its inputs are the same without reading them) and
    every file it lists is still there unchanged; else None (read the master and ask
    :func:`current_manifest`)."""
    m = read_manifest(out_dir)
    if m is None or not m.master_sha256 or m.master_sha256 != master_sha256:
        return None
    if encrypted is not None and m.encrypted != encrypted:
        return None
    return m if _files_unchanged(m, out_dir) else None


def regional_files(manifest: Manifest, out_dir: Path) -> list[RegionalFile]:
    """The manifest's files as the email library's :class:`RegionalFile` records."""
    return [RegionalFile(region=e.region, region_name=e.region_name, manager=e.manager,
                         email=e.email, cc=(), path=Path(out_dir) / e.file,
                         fiscal_year=manifest.fiscal_year, period=manifest.period,
                         totals={k: Decimal(v) for k, v in e.totals.items()})
            for e in manifest.files]


# ----------------------------------------------------------------------------- writing

def _resolve_passwords(regions: Sequence[Region],
                       passwords: Callable[[str], str | None]) -> dict[str, str]:
    found, missing = {}, []
    for r in regions:
        pw = passwords(r.region)
        if pw:
            found[r.region] = pw
        else:
            missing.append(r.region)
    if missing:
        hints = "; ".join(f"{code}: set {password_env(code)} or keyring service "
                          f"{KEYRING_SERVICE!r} username {code!r}" for code in missing)
        raise RegionalError(f"--encrypt: no password for region(s) {', '.join(missing)} ({hints}); "
                            "nothing was written")
    return found


def _write_one(wb: Workbook, path: Path, password: str | None) -> None:
    """Save atomically (with the cells that :mod:`.sheet_xml` keeps); with a password the
    workbook is encrypted in memory, so no plain copy ever touches the disk."""
    check_not_locked(path)
    if password is None:
        write_atomic(path, functools.partial(sheet_xml.save, wb), follow_symlinks=False)
        return
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO()
    sheet_xml.save(wb, plain)
    plain.seek(0)

    def seal(tmp: Path) -> None:
        with open(tmp, "wb") as out:
            OOXMLFile(plain).encrypt(password, out)

    write_atomic(path, seal, follow_symlinks=False)


@dataclass(frozen=True)
class _Run:
    """What every region's file of one run is built from."""

    inputs: PlanInputs
    results: Results
    index: stm.StatementIndex
    period: str
    lang: str
    today: dt.date
    out: Path
    secrets: Mapping[str, str]

    def write(self, region: Region) -> RegionalEntry:
        """Build, save (and encrypt) the region's workbook; its manifest entry."""
        sl = region_slice(self.inputs, self.results, region, self.period, index=self.index)
        wb = build_workbook(sl, lang=self.lang, today=self.today, keep_cells=True)
        path = self.out / file_name(sl.fiscal_year, self.period, region.region, region.name)
        _write_one(wb, path, self.secrets.get(region.region))
        return RegionalEntry(
            region=region.region, region_name=region.name, manager=region.manager,
            email=region.email, file=path.name, sha256=_sha256(path),
            totals={k: str(v) if k == "reps" else str(Decimal(v).quantize(Decimal("0.01")))
                    for k, v in sl.totals().items()},
            reps=[st.rep_id for st in sl.statements])


_WORKER_RUN: _Run | None = None       # the run a worker process writes files of


def _start_worker(run: _Run) -> None:
    global _WORKER_RUN
    _WORKER_RUN = run


def _write_in_worker(region: Region) -> RegionalEntry:
    assert _WORKER_RUN is not None
    return _WORKER_RUN.write(region)


def _write_all(run: _Run, regions: Sequence[Region], workers: int) -> Iterator[RegionalEntry]:
    """Each region's entry, in order, once its file is written. With ``workers`` > 1 (and
    where processes can be forked, so that they share the run without copying it) that
    many processes write files at the same time; a failure stops the files not yet begun."""
    if workers <= 1 or len(regions) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for region in regions:
            yield run.write(region)
        return
    pool = ProcessPoolExecutor(min(workers, len(regions)), multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(run,))
    try:
        yield from pool.map(_write_in_worker, regions)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def write_regional(inputs: PlanInputs, results: Results, out_dir: Path | str, *,
                   input_sha256: str, master_name: str = "", lang: str = "zh",
                   encrypt: bool = False, today: dt.date | None = None,
                   passwords: Callable[[str], str | None] = region_password,
                   progress: Callable[[RegionalEntry], None] | None = None,
                   workers: int = 1, master_sha256: str = "") -> Manifest:
    """Write one workbook per sales region into ``out_dir`` and then its manifest.

    With ``encrypt`` every region needs a password (:func:`region_password`); a missing one
    stops the run before anything is written. Files listed by an earlier manifest in the
    folder that this run does not write again are removed (they belong to another master
    or period). ``progress(entry)`` is called after each file, in region order.
    ``workers`` > 1 writes that many files at a time in forked processes (the files are
    the same; on systems without fork they are written one by one). ``master_sha256`` is
    the :func:`file_sha256` of the master file taken *before* it was read (so that a master
    changed meanwhile never matches), recorded for ``email``."""
    if lang not in ("zh", "en"):
        raise RegionalError(f"unsupported language {lang!r} (use zh or en)")
    regions = sales_regions(inputs)
    if not regions:
        raise RegionalError("the plan has no sales region (tblRegionSplit lists none besides HQ)")
    secrets = _resolve_passwords(regions, passwords) if encrypt else {}
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise RegionalError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    today = today or dt.date.today()
    period = report_period(inputs)
    previous = read_manifest(out)
    entries: list[RegionalEntry] = []
    run = _Run(inputs, results, stm.StatementIndex(inputs, results), period, lang, today, out,
               secrets)
    for entry in _write_all(run, regions, workers):
        entries.append(entry)
        if progress is not None:
            progress(entry)
    if previous is not None:
        keep = {e.file for e in entries}
        for old in previous.files:
            stale = out / old.file
            if old.file not in keep and stale.is_file() and stale.parent == out:
                stale.unlink()
    manifest = Manifest(
        fiscal_year=inputs.settings.fiscal_year, input_sha256=input_sha256, master=master_name,
        period=period, lang=lang, encrypted=encrypt,
        generated=dt.datetime.now().astimezone().isoformat(timespec="seconds"), files=entries,
        master_sha256=master_sha256)
    write_text(out / MANIFEST_NAME, manifest.to_json(), follow_symlinks=False)
    return manifest
