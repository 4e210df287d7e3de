"""xl-addin demo: the whole job on the built-in 2026 plan, on a machine with no SMTP server
and no email settings."""
from __future__ import annotations

import email
import email.policy
import json

import openpyxl
import pytest

from conftest import run_cli
from xl_addin.cli.app import main
from xl_addin.cli.commands import COMMANDS

for _c in COMMANDS:
    if _c.name not in main.commands:
        main.add_command(_c)


@pytest.fixture(autouse=True)
def fresh_machine(tmp_path, monkeypatch):
    """No email settings and no passwords, as on a fresh machine."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("XL_ADDIN_SMTP_PASSWORD", raising=False)


def test_demo_runs_the_whole_job(tmp_path):
    out = tmp_path / "demo"
    r = run_cli("demo", "-o", out)
    assert r.exit_code == 0, r.output
    text = r.stdout
    master = out / "sales_plan_2026.xlsx"
    assert master.is_file()
    wb = openpyxl.load_workbook(master)
    assert any("tblBonus" in ws.tables for ws in wb.worksheets)
    regional = out / "regional"
    files = sorted(p.name for p in regional.glob("*.xlsx"))
    assert files == sorted(["2026_Q4_EAST_华东.xlsx", "2026_Q4_SOUTH_华南.xlsx",
                            "2026_Q4_NORTH_华北.xlsx", "2026_Q4_OTHER_其他.xlsx"])
    emls = sorted((regional / "outbox").glob("*.eml"))
    assert [p.stem + ".xlsx" for p in emls] == files
    msg = email.message_from_bytes(emls[0].read_bytes(), policy=email.policy.default)
    assert msg["From"] == "noreply@xl-addin.invalid"
    log = [json.loads(x) for x in (regional / "send-log.jsonl").read_text().splitlines()]
    assert {x["result"] for x in log} == {"dry_run"}
    # the summary: totals by region in 万/亿, the checks that warn, where the files are
    summary = text[text.index("按区域"):]
    assert "1.2亿" in summary and "8,000万" in summary and "2.8亿" in summary
    east = next(line for line in summary.splitlines() if line.startswith("EAST"))
    assert "华东" in east and "138万" in east and east.split()[-1] == "10"
    assert "注意 3" in text and "不通过 0" in text
    # the three warnings by their Chinese label, area and message (no English status)
    warns = [line for line in text.splitlines() if line.startswith("  注意 ")]
    assert len(warns) == 3 and "WARN" not in text
    assert any("区域：OTHER 占比：30,000,000 / 280,000,000 = 10.71%，计划写明 10%" in w for w in warns)
    assert str(master) in text and str(regional / "outbox") in text


def test_demo_in_english(tmp_path):
    r = run_cli("demo", "-o", tmp_path / "d", "--lang", "en")
    assert r.exit_code == 0, r.output
    assert "CNY 120.0m" in r.stdout and "CNY 280.0m" in r.stdout and "3 WARN" in r.stdout
    wb = openpyxl.load_workbook(tmp_path / "d" / "regional" / "2026_Q4_EAST_East.xlsx")
    assert wb.sheetnames[0] == "Summary"


def test_demo_default_folder_and_rerun(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli("demo").exit_code == 0
    assert (tmp_path / "xl_addin_demo" / "regional" / "manifest.json").is_file()
    again = run_cli("demo")
    assert again.exit_code == 0, again.output
    assert len(list((tmp_path / "xl_addin_demo" / "regional" / "outbox").glob("*.eml"))) == 4


def test_demo_help():
    r = run_cli("demo", "--help")
    assert r.exit_code == 0 and "-o, --output" in r.output and "xl_addin_demo" in r.output
