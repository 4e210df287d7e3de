"""The calculation core imports no Excel, file-format, mail or network library."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = ["model", "money", "errors", "splits", "validate", "checks", "kpi", "bonus", "awards",
        "watchlist", "engine", "statement"]
FORBIDDEN = {"openpyxl", "xlwings", "smtplib", "email", "python_calamine", "xlsxwriter",
             "msoffcrypto", "socket", "urllib", "requests", "zipfile", "shutil", "subprocess"}
PKG = Path(__file__).parents[1] / "xl_addin"


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_adapter_library(module):
    tree = ast.parse((PKG / f"{module}.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            assert not node.module.startswith(("workbook", "excel", "distribution", "cli", "macros", "udfs")) \
                or (module == "engine" and node.module == "workbook.schema"), (module, node.module)
    assert not names & FORBIDDEN, (module, names & FORBIDDEN)
