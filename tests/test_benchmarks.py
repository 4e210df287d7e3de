"""The benchmarks keep working (no timing assertions), and the formula version of the
calculation, recalculated by LibreOffice, agrees with our engine: an independent second
implementation of the KPI and bonus rules."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.libreoffice import recalc_xlsx, require_soffice

ROOT = Path(__file__).resolve().parent.parent
FIGURES = {"reps", "recalc_s", "io_floor_s", "io_floor_fast_s", "libreoffice_s", "regional_s",
           "import_s", "import_rows", "sample_recalc_s", "import_floor_s", "peak_rss_mb"}
KEYS = FIGURES | {"ratios", "goals"}
RATIOS = {"recalc_vs_io_floor", "recalc_vs_io_floor_fast", "io_floor_vs_io_floor_fast",
          "libreoffice_vs_recalc", "import_vs_recalc", "sample_recalc_vs_import_floor"}
# issue 10's goals: key -> (comparison, limit, size it is set at; None: every size)
GOALS = {"regional_10k": ("<", 10.0, 10_000), "recalc_vs_fast_floor": ("<=", 2.0, None),
         "libreoffice_vs_recalc": (">=", 10.0, None), "import_vs_recalc": ("<=", 1.0, None),
         "peak_10k": ("<", 1024.0, 10_000), "recalc_100k": ("<", 30.0, 100_000),
         "peak_100k": ("<", 2048.0, 100_000), "sample_vs_import_floor": ("<=", 1.5, None)}


def test_run_benchmark_small(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--reps", "200", "--runs", "1",
         "--skip-libreoffice", "--json", str(out), "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert set(figures) == KEYS
    assert figures["reps"] == 200
    for key in FIGURES - {"reps"}:
        value = figures[key]
        assert value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                 and value >= 0), (key, value)
    for key in ("recalc_s", "io_floor_s", "io_floor_fast_s", "import_s", "sample_recalc_s",
                "import_floor_s", "peak_rss_mb"):
        assert figures[key] is not None and figures[key] > 0, key
    assert figures["libreoffice_s"] is None          # skipped
    assert figures["import_rows"] == 200 * 4         # synth: one actuals row per rep-quarter
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == figures

    # ratios: the quotients of the figures above (to the 3 decimals they are rounded to)
    ratios = figures["ratios"]
    assert set(ratios) == RATIOS
    f = figures
    for key, (a, b) in {"recalc_vs_io_floor": ("recalc_s", "io_floor_s"),
                        "recalc_vs_io_floor_fast": ("recalc_s", "io_floor_fast_s"),
                        "io_floor_vs_io_floor_fast": ("io_floor_s", "io_floor_fast_s"),
                        "import_vs_recalc": ("import_s", "recalc_s"),
                        "sample_recalc_vs_import_floor": ("sample_recalc_s", "import_floor_s")}.items():
        assert abs(ratios[key] - f[a] / f[b]) <= 0.0005 + 1e-9, key
    assert ratios["libreoffice_vs_recalc"] is None   # LibreOffice skipped

    # goals: each with its value, limit and a verdict only where it applies at 200 reps
    goals = figures["goals"]
    assert set(goals) == set(GOALS)
    for key, (op, limit, at_reps) in GOALS.items():
        g = goals[key]
        assert set(g) == {"goal", "value", "op", "limit", "unit", "at_reps", "pass"}, key
        assert (g["op"], g["limit"], g["at_reps"]) == (op, limit, at_reps), key
        if g["value"] is None or at_reps not in (None, 200):
            assert g["pass"] is None, key
        else:
            assert g["pass"] is {"<": g["value"] < limit, "<=": g["value"] <= limit,
                                 ">=": g["value"] >= limit}[op], key
    assert goals["recalc_vs_fast_floor"]["value"] == ratios["recalc_vs_io_floor_fast"]
    assert goals["sample_vs_import_floor"]["value"] == ratios["sample_recalc_vs_import_floor"]
    assert goals["regional_10k"]["value"] == f["regional_s"] and goals["regional_10k"]["pass"] is None
    assert goals["libreoffice_vs_recalc"]["pass"] is None          # not measured
    assert isinstance(goals["sample_vs_import_floor"]["pass"], bool)
    # the table at the end of standard error names every goal
    table = proc.stderr[proc.stderr.rindex("goals at 200 reps"):]
    for g in goals.values():
        assert g["goal"] in table
    assert "n/a (set at 10,000 reps)" in table and "not measured" in table


def test_run_benchmark_two_sizes_in_one_command(tmp_path):
    """``--reps 60,40``: one JSON line per size, smallest first, in the file and on stdout;
    what is skipped is null."""
    out = tmp_path / "bench.jsonl"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--reps", "60,40", "--runs", "1",
         "--skip-libreoffice", "--skip-regional", "--skip-import", "--json", str(out),
         "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    series = [json.loads(line) for line in out.read_text().splitlines()]
    assert [f["reps"] for f in series] == [40, 60]
    assert [json.loads(line) for line in proc.stdout.strip().splitlines()[-2:]] == series
    assert all(set(f) == KEYS and f["regional_s"] is None for f in series)
    assert all(f["import_s"] is None and f["import_rows"] is None for f in series)  # skipped
    assert all(f["goals"]["import_vs_recalc"]["pass"] is None for f in series)
    assert "goals at 40 reps" in proc.stderr and "goals at 60 reps" in proc.stderr


def test_peak_memory_is_the_commands_own():
    """A child's peak RSS on Linux counts the memory of the process it was forked from; run.py
    starts commands from a small launcher, so a big benchmark process (it holds the plan and
    the engine's results) does not show up in a small command's peak."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import run

    ballast = bytearray(200 * 2**20)                 # 200 MB, every page touched
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    try:
        m = run.run_measured([sys.executable, "-c", "x = bytearray(30 * 2**20)"])
    finally:
        run.close_launcher()
    assert m.returncode == 0
    assert 30 < m.max_rss_mb < 120, m.max_rss_mb     # its own 30 MB + the interpreter, not 200 MB
    del ballast


def test_io_floor_writers_write_the_same_cells(tmp_path):
    """The fast floor writes the same number of cells as the XlsxWriter floor, read back by
    python-calamine (an independent reader): rows x cols per sheet, text then numbers."""
    from python_calamine import CalamineWorkbook

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import io_floor

    shapes = [(5, 4), (3, 2)]                        # 20 + 6 = 26 cells
    for writer in (io_floor.write_outputs, io_floor.write_outputs_fast):
        path = tmp_path / f"{writer.__name__}.xlsx"
        assert writer(str(path), shapes) == 26
        wb = CalamineWorkbook.from_path(str(path))
        sheets = [wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]
        assert [(len(s), len(s[0])) for s in sheets] == shapes, writer.__name__
        last = sheets[0][-1]                         # text codes first, then numbers
        assert isinstance(last[2], str) and last[2].startswith("S")
        assert isinstance(last[3], float)


def test_core_benchmark_small():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "core.py"), "--reps", "100",
                           "--runs", "1"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert figures["reps"] == 100 and figures["rows"] == 400


def test_formula_master_matches_engine_in_libreoffice(tmp_path):
    require_soffice()
    sys.path.insert(0, str(ROOT))
    from benchmarks.formula_master import compare, read_results, write_formula_master
    from benchmarks.synth import synth_inputs
    from xl_addin.core.engine import compute

    inputs = synth_inputs(20, seed=7, regions=4)
    path = tmp_path / "formulas.xlsx"
    assert write_formula_master(inputs, path) == 80
    engine = compute(inputs)
    # XlsxWriter stores 0 for every formula: unrecalculated, the comparison must fail
    assert compare(read_results(path), engine, sample=None)
    out = recalc_xlsx(path, tmp_path / "lo")
    results = read_results(out)
    assert len(results) == 80
    assert compare(results, engine, sample=None) == []
    scores = [float(results[(r, q)]["kpi_score"]) for r, q in
              zip(engine.kpi["rep_id"], engine.kpi["quarter"])]
    assert all(abs(s - float(k)) <= 0.01 for s, k in zip(scores, engine.kpi["kpi_score"]))
    assert len(set(scores)) > 40                     # real, varied scores


# ----------------------------------------------------------------------------- fast reading

def _same_tables(a, b):
    assert list(a) == list(b)
    for name in a:
        x, y = a[name], b[name]
        assert (x.sheet, x.header, x.origin) == (y.sheet, y.header, y.origin), name
        assert x.rows == y.rows, name
        assert [[type(v) for v in r] for r in x.rows] == [[type(v) for v in r] for r in y.rows], name


def test_calamine_reading_matches_openpyxl(sample_master):
    """XlsxBook reads the tables with python-calamine, without loading openpyxl, and gets
    exactly what openpyxl reads (types included: blanks None, whole numbers int, dates
    datetimes)."""
    from xl_addin.workbook.pipeline import input_digest
    from xl_addin.workbook.xlsx import XlsxBook, load, raw_tables

    book = XlsxBook.open(sample_master)
    fast = book.raw_tables()
    fast = {k: fast[k] for k in fast}                # output tables are read on first use
    assert book._wb is None                          # no openpyxl load for reading
    slow = raw_tables(load(sample_master))
    _same_tables(fast, slow)
    assert input_digest(fast) == input_digest(slow)


def test_formula_in_an_input_table_is_read_by_openpyxl(sample_master):
    """openpyxl reads a formula's text where calamine would read its cached result, so a
    sheet with a formula is read by openpyxl (read-only), and the values, hence the errors
    the user sees, stay exactly as before."""
    import openpyxl

    from xl_addin.workbook.xlsx import XlsxBook, load, raw_tables

    wb = openpyxl.load_workbook(sample_master)
    raw = raw_tables(wb)["tblActuals"]
    ws = wb[raw.sheet]
    ws.cell(raw.origin[0] + 1, raw.origin[1] + 2).value = "=1+2"
    wb.save(sample_master)
    book = XlsxBook.open(sample_master)
    tables = book.raw_tables()
    assert "=1+2" in tables["tblActuals"].rows[0]
    _same_tables({k: tables[k] for k in tables}, raw_tables(load(sample_master)))
