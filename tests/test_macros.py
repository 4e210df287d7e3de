"""The ribbon macros, run by xlwings' own remote-engine Book on Linux.

Each test builds the JSON that xlwings' Excel client sends from a master workbook, runs the
macro against ``xw.Book(json=...)``, applies the returned actions to a copy of the file and
compares the tables with what the CLI writes for the same inputs.
"""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import openpyxl
import pytest

from conftest import run_cli
from tests.support.xlwings_remote import run_macro
from xl_addin.excel import macros
from xl_addin.errors import Problems
from xl_addin.workbook import schema
from xl_addin.workbook.parse import map_columns
from xl_addin.workbook.xlsx import raw_tables


def export_rows(path: Path, table: str) -> list[dict[str, str]]:
    r = run_cli("export", path, "--table", table)
    assert r.exit_code == 0, r.output
    return list(csv.DictReader(io.StringIO(r.output)))


def change_inputs(path: Path) -> None:
    """Change two actuals so that every stored output is stale."""
    wb = openpyxl.load_workbook(path)
    raw = raw_tables(wb)["tblActuals"]
    map_columns(raw, schema.TABLES["tblActuals"], Problems())
    ws = wb[raw.sheet]
    ws[raw.cell(1, "sales")] = 9_876_543.21
    ws[raw.cell(2, "new_customers")] = 9
    wb.save(path)


@pytest.fixture
def stale_pair(sample_master, tmp_path):
    change_inputs(sample_master)
    cli_copy = tmp_path / "cli.xlsx"
    shutil.copy(sample_master, cli_copy)
    return sample_master, cli_copy


def test_recalc_macro_writes_the_same_tables_as_the_cli(stale_pair, tmp_path):
    master, cli_copy = stale_pair
    assert run_cli("recalc", cli_copy).exit_code == 0
    out = tmp_path / "macro.xlsx"
    actions, alerts = run_macro(master, macros.recalc, out)
    assert alerts and "Recalculated" in alerts[-1].prompt
    for name in schema.OUTPUT_TABLES:
        assert export_rows(out, name) == export_rows(cli_copy, name), name
    # the run log got one row from the macro, with the same input digest as the CLI's
    log_macro, log_cli = export_rows(out, "tblRunLog"), export_rows(cli_copy, "tblRunLog")
    assert log_macro[-1]["action"] == "recalc-excel"
    assert log_macro[-1]["input_sha256"] == log_cli[-1]["input_sha256"]
    # inputs were not touched
    for name in schema.INPUT_TABLES:
        if name != "tblCubePrior":
            assert export_rows(out, name) == export_rows(master, name), name


def test_recalc_macro_changes_the_outputs(stale_pair, tmp_path):
    master, _ = stale_pair
    before = export_rows(master, "tblBonus")
    out = tmp_path / "macro.xlsx"
    run_macro(master, macros.recalc, out)
    assert export_rows(out, "tblBonus") != before


def test_check_macro_writes_only_checks_and_alerts(stale_pair, tmp_path):
    master, cli_copy = stale_pair
    out = tmp_path / "macro.xlsx"
    actions, alerts = run_macro(master, macros.check, out)
    assert "WARN" in alerts[-1].prompt and "FAIL" in alerts[-1].prompt
    assert run_cli("recalc", cli_copy).exit_code == 0
    assert export_rows(out, "tblChecks") == export_rows(cli_copy, "tblChecks")
    # the stale bonus table is left as it was: check writes nothing else
    assert export_rows(out, "tblBonus") == export_rows(master, "tblBonus")


def test_bad_input_alerts_with_cells_and_writes_nothing(sample_master, tmp_path):
    wb = openpyxl.load_workbook(sample_master)
    raw = raw_tables(wb)["tblActuals"]
    map_columns(raw, schema.TABLES["tblActuals"], Problems())
    addr = raw.cell(3, "visits")
    wb[raw.sheet][addr] = "很多"
    wb.save(sample_master)
    out = tmp_path / "macro.xlsx"
    actions, alerts = run_macro(sample_master, macros.recalc, out)
    assert len(alerts) == 1 and addr in alerts[0].prompt and "visits" in alerts[0].prompt
    assert [a for a in actions if a.get("func") != "alert"] == []


def test_run_main_fallback_module_recalculates(stale_pair, tmp_path):
    import importlib.util

    master, cli_copy = stale_pair
    spec = importlib.util.spec_from_file_location(
        "sales_plan_2026", Path(__file__).parents[1] / "workbooks" / "sales_plan_2026.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "macro.xlsx"
    run_macro(master, module.main, out)
    assert run_cli("recalc", cli_copy).exit_code == 0
    assert export_rows(out, "tblBonus") == export_rows(cli_copy, "tblBonus")


def test_regional_and_email_macros(sample_master, tmp_path):
    out_dir = tmp_path / "regional"
    paths = []
    run_macro(sample_master, lambda b: paths.extend(macros.regional(b, out_dir)), tmp_path / "m.xlsx")
    # one file per sales region of the plan (not HQ), e.g. 2026_Q4_EAST_华东.xlsx
    assert sorted(p.name.split("_")[2] for p in paths) == ["EAST", "NORTH", "OTHER", "SOUTH"]
    assert all(p.exists() for p in paths)
    results = []
    run_macro(sample_master, lambda b: results.extend(macros.email(b, out_dir, confirm=True, dry_run=True)),
              tmp_path / "m2.xlsx")
    assert sorted(r.status for r in results) == ["dry_run"] * 4
    assert len(list((out_dir / "outbox").glob("*.eml"))) == 4
