"""The calculation core imports no Excel, file-format, mail or network library."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).parents[1] / "xl_addin"
CORE = sorted(p.stem for p in (PKG / "core").glob("*.py") if p.stem != "__init__")
FORBIDDEN = {"openpyxl", "xlwings", "smtplib", "email", "python_calamine", "xlsxwriter",
             "msoffcrypto", "socket", "urllib", "requests", "zipfile", "shutil", "subprocess"}


def test_the_core_is_every_pure_module():
    # the rules live in core/; a new rule module there is checked below without a list to edit
    assert {"model", "splits", "checks", "kpi", "bonus", "awards", "watchlist", "engine"} <= set(CORE)


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_adapter_library(module):
    tree = ast.parse((PKG / "core" / f"{module}.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level >= 2:
            # from the core only the shared error types, never an adapter package
            assert node.level == 2 and node.module in ("errors", "paths"), (module, node.module)
    assert not names & FORBIDDEN, (module, names & FORBIDDEN)


@pytest.mark.parametrize("with_team", [False, True])
def test_engine_tables_have_exactly_the_contract_columns(with_team):
    # the core builds its frames without the workbook schema; the schema must still agree
    from xl_addin.core.engine import compute
    from xl_addin.core.model import default_plan
    from xl_addin.workbook.master import sample_inputs
    from xl_addin.workbook.schema import TABLES

    results = compute(sample_inputs() if with_team else default_plan())
    for name, df in results.tables().items():
        assert list(df.columns) == list(TABLES[name].keys), name
