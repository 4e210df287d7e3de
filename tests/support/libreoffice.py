"""LibreOffice (headless ``soffice``) as a second, independent spreadsheet program.

* :func:`recalc_xlsx` -- open an ``.xlsx`` in LibreOffice Calc with *forced full
  recalculation on load* and save it again, so ``openpyxl.load_workbook(out,
  data_only=True)`` returns LibreOffice's own results for every formula (openpyxl
  writes formulas without cached values, and a stale cached value in a file is
  replaced).
* :func:`render_png` -- xlsx -> PDF (LibreOffice) -> PNG (``pdftoppm``, poppler-utils).
* :func:`table_values` -- the rows of an Excel table as dicts keyed by header text.

LibreOffice does not recalculate an xlsx on load by default: it shows the cached
values stored in the file.  Every call here therefore starts ``soffice`` with a fresh,
throw-away user profile (``-env:UserInstallation=file://...``) whose
``registrymodifications.xcu`` sets ``OOXMLRecalcMode=0`` / ``ODFRecalcMode=0``
("always recalculate").  A per-call profile also avoids LibreOffice's profile lock,
so calls may run in parallel (pytest-xdist).  Start-up costs about 1-3 s per call.

Tests use :func:`require_soffice` (or the ``soffice`` fixture) and skip with a clear
reason when LibreOffice is not installed.  **CI installs LibreOffice**
(``apt-get install -y libreoffice-calc-nogui poppler-utils``) and must never skip
these tests: with ``CI=true`` in the environment a missing ``soffice`` is a test
*failure*, not a skip.

Every subprocess runs with a timeout in its own process group; on timeout the whole
group (``soffice`` and its ``soffice.bin`` child) is killed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest

__all__ = [
    "recalc_xlsx",
    "render_png",
    "require_soffice",
    "soffice",
    "soffice_available",
    "soffice_path",
    "table_values",
]

_RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

DEFAULT_TIMEOUT = 180.0


def soffice_path() -> str | None:
    """Path of the ``soffice`` executable (env ``SOFFICE`` overrides), or None."""
    configured = os.environ.get("SOFFICE")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def soffice_available() -> bool:
    """True if LibreOffice's ``soffice`` executable is installed."""
    return soffice_path() is not None


def require_soffice() -> str:
    """Return the ``soffice`` path; skip the test if absent -- or FAIL when ``CI=true``."""
    path = soffice_path()
    if path is None:
        reason = (
            "LibreOffice (soffice) is not installed: "
            "apt-get install -y libreoffice-calc-nogui poppler-utils"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} -- it must be installed in CI", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture
def soffice() -> str:
    """Pytest fixture: the ``soffice`` path (see :func:`require_soffice`)."""
    return require_soffice()


def _run(cmd: Sequence[str], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in its own process group; kill the whole group on timeout."""
    proc = subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kwargs,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        raise TimeoutError(
            f"{cmd[0]} did not finish within {timeout:.0f}s and was killed "
            f"(cmd={' '.join(cmd)}, stderr={err.strip()[:500]})"
        ) from None
    finally:
        if proc.poll() is None:  # e.g. KeyboardInterrupt
            _kill_group(proc)
    # soffice may leave its soffice.bin child alive for a moment: reap the group.
    _kill_group(proc)
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the process group we started (``soffice`` and ``soffice.bin``)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass


class _Profile:
    """A throw-away LibreOffice user profile that recalculates everything on load."""

    def __init__(self, force_recalc: bool = True) -> None:
        self.force_recalc = force_recalc

    def __enter__(self) -> str:
        self.dir = Path(tempfile.mkdtemp(prefix="lo-profile-"))
        user = self.dir / "user"
        user.mkdir()
        if self.force_recalc:
            (user / "registrymodifications.xcu").write_text(_RECALC_XCU, encoding="utf-8")
        return self.dir.as_uri()

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _convert(
    path: Path, out_dir: Path, target: str, timeout: float, force_recalc: bool = True
) -> Path:
    """``soffice --convert-to target`` in a fresh recalculating profile."""
    exe = soffice_path()
    if exe is None:
        raise FileNotFoundError("LibreOffice (soffice) is not installed")
    path = Path(path).resolve()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    extension = target.split(":")[0]
    expected = out_dir / f"{path.stem}.{extension}"
    if expected == path:
        raise ValueError(f"out_dir must differ from the input's folder ({path.parent})")
    expected.unlink(missing_ok=True)
    with _Profile(force_recalc) as profile, tempfile.TemporaryDirectory(prefix="lo-home-") as home:
        env = {**os.environ, "HOME": home, "SAL_USE_VCLPLUGIN": "svp"}
        result = _run(
            [
                str(exe),
                f"-env:UserInstallation={profile}",
                "--headless",
                "--invisible",
                "--norestore",
                "--nologo",
                "--nodefault",
                "--nolockcheck",
                "--convert-to",
                target,
                "--outdir",
                str(out_dir),
                str(path),
            ],
            timeout,
            env=env,
        )
    if result.returncode != 0 or not expected.exists():
        raise RuntimeError(
            f"soffice could not convert {path.name} to {target} "
            f"(rc={result.returncode}): {result.stdout.strip()} {result.stderr.strip()}"
        )
    return expected


def recalc_xlsx(
    path: str | Path,
    out_dir: str | Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    force_recalc: bool = True,
) -> Path:
    """Recalculate ``path`` in LibreOffice and save it as ``out_dir/<same name>.xlsx``.

    Read the result with ``openpyxl.load_workbook(result, data_only=True)`` to get
    LibreOffice's values.  Tables, defined names and number formats survive the round
    trip; styling details may be normalised by LibreOffice.  ``force_recalc=False``
    uses LibreOffice's default profile settings (cached values are kept) -- only
    useful to demonstrate why the default is True.

    Raises:
        TimeoutError: LibreOffice hung (it was killed).
        RuntimeError: conversion failed.
    """
    return _convert(
        Path(path), Path(out_dir), "xlsx:Calc MS Excel 2007 XML", timeout, force_recalc
    )


def render_png(
    path: str | Path,
    out_dir: str | Path,
    *,
    first_page_only: bool = True,
    dpi: int = 80,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Path]:
    """Render a workbook to PNG: LibreOffice -> PDF (recalculated) -> ``pdftoppm``.

    Returns the PNG files in page order (one file if ``first_page_only``).
    """
    out_dir = Path(out_dir)
    pdf = _convert(Path(path), out_dir, "pdf:calc_pdf_Export", timeout)
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise FileNotFoundError("pdftoppm (poppler-utils) is not installed")
    prefix = out_dir / pdf.stem
    cmd = [pdftoppm, "-png", "-r", str(dpi)]
    if first_page_only:
        cmd += ["-f", "1", "-l", "1", "-singlefile"]
    result = _run([*cmd, str(pdf), str(prefix)], timeout)
    if result.returncode != 0:
        raise RuntimeError(f"pdftoppm failed: {result.stderr.strip()}")
    if first_page_only:
        return [prefix.with_suffix(".png")]
    pages = sorted(
        out_dir.glob(f"{pdf.stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1])
    )
    return pages


def _iter_tables(wb: openpyxl.Workbook) -> Iterator[tuple[Any, Any]]:
    for ws in wb.worksheets:
        for table in ws.tables.values():
            yield ws, table


def table_values(path: str | Path, table_name: str, data_only: bool = True) -> list[dict[str, Any]]:
    """Rows of the Excel table ``table_name`` (any sheet) keyed by header text.

    The header row (or, for a table without headers, the table's column names) gives
    the keys; the totals row is excluded.  ``data_only=True`` returns cached formula
    results (use on the output of :func:`recalc_xlsx`), ``False`` the formulas.
    """
    from openpyxl.utils import range_boundaries

    wb = openpyxl.load_workbook(path, data_only=data_only)
    for ws, table in _iter_tables(wb):
        if table.displayName.casefold() != table_name.casefold():
            continue
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        headers = 1 if table.headerRowCount is None else int(table.headerRowCount)
        totals = int(table.totalsRowCount or 0)
        if headers:
            keys = [
                str(ws.cell(min_row, col).value) for col in range(min_col, max_col + 1)
            ]
        else:
            keys = [column.name for column in table.tableColumns]
        rows = []
        for row in ws.iter_rows(
            min_row=min_row + headers,
            max_row=max_row - totals,
            min_col=min_col,
            max_col=max_col,
            values_only=True,
        ):
            rows.append(dict(zip(keys, row)))
        return rows
    raise KeyError(f"no table named {table_name!r} in {path}")
