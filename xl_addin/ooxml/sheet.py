"""Worksheet and table XML: ranges, the ``<dimension>``, a table's ``ref`` and autoFilter,
the rows of ``<sheetData>``, stored formula results.

All functions work on the part's bytes and change only what they are asked to; the rest
of the part stays byte for byte.

* :func:`parse_range` - ``"A1:D40"`` as (min_col, min_row, max_col, max_row), checked
  against Excel's sheet bounds (a reversed or out-of-bounds range raises
  :class:`RangeError`); :func:`range_ref` the other way; :func:`column_letter`.
* :func:`dimension` / :func:`set_dimension` / :func:`widen_dimension` - the sheet's used
  range.
* :func:`table_ref` / :func:`set_table_ref` - a table part's ``ref`` and its autoFilter's.
* :func:`rows_span` - the byte range of the rows numbered ``first_row`` and below.
* :func:`row_open` - a ``<row>`` start tag with openpyxl's row attributes.
* :func:`store_results` - formula cells given their stored results;
  :func:`clear_results` - every stored result dropped (as openpyxl saves formulas).

Stable API: add, do not change.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping
from xml.sax.saxutils import escape

from .cells import result_value
from .names import MAX_COLS, MAX_ROWS

__all__ = ["RangeError", "parse_range", "range_ref", "column_letter", "column_index",
           "dimension", "set_dimension", "widen_dimension", "table_ref", "set_table_ref",
           "rows_span", "row_open", "store_results", "clear_results", "SheetXmlError"]

_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_DIM = re.compile(rb'<dimension\s+ref="([^"]*)"\s*/>')
_ROW_TAG = re.compile(rb"<row\b([^>]*)>")
_R_ATTR = re.compile(rb'\sr="(\d+)"')
_TABLE_TAG = re.compile(rb"<(?:\w+:)?table\b[^>]*>")
_AUTOFILTER_TAG = re.compile(rb"<(?:\w+:)?autoFilter\b[^>]*>")
_REF_ATTR = re.compile(rb'(\sref=")([^"]*)(")')
_LETTERS: dict[int, str] = {}


class RangeError(ValueError):
    """A cell range that is not one: not A1:B2 form, reversed, or outside the sheet."""


class SheetXmlError(ValueError):
    """Sheet XML in a form this layer does not handle (the caller falls back or refuses)."""


def column_letter(col: int) -> str:
    """1 -> "A", 28 -> "AB"."""
    s = _LETTERS.get(col)
    if s is None:
        if not 1 <= col <= MAX_COLS:
            raise RangeError(f"column {col} is outside the sheet (1 to {MAX_COLS})")
        n, out = col, ""
        while n:
            n, r = divmod(n - 1, 26)
            out = chr(65 + r) + out
        s = _LETTERS[col] = out
    return s


def column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _cell(ref: str, whole: str) -> tuple[int, int]:
    m = _REF.match(ref)
    if not m:
        raise RangeError(f"{whole!r} is not a cell range (expected the form A1:D40)")
    col, row = column_index(m.group(1)), int(m.group(2))
    if not (1 <= col <= MAX_COLS and 1 <= row <= MAX_ROWS):
        raise RangeError(f"{whole!r} is outside the sheet (columns A to XFD, rows 1 to {MAX_ROWS:,})")
    return col, row


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """(min_col, min_row, max_col, max_row) of ``"A1:D40"`` (or a single cell ``"B2"``)."""
    if not isinstance(ref, str) or not ref:
        raise RangeError(f"{ref!r} is not a cell range (expected the form A1:D40)")
    first, sep, last = ref.partition(":")
    c1, r1 = _cell(first, ref)
    c2, r2 = _cell(last, ref) if sep else (c1, r1)
    if c2 < c1 or r2 < r1:
        raise RangeError(f"{ref!r} is reversed (its end comes before its start)")
    return c1, r1, c2, r2


def range_ref(bounds: tuple[int, int, int, int]) -> str:
    c1, r1, c2, r2 = bounds
    return f"{column_letter(c1)}{r1}:{column_letter(c2)}{r2}"


# ----------------------------------------------------------------------------- dimension

def dimension(xml: bytes) -> tuple[int, int, int, int] | None:
    """The sheet's ``<dimension>`` as bounds (None when absent or a single cell / odd)."""
    m = _DIM.search(xml, 0, _head_end(xml))
    if not m or b":" not in m.group(1):
        return None
    try:
        return parse_range(m.group(1).decode())
    except RangeError:
        return None


def _head_end(xml: bytes) -> int:
    i = xml.find(b"<sheetData")
    return len(xml) if i < 0 else i


def set_dimension(xml: bytes, bounds: tuple[int, int, int, int]) -> bytes:
    """``xml`` with its ``<dimension ref>`` set to ``bounds`` (unchanged when it has none)."""
    m = _DIM.search(xml, 0, _head_end(xml))
    if not m:
        return xml
    return xml[:m.start(1)] + range_ref(bounds).encode() + xml[m.end(1):]


def widen_dimension(xml: bytes, extent: tuple[int, int, int, int] | None) -> bytes:
    """``xml`` (a sheet, or its head up to the rows) whose ``<dimension>`` also covers
    ``extent`` (min_col, min_row, max_col, max_row)."""
    m = _DIM.search(xml, 0, _head_end(xml))
    if not m or not extent:
        return xml
    b = extent
    if b":" in m.group(1):
        try:
            a = parse_range(m.group(1).decode())
            b = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
        except RangeError:
            pass
    return xml[:m.start(1)] + range_ref(b).encode() + xml[m.end(1):]


# ----------------------------------------------------------------------------- tables

def table_ref(xml: bytes) -> str:
    """A table part's ``ref`` attribute (unchecked text)."""
    m = _TABLE_TAG.search(xml)
    r = _REF_ATTR.search(m.group(0)) if m else None
    return r.group(2).decode() if r else ""


def set_table_ref(xml: bytes, ref: str) -> bytes:
    """A table part with its ``ref`` and its autoFilter's ``ref`` set to ``ref`` (an
    autoFilter is added when the table has none, as Excel and openpyxl write one)."""
    parse_range(ref)
    m = _TABLE_TAG.search(xml)
    if m is None:
        raise SheetXmlError("no <table> element")
    tag = _REF_ATTR.sub(lambda r: r.group(1) + ref.encode() + r.group(3), m.group(0), count=1)
    xml = xml[:m.start()] + tag + xml[m.end():]
    f = _AUTOFILTER_TAG.search(xml, m.start() + len(tag))
    if f is not None:
        ftag = _REF_ATTR.sub(lambda r: r.group(1) + ref.encode() + r.group(3), f.group(0), count=1)
        return xml[:f.start()] + ftag + xml[f.end():]
    if tag.endswith(b"/>"):
        return xml
    prefix = tag[1:tag.index(b"table")]
    end = m.start() + len(tag)
    return xml[:end] + b"<" + prefix + b'autoFilter ref="' + ref.encode() + b'"/>' + xml[end:]


# ----------------------------------------------------------------------------- rows

def rows_span(xml: bytes, first_row: int) -> tuple[int, int]:
    """(start, end): the byte range of the rows numbered ``first_row`` and below, within
    ``<sheetData>``. Raises :class:`SheetXmlError` when a row before them has no number or
    there is no plain ``<sheetData>``."""
    start, end = xml.find(b"<sheetData>"), xml.rfind(b"</sheetData>")
    if start < 0 or end < start:
        raise SheetXmlError("no plain <sheetData> element")
    start += len(b"<sheetData>")
    for m in _ROW_TAG.finditer(xml, start, end):
        r = _R_ATTR.search(m.group(1))
        if r is None:
            raise SheetXmlError("a row without its number")
        if int(r.group(1)) >= first_row:
            return m.start(), end
    return end, end


def row_open(row: int | str, attrs: Iterable[tuple[str, str]] = ()) -> str:
    """``<row r="7" ...>`` with the given attributes (openpyxl's ``row_dimensions[r]``
    iterates as such pairs)."""
    extra = "".join(f' {k}="{escape(v, {chr(34): "&quot;"})}"' for k, v in attrs)
    return f'<row r="{row}"{extra}>'


# ----------------------------------------------------------------------------- results

_CELL = r'<c\b(?=[^>]*\sr="{addr}")[^>]*?(?<!/)>(.*?)</c>'


def _patch_cell(xml: str, addr: str, t: str | None, text: str) -> tuple[str, bool]:
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


def store_results(xml: bytes, results: Mapping[str, Any]) -> tuple[bytes, list[str]]:
    """Sheet XML whose formula cells named in ``results`` ("E40" -> value) carry that
    stored result (``<v>``, with ``t="str"``/``"b"``/``"e"`` as the value needs); every
    other byte stays. Returns (xml, the addresses that hold no formula)."""
    if not results:
        return xml, []
    s = xml.decode("utf-8")
    missing = []
    for addr, value in results.items():
        t, text = result_value(value)
        s, found = _patch_cell(s, addr.replace("$", "").upper(), t, text)
        if not found:
            missing.append(addr)
    return s.encode("utf-8"), missing


_FORMULA_CELL = re.compile(rb'<c\b([^>]*?)>(<f\b[^>]*?(?:/>|>.*?</f>))(?:<v\s*/>|<v>.*?</v>)?(</c>)', re.S)
_T_ATTR = re.compile(rb'\st="[^"]*"')


def clear_results(xml: bytes) -> tuple[bytes, int]:
    """Sheet XML whose formula cells keep their formulas but no stored result (an empty
    ``<v/>``, as openpyxl writes them), for results that may no longer hold; (xml, the
    number of formula cells)."""
    n = 0

    def clear(m: re.Match) -> bytes:
        nonlocal n
        n += 1
        return b"<c" + _T_ATTR.sub(b"", m.group(1)) + b">" + m.group(2) + b"<v/>" + m.group(3)

    if b"<f" not in xml:
        return xml, 0
    return _FORMULA_CELL.sub(clear, xml), n
