"""The master as a director prints and uses it: page layout, sheet protection, the cover.

Judged from outside the code that writes it: the package's XML read with ``zipfile`` and
regular expressions, LibreOffice's PDF of the sample master read page by page with
``pdftotext`` (poppler-utils), and an independent implementation of Excel's legacy sheet
password hash (ECMA-376 Part 4, 14.7.1 "Legacy Password Hash Algorithm").
"""
from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from conftest import run_cli
from tests.support import libreoffice as lo
from tests.support.xlwings_remote import run_macro
from xl_addin import text
from xl_addin.core.model import default_plan
from xl_addin.core.sample import sample_regions, sample_team
from xl_addin.excel import macros
from xl_addin.workbook import schema
from xl_addin.workbook.build import build_master
from xl_addin.workbook.xlsx import save_atomic

COVER = {"zh": "说明", "en": "About"}
TITLE = {"zh": "2026年销售计划", "en": "Sales plan 2026"}
# Sheets without an input table, plus the cover: protected. Written out by hand.
PROTECTED = {
    "zh": {"说明", "仪表板", "个人目标", "绩效得分", "季度奖金", "年度评优", "观察名单", "检查结果", "运行日志"},
    "en": {"About", "Dashboard", "Rep targets", "KPI", "Bonus", "Awards", "Watchlist", "Checks", "Run log"},
}
CONFIDENTIAL = {"zh": {"仪表板", "团队", "季度奖金", "年度评优"},
                "en": {"Dashboard", "Team", "Bonus", "Awards"}}


def sheet_xml(path: Path) -> dict[str, str]:
    """Sheet title -> its worksheet XML, in workbook order."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        targets = {m.group(1): m.group(2) for m in
                   re.finditer(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels)}
        targets.update({m.group(2): m.group(1) for m in
                        re.finditer(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
        out = {}
        for m in re.finditer(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', book):
            target = targets[m.group(2)].lstrip("/")
            out[m.group(1)] = z.read(target if target.startswith("xl/") else "xl/" + target).decode()
        return out


def defined_names(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/workbook.xml").decode()


def protection(xml: str) -> dict[str, str] | None:
    m = re.search(r"<sheetProtection\b([^>]*)/?>", xml)
    return dict(re.findall(r'(\w+)="([^"]*)"', m.group(1))) if m else None


def legacy_hash(password: str) -> str:
    """Excel's 16-bit sheet password hash (ECMA-376 Part 4, 14.7.1), written from the spec."""
    h = 0
    for ch in reversed(password):
        h = ((h >> 14) & 1) | ((h << 1) & 0x7FFF)
        h ^= ord(ch)
    h = ((h >> 14) & 1) | ((h << 1) & 0x7FFF)
    h ^= len(password) ^ 0xCE4B
    return f"{h:04X}"


def test_the_hash_written_from_the_spec_matches_a_published_value():
    # the spec's worked example hashes the empty string to CE4B (0 ^ 0 ^ 0xCE4B)
    assert legacy_hash("") == "CE4B"


def touch_actuals(path: Path) -> None:
    """Change one actual so that a recalc rewrites every output table."""
    wb = openpyxl.load_workbook(path)
    ws = wb[schema.SHEETS["actuals"].title(detect(path))]
    ws["C5"] = 1_234_567
    wb.save(path)


def detect(path: Path) -> str:
    return "en" if "Plan" in openpyxl.load_workbook(path, read_only=True).sheetnames else "zh"


@pytest.fixture(scope="module", params=["zh", "en"])
def sample(request, tmp_path_factory):
    lang = request.param
    path = tmp_path_factory.mktemp(f"sample_{lang}") / f"sample_{lang}.xlsx"
    r = run_cli("new", "--sample", "--lang", lang, "-o", path)
    assert r.exit_code == 0, r.output
    return path, lang


# ----------------------------------------------------------------------------- protection

def assert_protected_as_designed(path: Path, lang: str) -> None:
    sheets = sheet_xml(path)
    protected = {title for title, xml in sheets.items() if (p := protection(xml)) and p.get("sheet") == "1"}
    assert protected == PROTECTED[lang]
    for title in protected:
        p = protection(sheets[title])
        # filtering and sorting allowed ("0" = not locked), no password by default
        assert p.get("autoFilter") == "0" and p.get("sort") == "0", title
        assert "password" not in p, title


def test_output_sheets_are_protected_inputs_open_and_a_recalc_keeps_it(sample, tmp_path):
    path, lang = sample
    assert_protected_as_designed(path, lang)
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    touch_actuals(copy)
    r = run_cli("recalc", copy)
    assert r.exit_code == 0, r.output
    assert_protected_as_designed(copy, lang)
    wb = openpyxl.load_workbook(copy)
    team, bonus = wb[schema.SHEETS["team"].title(lang)], wb[schema.SHEETS["bonus"].title(lang)]
    assert team["A5"].protection.locked is False        # an input cell: typeable
    assert bonus["A5"].protection.locked is True        # a computed one (first bonus row)
    assert bonus["A5"].value is not None


def test_a_sheet_password_from_the_plan_protects_and_survives_a_recalc(tmp_path):
    inputs = default_plan(2026, "zh", team=sample_team(2026), regions=sample_regions("zh"))
    settings = dataclasses.replace(inputs.settings, extra={**inputs.settings.extra,
                                                           "sheet_password": "jimi-2026"})
    path = tmp_path / "pw.xlsx"
    save_atomic(build_master(dataclasses.replace(inputs, settings=settings), "zh"), path)
    r = run_cli("recalc", path)
    assert r.exit_code == 0, r.output
    sheets = sheet_xml(path)
    for title in PROTECTED["zh"]:
        assert protection(sheets[title]).get("password") == legacy_hash("jimi-2026"), title


# ----------------------------------------------------------------------------- page layout

def test_every_sheet_has_a_print_area_header_footer_and_repeated_header_row(sample):
    path, lang = sample
    names = defined_names(path)
    for n, (title, xml) in enumerate(sheet_xml(path).items()):
        assert re.search(rf'name="_xlnm.Print_Area" localSheetId="{n}"', names), title
        header = re.search(r"<oddHeader>(.*?)</oddHeader>", xml).group(1)
        footer = re.search(r"<oddFooter>(.*?)</oddFooter>", xml).group(1)
        assert TITLE[lang] in header and "&amp;A" in header, title
        assert "&amp;P" in footer and "&amp;N" in footer, title
        assert (text.t("print.confidential", lang) in header) == (title in CONFIDENTIAL[lang]), title
        if title not in (COVER[lang], schema.SHEETS["dashboard"].title(lang)):
            # the table header (row 4) repeats on every printed page
            assert re.search(rf'name="_xlnm.Print_Titles" localSheetId="{n}">[^<]*\$4:\$4<', names), title


def page_texts(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    return [subprocess.run(["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout for i in range(1, n + 1)]


def test_libreoffice_prints_the_sample_master_as_designed(sample, tmp_path):
    lo.require_soffice()
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path, lang = sample
    pdf = lo._convert(path, tmp_path / "pdf", "pdf:calc_pdf_Export", lo.DEFAULT_TIMEOUT)
    pages = page_texts(pdf)
    total = len(pages)
    per_sheet: dict[str, int] = {}
    footer = {"zh": "第 {} 页 / 共 {} 页", "en": "Page {} of {}"}[lang]
    for i, page in enumerate(pages, 1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        # the header: workbook title, then the sheet's name (and 机密 where it holds pay)
        head = re.split(r"\s{2,}", lines[0])
        assert head[0] == TITLE[lang], (i, lines[0])
        per_sheet[head[1]] = per_sheet.get(head[1], 0) + 1
        assert footer.format(i, total) in page, i
        assert "###" not in page, f"page {i} shows ### (a column too narrow)"
    dashboard, targets = schema.SHEETS["dashboard"].title(lang), schema.SHEETS["targets"].title(lang)
    assert list(per_sheet) == [COVER[lang], *(s.title(lang) for s in schema.SHEETS.values())]
    assert per_sheet[COVER[lang]] == 1 and per_sheet[dashboard] == 1
    # the Dashboard's last block, the reconciliation, is on its one page
    board = pages[1]
    assert text.t("cover.holds.dashboard", lang) not in board
    assert ("对账" if lang == "zh" else "Reconciliation") in board
    # 目标分解 in two strips at a readable scale: the splits, then the cube (48 rows, 2 pages)
    assert per_sheet[targets] <= 3
    scale = re.search(r'<pageSetup[^>]*scale="(\d+)"', sheet_xml(path)[targets]).group(1)
    assert int(scale) >= 70
    # Sensible total: 15 sheets; the four rep x quarter tables (94-98 rows) take 3-4 pages
    # each, every other sheet one or two. 28 pages before this layout, without a cover.
    assert 15 <= total <= 27, per_sheet


# ----------------------------------------------------------------------------- cover

def test_the_cover_comes_first_links_every_sheet_and_speaks_the_language(sample):
    path, lang = sample
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == COVER[lang] and wb.active.title == COVER[lang]
    ws = wb[COVER[lang]]
    links = {c.hyperlink.location for row in ws.iter_rows() for c in row if c.hyperlink}
    for sheet in schema.SHEETS.values():
        quoted = "'" + sheet.title(lang).replace("'", "''") + "'!A1"
        assert quoted in links, sheet.title(lang)
    texts = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert TITLE[lang] in texts
    for key in ("cover.how.step2", "cover.legend.in", "cover.legend.out", "cover.holds.bonus"):
        assert text.t(key, lang) in texts, key
    assert ("xl-addin recalc" in text.t("cover.how.step2", lang)
            and "重算奖金" in text.t("cover.how.step2", lang))


# ----------------------------------------------------------------------------- ribbon macros

def test_the_recalc_macro_lifts_and_restores_protection_around_its_writes(sample_master, tmp_path):
    out = tmp_path / "macro.xlsx"
    actions, alerts = run_macro(sample_master, macros.recalc, out)
    assert alerts and "Recalculated" in alerts[-1].prompt
    wb = openpyxl.load_workbook(sample_master, read_only=True)
    titles = wb.sheetnames
    written = {titles[a["sheet_position"]] for a in actions
               if a["func"] != "runMacro" and a.get("sheet_position") is not None}
    assert {"季度奖金", "绩效得分", "仪表板", "运行日志"} <= written
    for title in written & PROTECTED["zh"]:
        idx = [i for i, a in enumerate(actions) if a["func"] != "runMacro"
               and a.get("sheet_position") is not None and titles[a["sheet_position"]] == title]
        lifts = [i for i, a in enumerate(actions) if a["func"] == "runMacro" and a["args"][:2]
                 == [macros.UNPROTECT_CALLBACK, title]]
        restores = [i for i, a in enumerate(actions) if a["func"] == "runMacro" and a["args"][:2]
                    == [macros.PROTECT_CALLBACK, title]]
        assert lifts and restores and lifts[0] < idx[0] and restores[-1] > idx[-1], title
    assert_protected_as_designed_sheets(out)


def assert_protected_as_designed_sheets(path: Path) -> None:
    sheets = sheet_xml(path)
    for title in PROTECTED["zh"]:
        assert protection(sheets[title]) and protection(sheets[title]).get("sheet") == "1", title


def test_a_failed_write_still_restores_the_protection(sample_master, tmp_path):
    bonus = schema.SHEETS["bonus"].zh

    def failing(book):
        port = macros.XlwingsBook(book)
        port.raw_tables()
        try:
            with port._writable(book.sheets[bonus]):
                raise RuntimeError("the write failed")
        except RuntimeError:
            pass

    actions, _ = run_macro(sample_master, failing, tmp_path / "out.xlsx")
    assert [a["args"][:2] for a in actions if a["func"] == "runMacro"] == \
        [[macros.UNPROTECT_CALLBACK, bonus], [macros.PROTECT_CALLBACK, bonus]]
    assert protection(sheet_xml(tmp_path / "out.xlsx")[bonus]).get("sheet") == "1"


def test_the_macros_use_the_plans_sheet_password(tmp_path):
    # the harness, like Excel, refuses to unprotect with a wrong password
    inputs = default_plan(2026, "zh", team=sample_team(2026), regions=sample_regions("zh"))
    settings = dataclasses.replace(inputs.settings, extra={"sheet_password": "jimi-2026"})
    path, out = tmp_path / "pw.xlsx", tmp_path / "out.xlsx"
    save_atomic(build_master(dataclasses.replace(inputs, settings=settings), "zh"), path)
    actions, alerts = run_macro(path, macros.check, out)
    checks = schema.SHEETS["checks"].zh
    assert [a["args"] for a in actions if a["func"] == "runMacro"] == \
        [[macros.UNPROTECT_CALLBACK, checks, "jimi-2026"], [macros.PROTECT_CALLBACK, checks, "jimi-2026"]]
    assert protection(sheet_xml(out)[checks]).get("password") == legacy_hash("jimi-2026")
