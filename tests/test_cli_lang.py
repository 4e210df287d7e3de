"""Every command speaks the workbook's language (``--lang`` overrides), through the catalog;
rich tables aligned for CJK; first-run polish: `new -o` refuses to overwrite or a wrong
extension, names in any case with "did you mean"."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

import pytest

from conftest import run_cli


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def display_width(s: str) -> int:
    """Columns a terminal gives ``s`` (CJK wide characters take two): measured here with
    unicodedata, independently of rich."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


@pytest.fixture(scope="module")
def masters(tmp_path_factory) -> dict[str, Path]:
    """A Chinese and an English sample master (module-wide, read only)."""
    d = tmp_path_factory.mktemp("masters")
    out = {}
    for lang in ("zh", "en"):
        out[lang] = d / f"plan_{lang}.xlsx"
        r = run_cli("new", "--sample", "--lang", lang, "-o", out[lang])
        assert r.exit_code == 0, r.output
    return out


# The sample plan's figures (the same ones the run log records): 25 reps with targets, 94
# KPI rows, quarter bonuses 3,136,000.00, 59 checks (56 OK, 3 WARN: OTHER and A shares and
# the year-end headcount), 2 on the watchlist.
ZH_SUMMARY = ("销售人员 25 人，绩效得分 94 行，季度奖金合计 3,136,000.00 元，检查：通过 56，注意 3，"
              "不通过 0，观察名单 2 人")
EN_SUMMARY = ("25 reps, 94 KPI rows, bonuses 3,136,000.00 yuan, checks: 56 OK, 3 WARN, 0 FAIL, "
              "watchlist 2")

# Words that may appear in Chinese output: codes from the workbook (regions, products,
# budget lines, quarters, rep ids), file suffixes, and command names and options.
ALLOWED = {"EAST", "SOUTH", "NORTH", "OTHER", "HQ", "A", "B", "C", "MKT", "TEAM", "TEAM_POOL",
           "Q", "R", "xlsx", "eml", "jsonl", "xl-addin", "explain", "email", "check", "rep",
           "smtp-host", "sender"}


def english_words(text: str, *paths: Path) -> set[str]:
    for p in sorted(paths, key=lambda p: -len(str(p))):
        text = re.sub(re.escape(str(p)) + r"[^\s（）()]*", "", text)   # a path and what follows it
    words = set(re.findall(r"[A-Za-z][A-Za-z_-]*", text))
    return {w.rstrip("_-") for w in words} - ALLOWED


# ----------------------------------------------------------------------------- new

@pytest.mark.parametrize("lang, line", [
    ("zh", "{p}：已写入 2026 年示例总表；" + ZH_SUMMARY),
    ("en", "{p}: sample master workbook for 2026 written; " + EN_SUMMARY),
])
def test_new_says_what_it_wrote_in_its_language(tmp_path, lang, line):
    p = tmp_path / "plan.xlsx"
    r = run_cli("new", "--sample", "--lang", lang, "-o", p)
    assert (r.exit_code, r.output) == (0, line.format(p=p) + "\n")


def test_new_refuses_to_overwrite_unless_force(tmp_path):
    p = tmp_path / "plan.xlsx"
    assert run_cli("new", "-o", p).exit_code == 0
    before = sha(p)
    r = run_cli("new", "--sample", "-o", p)
    assert (r.exit_code, r.stderr) == (2, f"错误：{p} 已存在，未覆盖；换一个文件名，或加 --force 替换它\n")
    assert sha(p) == before
    r = run_cli("new", "--sample", "--lang", "en", "-o", p)
    assert r.stderr == f"Error: {p} already exists and was left as it is; choose another name, or add --force to replace it\n"
    assert sha(p) == before
    r = run_cli("new", "--sample", "--force", "-o", p)
    assert r.exit_code == 0 and sha(p) != before
    # a symlink at the name is an existing file too (even a dangling one)
    link = tmp_path / "link.xlsx"
    link.symlink_to(tmp_path / "nowhere.xlsx")
    assert run_cli("new", "-o", link).exit_code == 2 and not (tmp_path / "nowhere.xlsx").exists()


@pytest.mark.parametrize("name", ["plan.xlsm", "plan.xls", "plan", "plan.csv"])
def test_new_writes_only_xlsx(tmp_path, name):
    p = tmp_path / name
    r = run_cli("new", "-o", p)
    suffix = p.suffix or '""'
    assert (r.exit_code, r.stderr) == (
        2, f"错误：{p}：总表只能保存为 .xlsx，不能用 {suffix}；请把文件名改为以 .xlsx 结尾\n")
    assert list(tmp_path.iterdir()) == []
    assert run_cli("new", "-o", tmp_path / "PLAN.XLSX").exit_code == 0   # any case


# ----------------------------------------------------------------------------- check

def test_check_in_chinese_workbook(masters):
    r = run_cli("check", masters["zh"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split() == ["状态", "范围", "检查项", "计划值", "计算值", "说明"]
    assert set(lines[1]) == {"─"}
    # the Q1 share: 45,000,000 / 280,000,000 = 16.07%, stated 16%, off by 0.07 pt
    assert lines[2].split(maxsplit=5) == [
        "通过", "季度", "Q1", "占比", "0.16",
        "0.160714   Q1 占比：45,000,000 / 280,000,000 = 16.07%，计划写明 16%；相差 0.07 个百分点，"
        "在计划精度的一半（0.5 个百分点）以内"]
    assert lines[-2:] == ["", "共 59 项检查：通过 56，注意 3，不通过 0"]
    rows = lines[2:-2]
    assert len(rows) == 59
    assert sum(row.startswith("注意 ") for row in rows) == 3
    # columns line up on screen: every message starts at the same display column, whatever
    # mix of CJK and Latin text precedes it
    starts = {display_width(row[:row.index(msg)]) for row, msg in
              ((row, row.split("   ")[-1]) for row in rows)}
    assert len(starts) == 1
    assert english_words(r.output, masters["zh"]) == set()


def test_check_in_english_workbook_and_lang_override(masters):
    r = run_cli("check", masters["en"])
    lines = r.output.splitlines()
    assert lines[0].split() == ["Status", "Area", "Item", "Stated", "Computed", "Message"]
    assert lines[2].split(maxsplit=5)[:5] == ["OK", "Quarters", "Q1", "share", "0.16"]
    assert lines[2].endswith("Q1: 45,000,000 / 280,000,000 = 16.07% vs stated 16%; off by 0.07 pt, "
                             "within half the stated precision (0.5 pt)")
    assert lines[-1] == "59 checks: 56 OK, 3 WARN, 0 FAIL"
    assert not re.search(r"[\u4e00-\u9fff]", "\n".join(l for l in lines if "OTHER" not in l))
    # --lang overrides the workbook's language
    zh = run_cli("check", masters["en"], "--lang", "zh").output.splitlines()
    assert zh[-1] == "共 59 项检查：通过 56，注意 3，不通过 0"
    assert run_cli("check", masters["zh"], "--lang", "EN").output.splitlines()[-1] == lines[-1]


# ----------------------------------------------------------------------------- recalc, import

def test_recalc_in_both_languages(tmp_path, masters):
    for lang, line in (("zh", "{p}：已重新计算；" + ZH_SUMMARY), ("en", "{p}: recalculated; " + EN_SUMMARY)):
        p = tmp_path / f"{lang}.xlsx"
        p.write_bytes(masters[lang].read_bytes())
        r = run_cli("recalc", p)
        assert (r.exit_code, r.output) == (0, line.format(p=p) + "\n")
        if lang == "zh":
            assert english_words(r.output, p) == set()


def test_import_says_what_it_replaced(tmp_path, masters):
    p = tmp_path / "en.xlsx"
    p.write_bytes(masters["en"].read_bytes())
    csv_file = tmp_path / "actuals.csv"
    csv_file.write_text(run_cli("export", p, "--table", "tblActuals").output, encoding="utf-8")
    n = len(csv_file.read_text().splitlines()) - 1       # the header line is not a row
    r = run_cli("import", p, "--table", "TBLACTUALS", csv_file)
    assert (r.exit_code, r.output) == (0, f"{p}: tblActuals replaced with {n} row(s) from {csv_file}\n")
    r = run_cli("import", p, "--table", "tblActuals", csv_file, "--lang", "zh")
    assert r.output == f"{p}：tblActuals 已替换为 {csv_file} 中的 {n} 行\n"


# ----------------------------------------------------------------------------- names in any case

def test_table_names_in_any_case_and_did_you_mean(masters):
    exact = run_cli("export", masters["zh"], "--table", "tblActuals").output
    assert run_cli("export", masters["zh"], "--table", "tblactuals").output == exact
    assert run_cli("export", masters["zh"], "--table", " TBLACTUALS ").output == exact
    r = run_cli("export", masters["zh"], "--table", "tblActual")
    assert (r.exit_code, r.stderr) == (2, "错误：没有名为 tblActual 的表\n  - 是不是 tblActuals？\n")
    # an English workbook: the error is in English without --lang
    r = run_cli("export", masters["en"], "--table", "tblActual")
    assert (r.exit_code, r.stderr) == (2, "Error: no table named tblActual\n  - did you mean tblActuals?\n")
    r = run_cli("export", masters["en"], "--table", "nothing")
    assert r.exit_code == 2 and r.stderr.startswith("Error: no table named nothing\n  - one of: tblActuals, ")
    r = run_cli("import", masters["zh"], "--table", "tblChecks", __file__)   # an output table
    assert r.exit_code == 2 and r.stderr.startswith("错误：没有名为 tblChecks 的表\n")


def test_explain_rep_and_quarter_in_any_case(masters):
    exact = run_cli("explain", masters["zh"], "--rep", "R002", "--quarter", "Q1")
    assert exact.exit_code == 0 and "王建华（R002）" in exact.output
    assert run_cli("explain", masters["zh"], "--rep", "r002", "--quarter", "q1").output == exact.output
    r = run_cli("explain", masters["zh"], "--rep", "R0022")
    assert (r.exit_code, r.stderr) == (2, "错误：团队表中没有工号 R0022\n  - 是不是 R022，R002？\n")
    r = run_cli("explain", masters["zh"], "--rep", "r002", "--quarter", "Q 1")
    assert (r.exit_code, r.stderr) == (2, "错误：没有季度 Q 1\n  - 是不是 Q1？\n")
    # the statement follows the workbook's language unless --lang says otherwise
    en = run_cli("explain", masters["en"], "--rep", "r002")
    assert en.exit_code == 0 and en.output.splitlines()[0] == "Bonus statement 2026 - 王建华 (R002)"
    zh = run_cli("explain", masters["en"], "--rep", "r002", "--lang", "zh").output
    assert zh.splitlines()[0] == "2026年奖金明细 · 王建华（R002）"    # region names are the workbook's data


# ----------------------------------------------------------------------------- email, errors

def test_email_folder_without_manifest_in_both_languages(tmp_path):
    r = run_cli("email", tmp_path, "--dry-run")
    assert (r.exit_code, r.stderr) == (
        2, f"错误：{tmp_path}：没有 manifest.json；请先运行 xl-addin regional 总表 -o {tmp_path}，"
           "或直接给出总表而不是文件夹\n")
    r = run_cli("email", tmp_path, "--dry-run", "--lang", "en")
    assert r.stderr == (f"Error: {tmp_path}: no manifest.json; run `xl-addin regional MASTER -o "
                        f"{tmp_path}` first, or give the master workbook instead of the folder\n")


def test_error_of_an_english_workbook_is_english(tmp_path, masters):
    # a workbook whose input is bad: the headline is in the workbook's language
    import openpyxl

    p = tmp_path / "bad.xlsx"
    wb = openpyxl.load_workbook(masters["en"])
    wb["Plan"]["B5"] = "not a number"
    wb.save(p)
    r = run_cli("check", p)
    assert r.exit_code == 2 and r.stderr.startswith("Error: ")
    assert "错误" not in r.stderr


def test_demo_in_chinese_has_no_english_words(tmp_path):
    out = tmp_path / "demo"
    r = run_cli("demo", "-o", out)
    assert r.exit_code == 0, r.output
    assert english_words(r.output, out) == set()
    assert "WARN" not in r.output and "OK" not in r.output
    # the summary table: the total row lines up under the region rows (display width)
    lines = r.output.splitlines()
    head = next(i for i, l in enumerate(lines) if l.startswith("区域 ") and "年度目标" in l)
    block = lines[head:head + 7]        # header, rule, four regions, total
    assert block[-1].startswith("合计") and block[-1].endswith("25")
    assert len({display_width(l) for l in block}) == 1   # right-aligned last column


def test_demo_in_english_summary(tmp_path):
    r = run_cli("demo", "-o", tmp_path / "d", "--lang", "en")
    assert r.exit_code == 0, r.output
    assert "Checks: 59: 56 OK, 3 WARN, 0 FAIL" in r.output
    warns = [l for l in r.output.splitlines() if l.startswith("  Warning  ")]
    assert len(warns) == 3 and any("Regions: OTHER: 30,000,000 / 280,000,000 = 10.71%" in w for w in warns)
    assert not re.search(r"[\u4e00-\u9fff]", "\n".join(warns))


# ----------------------------------------------------------------------------- progress

def test_progress_bar_only_on_a_terminal(masters, tmp_path, monkeypatch):
    # without a terminal (a pipe, a test): the plain region lines, no bar characters
    r = run_cli("regional", masters["zh"], "-o", tmp_path / "plain")
    assert r.exit_code == 0, r.output
    assert "━" not in r.output and "\x1b[" not in r.output
    assert [l.split()[0] for l in r.output.splitlines() if l.startswith("  ")] and \
        sorted(l.split()[0] for l in r.output.splitlines() if l.startswith("  ")) == \
        ["EAST", "NORTH", "OTHER", "SOUTH"]
    # on a terminal: a rich bar, drawn on the terminal's stream, with the same region lines
    from xl_addin.cli import common

    monkeypatch.setattr(common, "is_terminal", lambda: True)
    r = run_cli("regional", masters["zh"], "-o", tmp_path / "tty")
    assert r.exit_code == 0, r.output
    for region in ("EAST", "NORTH", "OTHER", "SOUTH"):
        assert region in r.output
