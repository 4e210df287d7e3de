"""Tests for the Excel add-in build (xl_addin.xlam) and its install/uninstall.

Excel itself is not available here, so the add-in is checked with independent readers:
oletools/olevba for the VBA project, the customUI14 XML schema for the ribbon, openpyxl for
the workbook parts and, when installed, LibreOffice, which opens the package and imports its
VBA modules with its own reader.
"""
from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import olefile
import openpyxl
import pytest
import xmlschema

with warnings.catch_warnings():  # oletools still uses pyparsing's old camelCase names
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools.olevba import VBA_Parser, decompress_stream

from xl_addin.excel import addin
from xl_addin.excel.addin import (
    ADDIN_FILENAME,
    AddinError,
    build_addin,
    install_addin,
    uninstall_addin,
)

REPO = Path(__file__).resolve().parents[1]
RIBBON = REPO / "templates" / "ribbon" / "customUI14.xml"
RIBBON_BAS = REPO / "templates" / "vba" / "XlAddinRibbon.bas"
CUSTOMUI = "{http://schemas.microsoft.com/office/2009/07/customui}"

CALLBACKS = {
    "XlAddin_Recalc": "recalc",
    "XlAddin_Check": "check",
    "XlAddin_Regional": "regional",
    "XlAddin_Email": "email",
}
LABELS = {"重算奖金", "检查计划", "生成区域工作簿", "发送邮件"}


def _schema_path() -> Path:
    candidates = [
        os.environ.get("XL_ADDIN_CUSTOMUI_XSD"),
        REPO.parent / "shared" / "schemas" / "customui14.xsd",
        "/work/shared/schemas/customui14.xsd",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.fail(
        "customui14.xsd not found; set XL_ADDIN_CUSTOMUI_XSD or keep shared/schemas beside the repo"
    )


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(_schema_path()))


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_addin(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def macros(xlam: Path) -> dict[str, str]:
    """Module name -> source, as olevba reads them back from the built add-in."""
    parser = VBA_Parser(str(xlam))
    try:
        assert parser.detect_vba_macros()
        return {
            Path(filename).stem: code for _, _, filename, code in parser.extract_macros()
        }
    finally:
        parser.close()


def _ribbon_text() -> str:
    return RIBBON.read_text(encoding="utf-8")


def _procedure(code: str, name: str) -> str:
    """The text of one Sub, from its header to its End Sub."""
    match = re.search(rf"^[^\n']*\bSub {name}\b.*?^End Sub", code, re.MULTILINE | re.DOTALL)
    assert match, f"Sub {name} not found"
    return match.group(0)


# ---------------------------------------------------------------------------------- ribbon


def test_ribbon_validates_against_customui14_schema(schema: xmlschema.XMLSchema) -> None:
    schema.validate(_ribbon_text())


@pytest.mark.parametrize(
    "old, new",
    [
        ('size="large"', 'size="large" colour="red"'),  # unknown attribute
        ("<tabs>", "<tabs><banner/>"),  # unknown element
        ('size="large"', 'size="huge"'),  # value outside the enumeration
    ],
)
def test_ribbon_schema_rejects_invalid_variants(
    schema: xmlschema.XMLSchema, old: str, new: str
) -> None:
    broken = _ribbon_text().replace(old, new, 1)
    assert broken != _ribbon_text()
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema.validate(broken)


def test_ribbon_buttons_have_chinese_labels_english_tips_and_builtin_icons() -> None:
    root = ElementTree.fromstring(RIBBON.read_bytes())
    tabs = list(root.iter(f"{CUSTOMUI}tab"))
    assert len(tabs) == 1 and "idMso" not in tabs[0].attrib  # our own tab
    buttons = list(root.iter(f"{CUSTOMUI}button"))
    assert {b.get("label") for b in buttons} >= LABELS
    for button in buttons:
        assert re.search(r"[\u4e00-\u9fff]", button.get("label", "")), button.get("id")
        for tip in ("screentip", "supertip"):
            assert button.get(tip) and button.get(tip).isascii(), (button.get("id"), tip)
        assert button.get("imageMso"), button.get("id")
        assert button.get("onAction"), button.get("id")


def test_every_onaction_names_a_sub_in_the_vba_project(macros: dict[str, str]) -> None:
    actions = addin.ribbon_actions(_ribbon_text())
    assert len(actions) == len(CALLBACKS)
    for action in actions:
        module, _, sub = action.partition(".")
        assert module in macros, action
        assert sub in addin.vba_procedures(macros[module]), action
    assert addin.missing_actions(_ribbon_text(), addin.vba_sources()) == []


def test_missing_callback_is_caught_before_building(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = _ribbon_text().replace("XlAddin_Email", "XlAddin_Mail")
    assert addin.missing_actions(bad, addin.vba_sources()) == ["XlAddinRibbon.XlAddin_Mail"]
    monkeypatch.setattr(addin, "ribbon_xml", lambda: bad)
    with pytest.raises(AddinError, match="XlAddin_Mail"):
        build_addin(tmp_path)
    assert not (tmp_path / ADDIN_FILENAME).exists()


def test_missing_templates_raise_addin_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_templates(*parts: str) -> Path:
        raise FileNotFoundError("xl_addin templates folder not found")

    monkeypatch.setattr(addin, "template_path", no_templates)
    with pytest.raises(AddinError, match="templates"):
        build_addin(tmp_path)


def test_vba_source_outside_code_page_1252_is_refused() -> None:
    code = 'Attribute VB_Name = "Bad"\nSub A()\n    MsgBox "奖金"\nEnd Sub\n'
    source = addin.VbaSource("Bad", "module", code)
    with pytest.raises(AddinError, match="ChrW"):
        addin.build_vba_project([source])


# ---------------------------------------------------------------------------- VBA template


def test_vba_template_callbacks_call_xl_addin_macros() -> None:
    code = RIBBON_BAS.read_text(encoding="utf-8")
    assert code.isascii()  # the VBA project is stored in code page 1252
    assert code.startswith('Attribute VB_Name = "XlAddinRibbon"')
    for sub, func in CALLBACKS.items():
        body = _procedure(code, sub)
        assert f"Sub {sub}(control As IRibbonControl)" in body
        assert f'RunPython "import xl_addin.excel.macros as m; m.{func}()"' in body


# -------------------------------------------------------------------------- built VBA project


def test_vba_project_has_our_modules_and_xlwings_runpython(macros: dict[str, str]) -> None:
    assert set(macros) == {"ThisWorkbook", "Sheet1", "XlAddinRibbon", "xlwings", "Dictionary"}
    ribbon = macros["XlAddinRibbon"]
    for sub, func in CALLBACKS.items():
        body = _procedure(ribbon, sub)
        assert f"Sub {sub}(control As IRibbonControl)" in body
        assert f'RunPython "import xl_addin.excel.macros as m; m.{func}()"' in body
    xlwings_code = macros["xlwings"]
    assert re.search(r"^Public Function RunPython\(PythonCommand As String\)", xlwings_code, re.M)
    assert 'Public Const PROJECT_NAME As String = "xlwings"' in xlwings_code
    assert 'GetConfig("INTERPRETER_WIN"' in xlwings_code
    assert 'GetConfig("INTERPRETER_MAC"' in xlwings_code


def test_vba_sources_round_trip_exactly(macros: dict[str, str]) -> None:
    for source in addin.vba_sources():
        expected = "\r\n".join(source.code.splitlines()) + "\r\n"
        assert macros[source.name] == expected, source.name


def test_xlwings_vba_is_read_from_the_installed_package(macros: dict[str, str]) -> None:
    installed = (addin.xlwings_package_dir() / "xlwings_custom_addin.bas").read_text()
    body = installed.split("Public Const PROJECT_NAME", 1)[1].split("\n", 1)[1]
    assert "\r\n".join(body.splitlines()) in macros["xlwings"]


def test_project_and_dir_streams(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as archive:
        ole = olefile.OleFileIO(io.BytesIO(archive.read("xl/vbaProject.bin")))
    try:
        project = ole.openstream("PROJECT").read().decode("cp1252").splitlines()
        dir_stream = bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
        assert ole.exists("PROJECTwm") and ole.exists("VBA/_VBA_PROJECT")
    finally:
        ole.close()
    for line in (
        "Document=ThisWorkbook/&H00000000",
        "Document=Sheet1/&H00000000",
        "Module=XlAddinRibbon",
        "Module=xlwings",
        "Class=Dictionary",
        'Name="VBAProject"',
    ):
        assert line in project
    # the Office library reference (IRibbonControl) and stdole
    assert b"{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}" in dir_stream
    assert b"{00020430-0000-0000-C000-000000000046}" in dir_stream


def test_codenames_match_the_document_modules(xlam: Path, macros: dict[str, str]) -> None:
    with zipfile.ZipFile(xlam) as archive:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    book_code = workbook.find(f"{main}workbookPr").get("codeName")
    sheet_code = sheet.find(f"{main}sheetPr").get("codeName")
    assert (book_code, sheet_code) == ("ThisWorkbook", "Sheet1")
    for name in (book_code, sheet_code):
        assert f'Attribute VB_Name = "{name}"' in macros[name]


# ----------------------------------------------------------------------------- compression


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"a",
        b"abcabcabc",
        b"x" * 10_000,
        b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",
        bytes(random.Random(7).getrandbits(8) for _ in range(9000)),  # incompressible
        ("Sub A()\r\n    RunPython \"x\"\r\nEnd Sub\r\n" * 400).encode(),
    ],
    ids=["empty", "one", "short-repeat", "long-run", "spec-sample", "random", "vba-like"],
)
def test_ovba_compress_round_trips_through_olevba(data: bytes) -> None:
    compressed = addin.ovba_compress(data)
    decompressed = bytes(decompress_stream(bytearray(compressed)))
    if len(data) % 4096 and decompressed != data:  # a raw last chunk is padded to 4096 bytes
        assert decompressed.rstrip(b"\x00") == data.rstrip(b"\x00")
    else:
        assert decompressed == data
    if data and data.isascii():
        assert len(compressed) < len(data) + 8


def test_ovba_compress_round_trips_xlwings_module() -> None:
    data = addin._vba_bytes(addin.xlwings_runpython_module().code, "xlwings")
    assert bytes(decompress_stream(bytearray(addin.ovba_compress(data)))) == data


# ------------------------------------------------------------------------------ the package


def test_package_content_types_and_relationships(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        parts = {name: archive.read(name) for name in names}
    assert names[0] == "[Content_Types].xml"
    ct = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    types = ElementTree.fromstring(parts["[Content_Types].xml"])
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(f"{ct}Override")}
    defaults = {d.get("Extension"): d.get("ContentType") for d in types.iter(f"{ct}Default")}
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
    assert defaults["bin"] == "application/vnd.ms-office.vbaProject"
    assert defaults["xml"] == "application/xml" and "rels" in defaults

    rel = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
    root_rels = {
        r.get("Type"): r.get("Target")
        for r in ElementTree.fromstring(parts["_rels/.rels"]).iter(rel)
    }
    assert (
        root_rels["http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"]
        == "customUI/customUI14.xml"
    )
    office_doc = (
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
    )
    assert root_rels[office_doc] == "xl/workbook.xml"
    book_rels = {
        r.get("Type"): r.get("Target")
        for r in ElementTree.fromstring(parts["xl/_rels/workbook.xml.rels"]).iter(rel)
    }
    assert (
        book_rels["http://schemas.microsoft.com/office/2006/relationships/vbaProject"]
        == "vbaProject.bin"
    )
    # every relationship target exists, every XML part is well-formed
    for target in root_rels.values():
        assert target in parts
    for target in book_rels.values():
        assert f"xl/{target}" in parts
    for name, data in parts.items():
        if name.endswith((".xml", ".rels")):
            ElementTree.fromstring(data)
    assert parts["customUI/customUI14.xml"] == RIBBON.read_bytes()


def test_workbook_parts_load_in_openpyxl(xlam: Path) -> None:
    """openpyxl has no .xlam support, so give it a copy typed as .xlsm to check the parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(xlam) as src, zipfile.ZipFile(buffer, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"ms-excel.addin.macroEnabled", b"ms-excel.sheet.macroEnabled")
            dst.writestr(item, data)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()), keep_vba=True)
    assert book.sheetnames == ["xl_addin"]
    assert book.code_name == "ThisWorkbook"
    assert book["xl_addin"].sheet_properties.codeName == "Sheet1"
    assert book["xl_addin"]["A1"].value == "xl_addin"
    assert "xl/vbaProject.bin" in book.vba_archive.namelist()
    book.vba_archive.close()


def test_build_is_reproducible(xlam: Path, tmp_path: Path) -> None:
    assert build_addin(tmp_path / "again").read_bytes() == xlam.read_bytes()


def test_no_xlwings_vba_is_kept_in_the_repository() -> None:
    """xlwings' VBA is read from site-packages at build time, never stored here."""
    marker = "XLPyDLL" + "ActivateAuto"  # split so this file does not contain it either
    for folder in ("templates", "xl_addin", "tests"):
        for path in (REPO / folder).rglob("*"):
            if path.is_file() and path.suffix in {".bas", ".cls", ".py", ".xml", ".txt"}:
                assert marker not in path.read_text(encoding="utf-8", errors="ignore"), path
            assert path.suffix != ".xlam" and path.name != "vbaProject.bin", path


# ------------------------------------------------------------------------------ LibreOffice


def _soffice(tmp_path: Path, source: Path, target: str) -> Path:
    """Convert with LibreOffice in its own profile folder; returns the output folder.

    LibreOffice's type detection does not recognise the add-in content type (not even for
    the add-ins xlwings ships), so the OOXML filter is named explicitly.
    """
    out = tmp_path / target.split(":")[0]
    command = [
        shutil.which("soffice") or "soffice",
        f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
        "--headless",
        "--infilter=Calc MS Excel 2007 VBA XML",
        "--convert-to",
        target,
        "--outdir",
        str(out),
        str(source),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_converts_the_addin(xlam: Path, tmp_path: Path) -> None:
    out = _soffice(tmp_path, xlam, "xlsx")
    converted = out / "xl_addin.xlsx"
    assert converted.is_file(), list(out.iterdir())
    book = openpyxl.load_workbook(converted)
    assert book.sheetnames == ["xl_addin"]
    assert book["xl_addin"]["A1"].value == "xl_addin"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_imports_the_vba_modules(xlam: Path, tmp_path: Path) -> None:
    """LibreOffice's own VBA reader finds every module, with the right module types."""
    out = _soffice(tmp_path, xlam, "ods")
    with zipfile.ZipFile(out / "xl_addin.ods") as ods:
        basic = {
            Path(name).stem: ods.read(name).decode("utf-8")
            for name in ods.namelist()
            if name.startswith("Basic/VBAProject/") and not name.endswith("script-lb.xml")
        }
    kinds = {
        name: re.search(r"VBA_ModuleType=(\w+)", text).group(1) for name, text in basic.items()
    }
    assert kinds == {
        "ThisWorkbook": "VBADocumentModule",
        "Sheet1": "VBADocumentModule",
        "XlAddinRibbon": "VBAModule",
        "xlwings": "VBAModule",
        "Dictionary": "VBAClassModule",
    }
    assert "m.recalc()" in basic["XlAddinRibbon"]
    assert "Function RunPython(" in basic["xlwings"]


# --------------------------------------------------------------------------- install paths


def _win_paths(home: Path) -> tuple[Path, Path]:
    return (
        home / "AppData" / "Roaming" / "Microsoft" / "Excel" / "XLSTART" / ADDIN_FILENAME,
        home / ".xlwings" / "xlwings.conf",
    )


def _mac_paths(home: Path) -> tuple[Path, Path]:
    return (
        home / "Library" / "Group Containers" / "UBF8T346G9.Office" / "User Content.localized"
        / "Startup.localized" / "Excel" / ADDIN_FILENAME,
        home / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / "xlwings.conf",
    )


def test_install_on_windows(tmp_path: Path, xlam: Path) -> None:
    interpreter = r"C:\Users\sales\AppData\Local\Programs\Python\Python312\python.exe"
    installed = install_addin(home=tmp_path, platform="win32", interpreter=interpreter)
    target, config = _win_paths(tmp_path)
    assert installed == target
    assert target.read_bytes() == xlam.read_bytes()
    assert config.read_bytes() == f'"INTERPRETER_WIN","{interpreter}"\r\n'.encode()


def test_install_on_macos(tmp_path: Path) -> None:
    interpreter = "/Users/sales/.venvs/xl/bin/python"
    installed = install_addin(home=tmp_path, platform="darwin", interpreter=interpreter)
    target, config = _mac_paths(tmp_path)
    assert installed == target and target.is_file()
    assert config.read_text() == f'"INTERPRETER_MAC","{interpreter}"\n'
    script = (
        tmp_path / "Library" / "Application Scripts" / "com.microsoft.Excel"
        / f"xlwings-{addin.xlwings_version()}.applescript"
    )
    assert script.is_file()


def test_install_defaults_to_this_python(tmp_path: Path) -> None:
    install_addin(home=tmp_path, platform="darwin")
    lines = _mac_paths(tmp_path)[1].read_text().splitlines()
    assert addin.config_value(lines, "INTERPRETER_MAC") == sys.executable


def test_xlwings_reads_the_config_we_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xlwings
    import xlwings.utils

    install_addin(home=tmp_path, platform="win32", interpreter=r"D:\py\python.exe")
    monkeypatch.setattr(xlwings, "USER_CONFIG_FILE", str(_win_paths(tmp_path)[1]))
    assert xlwings.utils.read_user_config()["interpreter_win"] == r"D:\py\python.exe"


def test_install_keeps_other_keys_and_is_idempotent(tmp_path: Path) -> None:
    _, config = _win_paths(tmp_path)
    config.parent.mkdir(parents=True)
    original = (
        '"LICENSE_KEY","abc"\r\n'
        '"Interpreter_Win","C:\\old\\python.exe"\r\n'
        '"CONDA ENV","base"\r\n'
    )
    config.write_bytes(original.encode())
    first = install_addin(home=tmp_path, platform="win32", interpreter=r"C:\new\python.exe")
    after_first = (config.read_bytes(), first.read_bytes())
    second = install_addin(home=tmp_path, platform="win32", interpreter=r"C:\new\python.exe")
    assert second == first
    assert (config.read_bytes(), second.read_bytes()) == after_first
    assert config.read_text().splitlines() == [
        '"LICENSE_KEY","abc"',
        '"INTERPRETER_WIN","C:\\new\\python.exe"',
        '"CONDA ENV","base"',
    ]
    removed = uninstall_addin(home=tmp_path, platform="win32")
    assert first in removed and not first.exists()
    assert config.read_bytes() == original.replace("Interpreter_Win", "INTERPRETER_WIN").encode()
    assert not (config.parent / addin.STATE_FILENAME).exists()


@pytest.mark.parametrize("platform, paths", [("win32", _win_paths), ("darwin", _mac_paths)])
def test_uninstall_removes_everything_we_created(tmp_path: Path, platform: str, paths) -> None:
    install_addin(home=tmp_path, platform=platform, interpreter="python")
    target, config = paths(tmp_path)
    state = config.parent / addin.STATE_FILENAME
    assert json.loads(state.read_text())["created_config"] is True
    removed = uninstall_addin(home=tmp_path, platform=platform)
    assert set(removed) == {target, config, state}
    assert not target.exists() and not config.exists() and not state.exists()
    assert uninstall_addin(home=tmp_path, platform=platform) == []


def test_uninstall_leaves_a_value_changed_by_hand(tmp_path: Path) -> None:
    install_addin(home=tmp_path, platform="darwin", interpreter="/opt/a/python")
    _, config = _mac_paths(tmp_path)
    config.write_text('"INTERPRETER_MAC","/opt/mine/python"\n"PYTHONPATH","/x"\n')
    uninstall_addin(home=tmp_path, platform="darwin")
    assert config.read_text() == '"INTERPRETER_MAC","/opt/mine/python"\n"PYTHONPATH","/x"\n'


def test_uninstall_without_install_keeps_foreign_config(tmp_path: Path) -> None:
    _, config = _win_paths(tmp_path)
    config.parent.mkdir(parents=True)
    config.write_text('"INTERPRETER_WIN","C:\\x\\python.exe"\n')
    assert uninstall_addin(home=tmp_path, platform="win32") == []
    assert config.read_text() == '"INTERPRETER_WIN","C:\\x\\python.exe"\n'


def test_linux_without_override_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(AddinError, match="Windows and macOS"):
        install_addin(home=tmp_path)
    with pytest.raises(AddinError, match="Windows and macOS"):
        uninstall_addin(home=tmp_path)
    with pytest.raises(AddinError):
        install_addin(home=tmp_path, platform="linux")
    assert not any(tmp_path.iterdir())


def test_unusable_interpreter_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AddinError, match="interpreter"):
        install_addin(home=tmp_path, platform="win32", interpreter='C:\\a "b"\\python.exe')


def test_cli_addin_build_and_linux_install_message(tmp_path):
    from conftest import run_cli

    r = run_cli("addin", "build", "-o", tmp_path)
    assert r.exit_code == 0 and (tmp_path / "xl_addin.xlam").exists()
    import sys
    if sys.platform.startswith("linux"):
        r = run_cli("addin", "install")
        # what a command-line user can do, in the chosen language (default Chinese)
        assert r.exit_code == 2 and r.stderr.splitlines() == [
            "错误：本机（linux）没有桌面版 Excel：加载项只能安装在 Windows 或 macOS 上",
            "  - 在这里可用 xl-addin addin build -o 文件夹 生成 xl_addin.xlam，拷到 Windows 或 Mac 上，"
            "在 Excel 的 文件 > 选项 > 加载项 中加载它，或在那台电脑上运行 xl-addin addin install",
            "  - 不用 Excel 也能完成全部工作：xl-addin check、recalc、regional、email"
            "（xl-addin --help 查看全部命令）"]
        r = run_cli("addin", "install", "--lang", "en")
        assert r.exit_code == 2 and r.stderr.splitlines()[0] == (
            "Error: desktop Excel does not run on this machine (linux): the add-in installs only "
            "on Windows or macOS")
        assert "Python function" not in r.stderr and "build_addin()" not in r.stderr
    # written with normal permissions under the umask (0644 under 022), not mkstemp's 0600
    import os
    import stat
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "xl_addin.xlam").stat().st_mode) == 0o666 & ~mask
