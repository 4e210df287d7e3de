"""Toy custom functions used by tests/test_harness_xlwings.py to pin down xlwings' UDF
calling convention (import with ``tests.support.xlwings_udfs.load_udf_module``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import xlwings as xw
from xlwings.server import Caller


@xw.func
def add_tax(amount: float, rate: float = 0.13) -> float:
    """Scalar in, scalar out; ``rate`` is optional."""
    return round(amount * (1 + rate), 2)


@xw.func
def times_table(n):
    """A 2-D dynamic array (spills n x n)."""
    n = int(n)
    return [[(i + 1) * (j + 1) for j in range(n)] for i in range(n)]


@xw.func
@xw.arg("rows", ndim=2)
@xw.ret(expand="table")
def row_sums(rows):
    """``ndim=2`` keeps a single cell or a single row 2-D; returns one sum per row."""
    return [[sum(v for v in row if isinstance(v, (int, float)))] for row in rows]


@xw.func
@xw.arg("count", numbers=int)
def describe(count, label="件"):
    """``numbers=int`` converts the incoming float; shows what Python received."""
    return f"{type(count).__name__}:{count}{label}"


@xw.func
@xw.arg("df", pd.DataFrame, index=False)
@xw.ret(index=False)
def region_totals(df):
    """A range with a header row in, a DataFrame (spilled with header) out."""
    return df.groupby("region", as_index=False, sort=True)["amount"].sum()


@xw.func
def plus_days(day, days):
    """Dates arrive as serial numbers; a returned date goes back as a serial number."""
    return xw.to_datetime(day) + dt.timedelta(days=int(days))


@xw.func
def explode(x):
    """Raises: Excel shows #VALUE! (message on the error flag)."""
    raise ValueError(f"无效的输入: {x}")


@xw.func
def not_available(x):
    """Returns an Excel error value on purpose."""
    return "#N/A"


@xw.func
def total_of(*values):
    """A repeating (varargs) parameter: each argument is its own matrix."""
    return sum(v for block in values for row in (block if isinstance(block, list) else [[block]])
               for v in (row if isinstance(row, list) else [row]) if isinstance(v, (int, float)))


@xw.func
def where_am_i(caller: Caller) -> str:
    """A ``Caller``-annotated parameter is injected (not an Excel argument)."""
    return f"{caller.sheet_name}!{caller.address} in {caller.book_name}"
