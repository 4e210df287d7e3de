"""Benchmarks at scale: ``xl-addin recalc`` against the file-format floor and against a
spreadsheet program doing the same calculation with formulas.

    python benchmarks/run.py --reps 1000,10000 [--runs 3] [--seed 1] [--json out.jsonl]
                             [--skip-libreoffice] [--skip-regional] [--skip-import]
                             [--workdir DIR]

Builds (once per size, seed and version of ``synth.py``; kept in ``--workdir``) a synthetic
master of N quota-carrying reps x 4 quarters over 40 regions with our own library
(:mod:`benchmarks.synth`), then measures, each run in a fresh process, the median of
``--runs`` runs:

* ``recalc_s`` - ``xl-addin recalc`` end to end on a fresh copy of the master;
* ``io_floor_s`` - :mod:`benchmarks.io_floor`: read the input tables with python-calamine,
  write as many output cells as recalc writes with XlsxWriter (constant memory);
* ``io_floor_fast_s`` - the same floor, the cells written with rustpy-xlsxwriter (Rust);
* ``libreoffice_s`` - LibreOffice headless recalculating :mod:`benchmarks.formula_master`
  (forced full recalculation on load), minus the conversion time of a tiny workbook
  (start-up); its stored results are read back and compared with our engine on a sample of
  500 rep-quarters (KPI score, gate, raw excess, awards to 0.01). null when skipped, when it
  fails the comparison, or when it would take more than 10 minutes (extrapolated from the
  smaller sizes measured before in the same workdir, or killed at the time limit);
* ``regional_s`` - ``xl-addin regional MASTER -o DIR`` plus ``xl-addin email MASTER --dir DIR
  --dry-run``; null when skipped or when either takes more than 10 minutes;
* ``import_s`` - ``xl-addin import COPY --table tblActuals FILE.csv`` of every actuals row
  (``import_rows``), the CSV written once by ``xl-addin export --table tblActuals``; null
  with ``--skip-import``;
* ``sample_recalc_s`` - ``xl-addin recalc`` of the 28-rep built-in sample
  (``xl-addin new --sample``), after one warm-up run;
* ``import_floor_s`` - ``python -c "import pandas, openpyxl"``, after one warm-up run: what
  any such tool pays before it starts;
* ``peak_rss_mb`` - the largest peak resident memory of our commands (recalc, import, the
  sample's recalc, regional, email), from ``wait4``'s rusage of each child;
* ``ratios`` - the figures side by side (``recalc_vs_io_floor_fast`` = recalc_s /
  io_floor_fast_s, ...), null where a figure is;
* ``goals`` - each goal of issue 10 with its value, comparison, limit, unit, the size it is
  set at (``at_reps``, null: every size) and ``pass``: true, false, or null when not
  measured or set at another size. Printed as a table at the end.

Writes, for each size, a JSON object with exactly the keys of ``KEYS`` on one line
(``--json``, and always to standard output); details and the goal tables go to standard
error. Needs only the
``bench`` extra: ``pip install -e '.[bench]'`` (XlsxWriter, rustpy-xlsxwriter), and
LibreOffice for ``libreoffice_s``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KEYS = ("reps", "recalc_s", "io_floor_s", "io_floor_fast_s", "libreoffice_s", "regional_s",
        "import_s", "import_rows", "sample_recalc_s", "import_floor_s", "peak_rss_mb",
        "ratios", "goals")
LO_LIMIT = 600.0          # seconds: LibreOffice runs longer than this are not measured
REGIONAL_LIMIT = 600.0    # seconds: regional or email runs longer than this are not measured
SAMPLE = 500              # rep-quarters compared between LibreOffice and the engine

_RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- processes

@dataclass
class Measured:
    seconds: float
    max_rss_mb: float
    returncode: int
    output: str


_LAUNCHER = None


def run_measured(cmd: list[str], *, timeout: float | None = None, env: dict | None = None,
                 cwd: Path | None = None) -> Measured:
    """Run ``cmd`` in a fresh process (its own process group); wall time and the child's
    peak RSS from ``os.wait4``. On timeout the whole group is killed and TimeoutError raised.

    The command is started by a small launcher process (multiprocessing's fork server), not
    by this one: on Linux a child's peak RSS counts the memory of the process it was forked
    from, and this one holds the synthetic plan and the engine's results (a 500 MB parent
    made ``python -c pass`` peak at 519 MB)."""
    global _LAUNCHER
    if _LAUNCHER is None:
        import multiprocessing

        _LAUNCHER = multiprocessing.get_context("forkserver").Pool(1)
    return _LAUNCHER.apply(_run_measured, (cmd,), {"timeout": timeout, "env": env, "cwd": cwd})


def close_launcher() -> None:
    global _LAUNCHER
    if _LAUNCHER is not None:
        _LAUNCHER.close()
        _LAUNCHER.join()
        _LAUNCHER = None


def _run_measured(cmd: list[str], *, timeout: float | None = None, env: dict | None = None,
                  cwd: Path | None = None) -> Measured:
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env, cwd=cwd)
        done: dict = {}

        def wait() -> None:
            _, status, usage = os.wait4(proc.pid, 0)
            done.update(t=time.perf_counter(), status=status, usage=usage)

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        waiter.join(timeout)
        timed_out = waiter.is_alive()
        _kill_group(proc.pid)             # on timeout, and any child left behind (soffice.bin)
        waiter.join()
        proc.returncode = os.waitstatus_to_exitcode(done["status"])
        out.seek(0)
        text = out.read()
    if timed_out:
        raise TimeoutError(f"{cmd[0]} killed after {timeout:.0f} s")
    return Measured(done["t"] - t0, done["usage"].ru_maxrss / 1024, proc.returncode, text)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def xl_addin() -> list[str]:
    """The ``xl-addin`` console script of this interpreter (or ``python -m xl_addin.cli``);
    the environment variable XL_ADDIN_CMD overrides it (a command line, split like a shell's)."""
    if os.environ.get("XL_ADDIN_CMD"):
        import shlex

        return shlex.split(os.environ["XL_ADDIN_CMD"])
    script = Path(sys.executable).with_name("xl-addin")
    return [str(script)] if script.exists() else [sys.executable, "-m", "xl_addin.cli"]


def median(values: list[float]) -> float:
    return statistics.median(values)


# ----------------------------------------------------------------------------- the master

def synth_version(*files: str) -> str:
    """A short hash of the generator scripts: a cached file is rebuilt when they change."""
    h = hashlib.sha256()
    for name in ("synth.py", *files):
        h.update((HERE / name).read_bytes())
    return h.hexdigest()[:10]


def master_path(workdir: Path, reps: int, seed: int) -> Path:
    """The synthetic master for (reps, seed), built in a subprocess when not cached."""
    path = workdir / f"master_{reps}_s{seed}_{synth_version()}.xlsx"
    if not path.exists():
        log(f"building the synthetic master ({reps} reps) ...")
        tmp = path.with_suffix(".part.xlsx")
        m = run_measured([sys.executable, str(HERE / "synth.py"), "--reps", str(reps),
                          "--seed", str(seed), "-o", str(tmp)])
        if m.returncode != 0:
            raise SystemExit(f"building the master failed:\n{m.output}")
        log(f"  built in {m.seconds:.1f} s (peak {m.max_rss_mb:.0f} MB): {m.output.strip()}")
        tmp.replace(path)
    return path


# ----------------------------------------------------------------------------- measures

def measure_recalc(master: Path, workdir: Path, runs: int) -> tuple[list[float], float]:
    times, peak = [], 0.0
    for k in range(runs):
        copy = workdir / "recalc_copy.xlsx"
        shutil.copyfile(master, copy)
        for stale in (copy.with_name(copy.name + ".bak"),):
            stale.unlink(missing_ok=True)
        m = run_measured([*xl_addin(), "recalc", str(copy)])
        if m.returncode != 0:
            raise SystemExit(f"xl-addin recalc failed (exit {m.returncode}):\n{m.output}")
        times.append(m.seconds)
        peak = max(peak, m.max_rss_mb)
        log(f"  recalc run {k + 1}: {m.seconds:.2f} s, peak {m.max_rss_mb:.0f} MB")
    return times, peak


def measure_floor(master: Path, workdir: Path, shapes: list[tuple[int, int]], runs: int,
                  writer: str = "xlsxwriter") -> list[float]:
    spec = ",".join(f"{r}x{c}" for r, c in shapes)
    times = []
    for k in range(runs):
        m = run_measured([sys.executable, str(HERE / "io_floor.py"), str(master),
                          "-o", str(workdir / f"floor_out_{writer}.xlsx"), "--cells", spec,
                          "--writer", writer])
        if m.returncode != 0:
            raise SystemExit(f"io_floor --writer {writer} failed:\n{m.output}")
        times.append(m.seconds)
        log(f"  io floor ({writer}) run {k + 1}: {m.seconds:.2f} s {m.output.strip()}")
    return times


def measure_import_floor(runs: int) -> list[float]:
    """``python -c "import pandas, openpyxl"``: what any Python tool of this kind pays before
    it reads a byte (interpreter start-up and the two libraries)."""
    times = []
    for k in range(runs + 1):                        # the first run warms the file cache
        m = run_measured([sys.executable, "-c", "import pandas, openpyxl"])
        if m.returncode != 0:
            raise SystemExit(f"importing pandas and openpyxl failed:\n{m.output}")
        if k:
            times.append(m.seconds)
    log("  import floor (python -c 'import pandas, openpyxl'): "
        + ", ".join(f"{t:.2f}" for t in times) + " s")
    return times


def measure_sample_recalc(workdir: Path, runs: int) -> tuple[list[float], float]:
    """``xl-addin recalc`` of the built-in sample (``xl-addin new --sample``), end to end:
    what a click on the ribbon's recalculate waits for, less Excel's own part."""
    sample = workdir / "sample.xlsx"
    sample.unlink(missing_ok=True)
    m = run_measured([*xl_addin(), "new", "--sample", "-o", str(sample)])
    if m.returncode != 0:
        raise SystemExit(f"xl-addin new --sample failed (exit {m.returncode}):\n{m.output}")
    times, peak = [], 0.0
    for k in range(runs + 1):                        # the first run warms the file cache
        copy = workdir / "sample_copy.xlsx"
        shutil.copyfile(sample, copy)
        copy.with_name(copy.name + ".bak").unlink(missing_ok=True)
        m = run_measured([*xl_addin(), "recalc", str(copy)])
        if m.returncode != 0:
            raise SystemExit(f"xl-addin recalc of the sample failed (exit {m.returncode}):\n{m.output}")
        if k:
            times.append(m.seconds)
            peak = max(peak, m.max_rss_mb)
    log("  sample recalc: " + ", ".join(f"{t:.2f}" for t in times) + f" s, peak {peak:.0f} MB")
    return times, peak


def measure_import(master: Path, workdir: Path, runs: int) -> tuple[list[float], float, int]:
    """``xl-addin import COPY --table tblActuals ACTUALS.csv`` with every actuals row of the
    master, exported once beforehand with ``xl-addin export --table tblActuals``."""
    csv_path = workdir / f"{master.stem}_actuals.csv"
    if not csv_path.exists():
        tmp = csv_path.with_suffix(".part.csv")
        m = run_measured([*xl_addin(), "export", str(master), "--table", "tblActuals", "-o", str(tmp)])
        if m.returncode != 0:
            raise SystemExit(f"xl-addin export --table tblActuals failed (exit {m.returncode}):\n{m.output}")
        tmp.replace(csv_path)
    with csv_path.open(encoding="utf-8-sig") as f:
        rows = sum(1 for _ in f) - 1
    times, peak = [], 0.0
    for k in range(runs):
        copy = workdir / "import_copy.xlsx"
        shutil.copyfile(master, copy)
        copy.with_name(copy.name + ".bak").unlink(missing_ok=True)
        m = run_measured([*xl_addin(), "import", str(copy), "--table", "tblActuals", str(csv_path)])
        if m.returncode != 0:
            raise SystemExit(f"xl-addin import failed (exit {m.returncode}):\n{m.output}")
        times.append(m.seconds)
        peak = max(peak, m.max_rss_mb)
        log(f"  import run {k + 1} ({rows} actuals rows): {m.seconds:.2f} s, peak {m.max_rss_mb:.0f} MB")
    return times, peak, rows


def command_help(name: str) -> str | None:
    """``xl-addin NAME --help``, or None when there is no such command."""
    m = run_measured([*xl_addin(), name, "--help"], timeout=120)
    return m.output if m.returncode == 0 else None


def measure_regional(master: Path, workdir: Path, runs: int) -> tuple[list[float] | None, float]:
    email_help = command_help("email")
    if command_help("regional") is None or email_help is None:
        log("  xl-addin regional / email are not available yet: regional_s = null")
        return None, 0.0
    # a dry run sends nothing; give a sender in case no config file names one
    sender = ["--sender", "benchmark@example.com"] if "--sender" in email_help else []
    times, peak = [], 0.0
    for k in range(runs):
        out = workdir / "regional"
        shutil.rmtree(out, ignore_errors=True)
        copy = workdir / "regional_master.xlsx"
        shutil.copyfile(master, copy)
        try:
            a = run_measured([*xl_addin(), "regional", str(copy), "-o", str(out)], timeout=REGIONAL_LIMIT)
        except TimeoutError:
            log(f"  xl-addin regional did not finish within {REGIONAL_LIMIT:.0f} s: regional_s = null")
            return None, peak
        if a.returncode != 0:
            log(f"  xl-addin regional failed (exit {a.returncode}): regional_s = null\n{a.output[-2000:]}")
            return None, max(peak, a.max_rss_mb)
        try:
            b = run_measured([*xl_addin(), "email", str(copy), "--dir", str(out), "--dry-run", *sender],
                             timeout=REGIONAL_LIMIT)
        except TimeoutError:
            log(f"  xl-addin email did not finish within {REGIONAL_LIMIT:.0f} s: regional_s = null")
            return None, max(peak, a.max_rss_mb)
        if b.returncode != 0:
            log(f"  xl-addin email --dry-run failed (exit {b.returncode}): regional_s = null\n{b.output[-2000:]}")
            return None, max(peak, a.max_rss_mb, b.max_rss_mb)
        times.append(a.seconds + b.seconds)
        peak = max(peak, a.max_rss_mb, b.max_rss_mb)
        log(f"  regional run {k + 1}: {a.seconds:.2f} s + email dry-run {b.seconds:.2f} s, "
            f"peak {max(a.max_rss_mb, b.max_rss_mb):.0f} MB")
    return times, peak


# ----------------------------------------------------------------------------- LibreOffice

def soffice() -> str | None:
    return os.environ.get("SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")


def lo_convert(path: Path, out_dir: Path, timeout: float) -> float:
    """Seconds for LibreOffice to load ``path`` recalculating every formula and save it as
    xlsx into ``out_dir`` (fresh profile per call, as tests/support/libreoffice.py does)."""
    exe = soffice()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / path.name).unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as prof, \
            tempfile.TemporaryDirectory(prefix="lo-home-") as home:
        (Path(prof) / "user").mkdir()
        (Path(prof) / "user" / "registrymodifications.xcu").write_text(_RECALC_XCU, encoding="utf-8")
        env = {**os.environ, "HOME": home, "SAL_USE_VCLPLUGIN": "svp"}
        m = run_measured([exe, f"-env:UserInstallation={Path(prof).as_uri()}", "--headless",
                          "--invisible", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                          "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out_dir),
                          str(path)], timeout=timeout, env=env)
    if m.returncode != 0 or not (out_dir / path.name).exists():
        raise RuntimeError(f"soffice could not convert {path.name} (exit {m.returncode}): {m.output[-1000:]}")
    return m.seconds


def tiny_workbook(path: Path) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, [2, 3])
    ws.write_formula(0, 2, "=A1*B1+1")
    wb.close()
    return path


def history_file(workdir: Path) -> Path:
    return workdir / "libreoffice_history.json"


def estimate_lo(workdir: Path, reps: int) -> float | None:
    """LibreOffice seconds at ``reps`` extrapolated from the sizes measured before in this
    workdir: t ~ reps^k with k from the two largest smaller sizes (at least 1), or k = 2
    (the per-row RANK over a quarter is quadratic at worst) from a single one."""
    try:
        hist = {int(k): v for k, v in json.loads(history_file(workdir).read_text()).items()}
    except (OSError, ValueError):
        return None
    smaller = sorted(n for n in hist if n < reps and hist[n])
    if not smaller:
        return None
    n1 = smaller[-1]
    k = 2.0
    if len(smaller) >= 2:
        n0 = smaller[-2]
        k = max(1.0, math.log(hist[n1] / hist[n0]) / math.log(n1 / n0))
    return hist[n1] * (reps / n1) ** k


def record_lo(workdir: Path, reps: int, seconds: float) -> None:
    path = history_file(workdir)
    try:
        hist = json.loads(path.read_text())
    except (OSError, ValueError):
        hist = {}
    hist[str(reps)] = seconds
    path.write_text(json.dumps(hist, indent=1))


def measure_libreoffice(inputs, engine_results, workdir: Path, reps: int, seed: int,
                        runs: int) -> float | None:
    from benchmarks.formula_master import compare, read_results, write_formula_master

    if soffice() is None:
        log("  LibreOffice (soffice) is not installed: libreoffice_s = null")
        return None
    estimate = estimate_lo(workdir, reps)
    if estimate is not None and estimate > LO_LIMIT:
        log(f"  LibreOffice estimated at {estimate:.0f} s (> {LO_LIMIT:.0f} s) from a smaller "
            "run: not measured, libreoffice_s = null")
        return None
    fm = workdir / f"formulas_{reps}_s{seed}_{synth_version('formula_master.py')}.xlsx"
    if not fm.exists():
        t = time.perf_counter()
        rows = write_formula_master(inputs, fm)
        log(f"  formula workbook: {rows} rows written in {time.perf_counter() - t:.1f} s")
    out = workdir / "lo_out"
    tiny = tiny_workbook(workdir / "tiny.xlsx")
    startup = median([lo_convert(tiny, out, 300) for _ in range(max(2, runs))])
    log(f"  LibreOffice start-up (tiny workbook): {startup:.2f} s")
    times = []
    for k in range(runs):
        try:
            t = lo_convert(fm, out, LO_LIMIT + startup)
        except TimeoutError:
            log(f"  LibreOffice did not finish within {LO_LIMIT:.0f} s: libreoffice_s = null")
            record_lo(workdir, reps, LO_LIMIT * 2)
            return None
        times.append(t)
        log(f"  LibreOffice run {k + 1}: {t:.2f} s (minus start-up: {t - startup:.2f} s)")
        if k == 0:   # check that it really recalculated, once
            problems = compare(read_results(out / fm.name), engine_results, sample=SAMPLE)
            if problems:
                log(f"  LibreOffice's results differ from the engine's ({len(problems)}):")
                for p in problems[:20]:
                    log(f"    {p}")
                return None
            log(f"  LibreOffice's results match the engine on {SAMPLE} sampled rep-quarters")
    seconds = max(0.0, median(times) - startup)
    record_lo(workdir, reps, seconds)
    return seconds


# ----------------------------------------------------------------------------- main

def output_shapes(results) -> list[tuple[int, int]]:
    """Rows x columns of every output table recalc writes (and the two-row run log)."""
    shapes = [(max(1, len(df)), len(df.columns)) for df in results.tables().values()]
    return shapes + [(2, 5)]


# ----------------------------------------------------------------------------- goals

# (key, what, value from the figures, comparison, limit, unit, the size the goal is set at or
# None for every size). Ratios are compared at every size (informative away from their size);
# seconds and megabytes only at the size the goal names.
GOALS = (
    ("regional_10k", "regional_s (regional + email --dry-run)",
     lambda f: f["regional_s"], "<", 10.0, "s", 10_000),
    ("recalc_vs_fast_floor", "recalc_s / io_floor_fast_s",
     lambda f: _ratio(f["recalc_s"], f["io_floor_fast_s"]), "<=", 2.0, "x", None),
    ("libreoffice_vs_recalc", "libreoffice_s / recalc_s",
     lambda f: _ratio(f["libreoffice_s"], f["recalc_s"]), ">=", 10.0, "x", None),
    ("import_vs_recalc", "import_s / recalc_s",
     lambda f: _ratio(f["import_s"], f["recalc_s"]), "<=", 1.0, "x", None),
    ("peak_10k", "peak_rss_mb",
     lambda f: f["peak_rss_mb"], "<", 1024.0, "MB", 10_000),
    ("recalc_100k", "recalc_s",
     lambda f: f["recalc_s"], "<", 30.0, "s", 100_000),
    ("peak_100k", "peak_rss_mb",
     lambda f: f["peak_rss_mb"], "<", 2048.0, "MB", 100_000),
    ("sample_vs_import_floor", "sample_recalc_s / import_floor_s",
     lambda f: _ratio(f["sample_recalc_s"], f["import_floor_s"]), "<=", 1.5, "x", None),
)
GOAL_KEYS = ("goal", "value", "op", "limit", "unit", "at_reps", "pass")


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else round(a / b, 3)


def ratios(f: dict) -> dict:
    """The figures side by side: each a quotient of two figures measured in this run."""
    return {
        "recalc_vs_io_floor": _ratio(f["recalc_s"], f["io_floor_s"]),
        "recalc_vs_io_floor_fast": _ratio(f["recalc_s"], f["io_floor_fast_s"]),
        "io_floor_vs_io_floor_fast": _ratio(f["io_floor_s"], f["io_floor_fast_s"]),
        "libreoffice_vs_recalc": _ratio(f["libreoffice_s"], f["recalc_s"]),
        "import_vs_recalc": _ratio(f["import_s"], f["recalc_s"]),
        "sample_recalc_vs_import_floor": _ratio(f["sample_recalc_s"], f["import_floor_s"]),
    }


def goals(f: dict) -> dict:
    """Each goal: its value in this run, the limit, and pass (true/false), or null when the
    figure was not measured or the goal is set at another size."""
    out = {}
    for key, what, value_of, op, limit, unit, at_reps in GOALS:
        value = value_of(f)
        ok = None
        if value is not None and (at_reps is None or at_reps == f["reps"]):
            ok = {"<": value < limit, "<=": value <= limit, ">=": value >= limit}[op]
        out[key] = dict(zip(GOAL_KEYS, (what, value, op, limit, unit, at_reps, ok)))
    return out


def goal_table(f: dict) -> str:
    rows = [("goal", "value", "limit", "result")]
    for g in f["goals"].values():
        unit = "x" if g["unit"] == "x" else " " + g["unit"]
        value = "—" if g["value"] is None else f"{g['value']:g}{unit}"
        result = {True: "pass", False: "FAIL", None: "n/a"}[g["pass"]]
        if g["pass"] is None and g["value"] is not None and g["at_reps"]:
            result = f"n/a (set at {g['at_reps']:,} reps)"
        elif g["value"] is None:
            result = "not measured"
        rows.append((g["goal"], value, f"{g['op']} {g['limit']:g}{unit}", result))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def measure_size(reps: int, a: argparse.Namespace) -> dict:
    """Every figure at ``reps``, measured in this run."""
    from benchmarks.synth import synth_inputs
    from xl_addin.core.engine import compute

    master = master_path(a.workdir, reps, a.seed)
    inputs = synth_inputs(reps, a.seed)
    results = compute(inputs)
    shapes = output_shapes(results)
    log(f"{reps} reps, {len(inputs.actuals)} actuals, {sum(r * c for r, c in shapes)} output "
        f"cells; master {master} ({master.stat().st_size / 1e6:.1f} MB)")

    # the figures of a ratio are measured in turn (A B A B ...), so that a machine shared
    # with other work slows both alike and the ratio holds when the absolute times drift
    recalc_times, floor_times, fast_times, recalc_peak = [], [], [], 0.0
    for _ in range(a.runs):
        t, peak = measure_recalc(master, a.workdir, 1)
        recalc_times += t
        recalc_peak = max(recalc_peak, peak)
        floor_times += measure_floor(master, a.workdir, shapes, 1)
        fast_times += measure_floor(master, a.workdir, shapes, 1, writer="fast")
    import_times, import_peak, import_rows = (None, 0.0, None) if a.skip_import else \
        measure_import(master, a.workdir, a.runs)
    sample_times, import_floor_times, sample_peak = [], [], 0.0
    for _ in range(a.runs):
        t, peak = measure_sample_recalc(a.workdir, 1)
        sample_times += t
        sample_peak = max(sample_peak, peak)
        import_floor_times += measure_import_floor(1)
    regional_times, regional_peak = (None, 0.0) if a.skip_regional else \
        measure_regional(master, a.workdir, a.runs)
    lo = None
    if not a.skip_libreoffice:
        lo = measure_libreoffice(inputs, results, a.workdir, reps, a.seed, a.runs)
    figures = {
        "reps": reps,
        "recalc_s": round(median(recalc_times), 3),
        "io_floor_s": round(median(floor_times), 3),
        "io_floor_fast_s": round(median(fast_times), 3),
        "libreoffice_s": None if lo is None else round(lo, 3),
        "regional_s": None if regional_times is None else round(median(regional_times), 3),
        "import_s": None if import_times is None else round(median(import_times), 3),
        "import_rows": import_rows,
        "sample_recalc_s": round(median(sample_times), 3),
        "import_floor_s": round(median(import_floor_times), 3),
        "peak_rss_mb": round(max(recalc_peak, regional_peak, import_peak, sample_peak), 1),
    }
    figures["ratios"] = ratios(figures)
    figures["goals"] = goals(figures)
    assert tuple(figures) == KEYS
    return figures


def parse_sizes(text: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive whole numbers, e.g. 1000,10000")
    return sizes


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=parse_sizes, required=True,
                    help="quota-carrying reps (at least 40); several sizes: 1000,10000")
    ap.add_argument("--runs", type=int, default=3, help="runs per measure (median)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None,
                    help="write the figures here too (one JSON line per size)")
    ap.add_argument("--skip-libreoffice", action="store_true")
    ap.add_argument("--skip-regional", action="store_true",
                    help="leave out regional + email (regional_s null)")
    ap.add_argument("--skip-import", action="store_true",
                    help="leave out import of the actuals (import_s, import_rows null)")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "xl_addin_bench",
                    help="where masters are cached and runs write (default: %(default)s)")
    a = ap.parse_args(argv)
    if a.runs < 1:
        ap.error("--runs must be positive")
    a.workdir.mkdir(parents=True, exist_ok=True)

    series = []
    try:
        for reps in sorted(a.reps):                  # small first: LibreOffice extrapolates
            figures = measure_size(reps, a)
            series.append(figures)
            print(json.dumps(figures), flush=True)
    finally:
        close_launcher()
    if a.json:
        a.json.write_text("".join(json.dumps(f) + "\n" for f in series))
    for figures in series:
        log("\n" + "  ".join(f"{k} {v}" for k, v in figures["ratios"].items() if v is not None))
        log(f"goals at {figures['reps']:,} reps:\n" + goal_table(figures))
    return series


if __name__ == "__main__":
    main()
