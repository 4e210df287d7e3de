"""LibreOffice as a second spreadsheet program: it recalculates our formulas to the results we
store, and reads back every output table as we wrote it.

The sample master (Chinese, and English) is built once per language and recalculated once
by LibreOffice with "recalculate on load: always" (tests/support/libreoffice.py), so every
formula value read from LibreOffice's file is its own result, not our stored one; the
tampering test proves that.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from conftest import run_cli
from tests.support import libreoffice as lo
from xl_addin.core.engine import compute
from xl_addin.workbook import schema
from xl_addin.workbook.cached import read_formula_results, store_formula_results
from xl_addin.workbook.dashboard import dashboard_formula_results, places_from_workbook
from xl_addin.workbook.master import sample_inputs
from xl_addin.workbook.pipeline import output_rows

OUTPUTS = ("tblTargetCube", "tblRepTargets", "tblChecks", "tblKpi", "tblBonus", "tblAwards",
           "tblWatchlist")
assert set(OUTPUTS) == set(schema.OUTPUT_TABLES)

# precision by column kind: money and scores to the fen / 0.01, shares (and the checks'
# stated / computed numbers, which are shares or amounts) to 1e-9, counts exactly
PRECISION = {schema.MONEY: Decimal("0.01"), schema.YUAN: Decimal("0.01"),
             schema.SCORE: Decimal("0.01"), schema.SHARE: Decimal("1e-9"),
             schema.NUM: Decimal("1e-9"), schema.INT: Decimal(1)}
FORMULA_PRECISION = Decimal("0.01")       # the reconciliation: amounts and counts


def rounded(v: Any, unit: Decimal) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
        return v
    d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
    return d.quantize(unit, rounding=ROUND_HALF_UP)


def plain(v: Any, kind: str) -> Any:
    """A cell value in a comparable form: numbers rounded to the column's precision,
    midnight datetimes as dates, blank text as None."""
    if v is None or (isinstance(v, str) and v == ""):
        return None
    if kind in PRECISION:
        return rounded(v, PRECISION[kind])
    if isinstance(v, dt.datetime) and v.time() == dt.time():
        return v.date()
    return v


def table_rows(path: Path | openpyxl.Workbook, name: str) -> list[list[Any]]:
    """A table's data rows read back with openpyxl (stored values), in contract key order
    (columns found by header label, as the reader does); the one blank row of an empty
    table is dropped."""
    from openpyxl.utils.cell import range_boundaries

    wb = path if isinstance(path, openpyxl.Workbook) else openpyxl.load_workbook(path, data_only=True)
    spec = schema.TABLES[name]
    labels = {label: c.key for c in spec.columns for label in (c.key, c.zh, c.en)}
    ws, table = next((ws, t) for ws in wb.worksheets for t in ws.tables.values() if t.name == name)
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    cells = list(ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col,
                              values_only=True))
    keys = [labels.get(str(h)) for h in cells[0]]
    out = []
    for r in cells[1:]:
        by_key = {k: v for k, v in zip(keys, r) if k}
        out.append([by_key[k] for k in spec.keys])
    while out and all(v in (None, "") for v in out[-1]):
        out.pop()
    return out


def compare_tables(ours: dict[str, list[list[Any]]], path: Path) -> list[str]:
    """Every difference between our rows and the tables of the file at ``path``."""
    problems = []
    wb = openpyxl.load_workbook(path, data_only=True)
    for name in OUTPUTS:
        spec = schema.TABLES[name]
        theirs = table_rows(wb, name)
        if len(theirs) != len(ours[name]):
            problems.append(f"{name}: {len(theirs)} rows, we wrote {len(ours[name])}")
            continue
        for n, (a, b) in enumerate(zip(ours[name], theirs), start=1):
            for col, x, y in zip(spec.columns, a, b):
                if plain(x, col.kind) != plain(y, col.kind):
                    problems.append(f"{name} row {n} {col.key}: ours {x!r}, LibreOffice {y!r}")
    return problems


def compare_formulas(stored: dict[tuple[str, str], tuple[str, Any]], path: Path) -> list[str]:
    """Every formula cell whose stored result differs from the value in ``path`` (read
    with data_only, i.e. what that file stores: LibreOffice's own result)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    problems = []
    for (sheet, address), (formula, value) in stored.items():
        theirs = wb[sheet][address].value
        if rounded(value, FORMULA_PRECISION) != rounded(theirs, FORMULA_PRECISION):
            problems.append(f"{sheet}!{address} ={formula}: stored {value!r}, LibreOffice {theirs!r}")
    return problems


class Built:
    def __init__(self, lang: str, path: Path, recalculated: Path):
        self.lang, self.path, self.recalculated = lang, path, recalculated
        self.inputs = sample_inputs(2026, lang)
        self.results = compute(self.inputs)
        self.rows = output_rows(self.results, lang)
        self.stored = read_formula_results(path)


@pytest.fixture(scope="module", params=["zh", "en"])
def built(request, tmp_path_factory) -> Built:
    """The sample master in one language, and LibreOffice's recalculation of it."""
    lo.require_soffice()
    lang = request.param
    folder = tmp_path_factory.mktemp(f"lo_{lang}")
    path = folder / f"sales_plan_2026_{lang}.xlsx"
    r = run_cli("new", "--sample", "--lang", lang, "-o", path)
    assert r.exit_code == 0, r.output
    return Built(lang, path, lo.recalc_xlsx(path, folder / "lo"))


def dashboard_title(lang: str) -> str:
    return schema.SHEETS["dashboard"].title(lang)


# ----------------------------------------------------------------------------- (a) stored results

def test_every_formula_cell_has_a_stored_result(built):
    title = dashboard_title(built.lang)
    assert built.stored and {s for s, _ in built.stored} == {title}
    wb = openpyxl.load_workbook(built.path, data_only=True)
    ws = wb[title]
    # expected = what the dashboard computes from the results, at the tables' real places
    expected = dashboard_formula_results(built.results.tables(), built.inputs, built.lang,
                                         places_from_workbook(openpyxl.load_workbook(built.path)))
    assert set(expected) == {a for _, a in built.stored}
    for address, value in expected.items():
        got = ws[address].value
        assert got is not None and got == float(value), (address, got, value)   # exact Decimal -> double
        assert built.stored[(title, address)][1] == float(value)
    # a preview that does not calculate (pandas, openpyxl) sees e.g. the bonus total
    bonus_total = sum(built.results.bonus["total"])
    assert float(bonus_total) in [v for _, v in built.stored.values()]


def test_stored_results_leave_every_other_part_alone(tmp_path):
    import zipfile

    path = tmp_path / "plan.xlsx"
    assert run_cli("new", "-o", path).exit_code == 0
    before = zipfile.ZipFile(path)
    parts = {i.filename: before.read(i.filename) for i in before.infolist()}
    stored = read_formula_results(path)
    (sheet, address), (formula, value) = next(iter(stored.items()))
    copy = tmp_path / "copy.xlsx"
    shutil.copy(path, copy)
    assert store_formula_results(copy, {(sheet, address): 12345.5}) == 1
    after = zipfile.ZipFile(copy)
    assert [i.filename for i in after.infolist()] == list(parts)
    changed = [n for n in parts if after.read(n) != parts[n]]
    assert len(changed) == 1 and changed[0].startswith("xl/worksheets/")
    old, new = parts[changed[0]].decode(), after.read(changed[0]).decode()
    cell = re.compile(rf'<c r="{address}"[^>]*>.*?</c>')
    assert cell.sub("", old, count=1) == cell.sub("", new, count=1)    # only that cell differs
    assert cell.search(new).group(0).endswith("<v>12345.5</v></c>")
    assert read_formula_results(copy)[(sheet, address)] == (formula, 12345.5)
    with pytest.raises(KeyError):
        store_formula_results(copy, {(sheet, "A1"): 1})                 # not a formula cell
    with pytest.raises(KeyError):
        store_formula_results(copy, {("no such sheet", address): 1})
    assert store_formula_results(copy, {(sheet, address): "text"}) == 1
    wb = openpyxl.load_workbook(copy, data_only=True)
    assert wb[sheet][address].value == "text"


# ----------------------------------------------------------------------------- (b), (c) LibreOffice

def test_libreoffice_recalculates_every_formula_to_our_stored_result(built):
    assert compare_formulas(built.stored, built.recalculated) == []
    wb = openpyxl.load_workbook(built.recalculated)                    # formulas survive
    title = dashboard_title(built.lang)
    assert all(str(wb[title][a].value).startswith("=") for _, a in built.stored)


def test_libreoffice_reads_every_output_table_as_we_wrote_it(built):
    wb = openpyxl.load_workbook(built.recalculated, data_only=True)
    assert [len(table_rows(wb, n)) for n in OUTPUTS] == [
        len(built.rows[n]) for n in OUTPUTS] and all(built.rows[n] for n in OUTPUTS)
    assert compare_tables(built.rows, built.recalculated) == []
    assert compare_tables(built.rows, built.path) == []                # and so does openpyxl


@pytest.mark.parametrize("built", ["zh"], indirect=True)
def test_the_comparison_catches_a_wrong_stored_result(built, tmp_path):
    """Tamper with one stored result: LibreOffice recalculates it (it does not show what
    the file stores), so the comparison names exactly that cell. Tamper with a table
    cell: the table comparison names it."""
    title = dashboard_title(built.lang)
    address = next(a for (_, a), (f, _) in built.stored.items() if f.startswith("SUMIFS("))
    tampered = tmp_path / "tampered.xlsx"
    shutil.copy(built.path, tampered)
    store_formula_results(tampered, {(title, address): 999.99})
    wrong = read_formula_results(tampered)
    assert wrong[(title, address)][1] == 999.99
    # a viewer that does not calculate shows the wrong number ...
    assert openpyxl.load_workbook(tampered, data_only=True)[title][address].value == 999.99
    # ... LibreOffice computes the right one, and the comparison says where they differ
    recalculated = lo.recalc_xlsx(tampered, tmp_path / "lo")
    problems = compare_formulas(wrong, recalculated)
    assert len(problems) == 1 and f"{title}!{address}" in problems[0] and "999.99" in problems[0]
    rows = {k: [list(r) for r in v] for k, v in built.rows.items()}
    rows["tblBonus"][3][-1] += Decimal("0.01")
    problems = compare_tables(rows, recalculated)
    assert len(problems) == 1 and problems[0].startswith("tblBonus row 4 total")


def test_recalc_stores_the_results_again_and_import_drops_them(sample_master, tmp_path):
    """recalc rebuilds the Dashboard and stores its formulas' results again; import (no
    Dashboard refresh) saves through openpyxl, which keeps the formulas but not their
    results: spreadsheet programs compute them, previews show blanks until the next recalc."""
    before = read_formula_results(sample_master)
    assert run_cli("recalc", sample_master).exit_code == 0
    after = read_formula_results(sample_master)
    assert after == before and all(v is not None for _, v in after.values())
    src = tmp_path / "regions.csv"
    src.write_text("region,name,manager,email\nEAST,华东,张伟,east@example.com\nSOUTH,华南,,\n"
                   "NORTH,华北,,\nOTHER,其他,,\nHQ,总部,,\n", encoding="utf-8")
    assert run_cli("import", sample_master, "--table", "tblRegions", src).exit_code == 0
    imported = read_formula_results(sample_master)
    assert {k: f for k, (f, _) in imported.items()} == {k: f for k, (f, _) in before.items()}
    assert all(v is None for _, v in imported.values())
    assert run_cli("recalc", sample_master).exit_code == 0
    assert read_formula_results(sample_master) == before
