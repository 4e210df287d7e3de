"""Recalculation with the big sheets' rows kept out of openpyxl (xl_addin.workbook.splice)
must save the same workbook as a recalculation that loads everything into openpyxl.

Each test recalculates two copies of one master, with ``splice=True`` and ``splice=False``
(the whole workbook through openpyxl, the reference), and compares them as a user sees
them (tests/support/workbook_diff.py: every cell's value, type and look, tables, merged
ranges, widths, validations, conditional formats, print setup, defined names and stored
formula results). Each also checks that splicing really happened where it should (or was
refused where it must be), so that no test passes with the feature switched off.
"""
from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from support.workbook_diff import differences
from xl_addin.workbook import schema
from xl_addin.workbook.master import recalc_master
from xl_addin.workbook.xlsx import XlsxBook

NOW = dt.datetime(2026, 11, 27, 9, 30)
ZH = {key: sheet.title("zh") for key, sheet in schema.SHEETS.items()}
INPUT_SHEETS = {ZH[k] for k in ("team", "budget", "kpi_scheme", "actuals")}
OUTPUT_SHEETS = {ZH[k] for k in ("rep_targets", "checks", "kpi", "bonus", "awards", "watchlist")}


def both_ways(master: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The master recalculated with splicing and without, each on its own copy."""
    fast, slow = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
    shutil.copy(master, fast)
    shutil.copy(master, slow)
    recalc_master(fast, now=NOW, splice=True)
    recalc_master(slow, now=NOW, splice=False)
    return fast, slow


def stripped(path: Path) -> dict[str, str]:
    """Sheet title -> "in" / "out" for the sheets a recalculation would keep out of openpyxl."""
    book = XlsxBook.open(path, splice=True)
    if book._splice is None:
        return {}
    return {t: ("out" if s.table else "in") for t, s in book._splice.strips.items()}


def test_sample_master_same_workbook_both_ways(sample_master, tmp_path):
    plan = stripped(sample_master)
    # Every input sheet but the Plan (which the Dashboard reads) and the target sheet
    # (inputs and an output side by side); every one-table output sheet.
    assert {t for t, k in plan.items() if k == "in"} == INPUT_SHEETS
    assert {t for t, k in plan.items() if k == "out"} == OUTPUT_SHEETS
    fast, slow = both_ways(sample_master, tmp_path)
    assert differences(fast, slow) == []
    # and the outputs really were written again (the run log grew by one row)
    ws = openpyxl.load_workbook(fast)[ZH["run_log"]]
    assert ws.tables["tblRunLog"].ref == "A4:E6"


def test_english_master_of_200_reps(tmp_path):
    """A bigger master (the benchmark's synthetic plan) in English: thousands of rows per
    sheet, new hires, the watchlist filled."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from synth import synth_inputs, write_master

    master = tmp_path / "m200.xlsx"
    write_master(synth_inputs(200, 7, lang="en"), master, "en")
    titles = {key: sheet.title("en") for key, sheet in schema.SHEETS.items()}
    assert set(stripped(master)) == {titles[k] for k in (
        "team", "budget", "kpi_scheme", "actuals", "rep_targets", "checks", "kpi", "bonus",
        "awards", "watchlist")}
    fast, slow = both_ways(master, tmp_path)
    assert differences(fast, slow) == []
    kpi = openpyxl.load_workbook(fast, read_only=True)[titles["kpi"]]
    assert sum(1 for _ in kpi.iter_rows(min_row=5)) == 200 * 4   # a row per rep and quarter


def test_master_saved_by_libreoffice(sample_master, tmp_path):
    """LibreOffice writes shared strings and its own style table: the kept input rows get
    their strings inlined, and every style index still means the same look."""
    from support.libreoffice import recalc_xlsx, require_soffice

    require_soffice()
    resaved = recalc_xlsx(sample_master, tmp_path / "lo")
    with zipfile.ZipFile(resaved) as z:
        assert "xl/sharedStrings.xml" in z.namelist()
        sheets = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    # LibreOffice has no logical cell type: tblBudget's itemised flags come back as the
    # formulas =TRUE() / =FALSE(), which the parser reads as the logical values they are.
    assert b">FALSE()</f>" in sheets
    assert {t for t, k in stripped(resaved).items() if k == "in"} == INPUT_SHEETS
    fast, slow = both_ways(resaved, tmp_path)
    assert differences(fast, slow, formula_results=False) == []
    # The one difference: the input rows kept as they were keep LibreOffice's stored results
    # of those formulas, where openpyxl drops every formula result it loads.
    from xl_addin.workbook.cached import read_formula_results

    kept, dropped = read_formula_results(fast), read_formula_results(slow)
    budget = {k: v for k, v in kept.items() if k[0] == ZH["budget"]}
    assert budget and all(v[1] in (0, 1) for v in budget.values())
    assert all(dropped[k][1] is None for k in budget)
    with zipfile.ZipFile(fast) as z:   # our save has no shared-string table to point into
        assert "xl/sharedStrings.xml" not in z.namelist()


def test_note_beside_an_output_table_keeps_that_sheet_whole(sample_master, tmp_path):
    wb = openpyxl.load_workbook(sample_master)
    wb[ZH["kpi"]]["P7"] = "核对：张三 Q2 复核中"        # a user's note beside tblKpi
    wb[ZH["bonus"]]["A200"] = "备注：本表由 recalc 生成"   # and one below tblBonus
    wb.save(sample_master)
    plan = stripped(sample_master)
    assert ZH["kpi"] not in plan and ZH["bonus"] not in plan
    assert ZH["watchlist"] in plan                        # the other sheets still are
    fast, slow = both_ways(sample_master, tmp_path)
    assert differences(fast, slow) == []
    wb = openpyxl.load_workbook(fast)
    assert wb[ZH["kpi"]]["P7"].value == "核对：张三 Q2 复核中"
    assert wb[ZH["bonus"]]["A200"].value == "备注：本表由 recalc 生成"


def test_hyperlink_in_kept_rows_loads_the_whole_workbook(sample_master, tmp_path):
    """openpyxl binds a hyperlink to its cell while loading; a cell in the rows kept out of
    openpyxl means the skeleton is not safe, so the whole workbook is loaded instead."""
    wb = openpyxl.load_workbook(sample_master)
    wb[ZH["team"]]["B6"].hyperlink = "https://example.com/team"
    wb.save(sample_master)
    book = XlsxBook.open(sample_master, splice=True)
    assert book._splice is not None and ZH["team"] in book._splice.strips
    book.wb                                  # loading gives up splicing ...
    assert book._splice is None
    fast, slow = both_ways(sample_master, tmp_path)
    assert differences(fast, slow) == []     # ... and the result is the same
    assert openpyxl.load_workbook(fast)[ZH["team"]]["B6"].hyperlink.target == "https://example.com/team"


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date")
def test_every_kind_of_value_written_as_openpyxl_writes_it(sample_master, tmp_path):
    """Output cells written as XML directly: text that looks like a formula (kept text, with
    Excel's quote prefix), error-code text, markup characters, surrounding spaces, a date,
    booleans, blanks, non-finite numbers, floats, big integers and exact decimals."""
    spec = schema.TABLES["tblWatchlist"]
    odd = ["=SUM(A1)", "+86 138 0000 0000", "-5", "@home", "#N/A", "a < b & c > d",
           "  padded  ", "", None, True, False, dt.date(2026, 3, 31), dt.datetime(2026, 4, 1, 8, 5),
           Decimal("NaN"), float("inf"), 0.1, 2 ** 60, Decimal("1234567.89"), -0.0, "普通文本"]
    width = len(spec.columns)
    rows = [[odd[(r * width + c) % len(odd)] for c in range(width)] for r in range(len(odd))]
    out = {}
    for splice in (True, False):
        path = tmp_path / f"{splice}.xlsx"
        shutil.copy(sample_master, path)
        book = XlsxBook.open(path, splice=splice)
        book.write_table("tblWatchlist", rows, "zh")
        assert (book._splice is not None) is splice
        if splice:   # the other output tables must be written too before a save
            for name in book._splice.outputs - {"tblWatchlist"}:
                table = book.raw_tables()[name]
                book.write_table(name, table.rows, "zh")
        else:
            for name in ("tblRepTargets", "tblChecks", "tblKpi", "tblBonus", "tblAwards"):
                book.write_table(name, book.raw_tables()[name].rows, "zh")
        book.save()
        out[splice] = path
    assert differences(out[True], out[False]) == []
    ws = openpyxl.load_workbook(out[True])[ZH["watchlist"]]
    assert ws["A5"].value == "=SUM(A1)" and ws["A5"].data_type == "s" and ws["A5"].quotePrefix
    assert ws.tables["tblWatchlist"].ref == f"A4:{ws.cell(4, width).column_letter}{4 + len(odd)}"


def test_output_table_shrinks_and_grows(sample_master, tmp_path):
    """Fewer rows than before (the old rows gone, the table one blank row when empty) and
    more rows than before."""
    for n in (0, 3, 500):
        fast_slow = {}
        for splice in (True, False):
            path = tmp_path / f"{n}_{splice}.xlsx"
            shutil.copy(sample_master, path)
            book = XlsxBook.open(path, splice=splice)
            raws = book.raw_tables()
            for name in ("tblRepTargets", "tblChecks", "tblKpi", "tblBonus", "tblAwards", "tblWatchlist"):
                rows = raws[name].rows
                rows = (rows * (n // max(1, len(rows)) + 1))[:n]
                book.write_table(name, rows, "zh")
            book.save()
            fast_slow[splice] = path
        assert differences(fast_slow[True], fast_slow[False]) == [], n
        ref = openpyxl.load_workbook(fast_slow[True])[ZH["kpi"]].tables["tblKpi"].ref
        assert ref == f"A4:K{4 + max(1, n)}"


def test_no_zip64_headers_where_none_are_needed(sample_master):
    """Excel reports a package with needless Zip64 extra fields as damaged; the parts we
    write ourselves must be plain zip entries like openpyxl's."""
    recalc_master(sample_master, now=NOW)
    with zipfile.ZipFile(sample_master) as z:
        for info in z.infolist():
            header_ids = []
            extra = info.extra
            while len(extra) >= 4:
                header_ids.append(int.from_bytes(extra[:2], "little"))
                extra = extra[4 + int.from_bytes(extra[2:4], "little"):]
            assert 0x0001 not in header_ids, info.filename   # 0x0001: the Zip64 extra field
        with open(sample_master, "rb") as f:                   # the local headers too
            data = f.read()
        for info in z.infolist():
            at = info.header_offset
            name_len, extra_len = (int.from_bytes(data[at + 26:at + 28], "little"),
                                   int.from_bytes(data[at + 28:at + 30], "little"))
            local_extra = data[at + 30 + name_len:at + 30 + name_len + extra_len]
            assert b"\x01\x00" not in local_extra[:2], info.filename


def test_backup_and_atomic_replace_as_before(sample_master):
    before = sample_master.read_bytes()
    recalc_master(sample_master, now=NOW)
    assert sample_master.with_name(sample_master.name + ".bak").read_bytes() == before
    assert not list(sample_master.parent.glob(".~xl_addin_*"))
    assert not list(sample_master.parent.glob("*.skeleton"))


def test_recalc_does_not_load_the_dashboard_it_rebuilds(sample_master, tmp_path):
    """A recalculation rebuilds the Dashboard, so its old cells, merges and charts are left
    out of the skeleton; a save without the rebuild is refused rather than losing it."""
    book = XlsxBook.open(sample_master, splice=True, fresh_dashboard=True)
    assert book._splice.emptied_dashboard == ZH["dashboard"]
    ws = book.wb[ZH["dashboard"]]
    assert not ws._cells and not ws.merged_cells.ranges and not ws._charts
    for name in book._splice.outputs:
        book.write_table(name, book.raw_tables()[name].rows, "zh")
    with pytest.raises(RuntimeError, match="Dashboard"):
        book._splice.save(book.wb, tmp_path / "x.xlsx")
    fast, slow = both_ways(sample_master, tmp_path)     # (recalc_master empties it)
    assert differences(fast, slow) == []
    with zipfile.ZipFile(fast) as z:
        assert any(n.startswith("xl/charts/") for n in z.namelist())
