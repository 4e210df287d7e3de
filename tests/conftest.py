"""Shared fixtures: the sample master workbook, built once per session through the CLI."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from xl_addin.cli.app import main


def run_cli(*args: str):
    """Run ``xl-addin`` in-process; return the click Result (exit_code, output, stderr)."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="session")
def sample_master_session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("master") / "sales_plan_2026.xlsx"
    r = run_cli("new", "--sample", "-o", path)
    assert r.exit_code == 0, r.output
    return path


@pytest.fixture
def sample_master(sample_master_session, tmp_path) -> Path:
    """A private copy of the sample master (zh) for a test to change."""
    dst = tmp_path / "master.xlsx"
    shutil.copy(sample_master_session, dst)
    return dst
