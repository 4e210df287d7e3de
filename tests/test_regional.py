"""Regional workbooks (xl-addin regional): contents, confidentiality, protection, print
setup, encryption, and how LibreOffice opens and prints them."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from decimal import Decimal
from pathlib import Path

import keyring
import msoffcrypto
import openpyxl
import pytest

from conftest import run_cli
from support.libreoffice import _Profile, _run, require_soffice
from support.memory_keyring import MemoryKeyring
from xl_addin.cli.app import main
from xl_addin.reports import regional as rg
from xl_addin.cli.commands import COMMANDS
from xl_addin.core.engine import compute
from xl_addin.core.statement import build_statements
from xl_addin.workbook import schema
from xl_addin.workbook.master import sample_inputs
from xl_addin.workbook.xlsx import OLE_MAGIC

for _c in COMMANDS:
    if _c.name not in main.commands:
        main.add_command(_c)

D = Decimal
REGIONS = {"EAST": "华东", "SOUTH": "华南", "NORTH": "华北", "OTHER": "其他"}
TODAY = dt.date.today().isoformat()


# ----------------------------------------------------------------------------- helpers

def _labels(spec: schema.Table) -> dict[str, str]:
    out = {"姓名": "name", "Name": "name", "name": "name"}
    for c in spec.columns:
        out.update({c.zh: c.key, c.en: c.key, c.key: c.key})
    return out


def read_table(path: Path, name: str) -> list[dict]:
    """Rows of an Excel table keyed by contract column key (plus ``name``)."""
    wb = openpyxl.load_workbook(path)
    spec = schema.TABLES.get(name) or schema.TABLES["tblTeam"]
    labels = _labels(spec)
    for ws in wb.worksheets:
        if name in ws.tables:
            rows = list(ws[ws.tables[name].ref])
            keys = [labels.get(str(c.value), str(c.value)) for c in rows[0]]
            out = [dict(zip(keys, (c.value for c in r))) for r in rows[1:]]
            return [r for r in out if any(v not in (None, "") for v in r.values())]
    raise KeyError(name)


def money(v) -> Decimal:
    return D(str(v)).quantize(D("0.01"))


@pytest.fixture(scope="module")
def master(sample_master_session) -> Path:
    return sample_master_session


@pytest.fixture(scope="module")
def master_rows(master):
    return {t: read_table(master, t) for t in ("tblTeam", "tblRegions", "tblBonus", "tblAwards",
                                              "tblTargetCube", "tblKpi", "tblWatchlist")}


@pytest.fixture(scope="module")
def built(master, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("regional") / "out"
    r = run_cli("regional", master, "-o", out)
    assert r.exit_code == 0, r.output
    return out


def region_file(folder: Path, code: str) -> Path:
    return folder / f"2026_Q4_{code}_{REGIONS[code]}.xlsx"


# ----------------------------------------------------------------------------- files and rows

def test_one_file_per_sales_region_and_a_manifest(built, master):
    names = sorted(p.name for p in built.glob("*.xlsx"))
    assert names == sorted(region_file(built, c).name for c in REGIONS)
    manifest = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["fiscal_year"] == 2026 and manifest["period"] == "Q4"
    assert manifest["master"] == master.name and len(manifest["input_sha256"]) == 64
    assert [f["region"] for f in manifest["files"]] == list(REGIONS)
    for f in manifest["files"]:
        assert f["sha256"] == rg._sha256(built / f["file"])


@pytest.mark.parametrize("code", list(REGIONS))
def test_region_rows_only(built, master_rows, code):
    path = region_file(built, code)
    reps = {r["rep_id"] for r in master_rows["tblTeam"] if r["region"] == code}
    assert reps
    assert {r["rep_id"] for r in read_table(path, "tblRegionTeam")} == reps
    for table in ("tblRepTargets", "tblActuals", "tblKpi", "tblBonus"):
        rows = read_table(path, table)
        assert rows and {r["rep_id"] for r in rows} <= reps, table
    kpi_master = [r for r in master_rows["tblKpi"] if r["rep_id"] in reps]
    assert len(read_table(path, "tblKpi")) == len(kpi_master)
    for table in ("tblAwards", "tblWatchlist"):
        expected = sorted(r["rep_id"] for r in master_rows[table] if r["rep_id"] in reps)
        assert sorted(r["rep_id"] for r in read_table(path, table)) == expected
    cube = read_table(path, "tblTargetCube")
    assert {r["region"] for r in cube} == {code}
    plan = {r["region"]: sum(x["target"] for x in master_rows["tblTargetCube"] if x["region"] == r["region"])
            for r in cube}
    assert sum(r["target"] for r in cube) == plan[code]


def test_east_sums(built, master_rows):
    path = region_file(built, "EAST")
    assert sum(r["target"] for r in read_table(path, "tblTargetCube")) == 120_000_000
    # the master's tblBonus rows for EAST, summed here from the master file's cells
    expected = sum((money(r["total"]) for r in master_rows["tblBonus"] if r["region"] == "EAST"), D(0))
    assert sum((money(r["total"]) for r in read_table(path, "tblBonus")), D(0)) == expected
    manifest = rg.read_manifest(built)
    east = next(f for f in manifest.files if f.region == "EAST")
    assert D(east.totals["bonus_total"]) == expected
    assert D(east.totals["target"]) == 120_000_000 and east.totals["reps"] == "10"
    assert east.manager == "王建华" and east.email == "east.manager@example.com"


def _statement_total(ws) -> Decimal:
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == "应发奖金合计":
                return money(ws.cell(cell.row, 9).value)
    raise AssertionError(f"no total on {ws.title}")


@pytest.mark.parametrize("code", list(REGIONS))
def test_a_statement_sheet_per_rep(built, master_rows, code):
    wb = openpyxl.load_workbook(region_file(built, code))
    team = {r["rep_id"]: r for r in master_rows["tblTeam"] if r["region"] == code}
    with_bonus = sorted({r["rep_id"] for r in master_rows["tblBonus"] if r["rep_id"] in team})
    statements = [n for n in wb.sheetnames if re.match(r"R\d{3} ", n)]
    assert statements == [f"{rid} {team[rid]['name']}" for rid in with_bonus]
    for rid in with_bonus:
        ws = wb[f"{rid} {team[rid]['name']}"]
        bonus = sum((money(r["total"]) for r in master_rows["tblBonus"] if r["rep_id"] == rid), D(0))
        awards = sum((money(r["amount"]) for r in master_rows["tblAwards"] if r["rep_id"] == rid), D(0))
        assert _statement_total(ws) == bonus + awards
        texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert any(t.startswith("人民币") and t.endswith(("整", "分")) for t in texts)
        for q in (r["quarter"] for r in master_rows["tblBonus"] if r["rep_id"] == rid):
            assert any(f"（{q}） · 销售目标" in t for t in texts), (rid, q)


def test_statement_sheet_numbers_are_the_engine_s(built):
    inputs = sample_inputs()
    results = compute(inputs)
    wb = openpyxl.load_workbook(region_file(built, "NORTH"))
    for st in build_statements(inputs, results, "NORTH"):
        ws = wb[f"{st.rep_id} {st.name}"]
        scores = [ws.cell(c.row, 8).value for row in ws.iter_rows(min_col=1, max_col=1)
                  for c in row if isinstance(c.value, str) and c.value.startswith("KPI得分（")]
        assert [money(s) for s in scores] == [q.kpi_score for q in st.quarters if q.reported]
        assert _statement_total(ws) == st.total


# ----------------------------------------------------------------------------- protection, print, values

@pytest.mark.parametrize("code", ["EAST", "OTHER"])
def test_protection_and_print_setup(built, code):
    wb = openpyxl.load_workbook(region_file(built, code))
    name = REGIONS[code]
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        statement = re.match(r"R\d{3} ", ws.title) is not None
        if statement:
            assert ws.page_setup.orientation == "portrait" and ws.page_setup.fitToHeight == 1
        else:
            assert ws.page_setup.orientation == "landscape"
        assert f"{name}（{code}）" in ws.oddHeader.left.text
        assert "2026年第四季度" in ws.oddHeader.right.text
        assert f"生成日期 {TODAY}" in ws.oddFooter.left.text
        assert "&P" in ws.oddFooter.right.text


@pytest.mark.parametrize("code", list(REGIONS))
def test_plain_values_no_links(built, code):
    path = region_file(built, code)
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert not [n for n in names if "externalLink" in n or n.endswith((".bin", ".vml"))]
        book = z.read("xl/workbook.xml").decode("utf-8")
        sheets = set(re.findall(r'<sheet name="([^"]+)"', book))
        for ref in re.findall(r"<definedName[^>]*>([^<]*)</definedName>", book):
            assert "[" not in ref
            assert set(re.findall(r"'([^']+)'!", ref)) <= sheets
        for n in names:
            if n.endswith(".xml") or n.endswith(".rels"):
                text = z.read(n).decode("utf-8")
                assert not re.search(r"\[\d+\]", text), n       # external workbook refs
                assert 'TargetMode="External"' not in text, n
                if n.startswith("xl/charts/"):
                    # a chart's series point at cells of this workbook's own cover
                    refs = re.findall(r"<(?:c:)?f>([^<]*)</(?:c:)?f>", text)
                    assert refs and all("[" not in f for f in refs), n
                    assert set(re.findall(r"'?([^'!]+)'?!", " ".join(refs))) <= sheets, refs
                else:
                    assert "<f>" not in text and "<f " not in text, n  # no formula anywhere


# ----------------------------------------------------------------------------- confidentiality

def _others(code: str, lang: str = "zh") -> dict[str, list[str]]:
    """Every identifier of every other region (and of HQ staff): codes, names, managers,
    mailboxes, rep IDs and rep names."""
    inputs = sample_inputs(lang=lang)
    words: dict[str, list[str]] = {"codes": [], "texts": [], "ids": []}
    for r in inputs.regions:
        if r.region == code:
            continue
        words["codes"].append(r.region)
        words["texts"] += [r.name, r.manager, r.email]
    for rep in inputs.team:
        if rep.region != code:
            words["ids"].append(rep.rep_id)
            words["texts"].append(rep.name)
    own_manager = next(r.manager for r in inputs.regions if r.region == code)
    words["texts"] = [w for w in words["texts"] if w and w != own_manager]
    return words


def _assert_confidential(path: Path, code: str, own_name: str, lang: str = "zh") -> None:
    others = _others(code, lang)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n).decode("utf-8") for n in z.namelist()}
    assert len(parts) > 20
    everything = "\n".join(parts.values())
    assert own_name in everything and code in everything        # the check can see text
    for name, text in parts.items():
        for word in others["texts"]:
            # whole words for Latin names ("South" must not match "Southern"), any
            # occurrence for Chinese ones
            pattern = (rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])" if word.isascii()
                       else re.escape(word))
            assert not re.search(pattern, text), f"{word!r} of another region in {name}"
        for word in others["codes"] + others["ids"]:
            assert not re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text), \
                f"{word!r} of another region in {name}"


@pytest.mark.parametrize("code", list(REGIONS))
def test_nothing_of_another_region_anywhere_in_the_package(built, code):
    _assert_confidential(region_file(built, code), code, REGIONS[code])


def test_english_files_keep_regions_apart_too(tmp_path):
    master = tmp_path / "en.xlsx"
    assert run_cli("new", "--sample", "--lang", "en", "-o", master).exit_code == 0
    r = run_cli("regional", master, "-o", tmp_path / "out", "--lang", "en")
    assert r.exit_code == 0, r.output
    names = {"EAST": "East", "SOUTH": "South", "NORTH": "North", "OTHER": "Other"}
    for code, name in names.items():
        _assert_confidential(tmp_path / "out" / f"2026_Q4_{code}_{name}.xlsx", code, name, "en")


def test_document_properties_name_only_the_region(built):
    wb = openpyxl.load_workbook(region_file(built, "SOUTH"))
    assert wb.properties.creator == "xl_addin"
    assert "华南（SOUTH）" in wb.properties.title


# ----------------------------------------------------------------------------- other runs

def test_plan_only_master_gives_q0_files(tmp_path):
    master = tmp_path / "plan.xlsx"
    assert run_cli("new", "-o", master).exit_code == 0
    r = run_cli("regional", master)                          # default: <master folder>/regional
    assert r.exit_code == 1, r.output     # no team yet: FAIL checks, files written
    out = tmp_path / "regional"
    assert sorted(p.name for p in out.glob("*.xlsx")) == sorted(
        f"2026_Q0_{c}_{n}.xlsx" for c, n in REGIONS.items())
    wb = openpyxl.load_workbook(out / "2026_Q0_EAST_华东.xlsx")
    assert "2026年度计划" in wb.worksheets[0]["B1"].value
    assert sum(r["target"] for r in read_table(out / "2026_Q0_EAST_华东.xlsx", "tblTargetCube")) == 120_000_000


def test_rerun_removes_files_of_the_previous_period(tmp_path, sample_master):
    plan = tmp_path / "plan.xlsx"
    assert run_cli("new", "-o", plan).exit_code == 0
    out = tmp_path / "out"
    assert run_cli("regional", plan, "-o", out).exit_code == 1   # plan only: FAIL checks
    (out / "notes.txt").write_text("mine")
    assert run_cli("regional", sample_master, "-o", out).exit_code == 0
    assert sorted(p.name for p in out.glob("*.xlsx")) == sorted(
        f"2026_Q4_{c}_{n}.xlsx" for c, n in REGIONS.items())
    assert (out / "notes.txt").read_text() == "mine"       # not ours: left alone


def test_english_workbooks(sample_master, tmp_path):
    out = tmp_path / "en"
    r = run_cli("regional", sample_master, "-o", out, "--lang", "en")
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(region_file(out, "EAST"))
    assert wb.sheetnames[:3] == ["Summary", "Targets", "Team"]
    ws = wb["R002 王建华"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Five hundred sixty-eight thousand five hundred eighteen yuan and ten fen" in texts
    assert "人民币伍拾陆万捌仟伍佰壹拾捌元壹角整" in texts
    assert "Total bonus" in texts


def _look(cell) -> tuple:
    return (type(cell).__name__, cell.value, cell.number_format, repr(cell.font),
            repr(cell.fill), repr(cell.border), repr(cell.alignment), repr(cell.protection))


def _openpyxl_merged_row(ws, row: int, value, lang: str, **look) -> None:
    """A merged row as openpyxl makes it: every cell written, then ``merge_cells``."""
    for c in range(1, 10):
        rg._put(ws, row, c, value if c == 1 else None, lang, **look)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=9)


@pytest.mark.parametrize("look", [dict(border=True, bold=True, merge=True),
                                  dict(wrap=True, size=8, italic=True, color="808080"),
                                  dict(border=True, fill="F2F2F2", merge=True)])
def test_merged_rows_look_as_openpyxl_merges_them(look):
    """After the first merged row of a look, the merge is stamped rather than done by
    openpyxl: every cell must still look exactly as openpyxl's own merge leaves it."""
    ours, theirs = openpyxl.Workbook(), openpyxl.Workbook()
    for row, value in ((2, "first"), (3, "second"), (4, D("12.50")), (5, "third")):
        rg._merged(ours.active, row, 1, 9, value, "zh", **look)
        plain = {k: v for k, v in look.items() if k != "merge"}
        _openpyxl_merged_row(theirs.active, row, value, "zh", **plain)
    a, b = ours.active, theirs.active
    assert sorted(map(str, a.merged_cells.ranges)) == sorted(map(str, b.merged_cells.ranges)) \
        == ["A2:I2", "A3:I3", "A4:I4", "A5:I5"]
    for row in range(2, 6):
        for col in range(1, 10):
            assert _look(a.cell(row, col)) == _look(b.cell(row, col)), (row, col)
    assert isinstance(a.cell(3, 5), openpyxl.cell.cell.MergedCell)
    if look.get("border"):   # the edges of a bordered range keep their borders
        assert a.cell(3, 5).border.top.style == a.cell(3, 9).border.right.style == "thin"


def test_files_written_by_two_processes_are_the_same(tmp_path):
    inputs = sample_inputs()
    results = compute(inputs)
    day = dt.date(2026, 10, 8)
    one = rg.write_regional(inputs, results, tmp_path / "one", input_sha256="x", today=day)
    seen = []
    two = rg.write_regional(inputs, results, tmp_path / "two", input_sha256="x", today=day,
                            workers=2, progress=lambda e: seen.append(e.region))
    assert seen == list(REGIONS)                            # in region order
    strip = lambda m: [dict(vars(e), sha256=None) for e in m.files]
    assert strip(one) == strip(two) and [e.file for e in two.files] == [
        region_file(tmp_path, c).name for c in REGIONS]
    for e in one.files:
        a = openpyxl.load_workbook(tmp_path / "one" / e.file)
        b = openpyxl.load_workbook(tmp_path / "two" / e.file)
        assert a.sheetnames == b.sheetnames
        for wa, wb in zip(a.worksheets, b.worksheets):
            assert [[_look(c) for c in r] for r in wa.iter_rows()] == \
                [[_look(c) for c in r] for r in wb.iter_rows()], wa.title
            assert sorted(map(str, wa.merged_cells.ranges)) == sorted(map(str, wb.merged_cells.ranges))


def test_bad_master_exits_2(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    r = run_cli("regional", bad, "-o", tmp_path / "out")
    assert r.exit_code == 2 and r.stderr.startswith("错误：") and not (tmp_path / "out").exists()


def test_file_names_are_safe():
    assert rg.file_name(2026, "Q3", "EAST", "华东") == "2026_Q3_EAST_华东.xlsx"
    assert rg.file_name(2026, "Q0", "X", 'a/b:c*"d') == "2026_Q0_X_abcd.xlsx"


# ----------------------------------------------------------------------------- encryption

def _decrypt(path: Path, password: str) -> openpyxl.Workbook:
    with open(path, "rb") as f:
        office = msoffcrypto.OfficeFile(f)
        office.load_key(password=password)
        buf = io.BytesIO()
        office.decrypt(buf)
    buf.seek(0)
    return openpyxl.load_workbook(buf)


@pytest.fixture
def passwords(monkeypatch):
    pw = {c: f"s3cret-{c.lower()}-口令" for c in REGIONS}
    for c, p in pw.items():
        monkeypatch.setenv(f"XL_ADDIN_PASSWORD_{c}", p)
    return pw


@pytest.fixture(scope="module")
def encrypted(master, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    pw = {c: f"s3cret-{c.lower()}-口令" for c in REGIONS}
    for c, p in pw.items():
        mp.setenv(f"XL_ADDIN_PASSWORD_{c}", p)
    out = tmp_path_factory.mktemp("encrypted") / "out"
    r = run_cli("regional", master, "-o", out, "--encrypt")
    mp.undo()
    assert r.exit_code == 0, r.output
    return out, pw


def test_encryption_round_trip(encrypted, built):
    out, pw = encrypted
    for code in REGIONS:
        path = region_file(out, code)
        assert path.read_bytes()[:8] == OLE_MAGIC
        wb = _decrypt(path, pw[code])
        assert wb.sheetnames == openpyxl.load_workbook(region_file(built, code)).sheetnames
        with pytest.raises(Exception):
            _decrypt(path, pw[code] + "x")
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert json.loads(manifest)["encrypted"] is True
    assert not any(p in manifest for p in pw.values())


def test_encrypt_without_a_password_writes_nothing(master, tmp_path, passwords, monkeypatch):
    monkeypatch.delenv("XL_ADDIN_PASSWORD_OTHER")
    monkeypatch.setattr(rg, "region_password", lambda code: os.environ.get(rg.password_env(code)))
    out = tmp_path / "out"
    r = run_cli("regional", master, "-o", out, "--encrypt")
    assert r.exit_code == 2
    assert "XL_ADDIN_PASSWORD_OTHER" in r.stderr and "xl-addin-regional" in r.stderr
    assert not out.exists() or not list(out.iterdir())


def test_password_from_env_then_keyring(monkeypatch):
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        monkeypatch.delenv("XL_ADDIN_PASSWORD_EAST", raising=False)
        assert rg.region_password("EAST") is None
        ring.set_password("xl-addin-regional", "EAST", "from-keyring")
        assert rg.region_password("EAST") == "from-keyring"
        monkeypatch.setenv("XL_ADDIN_PASSWORD_EAST", "from-env")
        assert rg.region_password("EAST") == "from-env"
    finally:
        keyring.set_keyring(previous)


# ----------------------------------------------------------------------------- LibreOffice

_UNO_SCRIPT = textwrap.dedent('''
    """Open a password-protected workbook in LibreOffice through UNO and save it as .xlsx.
    (soffice --convert-to cannot take a password: LibreOffice 7.4 answers "source file
    could not be loaded", whatever --infilter says.)"""
    import os, subprocess, sys, tempfile, time
    import uno
    from com.sun.star.beans import PropertyValue

    def pv(name, value):
        p = PropertyValue(); p.Name = name; p.Value = value; return p

    soffice, profile, src, dst, password = sys.argv[1:6]
    pipe = "xladdin%d" % os.getpid()
    proc = subprocess.Popen([soffice, "-env:UserInstallation=" + profile, "--headless",
                             "--invisible", "--norestore", "--nologo", "--nodefault",
                             "--nolockcheck", "--accept=pipe,name=%s;urp;" % pipe])
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(300):
            try:
                ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
                break
            except Exception:
                time.sleep(0.2)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        try:
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(src), "_blank", 0,
                                               (pv("Hidden", True), pv("Password", password)))
        except Exception as e:
            print("NOT LOADED", type(e).__name__)
            doc = None
        if doc is not None:
            doc.storeToURL(uno.systemPathToFileUrl(dst),
                           (pv("FilterName", "Calc MS Excel 2007 XML"),))
            print("SHEETS", "|".join(doc.Sheets.ElementNames))
            doc.close(True)
        try:
            desktop.terminate()
        except Exception:
            pass
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
''')


def _uno_python() -> str | None:
    """A Python that can ``import uno`` (Debian's python3-uno is for the system Python)."""
    for exe in ("/usr/bin/python3", "/usr/lib/libreoffice/program/python", sys.executable):
        if exe and Path(exe).exists():
            ok = subprocess.run([exe, "-c", "import uno"], capture_output=True).returncode == 0
            if ok:
                return exe
    return None


def test_libreoffice_opens_the_encrypted_file_with_its_password(encrypted, tmp_path):
    soffice = require_soffice()
    python = _uno_python()
    if python is None:
        pytest.skip("no Python with LibreOffice's uno module (apt-get install python3-uno)")
    out, pw = encrypted
    src = tmp_path / "east.xlsx"                      # an ASCII path for the UNO URL
    shutil.copy(region_file(out, "EAST"), src)
    script = tmp_path / "uno_open.py"
    script.write_text(_UNO_SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    with _Profile(False) as profile:
        good = _run([python, str(script), soffice, profile, str(src), str(tmp_path / "plain.xlsx"),
                     pw["EAST"]], 240, env={**env, "HOME": str(tmp_path)})
    assert "SHEETS" in good.stdout, good.stdout + good.stderr
    assert "R002 王建华" in good.stdout
    wb = openpyxl.load_workbook(tmp_path / "plain.xlsx")
    assert wb.sheetnames[0] == "概览" and "华东" in wb.worksheets[0]["B1"].value
    with _Profile(False) as profile:
        bad = _run([python, str(script), soffice, profile, str(src), str(tmp_path / "no.xlsx"),
                    "wrong"], 240, env={**env, "HOME": str(tmp_path)})
    assert "NOT LOADED" in bad.stdout and not (tmp_path / "no.xlsx").exists()


def _pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split("\f")


def test_libreoffice_prints_each_statement_on_one_page(built, tmp_path):
    """All four files through LibreOffice to PDF; each statement's title and its total in
    words are on the same page, and no statement spills onto a second page. One statement
    page is rendered to PNG for a look (``statement.png`` in the test's folder)."""
    soffice = require_soffice()
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    src = tmp_path / "src"
    src.mkdir()
    files = []
    for code in REGIONS:                     # ASCII names keep soffice's output predictable
        files.append(src / f"{code}.xlsx")
        shutil.copy(region_file(built, code), files[-1])
    with _Profile(False) as profile:
        result = _run([soffice, f"-env:UserInstallation={profile}", "--headless", "--invisible",
                       "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                       "--convert-to", "pdf:calc_pdf_Export", "--outdir", str(tmp_path),
                       *map(str, files)], 300, env={**os.environ, "HOME": str(tmp_path),
                                                     "SAL_USE_VCLPLUGIN": "svp"})
    assert result.returncode == 0, result.stderr
    inputs = sample_inputs()
    results = compute(inputs)
    for code in REGIONS:
        pages = _pdf_pages(tmp_path / f"{code}.pdf")
        statements = build_statements(inputs, results, code)
        assert statements
        for st in statements:
            title = f"{st.name}（{st.rep_id}）"
            on = [i for i, p in enumerate(pages) if title in p and "奖金明细" in p]
            assert len(on) == 1, (code, st.rep_id, on)
            page = pages[on[0]]
            assert st.words("zh") in page, (code, st.rep_id)
            nxt = pages[on[0] + 1] if on[0] + 1 < len(pages) else ""
            assert "奖金明细" in nxt or not nxt.strip(), "statement spilled onto a second page"
        assert "区域报表" in pages[0] and "销售人员" in pages[0]       # the cover is one page
    pdf = tmp_path / "EAST.pdf"
    first = next(i for i, p in enumerate(_pdf_pages(pdf)) if "王建华（R002）" in p) + 1
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", str(first), "-l", str(first),
                    "-singlefile", str(pdf), str(tmp_path / "statement")], check=True)
    assert (tmp_path / "statement.png").stat().st_size > 20_000


def test_text_like_a_formula_keeps_its_quote_prefix_whatever_came_first():
    """A look is cached per workbook; the quote prefix that keeps "=..." text from being
    edited into a formula must follow each cell's own value, not the first cell's."""
    wb = openpyxl.Workbook()
    ws = wb.active
    rg._put(ws, 1, 1, "普通文本", "zh")          # caches the look without a prefix
    rg._put(ws, 2, 1, "=1+1", "zh")              # same look, text that looks like a formula
    rg._put(ws, 3, 1, "+86 138 0000 0000", "zh")
    rg._put(ws, 4, 1, "后来的文本", "zh")
    assert [ws.cell(r, 1).quotePrefix for r in range(1, 5)] == [False, True, True, False]
    assert ws["A2"].value == "=1+1" and ws["A2"].data_type == "s"
    assert len({ws.cell(r, 1)._style.fontId for r in range(1, 5)}) == 1   # one look for all four


# ----------------------------------------------------------------------------- statement cells as XML

def _sheet_looks(ws) -> dict:
    """Every written cell of a sheet (value, type and look), its merged ranges and rows."""
    cells = {(c.row, c.column): (c.data_type, c.quotePrefix, *_look(c))
             for row in ws.iter_rows() for c in row
             if c.value is not None or c.has_style}
    rows = {r: (d.height, d.customHeight) for r, d in ws.row_dimensions.items()}
    return {"cells": cells, "merged": sorted(map(str, ws.merged_cells.ranges)), "rows": rows,
            "dims": ws.dimensions}


def _saved(wb, writer) -> openpyxl.Workbook:
    buf = io.BytesIO()
    writer(wb, buf)
    buf.seek(0)
    return openpyxl.load_workbook(buf)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_statement_cells_written_as_xml_are_openpyxl_s(lang):
    """Statement and data-table cells kept out of openpyxl (``keep_cells``) and written as
    sheet XML give the workbook openpyxl gives when every cell is an openpyxl cell: the same
    values, looks (merged cells' borders too), merged ranges, row heights and tables on
    every sheet."""
    from xl_addin.reports import sheet_xml
    from xl_addin.workbook.master import sample_inputs

    inputs = sample_inputs()
    results = compute(inputs)
    region = next(r for r in rg.sales_regions(inputs) if r.region == "EAST")
    sl = rg.region_slice(inputs, results, region)
    today = dt.date(2026, 12, 31)
    plain = rg.build_workbook(sl, lang=lang, today=today)
    kept = rg.build_workbook(sl, lang=lang, today=today, keep_cells=True)
    statements = plain.sheetnames[-len(sl.statements):]
    # the statements are not sheets of the workbook: one stamp sheet (the template's,
    # finished once) and per rep only the kept cells, rows and merged ranges
    stamp, copies = sheet_xml.copies_of(kept)
    assert kept.sheetnames[-1] == stamp.title and len(kept.sheetnames) == 10
    assert [t for t, _ in copies] == statements and len(statements) > 1
    for title, ws in copies:
        assert sheet_xml.cell_sheet(ws) is not None and ws not in kept.worksheets
        assert not getattr(ws, "_cells", None) and plain[title].max_row > rg.BODY_ROW + 10
    for title in kept.sheetnames[1:-1]:      # the data sheets
        assert sheet_xml.cell_sheet(kept[title]) is not None
        assert not [rc for rc in kept[title]._cells if rc[0] >= 5]
    a = _saved(plain, lambda wb, f: wb.save(f))
    b = _saved(kept, sheet_xml.save)
    assert a.sheetnames == b.sheetnames
    for title in a.sheetnames:
        assert _sheet_looks(a[title]) == _sheet_looks(b[title]), title
        assert dict(a[title].tables.items()) == dict(b[title].tables.items()), title   # refs
    ws = b[statements[0]]
    assert any(isinstance(c, openpyxl.cell.cell.MergedCell) and c.border.bottom.style
               for row in ws.iter_rows() for c in row)


def test_odd_values_in_kept_cells_are_written_as_openpyxl_writes_them():
    """Text that looks like a formula (quote prefix), error codes, booleans, dates, blanks,
    padded and empty text, numbers: cell for cell as openpyxl writes them."""
    from xl_addin.reports import sheet_xml

    values = ["=1+1", "-5 units", "#N/A", True, False, dt.date(2026, 3, 31),
              dt.datetime(2026, 1, 2, 3, 4), "  padded ", "", None, "a < b & c", 0, -1.25,
              D("1234567.891"), D("NaN"), float("inf"), 10 ** 12, "普通文本"]
    books = []
    for keep in (False, True):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws["A1"] = "title"
        if keep:
            sheet_xml.keep_cells(ws, 2)
        for i, v in enumerate(values, 2):
            rg._put(ws, i, 1, v, "zh", fmt=rg.MONEY if i % 2 else None, border=i % 3 == 0)
            rg._head(ws, i, 2, f"h{i}", "zh")
        rg._merged(ws, len(values) + 2, 1, 4, "merged", "zh", border=True, merge=True)
        rg._merged(ws, len(values) + 3, 1, 4, "again", "zh", border=True, merge=True)
        ws.row_dimensions[len(values) + 5].height = 30          # a row with no cells
        books.append(_saved(wb, sheet_xml.save))
    a, b = books[0].active, books[1].active
    assert _sheet_looks(a) == _sheet_looks(b)
    assert b["A2"].quotePrefix and b["A2"].value == "=1+1" and b["A4"].data_type == "e"


# ----------------------------------------------------------------------------- one send log

try:
    from smtp_server import smtp_factory, smtp_server  # noqa: F401  (fixtures)
except ImportError:  # tests/ imported as a package
    from tests.smtp_server import smtp_factory, smtp_server  # type: ignore  # noqa: F401


def _ribbon_email(master: Path, out_dir: Path, server, scratch: Path) -> list:
    """The ribbon's 发送邮件 button (xlwings remote Book), sending to ``server``."""
    from support.xlwings_remote import run_macro
    from xl_addin.excel import macros
    from xl_addin.mail.email import SmtpSettings

    settings = SmtpSettings(host=server.host, port=server.port, sender="director@example.com",
                            retries=0)
    results: list = []
    run_macro(master, lambda b: results.extend(
        macros.email(b, out_dir, confirm=True, settings=settings)), scratch)
    return results


def _cli_email(master: Path, out_dir: Path, server):
    return run_cli("email", master, "--dir", out_dir, "--smtp-host", server.host,
                   "--smtp-port", str(server.port), "--sender", "director@example.com")


@pytest.fixture
def no_mail_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("XL_ADDIN_SMTP_PASSWORD", raising=False)


def test_a_cli_send_is_skipped_by_the_ribbon(sample_master, smtp_server, tmp_path,
                                             no_mail_config):
    out = tmp_path / "regional"
    r = _cli_email(sample_master, out, smtp_server)
    assert r.exit_code == 0, r.output
    assert len(smtp_server.messages) == 4                 # EAST, SOUTH, NORTH, OTHER
    results = _ribbon_email(sample_master, out, smtp_server, tmp_path / "m.xlsx")
    assert sorted(x.status for x in results) == ["skipped"] * 4
    assert len(smtp_server.messages) == 4, "the ribbon sent again what the CLI had sent"
    log = [json.loads(x) for x in (out / "send-log.jsonl").read_text().splitlines()]
    # each send: a "sending" line before it goes out, then "sent"; skips are not logged
    assert [x["result"] for x in log] == ["sending", "sent"] * 4
    assert not (out / "send_log.jsonl").exists()


def test_a_ribbon_send_is_skipped_by_the_cli(sample_master, smtp_server, tmp_path,
                                             no_mail_config):
    out = tmp_path / "regional"
    results = _ribbon_email(sample_master, out, smtp_server, tmp_path / "m.xlsx")
    assert sorted(x.status for x in results) == ["sent"] * 4
    r = _cli_email(sample_master, out, smtp_server)
    assert r.exit_code == 0, r.output
    assert len(smtp_server.messages) == 4, "the CLI sent again what the ribbon had sent"
    assert "已跳过(此前已发送) 4" in r.output, r.output


def test_the_ribbon_s_old_log_still_counts(sample_master, smtp_server, tmp_path,
                                           no_mail_config):
    """A folder the ribbon sent from before the logs were one (``send_log.jsonl``): the
    CLI does not send those regions again."""
    out = tmp_path / "regional"
    _ribbon_email(sample_master, out, smtp_server, tmp_path / "m.xlsx")
    (out / "send-log.jsonl").rename(out / "send_log.jsonl")
    r = _cli_email(sample_master, out, smtp_server)
    assert r.exit_code == 0, r.output
    assert len(smtp_server.messages) == 4, r.output


# ----------------------------------------------------------------------------- master read once

def test_email_after_regional_does_not_read_the_master_again(sample_master, tmp_path,
                                                             monkeypatch, no_mail_config):
    import hashlib

    from xl_addin.cli import commands

    out = tmp_path / "regional"
    assert run_cli("regional", sample_master, "-o", out).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["master_sha256"] == hashlib.sha256(sample_master.read_bytes()).hexdigest()

    def no_read(path):
        raise AssertionError("email read the master although its bytes are those of the manifest")
    monkeypatch.setattr(commands, "_read_inputs", no_read)
    r = run_cli("email", sample_master, "--dir", out, "--dry-run")
    assert r.exit_code == 0, r.output
    assert "使用" in r.output and len(list((out / "outbox").glob("*.eml"))) == 4

    # other bytes (a recalc adds a Run log row), same inputs: read, found current, not rebuilt
    monkeypatch.undo()
    before = {p.name: p.read_bytes() for p in out.glob("*.xlsx")}
    assert run_cli("recalc", sample_master).exit_code == 0
    r = run_cli("email", sample_master, "--dir", out, "--dry-run")
    assert r.exit_code == 0 and "使用" in r.output, r.output
    assert {p.name: p.read_bytes() for p in out.glob("*.xlsx")} == before


# ----------------------------------------------------------------------------- template and stamp

def _edited_template(tmp_path: Path, extra: dict[str, str], merge: str | None = None) -> Path:
    """The shipped template as a user edits it in Excel (here with openpyxl): cells added
    to the statement sheet, a merged range, a wider column A."""
    from openpyxl.styles import Font

    wb = openpyxl.load_workbook(rg.template_path(*rg.TEMPLATE))
    ws = wb["statement"]
    for ref, text in extra.items():
        ws[ref] = text
        ws[ref].font = Font(name="SimSun", size=9, bold=True, color="FFC00000")
    if merge:
        ws.merge_cells(merge)
    ws.column_dimensions["A"].width = 21
    path = tmp_path / "templates" / "regional" / "regional.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    return path.parents[1]


def test_an_edited_statement_template_reaches_every_statement(tmp_path, monkeypatch):
    folder = _edited_template(tmp_path, {"A4": "内部资料 · {scope}", "H1": "编号 {title}"}, "A4:F4")
    monkeypatch.setattr(rg, "template_path", lambda *parts: folder.joinpath(*parts))
    inputs = sample_inputs()
    results = compute(inputs)
    day = dt.date(2026, 10, 8)
    m = rg.write_regional(inputs, results, tmp_path / "out", input_sha256="x", today=day)
    east = next(e for e in m.files if e.region == "EAST")
    wb = openpyxl.load_workbook(tmp_path / "out" / east.file)
    statements = [ws for ws in wb.worksheets if re.match(r"R\d{3} ", ws.title)]
    assert len(statements) == len(east.reps) > 1
    for ws in statements:
        rep_id, name = ws.title.split(" ", 1)
        assert ws["A4"].value.startswith("内部资料 · 2026年第") and "生成日期 2026-10-08" in ws["A4"].value
        assert ws["H1"].value == f"编号 2026年奖金明细 · {name}（{rep_id}）"
        assert ws["A4"].font.b and ws["A4"].font.color.rgb == "FFC00000" and ws["A4"].font.name == "SimSun"
        assert "A4:F4" in {str(r) for r in ws.merged_cells.ranges}
        assert ws.column_dimensions["A"].width == 21
        assert re.match(r"第.季度（Q\d）", ws["A5"].value)       # the statement still from row 5


def test_a_template_with_cells_in_the_statement_body_is_refused(tmp_path, monkeypatch):
    folder = _edited_template(tmp_path, {"B6": "note"})
    monkeypatch.setattr(rg, "template_path", lambda *parts: folder.joinpath(*parts))
    inputs = sample_inputs()
    with pytest.raises(rg.RegionalError, match=r"sheet 'statement' cell B6.*row 5"):
        rg.write_regional(inputs, compute(inputs), tmp_path / "out", input_sha256="x")


def test_a_rebuild_on_the_same_day_is_the_same_file(tmp_path):
    """Parts dated as the workbook: two runs seconds apart write the same bytes (so a send
    log's SHA-256 still matches a file the Excel button rebuilds before sending)."""
    import time

    inputs = sample_inputs()
    results = compute(inputs)
    day = dt.date(2026, 10, 8)
    one = rg.write_regional(inputs, results, tmp_path / "one", input_sha256="x", today=day)
    time.sleep(2.1)                                      # zip times count in 2 s steps
    two = rg.write_regional(inputs, results, tmp_path / "two", input_sha256="x", today=day)
    assert [e.sha256 for e in one.files] == [e.sha256 for e in two.files]
    with zipfile.ZipFile(tmp_path / "one" / one.files[0].file) as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 10, 8, 0, 0, 0)}
        assert b"<dcterms:modified" in z.read("docProps/core.xml") and \
            b"2026-10-08T00:00:00Z</dcterms:modified>" in z.read("docProps/core.xml")
