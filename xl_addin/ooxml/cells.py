"""Cell XML: one ``<c>`` element as text, fast.

Every function returns the ``<c>`` element for one cell, given its reference (``"B7"``),
its style index (``s``, an index into the workbook's ``cellXfs``; ``None`` writes no ``s``
attribute) and its value. The text is exactly what openpyxl writes for the same value and
style, so a sheet written partly by openpyxl and partly here reads back the same.

* :func:`text` - an inline string (``t="inlineStr"``), escaped, ``xml:space="preserve"``
  when it starts or ends with white space; control characters that XML 1.0 cannot hold
  raise :class:`CellValueError`, as does text over Excel's 32,767 characters
  (:data:`~.names.MAX_CELL_TEXT`) unless ``truncate=True``.
* :func:`number` - ``int``, ``float`` or ``Decimal`` as ``%.16g``; NaN and infinity raise.
* :func:`blank`, :func:`boolean`, :func:`error` (``#DIV/0!`` ...), :func:`date` (the 1900
  date system's serial number, as openpyxl writes it).
* :func:`formula` - formula text (without ``=``) with an optional stored result
  (:func:`result_value` types it: number, text ``t="str"``, bool ``t="b"``, error ``t="e"``).
* :func:`cell` - any of the above by the value's type (a ``str`` that is an error code is
  an error cell, as in openpyxl; a ``str`` is never taken for a formula).
* :func:`column` - one column of many rows at once: the fast path for a column of plain
  numbers or plain text with one shared style index (the "shared look"), falling back to
  :func:`cell` (or a caller's function) cell by cell for anything else.
* :func:`openpyxl_cell` - what openpyxl writes for an openpyxl ``Cell`` (bridge for callers
  that build a cell's look with openpyxl; registers the style in the workbook).

Stable API (other packages build on it): add, do not change.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any, Callable, Sequence
from xml.sax.saxutils import escape

from .names import ERROR_CODES, MAX_CELL_TEXT

__all__ = ["CellValueError", "text", "number", "blank", "boolean", "error", "date", "formula",
           "cell", "column", "result_value", "openpyxl_cell", "number_text", "escape_text",
           "escape_attr", "FORMULA_PREFIXES"]

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")   # what XML 1.0 cannot hold (openpyxl's set)
_MARKUP = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")
_ERROR_SET = frozenset(ERROR_CODES)
FORMULA_PREFIXES = ("=", "+", "-", "@")   # text Excel would take for a formula if typed in
_FAST_NUMBERS = {int, float, Decimal, type(None)}
_FAST_TEXT = {str, type(None)}
_EPOCH = dt.datetime(1899, 12, 30)
_ATTR = {'"': "&quot;"}


class CellValueError(ValueError):
    """A value no cell can hold (an XML control character, text over 32,767 characters,
    NaN or infinity)."""


def escape_text(value: str) -> str:
    return escape(value)


def escape_attr(value: str) -> str:
    return escape(value, _ATTR)


def _s(style: int | None) -> str:
    return "" if style is None else f' s="{style}"'


def number_text(value: int | float | Decimal) -> str:
    """A number as openpyxl writes it (``%.16g``)."""
    return "%.16g" % value


def text(ref: str, style: int | None, value: str, *, truncate: bool = False) -> str:
    """An inline-string cell."""
    if len(value) > MAX_CELL_TEXT:
        if not truncate:
            raise CellValueError(f"cell {ref}: text of {len(value):,} characters, over Excel's "
                                 f"limit of {MAX_CELL_TEXT:,}")
        value = value[:MAX_CELL_TEXT]
    if _ILLEGAL.search(value):
        raise CellValueError(f"cell {ref}: text with a control character that a workbook "
                             f"cannot hold: {value[:60]!r}")
    if not value:
        return f'<c r="{ref}"{_s(style)} t="inlineStr"/>'
    stripped = value.strip()
    space = ' xml:space="preserve"' if stripped and stripped != value else ""
    return f'<c r="{ref}"{_s(style)} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'


def number(ref: str, style: int | None, value: int | float | Decimal) -> str:
    if type(value) is not int and not math.isfinite(value):
        raise CellValueError(f"cell {ref}: {value} is not a finite number")
    return f'<c r="{ref}"{_s(style)} t="n"><v>{"%.16g" % value}</v></c>'


def blank(ref: str, style: int | None) -> str:
    return f'<c r="{ref}"{_s(style)} t="n"/>'


def boolean(ref: str, style: int | None, value: bool) -> str:
    return f'<c r="{ref}"{_s(style)} t="b"><v>{1 if value else 0}</v></c>'


def error(ref: str, style: int | None, code: str) -> str:
    if code not in _ERROR_SET:
        raise CellValueError(f"cell {ref}: {code!r} is not an Excel error value")
    return f'<c r="{ref}"{_s(style)} t="e"><v>{code}</v></c>'


def _serial(value: dt.date | dt.datetime | dt.time | dt.timedelta) -> float | int:
    """The 1900 date system's serial number (openpyxl's ``to_excel``)."""
    if isinstance(value, dt.timedelta):
        return value.days + (value.seconds + value.microseconds / 1e6) / 86400
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second
                + value.microsecond / 1e6) / 86400
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    days = (value - _EPOCH).days
    if 0 < days <= 60:   # Excel's 29 February 1900
        days -= 1
    t = value.time()
    frac = (t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6) / 86400
    return days + frac


def date(ref: str, style: int | None, value: dt.date | dt.datetime | dt.time | dt.timedelta) -> str:
    """A date, time or duration as its serial number (``t="n"``); ``style`` should carry a
    date number format."""
    return f'<c r="{ref}"{_s(style)} t="n"><v>{"%.16g" % _serial(value)}</v></c>'


def result_value(value: Any) -> tuple[str | None, str]:
    """The ``t`` attribute (None for a number) and ``<v>`` text of a formula's stored result.

    Numbers (int, float, exact Decimal) become the nearest double, written as Excel does
    (``12`` rather than ``12.0``); text ``t="str"``; booleans ``t="b"``; Excel error values
    ``t="e"``; dates their serial number."""
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, str):
        return ("e", value) if value in _ERROR_SET else ("str", value)
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return None, _result_number(_serial(value))
    if isinstance(value, (int, float, Decimal)):
        return None, _result_number(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return result_value(value.item())
    raise TypeError(f"cannot store {value!r} ({type(value).__name__}) as a formula result")


def _result_number(value: int | float | Decimal) -> str:
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"not a finite number: {value!r}")
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def formula(ref: str, style: int | None, text_: str, result: Any = None) -> str:
    """A formula cell (``text_`` without the leading ``=``) with its stored result, or an
    empty ``<v/>`` (as openpyxl writes it) when ``result`` is None."""
    f = escape(text_[1:] if text_.startswith("=") else text_)
    if result is None:
        return f'<c r="{ref}"{_s(style)}><f>{f}</f><v/></c>'
    t, v = result_value(result)
    kind = "" if t is None else f' t="{t}"'
    return f'<c r="{ref}"{_s(style)}{kind}><f>{f}</f><v>{escape(v)}</v></c>'


def cell(ref: str, style: int | None, value: Any) -> str:
    """Any value by its type: None blank, bool, number, date/time, text (an error code as
    an error cell). Text is never a formula: use :func:`formula`."""
    t = type(value)
    if t is str:
        return error(ref, style, value) if value in _ERROR_SET else text(ref, style, value)
    if value is None:
        return blank(ref, style)
    if t is bool:
        return boolean(ref, style, value)
    if t is int or t is float or t is Decimal:
        return number(ref, style, value)
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return date(ref, style, value)
    if isinstance(value, (int, float, Decimal)):
        return number(ref, style, value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return cell(ref, style, value.item())
    raise CellValueError(f"cell {ref}: cannot write {value!r} ({t.__name__})")


def _finite(col: Sequence[Any], kinds: set[type]) -> bool:
    if Decimal in kinds and not all(v.is_finite() for v in col if type(v) is Decimal):
        return False
    if float in kinds and not all(math.isfinite(v) for v in col if type(v) is float):
        return False
    return True


def column(letter: str, style: int | None, rows: Sequence[str], values: Sequence[Any],
           other: Callable[[str, Any], str] | None = None) -> list[str]:
    """The cells of one column: ``values[k]`` in row ``rows[k]`` (row numbers as text), all
    with style index ``style``. None is a blank cell with the style. A column of plain
    numbers, or of plain text (no markup, no leading/trailing space, no formula-looking
    or error-code text, within the cell limit), is written in one go; otherwise each cell
    goes through ``other(ref, value)`` (default :func:`cell` with ``style``)."""
    s = _s(style)
    empty = f'{s} t="n"/>'
    kinds = set(map(type, values))
    if kinds <= _FAST_NUMBERS and _finite(values, kinds):
        return [f'<c r="{letter}{rn}"{empty}' if v is None else
                f'<c r="{letter}{rn}"{s} t="n"><v>{"%.16g" % v}</v></c>'
                for rn, v in zip(rows, values)]
    if kinds <= _FAST_TEXT:
        texts = [v for v in values if v is not None]
        joined = "\x20".join(texts)
        if not (_MARKUP.search(joined) or _ERROR_SET.intersection(texts) or any(
                len(v) > MAX_CELL_TEXT or v[:1] in FORMULA_PREFIXES or v.strip() != v or not v
                for v in texts)):
            return [f'<c r="{letter}{rn}"{empty}' if v is None else
                    f'<c r="{letter}{rn}"{s} t="inlineStr"><is><t>{v}</t></is></c>'
                    for rn, v in zip(rows, values)]
    if other is None:
        return [cell(letter + rn, style, v) for rn, v in zip(rows, values)]
    return [other(letter + rn, v) for rn, v in zip(rows, values)]


def openpyxl_cell(wb, c, ref: str, *, truncate: bool = True) -> str:
    """What openpyxl writes for the openpyxl cell ``c`` (any value type) at ``ref``; its
    style is registered in ``wb``'s style table."""
    sid = wb._cell_styles.add(c._style)
    kind, value = c.data_type, c._value
    if kind == "s":
        return text(ref, sid, value, truncate=truncate)
    if kind == "d":
        from openpyxl.utils.datetime import to_excel, to_ISO8601

        if wb.iso_dates and not isinstance(value, dt.timedelta):
            kind, value = "d", to_ISO8601(value)
        else:
            kind, value = "n", to_excel(value, wb.epoch)
    if value is None or value == "":
        return f'<c r="{ref}" s="{sid}" t="{kind}"/>'
    from openpyxl.compat import safe_string

    v = safe_string(value)
    return f'<c r="{ref}" s="{sid}" t="{kind}"><v>{escape(v)}</v></c>'
