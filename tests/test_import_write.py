"""``xl-addin import`` rewrites only the imported table's sheet part (workbook/table_write.py).

Each test imports one CSV into two copies of a master: through the sheet-part path and
through the openpyxl path (load the whole workbook, write the table, save), and compares
the results as a user sees them (tests/support/workbook_diff.py). The openpyxl round trip
adds an empty bottom border to some Dashboard cells that the import never touches (the
sheet-part path keeps the Dashboard's look as it was), so the Dashboard is compared with the
original instead, but for its stored formula results, which both ways drop. Each test also checks that the sheet-part path was really taken."""
from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from support.workbook_diff import differences
from xl_addin.workbook import schema, table_write
from xl_addin.workbook.cached import read_formula_results
from xl_addin.workbook.master import export_table, import_table

DASHBOARD = schema.SHEETS["dashboard"].title("zh")
_REAL = table_write.replace_rows


def _both_ways(master: Path, tmp_path: Path, table: str, csv_text: str, monkeypatch,
               fast_path: bool = True) -> tuple[Path, Path]:
    csv = tmp_path / "in.csv"
    csv.write_text(csv_text, encoding="utf-8")
    fast, slow = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
    fast.write_bytes(master.read_bytes())
    slow.write_bytes(master.read_bytes())
    taken = []
    real = _REAL

    def spy(*a, **k):
        taken.append(real(*a, **k))
        return taken[-1]

    monkeypatch.setattr(table_write, "replace_rows", spy)
    import_table(fast, table, csv)
    assert taken == [fast_path]
    monkeypatch.setattr(table_write, "replace_rows", lambda *a, **k: False)
    import_table(slow, table, csv)
    return fast, slow


def _same(fast: Path, slow: Path, original: Path) -> None:
    assert [d for d in differences(fast, slow) if not d.startswith(DASHBOARD + "!")] == []
    assert [d for d in differences(original, fast) if d.startswith(DASHBOARD + "!")
            and "result" not in d] == []
    # the Dashboard's formulas kept, their stored results dropped (both ways)
    results = read_formula_results(fast)
    assert results and results == read_formula_results(slow)
    assert all(v is None for _, v in results.values())


def _untouched_parts(original: Path, fast: Path, changed: set[str]) -> None:
    with zipfile.ZipFile(original) as a, zipfile.ZipFile(fast) as b:
        assert set(a.namelist()) == set(b.namelist())
        for name in a.namelist():
            if name not in changed:
                assert a.read(name) == b.read(name), name


def test_actuals_grow_shrink_and_odd_values(sample_master, tmp_path, monkeypatch):
    text = export_table(sample_master, "tblActuals")
    lines = text.splitlines()
    header, rows = lines[0], lines[1:]
    # fewer rows than before (the rest emptied); shares typed in whole percent (50%) and
    # not (12.5%), which take different number formats
    keys = header.split(",")
    first, second = rows[0].split(","), rows[1].split(",")
    first[keys.index("training_rate")] = "0.5"
    second[keys.index("training_rate")] = "0.125"
    fewer = "\n".join([header, ",".join(first), ",".join(second), *rows[2:40]]) + "\n"
    fast, slow = _both_ways(sample_master, tmp_path, "tblActuals", fewer, monkeypatch)
    _same(fast, slow, sample_master)
    ws = openpyxl.load_workbook(fast)[schema.SHEETS["actuals"].title("zh")]
    table = ws.tables["tblActuals"]
    # header in row 4, 40 data rows: A4:K44
    assert table.ref == "A4:K44" and table.autoFilter.ref == "A4:K44"
    assert ws.cell(45, 1).value is None
    # the actuals sheet and table, and the Dashboard (its stored results dropped)
    # (sheet1 is the cover 说明, sheet2 the Dashboard)
    _untouched_parts(sample_master, fast, {"xl/worksheets/sheet8.xml", "xl/tables/table11.xml",
                                           "xl/worksheets/sheet2.xml"})
    # and more rows than before: from the shrunk workbook back to every row (each rep and
    # quarter once, as the validation requires), the table grows, the improvement table
    # beside it stays
    shrunk = tmp_path / "shrunk.xlsx"
    shrunk.write_bytes(fast.read_bytes())
    more = "\n".join([header, *rows]) + "\n"
    fast, slow = _both_ways(shrunk, tmp_path, "tblActuals", more, monkeypatch)
    _same(fast, slow, shrunk)
    assert openpyxl.load_workbook(fast)[ws.title].tables["tblActuals"].ref == f"A4:K{4 + len(rows)}"
    assert len(rows) > 40


@pytest.mark.parametrize("name, fast_path", [
    ('"  A & <B>  "', True),      # escaped (typing trims the spaces)
    ("=HYPERLINK(1)", True),      # text kept from being a formula: a quote-prefixed look
])                                # the style table lacks, added to it
def test_team_names(sample_master, tmp_path, monkeypatch, name, fast_path):
    lines = export_table(sample_master, "tblTeam").splitlines()
    keys = lines[0].split(",")
    row = lines[1].split(",")
    row[keys.index("name")] = name
    text = "\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n"
    fast, slow = _both_ways(sample_master, tmp_path, "tblTeam", text, monkeypatch, fast_path)
    _same(fast, slow, sample_master)
    ws = openpyxl.load_workbook(fast)[schema.SHEETS["team"].title("zh")]
    r1 = int(ws.tables["tblTeam"].ref.split(":")[0][1:])
    c = ws.cell(r1 + 1, 1 + keys.index("name"))
    assert c.value == name.strip('"').strip() and c.data_type == "s"   # typing trims text
    assert bool(c.quotePrefix) is name.startswith("=")


@pytest.mark.parametrize("table", ["tblBudget", "tblKpiScheme", "tblRegions"])
def test_other_input_tables(sample_master, tmp_path, monkeypatch, table):
    fast, slow = _both_ways(sample_master, tmp_path, table, export_table(sample_master, table), monkeypatch)
    _same(fast, slow, sample_master)
