"""Our worksheet functions, called through xlwings' own custom-function machinery
(xlwings.server.custom_functions_call, as Excel's runtime calls it)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.support.xlwings_udfs import load_udf_module, udf_cell


@pytest.fixture(scope="module")
def udfs():
    return load_udf_module("xl_addin.excel.udfs")


def test_functions_are_registered_with_help(udfs):
    for name in ("XL_SPLIT", "XL_SHARE_STATUS", "XL_KPI", "XL_BONUS", "XL_ACTIVE_FRACTION"):
        fn = getattr(udfs, name)
        assert hasattr(fn, "__xlfunc__"), name
        assert "Example" in fn.__doc__


def test_split_spills_exact_parts(udfs):
    # 100 / 3 = 33.33: 34 + 33 + 33, the leftover unit to the first
    assert udf_cell(udfs, "XL_SPLIT", 100, [[1], [1], [1]]).values == [[34], [33], [33]]
    # the plan's region split from its amounts: 2.8亿 over 120/80/50/30 (万) -> the amounts back
    assert udf_cell(udfs, "XL_SPLIT", 280_000_000, [[12000], [8000], [5000], [3000]]).values == [
        [120_000_000], [80_000_000], [50_000_000], [30_000_000]]
    # in fen: 100.00 / 3 -> 33.34, 33.33, 33.33
    assert udf_cell(udfs, "XL_SPLIT", 100, [[1, 1, 1]], 0.01).values == [[33.34], [33.33], [33.33]]


def test_split_bad_arguments_say_why(udfs):
    assert udf_cell(udfs, "XL_SPLIT", 100, [[1], [-1]]).value.startswith("#XL! weights must not be negative")
    assert udf_cell(udfs, "XL_SPLIT", 100, [[0], [0]]).value.startswith("#XL! all weights are zero")
    assert "number" in udf_cell(udfs, "XL_SPLIT", "abc", [[1]]).value


def test_share_status(udfs):
    # OTHER 30,000,000 / 280,000,000 = 10.71% vs stated 10% (whole percent): 0.71 pt -> WARN
    assert udf_cell(udfs, "XL_SHARE_STATUS", 0.10, 30_000_000, 280_000_000).value == "WARN"
    # EAST 120/280 = 42.86% vs 43%: 0.14 pt -> OK
    assert udf_cell(udfs, "XL_SHARE_STATUS", 0.43, 120_000_000, 280_000_000).value == "OK"
    # marketing 3,000,000 / 280,000,000 = 1.0714% vs 1.07% (unit 0.01%): OK
    assert udf_cell(udfs, "XL_SHARE_STATUS", 0.0107, 3_000_000, 280_000_000).value == "OK"
    # stated 20% for 10.71%: FAIL
    assert udf_cell(udfs, "XL_SHARE_STATUS", 0.2, 30_000_000, 280_000_000).value == "FAIL"
    assert udf_cell(udfs, "XL_SHARE_STATUS", 0.2, 1, 0).value == "#XL! base is zero"


def test_kpi_from_ranges(udfs):
    # the plan's weights 40/15/5/10/10/10/5/5; targets: sales 1,000,000, 95%, 2, 104, 6, 100%, 100%, 1
    actuals = [[1_200_000], [0.95], [1], [104], [3], [1], [None], [0]]
    targets = [[1_000_000], [0.95], [2], [104], [6], [1], [1], [1]]
    weights = [[40], [15], [5], [10], [10], [10], [5], [5]]
    # sales 1.2 capped 1 -> 40; collection 1 -> 15; new 1/2 -> 2.5; visits 1 -> 10; reports 1/2 -> 5;
    # training 1 -> 10; mentee blank -> N/A (weight 5 spread); proposals 0 -> 0
    # (40 + 15 + 2.5 + 10 + 5 + 10 + 0) / 95 x 100 = 82.5 / 95 x 100 = 86.842... -> 86.84
    assert udf_cell(udfs, "XL_KPI", actuals, targets, weights).value == 86.84
    # exactly at the gate: sales 0.5 x 40 + 40 others at 1 of 60... 20 + 40 = 60 of 100 -> 60.00
    assert udf_cell(udfs, "XL_KPI", [[0.5], [1]], [[1], [1]], [[80], [20]]).value == 60.0
    assert "same size" in udf_cell(udfs, "XL_KPI", [[1]], [[1], [2]], [[1]]).value


def test_bonus(udfs):
    # KPI 60.00 passes the gate: base 10,000 + 3% x (1,234,567.89 - 1,000,000) = 7,037.0367 -> 7,037.04
    assert udf_cell(udfs, "XL_BONUS", 60, 10_000, 1_234_567.89, 1_000_000).value == 17_037.04
    # 59.99 misses the gate: only the excess
    assert udf_cell(udfs, "XL_BONUS", 59.99, 10_000, 1_234_567.89, 1_000_000).value == 7_037.04
    # linear mode at 80: 10,000 x 80/100 = 8,000; below target -> no excess
    assert udf_cell(udfs, "XL_BONUS", 80, 10_000, 900_000, 1_000_000, 60, 0.03, "linear").value == 8_000
    assert "mode" in udf_cell(udfs, "XL_BONUS", 80, 10_000, 1, 1, 60, 0.03, "bogus").value


def test_active_fraction(udfs):
    # Q1 2026 = 90 days; hired 15 Feb -> 45 days -> 0.5
    assert udf_cell(udfs, "XL_ACTIVE_FRACTION", dt.date(2026, 2, 15), None, "Q1", 2026).value == 0.5
    # leaves 31 Jan: 31 / 90
    assert abs(udf_cell(udfs, "XL_ACTIVE_FRACTION", dt.date(2025, 1, 1), dt.date(2026, 1, 31), "Q1", 2026).value
               - 31 / 90) < 1e-12
    assert "quarter" in udf_cell(udfs, "XL_ACTIVE_FRACTION", dt.date(2026, 1, 1), None, "Q5", 2026).value
