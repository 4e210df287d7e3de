"""The shipped sample, workbooks/sales_plan_2026.xlsx, is exactly what `xl-addin new --sample`
builds today: every input and output table, the Dashboard and its stored formula results
(values, not bytes; the Run log's timestamp and user are ignored). When the code changes
what it computes, this fails: regenerate the file as workbooks/README.md says."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from xl_addin.workbook import schema
from xl_addin.workbook.cached import read_formula_results
from xl_addin.workbook.master import read_table

SHIPPED = Path(__file__).resolve().parents[1] / "workbooks" / "sales_plan_2026.xlsx"
REGENERATE = ("regenerate it: LOGNAME=xl-addin .venv/bin/xl-addin new --sample --force "
              "-o workbooks/sales_plan_2026.xlsx (see workbooks/README.md)")


def test_the_sample_is_shipped():
    assert SHIPPED.is_file(), f"{SHIPPED} is missing; {REGENERATE}"


@pytest.mark.parametrize("table", [n for n in schema.TABLES if n != "tblRunLog"])
def test_every_table_equals_a_fresh_build(sample_master_session, table):
    assert read_table(SHIPPED, table) == read_table(sample_master_session, table), (
        f"{table} of the shipped workbook differs from a fresh build; {REGENERATE}")


def test_run_log_equals_a_fresh_build_but_for_time_and_user(sample_master_session):
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("timestamp", "user")}  # noqa: E731
                          for r in rows]
    shipped = read_table(SHIPPED, "tblRunLog")
    assert strip(shipped) == strip(read_table(sample_master_session, "tblRunLog")), REGENERATE
    assert [r["action"] for r in shipped] == ["new"] and shipped[0]["timestamp"] is not None


def test_dashboard_and_stored_formula_results_equal_a_fresh_build(sample_master_session):
    title = schema.SHEETS["dashboard"].zh
    values = [[c.value for c in row] for row in openpyxl.load_workbook(SHIPPED)[title].iter_rows()]
    fresh = [[c.value for c in row]
             for row in openpyxl.load_workbook(sample_master_session)[title].iter_rows()]
    assert values == fresh, f"the Dashboard differs from a fresh build; {REGENERATE}"
    stored = read_formula_results(SHIPPED)
    assert stored and stored == read_formula_results(sample_master_session), REGENERATE
    assert all(v is not None for _, v in stored.values())


def test_same_sheets_in_the_same_order(sample_master_session):
    assert openpyxl.load_workbook(SHIPPED, read_only=True).sheetnames == \
        openpyxl.load_workbook(sample_master_session, read_only=True).sheetnames
