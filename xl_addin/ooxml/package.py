"""Reading an .xlsx package: parts, relationships, content types, sheets and tables by
name, shared strings, all under :class:`Limits` that hold against hostile files.

:class:`Package` opens a zip file (a path, bytes or a binary file object) and checks its
central directory at once: the number of entries, and each part's inflated size and
compression ratio as declared. :meth:`Package.read` then inflates a part in bounded steps
and stops as soon as it is bigger than it declared or than the limit, so a file that lies
in its headers is refused too. Past any limit a :class:`PackageLimitError` (a
:class:`~xl_addin.errors.WorkbookError`, exit 2 from the CLI) names the part, before any
big allocation.

Lookups: :meth:`~Package.workbook_part`, :meth:`~Package.rels` (a part's relationships,
targets resolved to part names), :meth:`~Package.sheets` (title, part) in workbook order,
:meth:`~Package.sheet_part`, :meth:`~Package.tables` / :meth:`~Package.table` (a table by
name: its sheet, the sheet's part, the table's part and ``ref``),
:meth:`~Package.shared_strings` (the raw items, counted and measured against the limits)
and :meth:`~Package.content_types`.

Stable API: add, do not change.
"""
from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO
from xml.etree import ElementTree as ET

from ..errors import WorkbookError
from .names import (CONTENT_TYPES_NS, MAX_CELL_TEXT, NS, PKG_REL, REL_OFFICE_DOCUMENT,
                    REL_SHARED_STRINGS, REL_TABLE, ROOT_RELS_PART)

__all__ = ["Limits", "DEFAULT_LIMITS", "Package", "PackageError", "PackageLimitError", "Rel",
           "TablePlace", "ContentTypes", "rels_part_name", "resolve_target", "check_package"]


class PackageError(WorkbookError):
    """A package this layer cannot read (not a zip, a part missing or damaged)."""


class PackageLimitError(PackageError):
    """A package past one of the :class:`Limits` (a zip bomb or a damaged file)."""


@dataclass(frozen=True)
class Limits:
    """What a package may hold. The defaults are far above any real master (a master of
    100,000 reps has sheets of about 200 MB and ratios near 10) and far below what would
    take a gigabyte of memory."""

    max_entries: int = 10_000              # zip entries
    max_part_bytes: int = 512 * 2 ** 20    # a part's inflated size
    max_total_bytes: int = 2 * 2 ** 30     # all parts, inflated
    max_ratio: float = 200.0               # inflated / compressed, for parts over ratio_from
    ratio_from: int = 2 ** 20
    max_shared_strings: int = 5_000_000
    max_text: int = MAX_CELL_TEXT          # characters of one shared string or cell text


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Rel:
    id: str
    type: str
    target: str        # as written
    part: str          # resolved to a part name ("" for an external target)
    external: bool = False


@dataclass(frozen=True)
class TablePlace:
    name: str          # the table's name (displayName when it has no name)
    sheet: str         # the title of the sheet that holds it
    sheet_part: str
    part: str          # the table part
    ref: str           # as written (not checked: see sheet.parse_range)


def rels_part_name(part: str) -> str:
    """``xl/workbook.xml`` -> ``xl/_rels/workbook.xml.rels``."""
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def resolve_target(base: str, target: str) -> str:
    """A relationship target of part ``base`` as a part name."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target)).lstrip("/")


@dataclass
class ContentTypes:
    """``[Content_Types].xml``: defaults by extension, overrides by part name."""

    defaults: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)   # "/xl/workbook.xml" -> type

    @classmethod
    def parse(cls, xml: bytes) -> "ContentTypes":
        root = ET.fromstring(xml)
        ct = cls()
        for d in root.findall(f"{{{CONTENT_TYPES_NS}}}Default"):
            ct.defaults[d.get("Extension", "").lower()] = d.get("ContentType", "")
        for o in root.findall(f"{{{CONTENT_TYPES_NS}}}Override"):
            ct.overrides[o.get("PartName", "")] = o.get("ContentType", "")
        return ct

    def of(self, part: str) -> str | None:
        name = "/" + part.lstrip("/")
        if name in self.overrides:
            return self.overrides[name]
        return self.defaults.get(posixpath.splitext(part)[1].lstrip(".").lower())

    def to_xml(self) -> bytes:
        from .parts import content_types_xml

        return content_types_xml(self.defaults, self.overrides)


_SI_OPEN = re.compile(rb"<(?:\w+:)?si\b")
_TAG = re.compile(rb"<[^>]*>")


class Package:
    """A read-only .xlsx package, checked against ``limits`` when opened.

    ``name`` is how messages call the file (default: the path)."""

    def __init__(self, source: str | os.PathLike | bytes | BinaryIO, *,
                 limits: Limits = DEFAULT_LIMITS, name: str | None = None):
        self.limits = limits
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._file: BinaryIO = io.BytesIO(source)
            self.name = name or "the workbook"
        elif isinstance(source, (str, os.PathLike)):
            self._file = open(source, "rb")
            self.name = name or str(source)
        else:
            self._file = source
            self.name = name or getattr(source, "name", "the workbook")
        try:
            self.zip = zipfile.ZipFile(self._file)
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            self.close()
            raise PackageError(f"{self.name}: not an .xlsx workbook (the file is not a valid "
                               f"zip package: {e})") from None
        try:
            self._check_directory()
        except BaseException:
            self.close()
            raise
        self._cache: dict[str, bytes] = {}
        self._rels: dict[str, list[Rel]] = {}

    # ------------------------------------------------------------------ opening

    def _check_directory(self) -> None:
        lim = self.limits
        infos = self.zip.infolist()
        if len(infos) > lim.max_entries:
            raise PackageLimitError(f"{self.name}: {len(infos):,} zip entries, over the limit of "
                                    f"{lim.max_entries:,}; this is not a workbook we can open safely")
        total = 0
        for info in infos:
            self._check_info(info)
            total += info.file_size
        if total > lim.max_total_bytes:
            raise PackageLimitError(f"{self.name}: the parts inflate to {total:,} bytes, over the "
                                    f"limit of {lim.max_total_bytes:,}")

    def _check_info(self, info: zipfile.ZipInfo) -> None:
        lim = self.limits
        if info.flag_bits & 0x1:
            raise PackageError(f"{self.name}: part {info.filename} is encrypted")
        if info.file_size > lim.max_part_bytes:
            raise PackageLimitError(f"{self.name}: part {info.filename} inflates to "
                                    f"{info.file_size:,} bytes, over the limit of "
                                    f"{lim.max_part_bytes:,}")
        if info.file_size > lim.ratio_from and info.file_size > lim.max_ratio * max(1, info.compress_size):
            raise PackageLimitError(
                f"{self.name}: part {info.filename} is compressed {info.file_size / max(1, info.compress_size):,.0f}:1 "
                f"({info.compress_size:,} bytes inflating to {info.file_size:,}), over the limit of "
                f"{lim.max_ratio:,.0f}:1; a workbook is never compressed that much (a zip bomb?)")

    def close(self) -> None:
        z = getattr(self, "zip", None)
        if z is not None:
            z.close()
        if getattr(self, "_file", None) is not None:
            self._file.close()

    def __enter__(self) -> "Package":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ parts

    @property
    def names(self) -> list[str]:
        return self.zip.namelist()

    def __contains__(self, part: str) -> bool:
        return part in self.zip.NameToInfo

    def info(self, part: str) -> zipfile.ZipInfo:
        return self.zip.getinfo(part)

    def read(self, part: str, *, cache: bool = False) -> bytes:
        """The inflated content of ``part``, read in bounded steps: more bytes than the part
        declares (or than the limit) raise :class:`PackageLimitError` at once."""
        if part in self._cache:
            return self._cache[part]
        try:
            info = self.zip.getinfo(part)
        except KeyError:
            raise PackageError(f"{self.name}: part {part} is missing") from None
        cap = min(info.file_size, self.limits.max_part_bytes)
        try:
            data = self._bounded(info, cap)
        except PackageLimitError:
            raise
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as e:
            raise PackageError(f"{self.name}: part {part} is damaged ({e})") from None
        if cache:
            self._cache[part] = data
        return data

    def verify(self) -> None:
        """Inflate every part once, in bounded steps and without keeping it: a part that
        inflates to more than its header declares (which readers that trust the header,
        such as calamine, would follow), or whose CRC is wrong, raises here."""
        for info in self.zip.infolist():
            if info.is_dir():
                continue
            try:
                self._bounded(info, min(info.file_size, self.limits.max_part_bytes), keep=False)
            except PackageError:
                raise
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as e:
                raise PackageError(f"{self.name}: part {info.filename} is damaged ({e})") from None

    def _bounded(self, info: zipfile.ZipInfo, cap: int, keep: bool = True) -> bytes:
        if info.compress_type == zipfile.ZIP_DEFLATED:
            # Inflate ourselves, never more than cap + 1 bytes, whatever the header says.
            self._file.seek(info.header_offset)
            head = self._file.read(30)
            if len(head) != 30 or head[:4] != b"PK\x03\x04":
                raise PackageError(f"{self.name}: part {info.filename} is damaged (bad local header)")
            n, e = int.from_bytes(head[26:28], "little"), int.from_bytes(head[28:30], "little")
            self._file.seek(info.header_offset + 30 + n + e)
            d = zlib.decompressobj(-15)
            out = []
            size = 0
            left = info.compress_size
            crc = 0
            while left > 0 or d.unconsumed_tail:
                if d.unconsumed_tail:
                    chunk = d.decompress(d.unconsumed_tail, cap + 1 - size)
                else:
                    raw = self._file.read(min(left, 1 << 20))
                    if not raw:
                        break
                    left -= len(raw)
                    chunk = d.decompress(raw, cap + 1 - size)
                size += len(chunk)
                if size > cap:
                    raise PackageLimitError(
                        f"{self.name}: part {info.filename} inflates to more than "
                        f"{cap:,} bytes ({'its declared size' if cap == info.file_size else 'the limit'}); "
                        "the file is damaged or hostile")
                crc = zlib.crc32(chunk, crc)
                if keep:
                    out.append(chunk)
                if d.eof:
                    break
            if size != info.file_size or crc != info.CRC:
                raise PackageError(f"{self.name}: part {info.filename} is damaged (size or CRC)")
            return b"".join(out)
        with self.zip.open(info) as f:   # stored (or another method zipfile bounds itself)
            if not keep:
                n = 0
                while chunk := f.read(1 << 20):
                    n += len(chunk)
                    if n > cap:
                        raise PackageLimitError(f"{self.name}: part {info.filename} is bigger than declared")
                return b""
            data = f.read(cap + 1)
        if len(data) > cap:
            raise PackageLimitError(f"{self.name}: part {info.filename} is bigger than declared")
        return data

    # ------------------------------------------------------------------ relationships

    def rels(self, part: str) -> list[Rel]:
        """The relationships of ``part`` (``""`` for the package's own, ``_rels/.rels``)."""
        if part in self._rels:
            return self._rels[part]
        name = ROOT_RELS_PART if part == "" else rels_part_name(part)
        out: list[Rel] = []
        if name in self:
            try:
                root = ET.fromstring(self.read(name))
            except ET.ParseError as e:
                raise PackageError(f"{self.name}: part {name} is not valid XML ({e})") from None
            for r in root.findall(f"{{{PKG_REL}}}Relationship"):
                target = r.get("Target", "")
                external = r.get("TargetMode") == "External"
                out.append(Rel(r.get("Id", ""), r.get("Type", ""), target,
                               "" if external else resolve_target(part or "/", target), external))
        self._rels[part] = out
        return out

    def workbook_part(self) -> str:
        for r in self.rels(""):
            if r.type == REL_OFFICE_DOCUMENT or r.type.endswith("/officeDocument"):
                return r.part
        if "xl/workbook.xml" in self:
            return "xl/workbook.xml"
        raise PackageError(f"{self.name}: no workbook part (this is not a spreadsheet)")

    def content_types(self) -> ContentTypes:
        from .names import CONTENT_TYPES_PART

        return ContentTypes.parse(self.read(CONTENT_TYPES_PART))

    # ------------------------------------------------------------------ sheets, tables

    def sheets(self) -> list[tuple[str, str]]:
        """(title, part) of every worksheet whose part exists, in workbook order."""
        if getattr(self, "_sheets", None) is None:
            book = self.workbook_part()
            by_id = {r.id: r.part for r in self.rels(book)}
            try:
                root = ET.fromstring(self.read(book))
            except ET.ParseError as e:
                raise PackageError(f"{self.name}: part {book} is not valid XML ({e})") from None
            out = []
            for sheet in root.findall("m:sheets/m:sheet", NS):
                part = by_id.get(sheet.get(f"{{{NS['r']}}}id"))
                if part is not None and part in self:
                    out.append((sheet.get("name"), part))
            self._sheets = out
        return list(self._sheets)

    def sheet_part(self, title: str) -> str:
        for t, part in self.sheets():
            if t == title:
                return part
        raise KeyError(title)

    def tables(self) -> list[TablePlace]:
        """Every table, sheets in workbook order."""
        if getattr(self, "_tables", None) is None:
            out = []
            for title, part in self.sheets():
                for r in self.rels(part):
                    if r.type != REL_TABLE or r.part not in self:
                        continue
                    try:
                        t = ET.fromstring(self.read(r.part))
                    except ET.ParseError as e:
                        raise PackageError(f"{self.name}: part {r.part} is not valid XML ({e})") from None
                    name = t.get("name") or t.get("displayName") or ""
                    out.append(TablePlace(name, title, part, r.part, t.get("ref") or ""))
            self._tables = out
        return list(self._tables)

    def table(self, name: str) -> TablePlace:
        """A table by name (Excel table names ignore case)."""
        low = name.lower()
        for t in self.tables():
            if t.name.lower() == low:
                return t
        raise KeyError(name)

    # ------------------------------------------------------------------ shared strings

    def shared_strings_part(self) -> str | None:
        for r in self.rels(self.workbook_part()):
            if r.type == REL_SHARED_STRINGS and r.part in self:
                return r.part
        return None

    def check_shared_strings(self) -> None:
        """Count and measure the shared strings against the limits (without keeping them)."""
        self.shared_strings(keep=False)

    def shared_strings(self, *, keep: bool = True) -> list[bytes] | None:
        """The raw content of every shared-string item (``<t>`` or rich-text runs, as an
        inline string ``<is>`` takes them); None when the package has none. Raises
        :class:`PackageLimitError` past the number or length limits."""
        part = self.shared_strings_part()
        if part is None:
            return None
        data = self.read(part)
        lim = self.limits
        n = data.count(b"<si") if b":si" not in data else len(_SI_OPEN.findall(data))
        if n > lim.max_shared_strings:
            raise PackageLimitError(f"{self.name}: part {part} holds {n:,} shared strings, over the "
                                    f"limit of {lim.max_shared_strings:,}")
        out: list[bytes] = []
        i = 0
        index = 0
        while True:
            m = _SI_OPEN.search(data, i)
            if m is None:
                break
            gt = data.find(b">", m.end())
            if gt < 0:
                break
            if data[gt - 1:gt] == b"/":
                item = b""
                i = gt + 1
            else:
                close = data.find(b"</si>", gt)
                if close < 0:
                    raise PackageError(f"{self.name}: part {part} is damaged (an unclosed <si>)")
                item = data[gt + 1:close]
                i = close + 5
            if len(item) > lim.max_text:   # bytes >= characters; look closer
                chars = len(_TAG.sub(b"", item).decode("utf-8", "replace"))
                if chars > lim.max_text:
                    raise PackageLimitError(
                        f"{self.name}: shared string {index} ({part}) has {chars:,} characters, "
                        f"over Excel's limit of {lim.max_text:,} for a cell")
            if keep:
                out.append(item)
            index += 1
        return out if keep else None


def check_package(path: str | os.PathLike, *, limits: Limits = DEFAULT_LIMITS) -> None:
    """Open ``path`` as a package and check it against ``limits`` (entries, each part's
    declared size and ratio, each part's real inflated size and CRC, the shared strings);
    raises :class:`PackageLimitError` or :class:`PackageError` naming the part."""
    with Package(path, limits=limits) as p:
        p.verify()
        p.check_shared_strings()
