"""Call ``@xw.func`` custom functions the way Excel's custom-functions runtime does.

In Excel (xlwings Server / xlwings Lite) a formula such as ``=TOTAL(A1:B3, 2)`` makes
the add-in's JavaScript POST this body to ``/xlwings/custom-functions-call``::

    {"client": "Office.js",
     "func_name": "total",                        # the *Python* function name
     "args": [[[1, 2], [3, None]], [[2]]],        # one entry per parameter
     "caller_address": "[Book1.xlsx]Sheet1!C1",
     "culture_info_name": "zh-CN", "date_format": "yyyy/M/d",
     "version": "0.37.8", "runtime": "1.4"}

and the server answers ``{"result": await xlwings.server.custom_functions_call(data,
module)}``.  Every parameter is registered with ``dimensionality: "matrix"`` (except
string enums), so Excel sends **every argument as a 2-D list**: a scalar ``5`` arrives
as ``[[5]]``, a range as a list of rows, an empty cell inside a range as ``null``
(``None``), an omitted optional argument as ``null``, a date cell as its serial number
(custom functions never see date formats), an error cell as
``{"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}``, and a
repeating (``*args``) parameter as a list of such matrices.  The result always comes back as
a 2-D list (Excel spills anything larger than 1x1); with runtime 1.4 errors come back
as ``{"type": "Error", ...}`` dicts and dates as serial numbers (or
``FormattedNumber`` dicts when a date format is known).

If the function raises, ``custom_functions_call`` raises and the server answers with
an HTTP error; the client may retry (older xlwings Server: up to 5 attempts on any
error -- beware of side effects; newer: only for configured status codes) and then
throws ``CustomFunctions.Error(invalidValue, message)``: the cell shows ``#VALUE!``
with the message only visible on hovering the error flag.  :func:`udf_cell`
reproduces that view.  An error *value* returned on purpose (``"#N/A"``) is sent as
``{"type": "Error", "errorType": "NotAvailable"}`` and shows as ``#N/A``.

This module needs ``XLWINGS_ON_SERVER=true`` when the UDF module is imported (otherwise
``@xw.func`` is a no-op on Linux and the function has no ``__xlfunc__``); use
:func:`load_udf_module` to import (or re-import) it correctly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import json
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tests.support import enable_xlwings_server_mode

__all__ = [
    "UdfCell",
    "call_udf",
    "excel_error",
    "load_udf_module",
    "to_client_arg",
    "udf_cell",
    "udf_request",
]

_EPOCH = dt.datetime(1899, 12, 30)
_ERROR_TYPES = {
    "#DIV/0!": "Div0",
    "#N/A": "NotAvailable",
    "#NAME?": "Name",
    "#NULL!": "Null",
    "#NUM!": "Num",
    "#REF!": "Ref",
    "#VALUE!": "Value",
}


def excel_error(code: str) -> dict[str, str]:
    """An error cell as a custom-function argument, e.g. ``excel_error("#N/A")``."""
    return {"type": "Error", "basicValue": code, "errorType": _ERROR_TYPES[code]}


def load_udf_module(name: str) -> ModuleType:
    """Import the UDF module ``name`` with server-mode decorators.

    Re-imports it if it was imported before ``XLWINGS_ON_SERVER`` took effect (its
    functions then lack ``__xlfunc__``).
    """
    enable_xlwings_server_mode()
    module = importlib.import_module(name)
    if not any(hasattr(obj, "__xlfunc__") for obj in vars(module).values()):
        module = importlib.reload(sys.modules[name])
    return module


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (value - _EPOCH).total_seconds() / 86400
    if isinstance(value, dt.date):
        return float((dt.datetime(value.year, value.month, value.day) - _EPOCH).days)
    if isinstance(value, float) and value.is_integer():
        return int(value)  # JSON has one number type
    return value


def to_client_arg(value: Any) -> Any:
    """One Python test argument -> what Excel sends for that parameter.

    * scalar (number, str, bool, date, ``excel_error(...)``) -> ``[[value]]``
    * ``None`` -> ``None`` (omitted argument)
    * 1-D list/tuple -> one row ``[[...]]`` (a horizontal range such as A1:C1)
    * 2-D list -> as is (a range); ``None`` inside stays ``None`` (empty cell)
    * pandas DataFrame -> header row + rows (the range including its header)
    """
    if value is None:
        return None
    try:
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            rows = [list(value.columns)] + value.astype(object).values.tolist()
            return [[_cell(None if pd.isna(v) else v) for v in row] for row in rows]
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(row, (list, tuple)) for row in value):
            return [[_cell(v) for v in row] for row in value]
        return [[_cell(v) for v in value]]
    return [[_cell(value)]]


def udf_request(
    module: ModuleType,
    func_name: str,
    *args: Any,
    caller_address: str = "Sheet1!A1",
    book_name: str = "Book1.xlsx",
    runtime: str = "1.4",
    culture_info_name: str = "zh-CN",
    date_format: str | None = "yyyy/M/d",
) -> dict[str, Any]:
    """The JSON body the custom-functions runtime POSTs for ``=FUNC(args...)``.

    ``date_format``/``culture_info_name`` are Excel's short-date pattern and culture
    (the zh-CN defaults here); with ``date_format=None`` returned dates are plain
    serial numbers, otherwise ``FormattedNumber`` dicts (runtime >= 1.4).
    """
    func = getattr(module, func_name)
    info = func.__xlfunc__
    params = info["args"]
    vararg = params[-1]["vararg"] if params else False
    fixed = len(params) - 1 if vararg else len(params)
    client_args = [to_client_arg(arg) for arg in args[:fixed]]
    client_args += [None] * (fixed - len(client_args))  # omitted optional args
    if vararg:
        client_args.append([to_client_arg(arg) for arg in args[fixed:]] or [None])
    import xlwings

    body: dict[str, Any] = {
        "client": "Office.js",
        "func_name": func_name,
        "args": client_args,
        "caller_address": f"[{book_name}]{caller_address}",
        "culture_info_name": culture_info_name,
        "date_format": date_format,
        "version": xlwings.__version__,
        "runtime": runtime,
    }
    return body


def call_udf(
    module: ModuleType,
    func_name: str,
    *args: Any,
    caller_address: str = "Sheet1!A1",
    runtime: str = "1.4",
    date_format: str | None = "yyyy/M/d",
    typehint_to_value: dict[Any, Any] | None = None,
) -> Any:
    """Call ``module.func_name`` through ``xlwings.server.custom_functions_call``.

    Returns exactly what xlwings returns to Excel (normally a 2-D list).  Exceptions
    raised by the function propagate unchanged (see :func:`udf_cell` for what the
    cell then shows).  A ``caller: xw.Caller`` parameter receives the calling cell.
    """
    enable_xlwings_server_mode()
    import xlwings.server as server

    data = udf_request(
        module,
        func_name,
        *args,
        caller_address=caller_address,
        runtime=runtime,
        date_format=date_format,
    )
    data = json.loads(json.dumps(data))  # what actually crosses HTTP
    injected = {server.Caller: server.caller_from_address(data["caller_address"])}
    injected.update(typehint_to_value or {})
    return asyncio.run(
        server.custom_functions_call(data, module, typehint_to_value=injected)
    )


@dataclass(frozen=True)
class UdfCell:
    """What the calling cell shows: a (spilled) 2-D result or an error with a tooltip."""

    values: list[list[Any]] | None
    error: str | None = None
    message: str | None = None

    @property
    def value(self) -> Any:
        """The top-left (calling) cell's value, or the error code."""
        if self.error:
            return self.error
        assert self.values is not None
        return self.values[0][0]


def udf_cell(module: ModuleType, func_name: str, *args: Any, **kwargs: Any) -> UdfCell:
    """Like :func:`call_udf` but returns what Excel displays, also when the UDF raises."""
    try:
        result = call_udf(module, func_name, *args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the cell shows any exception
        return UdfCell(values=None, error="#VALUE!", message=f"{type(exc).__name__}: {exc}")
    codes = {error_type: code for code, error_type in _ERROR_TYPES.items()}
    values = [[_display(v, codes) for v in row] for row in result]
    return UdfCell(values=values)


def _display(value: Any, codes: dict[str, str]) -> Any:
    """A returned element as the cell shows it (error dicts -> "#N/A" etc.)."""
    if isinstance(value, dict):
        if value.get("type") == "Error":
            return value.get("basicValue") or codes.get(value.get("errorType", ""), "#VALUE!")
        if value.get("type") == "FormattedNumber":
            return value["basicValue"]
    return value
