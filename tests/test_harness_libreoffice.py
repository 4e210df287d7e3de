"""Tests for tests/support/libreoffice.py: LibreOffice as an independent calculator."""

from __future__ import annotations

import re
import struct
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.table import Table, TableStyleInfo

from tests.support import libreoffice as lo
from tests.support.libreoffice import (
    recalc_xlsx,
    render_png,
    require_soffice,
    soffice,  # noqa: F401  (pytest fixture)
    table_values,
)

SALES = [
    ("张三", "华东", 120),
    ("李四", "华北", 80),
    ("王五", "华东", 45.5),
    ("赵六", "华南", 200),
    ("钱七", "华北", 60),
]


def _formula_workbook(path: Path) -> Path:
    """Formulas written by openpyxl: the file holds NO cached values."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "计算"
    ws["A1"], ws["A2"] = 2, 3
    ws["B1"] = "=A1*A2+1"
    ws["D1"], ws["E1"], ws["F1"] = "rep", "region", "amount"
    for i, row in enumerate(SALES, start=2):
        ws.cell(i, 4).value, ws.cell(i, 5).value, ws.cell(i, 6).value = row
        ws.cell(i, 7).value = f"=RANK(F{i},$F$2:$F$6)"
    ws["B2"] = '=SUMIFS(F2:F6,E2:E6,"华东")'
    ws["B3"] = "=MIN(F2:F6)"
    ws["B4"] = "=ROUND(B2/3,2)"
    ws["B5"] = '=SUMIFS(F2:F6,E2:E6,"华北")+B1'
    table = Table(displayName="tblSales", ref="D1:G6")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws["G1"] = "rank"
    ws.add_table(table)
    wb.save(path)
    return path


def test_recalc_computes_formulas_written_without_cached_values(
    soffice: str, tmp_path: Path
) -> None:
    src = _formula_workbook(tmp_path / "formulas.xlsx")
    assert openpyxl.load_workbook(src, data_only=True)["计算"]["B1"].value is None

    started = time.perf_counter()
    out = recalc_xlsx(src, tmp_path / "out")
    elapsed = time.perf_counter() - started

    ws = openpyxl.load_workbook(out, data_only=True)["计算"]
    assert ws["B1"].value == 7  # 2*3+1
    assert ws["B2"].value == pytest.approx(165.5)  # 120 + 45.5 (华东)
    assert ws["B3"].value == pytest.approx(45.5)  # MIN
    assert ws["B4"].value == pytest.approx(55.17)  # ROUND(165.5/3, 2) = 55.1666.. -> 55.17
    assert ws["B5"].value == pytest.approx(147)  # 80 + 60 + 7
    # RANK descending: 200 -> 1, 120 -> 2, 80 -> 3, 60 -> 4, 45.5 -> 5
    assert [ws.cell(i, 7).value for i in range(2, 7)] == [2, 3, 5, 1, 4]
    # the formulas themselves survive the round trip
    assert openpyxl.load_workbook(out)["计算"]["B1"].value == "=A1*A2+1"
    assert elapsed < 60


def _patch_cached_value(path: Path, cell: str, formula: str, value: str) -> None:
    """Rewrite the xlsx so ``cell`` stores ``value`` as its cached formula result."""
    patched = path.with_suffix(".tmp")
    with (
        zipfile.ZipFile(path) as zin,
        zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode("utf-8")
                pattern = re.compile(
                    rf'(<c r="{cell}"[^>]*>)<f>{re.escape(formula)}</f>(?:<v\s*/>|<v>[^<]*</v>)?'
                )
                xml, count = pattern.subn(rf"\1<f>{formula}</f><v>{value}</v>", xml)
                assert count == 1, xml
                data = xml.encode("utf-8")
            zout.writestr(item, data)
    patched.replace(path)


def test_recalc_is_real_stale_cached_value_is_corrected(soffice: str, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"] = 2, 3
    ws["B1"] = "=A1*A2+1"
    src = tmp_path / "stale.xlsx"
    wb.save(src)
    _patch_cached_value(src, "B1", "A1*A2+1", "999")
    assert openpyxl.load_workbook(src, data_only=True).active["B1"].value == 999

    # LibreOffice's default: it trusts the cached value...
    kept = recalc_xlsx(src, tmp_path / "default", force_recalc=False)
    assert openpyxl.load_workbook(kept, data_only=True).active["B1"].value == 999
    # ...the harness's fresh profile forces a full recalculation.
    fixed = recalc_xlsx(src, tmp_path / "recalc")
    assert openpyxl.load_workbook(fixed, data_only=True).active["B1"].value == 7


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_render_png(soffice: str, tmp_path: Path) -> None:
    src = _formula_workbook(tmp_path / "render.xlsx")
    pngs = render_png(src, tmp_path / "png")
    assert len(pngs) == 1
    assert pngs[0].exists() and pngs[0].stat().st_size > 1000
    width, height = _png_size(pngs[0])
    assert width > 100 and height > 100


def test_table_values_reads_recalculated_table(soffice: str, tmp_path: Path) -> None:
    src = _formula_workbook(tmp_path / "table.xlsx")
    formulas = table_values(src, "tblSales", data_only=False)
    assert formulas[0] == {
        "rep": "张三",
        "region": "华东",
        "amount": 120,
        "rank": "=RANK(F2,$F$2:$F$6)",
    }
    rows = table_values(recalc_xlsx(src, tmp_path / "out"), "tblsales")
    assert [row["rank"] for row in rows] == [2, 3, 5, 1, 4]
    assert rows[2] == {"rep": "王五", "region": "华东", "amount": 45.5, "rank": 5}
    with pytest.raises(KeyError):
        table_values(src, "nope")


def test_require_soffice_skips_locally_but_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lo, "soffice_path", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        require_soffice()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must be installed in CI"):
        require_soffice()
    assert lo.soffice_available() is False


def test_timeout_kills_the_whole_process_group() -> None:
    started = time.perf_counter()
    with pytest.raises(TimeoutError, match="killed"):
        lo._run(["sh", "-c", "sleep 30 & sleep 30; wait"], timeout=0.5)
    assert time.perf_counter() - started < 15


def test_out_dir_must_differ_from_input_folder(soffice: str, tmp_path: Path) -> None:
    src = _formula_workbook(tmp_path / "same.xlsx")
    with pytest.raises(ValueError, match="out_dir"):
        recalc_xlsx(src, tmp_path)


def test_macro_output_recalculates_in_libreoffice(soffice: str, tmp_path: Path) -> None:
    """xlwings macro -> actions applied with openpyxl -> LibreOffice sees a valid table."""
    import pandas as pd

    from tests.support.xlwings_remote import run_macro

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append(["region", "total"])
    ws.append(["旧", 1])
    table = Table(displayName="tblSummary", ref="A1:B2")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    ws["D1"] = "=SUM(tblSummary[total])"
    ws["D2"] = "=COUNTIFS(tblSummary[region],\"华*\")"
    src = tmp_path / "grow.xlsx"
    wb.save(src)

    def macro(book: Any) -> None:
        df = pd.DataFrame({"region": ["华东", "华北", "华南"], "total": [165.5, 140, 200]})
        table = book.sheets["汇总"].tables["tblSummary"]
        table.update(df, index=False)
        table.show_totals = True

    out = tmp_path / "macro" / "grow.xlsx"
    out.parent.mkdir()
    run_macro(src, macro, out)
    recalculated = recalc_xlsx(out, tmp_path / "lo")
    result = openpyxl.load_workbook(recalculated, data_only=True)["汇总"]
    assert result["D1"].value == pytest.approx(505.5)  # the grown table is summed
    assert result["D2"].value == 3
    assert result["B5"].value == pytest.approx(505.5)  # totals row SUBTOTAL(109, ...)
    assert table_values(recalculated, "tblSummary") == [
        {"region": "华东", "total": 165.5},
        {"region": "华北", "total": 140},
        {"region": "华南", "total": 200},
    ]
