"""Issue 11, "Done when": random edits to the sample master never end in a wrong number.

Each example renames headers, scales values, blanks rows and puts values of the wrong
type into the input tables of a copy of the sample master, then runs ``recalc``. Either it
exits 2 and the file is byte for byte what it was, or it exits 0 or 1 and the outputs, read
back with openpyxl, pass checks that do not use the engine: every bonus adds up to the
fen, no KPI score leaves 0..100, every paid rep is in the team table, and the exit code
agrees with the FAIL rows of the checks table.
"""
from __future__ import annotations

import hashlib
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.cell import range_boundaries

from conftest import run_cli

INPUTS = ["tblPlan", "tblQuarterSplit", "tblRegionSplit", "tblProductSplit", "tblRegions",
          "tblTeam", "tblBudget", "tblKpiScheme", "tblActuals", "tblImprovement"]
ODD_VALUES = [0, -1, 3, 100, 150, 1e12, 1e308, 99999999, 0.5, "abc", "=1+1", "", None, True,
              "12%", "一百万"]
SCALES = [0, -1, Decimal("0.01"), 100, 10 ** 6]


def _tables(wb):
    out = {}
    for ws in wb.worksheets:
        for name in ws.tables:
            out[name] = (ws, range_boundaries(ws.tables[name].ref))
    return out


def _rows(wb, name: str) -> list[dict]:
    ws, (c1, r1, c2, r2) = _tables(wb)[name]
    head = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
    return [{h: ws.cell(r, c1 + i).value for i, h in enumerate(head)}
            for r in range(r1 + 1, r2 + 1)]


def _edit(wb, data) -> None:
    tables = _tables(wb)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        name = data.draw(st.sampled_from([n for n in INPUTS if n in tables]), label="table")
        ws, (c1, r1, c2, r2) = tables[name]
        col = data.draw(st.integers(c1, c2), label="column")
        row = data.draw(st.integers(r1 + 1, max(r1 + 1, r2)), label="row")
        kind = data.draw(st.sampled_from(["rename", "scale", "blank_row", "odd"]), label="kind")
        if kind == "rename":
            old = str(ws.cell(r1, col).value)
            new = data.draw(st.sampled_from([old + "(元)", old.upper(), " " + old + " ", "x" + old,
                                             old.swapcase()]), label="header")
            ws.cell(r1, col).value = new
            for tc in ws.tables[name].tableColumns:
                if tc.name == old:
                    tc.name = new.strip() or "x"
        elif kind == "scale":
            v = ws.cell(row, col).value
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                f = data.draw(st.sampled_from(SCALES), label="factor")
                ws.cell(row, col).value = float(Decimal(str(v)) * Decimal(f))
        elif kind == "blank_row":
            for c in range(c1, c2 + 1):
                ws.cell(row, c).value = None
        else:
            ws.cell(row, col).value = data.draw(st.sampled_from(ODD_VALUES), label="value")


def _money(v) -> Decimal:
    d = Decimal(str(v if v is not None else 0))
    assert d == d.quantize(Decimal("0.01")), v
    return d


def _independent_checks(path: Path, exit_code: int) -> None:
    wb = openpyxl.load_workbook(path)
    team = {r["工号"] for r in _rows(wb, "tblTeam")}
    for r in _rows(wb, "tblBonus"):
        if r["工号"] is None:
            continue
        assert r["工号"] in team
        parts = [_money(r[k]) for k in ("基础奖金", "超额奖金(实发)", "新客户奖", "回款奖")]
        assert all(p >= 0 for p in parts), r
        assert sum(parts) == _money(r["季度奖金合计"]), r
        assert _money(r["超额奖金(实发)"]) <= _money(r["超额奖金(应发)"]), r
    for r in _rows(wb, "tblKpi"):
        if r["KPI得分"] is not None:
            assert 0 <= Decimal(str(r["KPI得分"])) <= 100, r
    statuses = {r["状态"] for r in _rows(wb, "tblChecks")}
    assert (exit_code == 1) == bool(statuses & {"FAIL", "不通过"}), (exit_code, statuses)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_edits_either_refuse_cleanly_or_compute_right(sample_master_session, tmp_path,
                                                             data):
    path = tmp_path / "edited.xlsx"
    shutil.copy(sample_master_session, path)
    wb = openpyxl.load_workbook(path)
    _edit(wb, data)
    wb.save(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    r = run_cli("recalc", path)
    assert "Traceback" not in r.output
    assert r.exit_code in (0, 1, 2), r.output
    if r.exit_code == 2:
        assert "problem(s) in the input" in r.output or "错误 / Error" in r.output
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    else:
        _independent_checks(path, r.exit_code)
