"""Build, install and uninstall ``xl_addin.xlam``, the Excel add-in with the xl_addin ribbon tab.

The add-in is generated from text sources every time it is built; nothing binary is kept in
the repository:

* the ribbon is ``templates/ribbon/customUI14.xml``;
* the VBA project (``xl/vbaProject.bin``) holds our callbacks from
  ``templates/vba/XlAddinRibbon.bas``, plus the RunPython module and the Mac ``Dictionary``
  class that the *installed* xlwings package ships as text (``xlwings_custom_addin.bas`` and
  ``addin/Dictionary.cls``). They are read from site-packages at build time, never copied into
  this repository. The binary VBA project is written with the ``ms-ovba`` package;
* the OOXML package around them is assembled here and written by :mod:`xl_addin.ooxml`.

Settings. xlwings' VBA looks its settings up by a project name: a sheet named
``<name>.conf`` in the active workbook or in the add-in, then ``<name>.conf`` beside the active
workbook, then the user file (``~/.<name>/<name>.conf`` on Windows,
``~/Library/Containers/com.microsoft.Excel/Data/<name>.conf`` on macOS). We set that name to
``xlwings``, so the add-in shares the standard xlwings user config file and honours an
``xlwings.conf`` sheet in a workbook. The add-in itself carries no ``xlwings.conf`` sheet: the
interpreter is a per-user setting, written by :func:`install_addin`.

A note on ms-ovba: its compressor (``ms_ovba_compression`` 1.0.1) computes the largest copy
length wrongly, so long repeats in a module come out corrupted. We therefore let ms-ovba build
every record and stream of the project but compress the module and ``dir`` streams with
:func:`ovba_compress`, our implementation of the MS-OVBA algorithm (section 2.4.1).
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import locale
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal, Sequence
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from ms_cfb.Models.Directories.root_directory import RootDirectory
from ms_cfb.Models.Directories.storage_directory import StorageDirectory
from ms_cfb.Models.Directories.stream_directory import StreamDirectory
from ms_cfb.ole_file import OleFile
from ms_ovba.Models.Entities.doc_module import DocModule
from ms_ovba.Models.Entities.module_base import ModuleBase
from ms_ovba.Models.Entities.reference import Reference
from ms_ovba.Models.Entities.reference_registered import ReferenceRegistered
from ms_ovba.Models.Entities.std_module import StdModule
from ms_ovba.Models.Fields.libid_reference import LibidReference
from ms_ovba.Views.dirStream import DirStream
from ms_ovba.Views.project import Project
from ms_ovba.Views.project_view import ProjectView
from ms_ovba.Views.projectWm import ProjectWm
from ms_ovba.vbaProject import VbaProject

from xl_addin import __version__, ooxml
from xl_addin.errors import XlAddinError
from xl_addin.ooxml import names
from xl_addin.paths import template_path
from xl_addin.storage import storage_error, write_atomic, write_bytes

ADDIN_FILENAME = "xl_addin.xlam"
RIBBON_MODULE = "XlAddinRibbon"
XLWINGS_MODULE = "xlwings"
CONFIG_PROJECT_NAME = "xlwings"
"""Project name xlwings' VBA uses to find its settings (``xlwings.conf`` sheet and file)."""

CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
INFO_SHEET = "xl_addin"
STATE_FILENAME = "xl_addin.install.json"

VBA_CODEPAGE = "cp1252"  # what ms-ovba declares in the dir stream (0x04E4)
_PROJECT_ID = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "xl_addin/vbaProject")).upper() + "}"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same sources give the same bytes

# Type-library GUIDs from the VBA object model (MS-OVBA / Office), used as module bases.
_WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
_WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
_CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"

_BUILD_LOCK = threading.Lock()  # ms-ovba and ms-cfb write into the current directory

Platform = Literal["win32", "darwin"]
ModuleKind = Literal["module", "class", "document"]


class AddinError(XlAddinError):
    """Building, installing or removing the add-in failed; the message says why and what to do."""


# --------------------------------------------------------------------------------------------
# VBA sources
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VbaSource:
    """One VBA component as stored in the project: its name, kind and source text.

    ``code`` starts with the ``Attribute VB_Name`` line, like the text Excel keeps in a module
    stream (exported-file headers such as ``VERSION 1.0 CLASS`` are not part of it).
    """

    name: str
    kind: ModuleKind
    code: str


def xlwings_package_dir() -> Path:
    """The folder of the installed xlwings package (found without importing it)."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise AddinError("xlwings is not installed; run `pip install xlwings` and try again")
    return Path(list(spec.submodule_search_locations)[0])


def xlwings_version() -> str:
    """Version of the installed xlwings distribution."""
    try:
        return importlib.metadata.version("xlwings")
    except importlib.metadata.PackageNotFoundError as exc:
        raise AddinError("xlwings is not installed; run `pip install xlwings`") from exc


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AddinError(f"cannot read {what} at {path}: {exc}") from exc


def _template(*parts: str) -> Path:
    """A shipped template file; AddinError when the templates folder is missing."""
    try:
        return template_path(*parts)
    except FileNotFoundError as exc:
        raise AddinError(f"{exc}; reinstall xl_addin (its templates are not installed)") from exc


def xlwings_runpython_module() -> VbaSource:
    """xlwings' custom-add-in VBA module (``RunPython`` and helpers) from the installed package.

    Its settings name is switched from the template value to ``xlwings`` (see the module
    docstring), which is the only change made to it.
    """
    path = xlwings_package_dir() / "xlwings_custom_addin.bas"
    code = _read_text(path, "the xlwings custom add-in VBA module")
    code, count = re.subn(
        r'^(Public Const PROJECT_NAME As String = )"[^"\r\n]*"',
        rf'\g<1>"{CONFIG_PROJECT_NAME}"',
        code,
        count=1,
        flags=re.MULTILINE,
    )
    if count != 1 or not re.search(r"^Public Function RunPython\(", code, re.MULTILINE):
        raise AddinError(
            f"{path} does not look like the xlwings custom add-in module "
            "(no PROJECT_NAME constant or RunPython function); is xlwings too old or too new?"
        )
    return VbaSource(XLWINGS_MODULE, "module", code)


def xlwings_dictionary_class() -> VbaSource:
    """The ``Dictionary`` class xlwings' VBA needs on macOS, from the installed package."""
    path = xlwings_package_dir() / "addin" / "Dictionary.cls"
    return VbaSource("Dictionary", "class", class_module_code(_read_text(path, "Dictionary.cls")))


def ribbon_module() -> VbaSource:
    """Our ribbon callbacks, ``templates/vba/XlAddinRibbon.bas``."""
    code = _read_text(_template("vba", f"{RIBBON_MODULE}.bas"), "the ribbon VBA template")
    return VbaSource(RIBBON_MODULE, "module", code)


def document_module(name: str, base: str) -> VbaSource:
    """An empty document module (``ThisWorkbook`` or a sheet) with the attributes Excel expects."""
    lines = [
        f'Attribute VB_Name = "{name}"',
        f'Attribute VB_Base = "{base}"',
        "Attribute VB_GlobalNameSpace = False",
        "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = True",
        "Attribute VB_Exposed = True",
        "Attribute VB_TemplateDerived = False",
        "Attribute VB_Customizable = True",
    ]
    return VbaSource(name, "document", "\n".join(lines) + "\n")


def class_module_code(exported: str) -> str:
    """Turn an exported ``.cls`` file into the source a class module stream holds.

    Drops the ``VERSION``/``BEGIN``/``END`` header, adds ``VB_Base`` after ``VB_Name`` and the
    ``VB_TemplateDerived``/``VB_Customizable`` attributes after ``VB_Exposed``.
    """
    lines = exported.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Attribute VB_Name")), None)
    if start is None:
        raise AddinError("class module source has no 'Attribute VB_Name' line")
    out = [lines[start], f'Attribute VB_Base = "{_CLASS_BASE}"']
    rest = lines[start + 1 :]
    for i, line in enumerate(rest):
        if not line.startswith("Attribute "):
            out.extend(rest[i:])
            break
        out.append(line)
        if line.startswith("Attribute VB_Exposed"):
            out += ["Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False"]
    return "\n".join(out) + "\n"


def vba_sources() -> list[VbaSource]:
    """Every component of the add-in's VBA project, in project order."""
    return [
        document_module("ThisWorkbook", _WORKBOOK_BASE),
        document_module("Sheet1", _WORKSHEET_BASE),
        ribbon_module(),
        xlwings_runpython_module(),
        xlwings_dictionary_class(),
    ]


_SUB_RE = re.compile(
    r"^[ \t]*(?:(?:Public|Private|Friend)[ \t]+)?(?:Static[ \t]+)?(?:Sub|Function)[ \t]+(\w+)",
    re.MULTILINE | re.IGNORECASE,
)


def vba_procedures(code: str) -> list[str]:
    """Names of the Subs and Functions defined in a VBA module's source."""
    return _SUB_RE.findall(code)


# --------------------------------------------------------------------------------------------
# MS-OVBA compression (section 2.4.1 of the spec)
# --------------------------------------------------------------------------------------------

_CHUNK_SIZE = 4096
_MAX_CANDIDATES = 256  # match candidates tried per position; any match is valid, longer is smaller


def ovba_compress(data: bytes) -> bytes:
    """Compress ``data`` into an MS-OVBA CompressedContainer."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), _CHUNK_SIZE):
        out += _compress_chunk(data[start : start + _CHUNK_SIZE])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    """One CompressedChunk: header plus token sequences, or the raw bytes if that is smaller."""
    body = _compress_tokens(chunk)
    if len(body) > _CHUNK_SIZE:
        return (0x3FFF).to_bytes(2, "little") + chunk.ljust(_CHUNK_SIZE, b"\x00")
    header = 0xB000 | (len(body) + 2 - 3)  # compressed flag, signature 0b011, size - 3
    return header.to_bytes(2, "little") + body


def _copy_bit_count(position: int) -> int:
    """Bits of a CopyToken used for the offset at ``position`` bytes into the chunk."""
    return max(4, (position - 1).bit_length())


def _compress_tokens(chunk: bytes) -> bytes:
    """The TokenSequences of one chunk (flag byte, then up to eight tokens each)."""
    out = bytearray()
    seen: dict[bytes, list[int]] = {}
    pos = 0
    while pos < len(chunk):
        flag_index = len(out)
        out.append(0)
        for bit in range(8):
            if pos >= len(chunk):
                break
            offset, length = _longest_match(chunk, pos, seen)
            if length:
                bits = _copy_bit_count(pos)
                out += (((offset - 1) << (16 - bits)) | (length - 3)).to_bytes(2, "little")
                out[flag_index] |= 1 << bit
            else:
                out.append(chunk[pos])
                length = 1
            for p in range(pos, pos + length):
                seen.setdefault(chunk[p : p + 3], []).append(p)
            pos += length
    return bytes(out)


def _longest_match(chunk: bytes, pos: int, seen: dict[bytes, list[int]]) -> tuple[int, int]:
    """(offset, length) of the longest earlier match of at least 3 bytes, or (0, 0)."""
    candidates = seen.get(chunk[pos : pos + 3]) if pos + 3 <= len(chunk) else None
    if not candidates:
        return 0, 0
    limit = min((0xFFFF >> _copy_bit_count(pos)) + 3, len(chunk) - pos)
    best_at, best_len = 0, 0
    for start in reversed(candidates[-_MAX_CANDIDATES:]):
        length = 0
        while length < limit and chunk[start + length] == chunk[pos + length]:
            length += 1
        if length > best_len:
            best_at, best_len = start, length
            if length == limit:
                break
    return (pos - best_at, best_len) if best_len >= 3 else (0, 0)


# --------------------------------------------------------------------------------------------
# vbaProject.bin with ms-ovba
# --------------------------------------------------------------------------------------------


def _vba_bytes(code: str, name: str) -> bytes:
    """Module source as stored: CRLF line ends, code page 1252."""
    text = "\r\n".join(code.splitlines()) + "\r\n"
    try:
        return text.encode(VBA_CODEPAGE)
    except UnicodeEncodeError as exc:
        raise AddinError(
            f"VBA module {name} has characters outside code page 1252 ({exc.reason} at "
            f"{exc.start}); build non-ASCII text at run time with ChrW"
        ) from exc


class _SourceStream:
    """Mixin for ms-ovba modules: write the module stream from bytes in memory.

    ms-ovba's own ``write_file`` re-reads a ``<file>.new`` and uses its faulty compressor.
    """

    _source: bytes
    cache: bytes
    bin_path: str

    def write_file(self) -> None:
        Path(self.bin_path).write_bytes(self.cache + ovba_compress(self._source))


class _StdModule(_SourceStream, StdModule):
    """A standard (procedural) module."""


class _DocModule(_SourceStream, DocModule):
    """A document module (``ThisWorkbook``, a sheet)."""


class _ClassModule(_SourceStream, ModuleBase):
    """A class module.

    ms-ovba has no class module type. In the dir stream a class module has the same
    MODULETYPE record as a document module (0x0022), so it is typed "Document" there, while
    the PROJECT stream lists it as ``Class=<name>``.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.type = "Document"

    def to_project_module_string(self) -> str:
        return f"Class={self.name}"


class _DirStream(DirStream):
    """ms-ovba's dir stream, compressed with :func:`ovba_compress`."""

    def write_file(self) -> None:
        Path("dir.bin").write_bytes(ovba_compress(self.to_bytes()))


_MODULE_TYPES: dict[str, type[ModuleBase]] = {
    "module": _StdModule,
    "document": _DocModule,
    "class": _ClassModule,
}


def _ms_ovba_module(source: VbaSource) -> ModuleBase:
    first = source.code.splitlines()[0] if source.code else ""
    if first != f'Attribute VB_Name = "{source.name}"':
        raise AddinError(f"VBA source for {source.name} must start with its VB_Name attribute")
    module = _MODULE_TYPES[source.kind](source.name)
    module._source = _vba_bytes(source.code, source.name)  # type: ignore[attr-defined]
    module.add_file(f"module_{source.name}")
    return module


def _references() -> list[Reference]:
    """stdole and the Office library (IRibbonControl lives there), as ms-ovba's own CLI adds."""
    stdole = LibidReference(
        uuid.UUID("00020430-0000-0000-C000-000000000046"),
        "2.0",
        "0",
        r"C:\Windows\System32\stdole2.tlb",
        "OLE Automation",
    )
    office = LibidReference(
        uuid.UUID("2DF8D04C-5BFA-101B-BDE5-00AA0044DE52"),
        "2.0",
        "0",
        r"C:\Program Files\Common Files\Microsoft Shared\OFFICE16\MSO.DLL",
        "Microsoft Office 16.0 Object Library",
    )
    return [
        Reference(ReferenceRegistered(stdole), "stdole"),
        Reference(ReferenceRegistered(office), "Office"),
    ]


def _vba_project(sources: Sequence[VbaSource]) -> VbaProject:
    project = VbaProject()
    project.project_id = _PROJECT_ID
    project.include_projectwm()
    for reference in _references():
        project.add_reference(reference)
    for source in sources:
        project.add_module(_ms_ovba_module(source))
    return project


def _ole_root(project: VbaProject) -> RootDirectory:
    """Lay out the project's streams as ms-ovba's ProjectOleFile does (VBA storage + PROJECT)."""
    root = RootDirectory()
    root.set_modified(project.default_date)
    storage = StorageDirectory("VBA")
    storage.set_created(project.default_date)
    storage.set_modified(project.default_date)
    for module in project.get_modules():
        module.write_file()
        storage.add_directory(StreamDirectory(module.name, module.bin_path))
    _DirStream(project).write_file()
    storage.add_directory(StreamDirectory("dir", "dir.bin"))
    ProjectView(project).write_file()
    storage.add_directory(StreamDirectory("_VBA_PROJECT", "vba_project.bin"))
    root.add_directory(storage)
    ProjectWm(project).write_file()
    root.add_directory(StreamDirectory("PROJECTwm", "projectwm.bin"))
    Project(project).write_file()
    root.add_directory(StreamDirectory("PROJECT", "project.bin"))
    return root


@contextlib.contextmanager
def _fixed_random() -> Iterator[None]:
    """Seed :mod:`random` for the build, then restore its state.

    ms-ovba-crypto draws the obfuscation seed of the PROJECT stream's CMG/DPB/GC values from
    the global :mod:`random`; a fixed seed makes the same sources give the same bytes.
    """
    saved = random.getstate()
    random.seed(_PROJECT_ID)
    try:
        yield
    finally:
        random.setstate(saved)


def build_vba_project(sources: Sequence[VbaSource] | None = None) -> bytes:
    """The bytes of ``vbaProject.bin`` for ``sources`` (default: :func:`vba_sources`).

    ms-ovba and ms-cfb write their intermediate files into the current directory, so this runs
    in a private temporary directory under a lock.
    """
    sources = list(vba_sources() if sources is None else sources)
    with _BUILD_LOCK, tempfile.TemporaryDirectory(prefix="xl_addin_vba_") as tmp:
        with contextlib.chdir(tmp), _fixed_random():
            ole = OleFile()
            ole.root_directory = _ole_root(_vba_project(sources))
            ole.create_file("vbaProject.bin")
            return Path("vbaProject.bin").read_bytes()


# --------------------------------------------------------------------------------------------
# Ribbon
# --------------------------------------------------------------------------------------------


def ribbon_xml() -> str:
    """The ribbon definition, ``templates/ribbon/customUI14.xml``."""
    return _read_text(_template("ribbon", "customUI14.xml"), "the ribbon XML template")


def ribbon_actions(xml_text: str) -> list[str]:
    """Every ``onAction`` value in a customUI document, in document order."""
    try:
        root = ElementTree.fromstring(xml_text.encode("utf-8"))
    except ElementTree.ParseError as exc:
        raise AddinError(f"ribbon XML is not well-formed: {exc}") from exc
    if root.tag != f"{{{CUSTOMUI_NS}}}customUI":
        raise AddinError(f"ribbon XML root must be customUI in namespace {CUSTOMUI_NS}")
    return [el.attrib["onAction"] for el in root.iter() if "onAction" in el.attrib]


def missing_actions(xml_text: str, sources: Sequence[VbaSource]) -> list[str]:
    """``onAction`` values that name no Sub in ``sources`` (``Module.Sub`` or a bare ``Sub``)."""
    procs = {s.name.lower(): {p.lower() for p in vba_procedures(s.code)} for s in sources}
    everywhere = set().union(*procs.values()) if procs else set()
    missing = []
    for action in ribbon_actions(xml_text):
        module, _, proc = action.rpartition(".")
        found = proc.lower() in (procs.get(module.lower(), set()) if module else everywhere)
        if not found:
            missing.append(action)
    return missing


# --------------------------------------------------------------------------------------------
# OOXML package
# --------------------------------------------------------------------------------------------

# The format's names and serialisers are xl_addin.ooxml's; this module only says what the
# add-in's package holds.
_NS_MAIN, _NS_REL, _NS_PKG_REL, _XML_DECL = names.MAIN, names.DOC_REL, names.PKG_REL, names.XML_DECL

CT_ADDIN = names.CT_ADDIN
CT_VBA = names.CT_VBA
CT_SHEET = names.CT_SHEET
CT_STYLES = names.CT_STYLES
CT_CORE = names.CT_CORE
CT_APP = names.CT_APP

REL_OFFICE_DOCUMENT = names.REL_OFFICE_DOCUMENT
REL_RIBBON = names.REL_RIBBON
REL_VBA = names.REL_VBA
REL_WORKSHEET = names.REL_WORKSHEET
REL_STYLES = names.REL_STYLES
REL_CORE = names.REL_CORE
REL_APP = names.REL_APP


def _content_types_xml() -> str:
    defaults = {"rels": names.CT_RELS, "xml": names.CT_XML, "bin": CT_VBA}
    overrides = {
        "/xl/workbook.xml": CT_ADDIN,
        "/xl/worksheets/sheet1.xml": CT_SHEET,
        "/xl/styles.xml": CT_STYLES,
        "/docProps/core.xml": CT_CORE,
        "/docProps/app.xml": CT_APP,
    }
    return ooxml.content_types_xml(defaults, overrides).decode("utf-8")


def _relationships_xml(rels: Sequence[tuple[str, str, str]]) -> str:
    return ooxml.rels_xml(rels).decode("utf-8")


def _root_rels_xml() -> str:
    return _relationships_xml(
        [
            ("rId1", REL_OFFICE_DOCUMENT, "xl/workbook.xml"),
            ("rId2", REL_CORE, "docProps/core.xml"),
            ("rId3", REL_APP, "docProps/app.xml"),
            ("rId4", REL_RIBBON, "customUI/customUI14.xml"),
        ]
    )


def _workbook_rels_xml() -> str:
    return _relationships_xml(
        [
            ("rId1", REL_WORKSHEET, "worksheets/sheet1.xml"),
            ("rId2", REL_STYLES, "styles.xml"),
            ("rId3", REL_VBA, "vbaProject.bin"),
        ]
    )


def _workbook_xml() -> str:
    return (
        f'{_XML_DECL}<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        '<workbookPr codeName="ThisWorkbook"/>'
        '<bookViews><workbookView xWindow="0" yWindow="0" windowWidth="16000" '
        'windowHeight="9000"/></bookViews>'
        f'<sheets><sheet name="{INFO_SHEET}" sheetId="1" r:id="rId1"/></sheets>'
        '<calcPr calcId="191029"/>'
        "</workbook>"
    )


def _info_rows() -> list[tuple[str, str]]:
    """What the add-in's one (hidden, as in any add-in) sheet says about it."""
    return [
        ("xl_addin", __version__),
        ("xlwings", xlwings_version()),
        ("Ribbon / 功能区", "销售工具"),
        (
            "Settings / 设置",
            "INTERPRETER_WIN / INTERPRETER_MAC in the xlwings user config file "
            "(written by `xl-addin addin install`) or an xlwings.conf sheet in the workbook",
        ),
    ]


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def _sheet_xml() -> str:
    rows = _info_rows()
    body = "".join(
        f'<row r="{n}">{_cell(f"A{n}", key)}{_cell(f"B{n}", value)}</row>'
        for n, (key, value) in enumerate(rows, start=1)
    )
    return (
        f'{_XML_DECL}<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        '<sheetPr codeName="Sheet1"/>'
        f'<dimension ref="A1:B{len(rows)}"/>'
        '<cols><col min="1" max="1" width="18" customWidth="1"/>'
        '<col min="2" max="2" width="60" customWidth="1"/></cols>'
        f"<sheetData>{body}</sheetData>"
        "</worksheet>"
    )


def _styles_xml() -> str:
    return (
        f'{_XML_DECL}<styleSheet xmlns="{_NS_MAIN}">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _core_xml() -> str:
    return (
        f"{_XML_DECL}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:title>xl_addin</dc:title>"
        "<dc:description>xl_addin ribbon add-in for sales teams</dc:description>"
        "<dc:creator>xl_addin</dc:creator>"
        "</cp:coreProperties>"
    )


def _app_xml() -> str:
    return (
        f"{_XML_DECL}<Properties "
        'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        f"<Application>Microsoft Excel</Application><AppVersion>16.0300</AppVersion>"
        "</Properties>"
    )


def addin_parts(ribbon: str, vba_project: bytes) -> list[tuple[str, bytes]]:
    """The package parts of the add-in, ``[Content_Types].xml`` first."""
    text_parts = [
        ("[Content_Types].xml", _content_types_xml()),
        ("_rels/.rels", _root_rels_xml()),
        ("docProps/core.xml", _core_xml()),
        ("docProps/app.xml", _app_xml()),
        ("customUI/customUI14.xml", ribbon),
        ("xl/workbook.xml", _workbook_xml()),
        ("xl/_rels/workbook.xml.rels", _workbook_rels_xml()),
        ("xl/worksheets/sheet1.xml", _sheet_xml()),
        ("xl/styles.xml", _styles_xml()),
    ]
    parts = [(name, text.encode("utf-8")) for name, text in text_parts]
    return parts + [("xl/vbaProject.bin", vba_project)]


def _write_zip(path: Path, parts: Sequence[tuple[str, bytes]]) -> None:
    ooxml.write_package(path, parts, date_time=_ZIP_TIME)


def build_addin(out_dir: Path) -> Path:
    """Build ``xl_addin.xlam`` into ``out_dir`` (created if needed) and return its path.

    Raises :class:`AddinError` when a source is missing or inconsistent (for example a ribbon
    button whose ``onAction`` names no Sub) or the file cannot be written.
    """
    out_dir = Path(out_dir)
    sources = vba_sources()
    ribbon = ribbon_xml()
    missing = missing_actions(ribbon, sources)
    if missing:
        raise AddinError(f"ribbon onAction names no VBA Sub: {', '.join(missing)}")
    parts = addin_parts(ribbon, build_vba_project(sources))
    target = out_dir / ADDIN_FILENAME
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, target, folder=out_dir) from None
    write_atomic(target, lambda tmp: _write_zip(tmp, parts), follow_symlinks=False)
    return target


# --------------------------------------------------------------------------------------------
# Install / uninstall
# --------------------------------------------------------------------------------------------


def resolve_platform(platform: str | None = None) -> Platform:
    """``"win32"`` or ``"darwin"`` for ``platform`` (default: this machine), else AddinError."""
    name = platform or sys.platform
    if name.startswith("win"):
        return "win32"
    if name == "darwin":
        return "darwin"
    raise AddinError(
        f"Excel desktop add-ins exist only on Windows and macOS, not on {name!r}. "
        "Run `xl-addin addin build -o FOLDER` here and copy xl_addin.xlam to a Windows or Mac "
        "computer (or run `xl-addin addin install` there); from Python, build_addin() builds "
        "it and platform='win32' or 'darwin' (with a home folder) prepares another machine's files."
    )


def _home(home: Path | None) -> Path:
    return Path(home) if home is not None else Path.home()


def addin_dir(home: Path | None = None, platform: str | None = None) -> Path:
    """The folder Excel opens add-ins from at start-up (the user's startup path).

    Windows: ``%APPDATA%\\Microsoft\\Excel\\XLSTART`` (``home/AppData/Roaming/...`` when a home
    is given). macOS: Excel's ``Application.StartupPath``,
    ``~/Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel``.
    These are the folders ``xlwings addin install`` copies into.
    """
    plat = resolve_platform(platform)
    if plat == "win32":
        appdata = os.environ.get("APPDATA") if home is None and sys.platform == "win32" else None
        roaming = Path(appdata) if appdata else _home(home) / "AppData" / "Roaming"
        return roaming / "Microsoft" / "Excel" / "XLSTART"
    return (
        _home(home) / "Library" / "Group Containers" / "UBF8T346G9.Office"
        / "User Content.localized" / "Startup.localized" / "Excel"
    )


def user_config_path(home: Path | None = None, platform: str | None = None) -> Path:
    """The xlwings user config file that xlwings' VBA and Python both read."""
    if resolve_platform(platform) == "win32":
        return _home(home) / ".xlwings" / "xlwings.conf"
    return _home(home) / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / "xlwings.conf"


def applescript_dir(home: Path | None = None) -> Path:
    """Where macOS Excel looks for AppleScript files (xlwings' RunPython needs one there)."""
    return _home(home) / "Library" / "Application Scripts" / "com.microsoft.Excel"


def interpreter_key(platform: str | None = None) -> str:
    """The config key xlwings' VBA reads the Python interpreter from on ``platform``."""
    return "INTERPRETER_WIN" if resolve_platform(platform) == "win32" else "INTERPRETER_MAC"


def _config_encoding(platform: Platform) -> str:
    """VBA reads the file in the ANSI code page on Windows; elsewhere use UTF-8."""
    if platform == "win32" and sys.platform == "win32":
        return locale.getencoding()
    return "utf-8"


_CONFIG_LINE = re.compile(r'^\s*"([^"]*)"\s*,\s*"([^"]*)"')


def _read_config_lines(path: Path, encoding: str) -> list[str]:
    if not path.is_file():
        return []
    try:
        return path.read_bytes().decode(encoding, errors="surrogateescape").splitlines(True)
    except OSError as exc:
        raise AddinError(f"cannot read {path}: {exc}") from exc


def config_value(lines: Sequence[str], key: str) -> str | None:
    """Value of ``key`` (case-insensitive, as xlwings matches) in config lines, or None."""
    for line in lines:
        match = _CONFIG_LINE.match(line)
        if match and match.group(1).lower() == key.lower():
            return match.group(2)
    return None


def _without_key(lines: Sequence[str], key: str) -> list[str]:
    return [
        line
        for line in lines
        if not ((m := _CONFIG_LINE.match(line)) and m.group(1).lower() == key.lower())
    ]


def _with_value(lines: Sequence[str], key: str, value: str, newline: str) -> list[str]:
    """``lines`` with ``key`` set to ``value`` in place of its first line (or appended)."""
    entry = f'"{key}","{value}"{newline}'
    out: list[str] = []
    placed = False
    for line in lines:
        match = _CONFIG_LINE.match(line)
        if match and match.group(1).lower() == key.lower():
            if not placed:
                out.append(entry)
                placed = True
            continue
        out.append(line)
    if not placed:
        if out and not out[-1].endswith(("\n", "\r")):
            out[-1] += newline
        out.append(entry)
    return out


def _write_file(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, path) from None
    write_bytes(path, data)


def _write_config(path: Path, lines: Sequence[str], encoding: str) -> None:
    _write_file(path, "".join(lines).encode(encoding, errors="surrogateescape"))


def _check_interpreter(interpreter: str, plat: Platform, encoding: str) -> None:
    if not interpreter or '"' in interpreter or "\n" in interpreter:
        raise AddinError(f"unusable interpreter path {interpreter!r} (empty or has quotes)")
    try:
        interpreter.encode(encoding)
    except UnicodeEncodeError as exc:
        raise AddinError(
            f"interpreter path {interpreter!r} cannot be written in the {encoding} code page "
            "that Excel's VBA reads the config file in; use a Python installed in a folder "
            "whose name the Windows code page can hold"
        ) from exc
    native = sys.platform == plat
    bare = interpreter in ("python", "pythonw", "python3")
    if native and not bare and not Path(interpreter).is_file():
        raise AddinError(f"interpreter {interpreter!r} does not exist")


def _state_path(config: Path) -> Path:
    return config.with_name(STATE_FILENAME)


def _read_state(path: Path) -> dict | None:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise AddinError(f"cannot read install record {path}: {exc}; delete it and retry") from exc
    return state if isinstance(state, dict) else None


def _configure_interpreter(config: Path, plat: Platform, interpreter: str) -> None:
    """Set the interpreter key, remembering what was there for :func:`uninstall_addin`."""
    encoding = _config_encoding(plat)
    _check_interpreter(interpreter, plat, encoding)
    key = interpreter_key(plat)
    lines = _read_config_lines(config, encoding)
    state = _read_state(_state_path(config))
    if state is None or state.get("key") != key:
        state = {
            "key": key,
            "previous": config_value(lines, key),
            "created_config": not config.exists(),
        }
    state["value"] = interpreter
    newline = "\r\n" if plat == "win32" else "\n"
    _write_config(config, _with_value(lines, key, interpreter, newline), encoding)
    _write_file(_state_path(config), json.dumps(state, indent=2).encode("utf-8"))


def _restore_interpreter(config: Path, plat: Platform) -> list[Path]:
    """Undo :func:`_configure_interpreter` unless the user changed the value since.

    Returns the files removed (the install record, and the config file if we created it and
    nothing else is left in it).
    """
    state_file = _state_path(config)
    state = _read_state(state_file)
    if state is None:
        return []
    encoding = _config_encoding(plat)
    key = str(state.get("key", interpreter_key(plat)))
    lines = _read_config_lines(config, encoding)
    removed: list[Path] = []
    if lines and config_value(lines, key) == state.get("value"):
        previous = state.get("previous")
        newline = "\r\n" if plat == "win32" else "\n"
        if previous is None:
            lines = _without_key(lines, key)
        else:
            lines = _with_value(lines, key, str(previous), newline)
        if state.get("created_config") and not any(line.strip() for line in lines):
            config.unlink()
            removed.append(config)
        else:
            _write_config(config, lines, encoding)
    state_file.unlink()
    removed.append(state_file)
    return removed


def _install_applescript(home: Path | None) -> Path:
    """Copy xlwings' AppleScript, which RunPython calls on macOS, where Excel can run it."""
    name = f"xlwings-{xlwings_version()}.applescript"
    source = xlwings_package_dir() / name
    if not source.is_file():
        raise AddinError(f"{source} is missing; reinstall xlwings")
    target = applescript_dir(home) / name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    except OSError as exc:
        raise AddinError(f"cannot copy {name} to {target.parent}: {exc}") from exc
    return target


def install_addin(
    home: Path | None = None, platform: str | None = None, interpreter: str | None = None
) -> Path:
    """Build the add-in, put it where Excel loads it at start-up and point it at Python.

    * copies ``xl_addin.xlam`` into :func:`addin_dir` (Excel's startup folder);
    * sets ``INTERPRETER_WIN`` (Windows) or ``INTERPRETER_MAC`` (macOS) in the xlwings user
      config file to ``interpreter`` (default: this Python, ``sys.executable``), keeping every
      other line of that file; what the key held before is recorded in
      ``xl_addin.install.json`` beside it so :func:`uninstall_addin` can put it back;
    * on macOS also copies xlwings' ``xlwings-<version>.applescript`` into
      ``~/Library/Application Scripts/com.microsoft.Excel`` (needed by RunPython there).

    Running it again rebuilds and replaces the file; the result is the same. ``home`` and
    ``platform`` ("win32"/"darwin") let it target another home folder or OS (tests, packaging).
    Returns the installed add-in's path; raises :class:`AddinError` on any problem.
    """
    plat = resolve_platform(platform)
    target = addin_dir(home, plat) / ADDIN_FILENAME
    with tempfile.TemporaryDirectory(prefix="xl_addin_build_") as tmp:
        built = build_addin(Path(tmp))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(built, target)
        except OSError as exc:
            raise AddinError(
                f"cannot copy the add-in to {target}: {exc}. Quit Excel and try again."
            ) from exc
    _configure_interpreter(user_config_path(home, plat), plat, interpreter or sys.executable)
    if plat == "darwin":
        _install_applescript(home)
    return target


def uninstall_addin(home: Path | None = None, platform: str | None = None) -> list[Path]:
    """Remove the installed add-in and undo our interpreter setting; return the removed files.

    The interpreter key goes back to what it was before :func:`install_addin` (or is removed
    if it was absent), unless it was changed by hand since. Other config keys and xlwings'
    AppleScript on macOS (shared with the xlwings add-in) are left alone. Nothing installed
    means an empty list.
    """
    plat = resolve_platform(platform)
    removed: list[Path] = []
    target = addin_dir(home, plat) / ADDIN_FILENAME
    if target.exists():
        try:
            target.unlink()
        except OSError as exc:
            raise AddinError(f"cannot remove {target}: {exc}. Quit Excel and try again.") from exc
        removed.append(target)
    removed += _restore_interpreter(user_config_path(home, plat), plat)
    return removed
