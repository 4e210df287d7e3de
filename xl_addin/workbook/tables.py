"""Excel tables (ListObjects) with openpyxl: create, find, fill, read.

Every command that touches the master workbook goes through these four functions, so a
table always looks the same and grows or shrinks the same way:

* :func:`find_table` - a table by name, on whichever sheet it sits;
* :func:`add_table` - a new table with localised headers, styled rows and an autofilter;
* :func:`write_rows` - replace a table's data rows and resize it;
* :func:`read_rows` - header texts and data rows as plain cell values.

Columns are matched by label (either language) or key, so a user may reorder the columns
of a table and :func:`write_rows` still puts every value under the right header. Text that
looks like a formula (``=1+1``, ``+86 138...``, ``-5``, ``@x``) is stored as text, never
evaluated: a value in a table is data.
"""
from __future__ import annotations

import datetime as dt
import math
from copy import copy
from decimal import Decimal
from typing import Any, Mapping, Sequence

from openpyxl.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string, column_index_from_string, range_boundaries
from openpyxl.workbook import Workbook
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from . import schema, styles
from ..errors import InputError, Problem, Problems
from .parse import RawTable, map_columns, norm_label

FORMULA_PREFIXES = ("=", "+", "-", "@")

Row = Sequence[Any] | Mapping[str, Any]


# ----------------------------------------------------------------------------- finding

def find_table(wb: Workbook, name: str) -> tuple[Worksheet, Table]:
    """The sheet holding table ``name`` and the table itself (Excel table names ignore
    case). Raises ``KeyError`` when no sheet has it."""
    for ws in wb.worksheets:
        if name in ws.tables:
            return ws, ws.tables[name]
    folded = name.casefold()
    for ws in wb.worksheets:
        for table in ws.tables.values():  # (TableList.items() yields refs, not tables)
            if folded in (str(table.name).casefold(), str(table.displayName).casefold()):
                return ws, table
    raise KeyError(f"table {name!r} not found in the workbook")


def column_positions(ws: Worksheet, table: Table, spec: schema.Table) -> list[int | None]:
    """For each column of ``table`` (left to right), the index of its contract column in
    ``spec.columns`` (matched by key, Chinese or English label), or None for a column the
    contract does not know. Raises :class:`~xl_addin.errors.InputError` naming each
    contract column not found, with the header cell that looks most like it ("did you
    mean ...?"), before anything is written."""
    min_col, min_row, max_col, _ = range_boundaries(table.ref)
    lookup: dict[str, int] = {}
    for i, col in enumerate(spec.columns):
        for name in (col.key, col.zh, col.en):
            lookup.setdefault(norm_label(name), i)
    positions: list[int | None] = []
    for c in range(min_col, max_col + 1):
        i = lookup.get(norm_label(ws.cell(min_row, c).value))
        positions.append(i if i not in positions else None)
    missing = [col for i, col in enumerate(spec.columns) if i not in positions]
    if missing:
        header = ["" if ws.cell(min_row, c).value is None else str(ws.cell(min_row, c).value)
                  for c in range(min_col, max_col + 1)]
        raw = RawTable(spec.name, ws.title, header, [], (min_row, min_col))
        problems = Problems()
        map_columns(raw, spec, problems, strict=True)
        raise InputError(problems.items or [Problem(
            spec.name, None, c.key, f"column {c.key!r} ({c.zh} / {c.en}) is missing",
            sheet=ws.title) for c in missing])
    return positions


# ----------------------------------------------------------------------------- values

def cell_value(value: Any) -> Any:
    """A Python value as a cell can hold it: NaN, NaT and pandas NA become None (an empty
    cell); numpy scalars become Python numbers; a pandas Timestamp a datetime."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:  # the common cases, at once
        return value
    if t is Decimal:
        return value if value.is_finite() else None
    if isinstance(value, dt.datetime) and hasattr(value, "to_pydatetime"):  # pandas
        return None if value != value else value.to_pydatetime()           # NaT / Timestamp
    if isinstance(value, (str, bool, int, dt.date)):
        return value
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return cell_value(value.item())
    try:
        if value != value:  # pandas NA/NaT and other "missing" markers
            return None
    except (TypeError, ValueError):
        return None
    return value


def looks_like_formula(value: Any) -> bool:
    """Text that a spreadsheet would take for a formula if it were typed in."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def set_value(cell: Cell, value: Any) -> None:
    """Store ``value`` in ``cell``; text starting with ``=``, ``+``, ``-`` or ``@`` stays text
    (openpyxl would take ``=...`` for a formula) and gets Excel's quote prefix, so editing
    the cell in Excel keeps it text too."""
    value = cell_value(value)
    cell.value = value
    quoted = looks_like_formula(value)
    if quoted:
        cell.data_type = "s"
    if bool(cell.quotePrefix) != quoted:
        cell.quotePrefix = quoted


# ----------------------------------------------------------------------------- writing

def _origin(top_left: str) -> tuple[int, int]:
    letters, row = coordinate_from_string(top_left)
    return row, column_index_from_string(letters)


def _ref(row: int, col: int, n_rows: int, n_cols: int) -> str:
    return f"{get_column_letter(col)}{row}:{get_column_letter(col + n_cols - 1)}{row + n_rows}"


def _row_values(row: Row, spec: schema.Table) -> list[Any]:
    if isinstance(row, Mapping):
        return [row.get(c.key) for c in spec.columns]
    values = list(row)
    if len(values) != len(spec.columns):
        raise ValueError(f"{spec.name}: a row has {len(values)} values, the table has "
                         f"{len(spec.columns)} columns ({', '.join(spec.keys)})")
    return values


def _write_data(ws: Worksheet, first_row: int, first_col: int, positions: Sequence[int | None],
                spec: schema.Table, rows: Sequence[Row], lang: str) -> int:
    """Write rows (at least one, blank when ``rows`` is empty) under a header; returns the
    number of data rows written."""
    kinds = [spec.columns[i].kind if i is not None else schema.TEXT for i in positions]
    looks = [styles.data_look(k, spec.direction, lang) for k in kinds]
    styled: dict[tuple[int, str], Cell] = {}  # (column, format) -> a cell with that look
    data = [_row_values(r, spec) for r in rows] or [[None] * len(spec.columns)]
    for r, values in enumerate(data):
        for j, i in enumerate(positions):
            cell = ws.cell(first_row + r, first_col + j)
            value = cell_value(values[i] if i is not None else None)
            fmt = styles.value_number_format(kinds[j], lang, value, spec.direction)
            model = styled.get((j, fmt))
            if model is None:
                looks[j].apply(cell, fmt)
                styled[(j, fmt)] = cell
            else:
                # Copying the style array is openpyxl's own way of copying a look, and ~10x
                # faster than assigning font, fill, border, alignment and format one by one.
                cell._style = copy(model._style)
            set_value(cell, value)
    return len(data)


def _clear(ws: Worksheet, rows: range, cols: range) -> None:
    """Empty cells and give them back the sheet's default look."""
    for r in rows:
        for c in cols:
            cell = ws.cell(r, c)
            cell.value = None
            cell.style = "Normal"


def _check_room(ws: Worksheet, table: Table, new_ref: str) -> None:
    """Refuse to grow a table into another table on the same sheet."""
    a = range_boundaries(new_ref)
    for other in ws.tables.values():
        if other is table:
            continue
        b = range_boundaries(other.ref)
        if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
            raise ValueError(f"table {table.displayName} would overlap table "
                             f"{other.displayName} ({other.ref}) on sheet {ws.title!r}")


def add_table(ws: Worksheet, spec: schema.Table, top_left: str, lang: str,
              rows: Sequence[Row] = ()) -> Table:
    """Create table ``spec.name`` with its header at ``top_left``.

    Writes the localised header labels, the data rows (one blank row when there are none:
    a table needs a data row), number formats by column kind, the input/output look and
    column widths, then registers the Excel table with a style and an autofilter."""
    row, col = _origin(top_left)
    header = styles.header_look(spec.direction, lang)
    for j, column in enumerate(spec.columns):
        cell = ws.cell(row, col + j, column.label(lang))
        header.apply(cell)
        if column.width:
            ws.column_dimensions[get_column_letter(col + j)].width = column.width
    n = _write_data(ws, row + 1, col, range(len(spec.columns)), spec, rows, lang)
    return place_table(ws, spec, row, col, n, lang)


def place_table(ws: Worksheet, spec: schema.Table, row: int, col: int, n_rows: int,
                lang: str) -> Table:
    """The Excel table of ``spec`` with its header at (``row``, ``col``) and ``n_rows``
    data rows, in the house style, added to ``ws`` once the sheet has room for it."""
    ref = _ref(row, col, n_rows, len(spec.columns))
    table = Table(displayName=spec.name, name=spec.name, ref=ref,
                  autoFilter=AutoFilter(ref=ref),
                  tableColumns=[TableColumn(id=j + 1, name=c.label(lang))
                                for j, c in enumerate(spec.columns)],
                  tableStyleInfo=TableStyleInfo(name=styles.TABLE_STYLES[spec.direction],
                                                showRowStripes=False, showColumnStripes=False,
                                                showFirstColumn=False, showLastColumn=False))
    _check_room(ws, table, ref)
    ws.add_table(table)
    return table


def table_origin(top_left: str) -> tuple[int, int]:
    """(row, column) of a table's top-left cell given as "A4"."""
    return _origin(top_left)


def write_rows(ws: Worksheet, table: Table, spec: schema.Table, rows: Sequence[Row],
               lang: str) -> None:
    """Replace the data rows of ``table`` with ``rows`` (each a sequence in contract key
    order, or a mapping by key).

    Values go under their header wherever the user moved the column; a column the
    contract does not know is emptied. Rows no longer used are cleared (value and look),
    ``table.ref`` and its autofilter shrink or grow to header + max(1, len(rows)) rows.
    Nothing outside the table's columns is touched."""
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    positions = column_positions(ws, table, spec)
    new_ref = _ref(min_row, min_col, max(1, len(rows)), max_col - min_col + 1)
    _check_room(ws, table, new_ref)
    n = _write_data(ws, min_row + 1, min_col, positions, spec, rows, lang)
    _clear(ws, range(min_row + 1 + n, max_row + 1), range(min_col, max_col + 1))
    table.ref = new_ref
    if table.autoFilter is None:
        table.autoFilter = AutoFilter(ref=new_ref)
    else:
        table.autoFilter.ref = new_ref


# ----------------------------------------------------------------------------- reading

def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_rows(ws: Worksheet, table: Table) -> tuple[list[str], list[tuple]]:
    """The header texts and the data rows (cell values, left to right) of ``table``;
    fully blank rows at the end are left out."""
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    cells = list(ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col,
                              max_col=max_col, values_only=True))
    header = ["" if v is None else str(v) for v in cells[0]] if cells else []
    rows = [tuple(r) for r in cells[1:]]
    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    return header, rows
