"""Writing .xlsx packages: one zip writer, and :func:`rewrite`, the one primitive that
rewrites a package once.

:func:`rewrite` reads a source package and writes a new one to the path or binary file
object it is given: the parts named in ``changes`` with their new content (compressed once,
here), every other part copied byte for byte as it is stored in the source (its compressed
bytes are copied, never inflated and compressed again). Parts mapped to None are dropped;
parts the source does not have are added after the others. It does not replace files or
keep backups: the caller hands it a temporary file (``replace_atomic``).

:func:`write_package` writes a new package from (name, content) pairs (the add-in).
:func:`content_types_xml` and :func:`rels_xml` serialise ``[Content_Types].xml`` and a
relationships part.

Zip64 records are written only for a part or an archive that needs them (over 4 GB or
65,535 entries): Excel reports a file with needless Zip64 headers as damaged.

Stable API: add, do not change.
"""
from __future__ import annotations

import os
import struct
import time
import zipfile
import zlib
from typing import BinaryIO, Iterable, Mapping, Union

from .parts import content_types_xml, rels_xml
from .package import DEFAULT_LIMITS, Limits, Package

__all__ = ["ZipWriter", "rewrite", "write_package", "content_types_xml", "rels_xml", "Content"]

Content = Union[bytes, str, Iterable[Union[bytes, str]]]

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_EOCD64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR = struct.Struct("<IIQI")
_MAX32 = 0xFFFFFFFF
_MAX16 = 0xFFFF
_COPY_CHUNK = 1 << 20


def _dos(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time
    y = min(max(y, 1980), 2107)
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


class _Entry:
    __slots__ = ("name", "flags", "method", "time", "date", "crc", "csize", "usize", "offset",
                 "external")

    def __init__(self, name, flags, method, dos, crc, csize, usize, offset, external):
        self.name, self.flags, self.method = name, flags, method
        self.time, self.date = dos
        self.crc, self.csize, self.usize, self.offset, self.external = crc, csize, usize, offset, external


class ZipWriter:
    """A minimal zip writer for packages: deflated or stored parts, raw copies of a source
    archive's compressed parts, Zip64 only where needed."""

    def __init__(self, target: str | os.PathLike | BinaryIO):
        if isinstance(target, (str, os.PathLike)):
            self._f: BinaryIO = open(target, "wb")
            self._own = True
        else:
            self._f = target
            self._own = False
        self._pos = 0
        self._entries: list[_Entry] = []
        self._names: set[str] = set()

    def _out(self, data: bytes) -> None:
        self._f.write(data)
        self._pos += len(data)

    def _header(self, e: _Entry) -> None:
        name = e.name.encode("utf-8")
        zip64 = e.csize >= _MAX32 or e.usize >= _MAX32
        extra = struct.pack("<HHQQ", 1, 16, e.usize, e.csize) if zip64 else b""
        version = 45 if zip64 else 20
        self._out(_LOCAL.pack(0x04034B50, version, e.flags, e.method, e.time, e.date, e.crc,
                              _MAX32 if zip64 else e.csize, _MAX32 if zip64 else e.usize,
                              len(name), len(extra)))
        self._out(name)
        self._out(extra)

    def _new_entry(self, name: str, flags: int, method: int, dos, crc, csize, usize, external=0) -> _Entry:
        if name in self._names:
            raise ValueError(f"duplicate part {name}")
        self._names.add(name)
        if any(ord(ch) > 127 for ch in name):
            flags |= 0x800
        e = _Entry(name, flags, method, dos, crc, csize, usize, self._pos, external)
        self._entries.append(e)
        return e

    def write(self, name: str, content: Content, *, level: int = 6,
              date_time: tuple[int, int, int, int, int, int] | None = None,
              compress: bool = True) -> None:
        """Add part ``name`` (bytes, text, or an iterable of pieces), deflated at ``level``
        (or stored with ``compress=False``)."""
        pieces = _pieces(content)
        crc, usize = 0, 0
        if compress:
            co = zlib.compressobj(level, zlib.DEFLATED, -15)
            out = []
            for p in pieces:
                crc = zlib.crc32(p, crc)
                usize += len(p)
                c = co.compress(p)
                if c:
                    out.append(c)
            out.append(co.flush())
            data = b"".join(out)
            method = zipfile.ZIP_DEFLATED
        else:
            data = b"".join(pieces)
            crc, usize = zlib.crc32(data), len(data)
            method = zipfile.ZIP_STORED
        dos = _dos(date_time or time.localtime(time.time())[:6])
        e = self._new_entry(name, 0, method, dos, crc, len(data), usize)
        self._header(e)
        self._out(data)

    def copy(self, package: Package, info: zipfile.ZipInfo) -> None:
        """Copy part ``info`` of ``package`` as it is stored: the compressed bytes, CRC and
        sizes unchanged."""
        f = package._file
        f.seek(info.header_offset)
        head = f.read(30)
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"part {info.filename}: bad local header")
        n, x = int.from_bytes(head[26:28], "little"), int.from_bytes(head[28:30], "little")
        e = self._new_entry(info.filename, info.flag_bits & ~0x808, info.compress_type,
                            _dos(info.date_time), info.CRC, info.compress_size, info.file_size,
                            info.external_attr)
        self._header(e)
        f.seek(info.header_offset + 30 + n + x)
        left = info.compress_size
        while left:
            chunk = f.read(min(left, _COPY_CHUNK))
            if not chunk:
                raise zipfile.BadZipFile(f"part {info.filename}: truncated")
            self._out(chunk)
            left -= len(chunk)

    def close(self) -> None:
        start = self._pos
        for e in self._entries:
            name = e.name.encode("utf-8")
            fields = []
            usize, csize, offset = e.usize, e.csize, e.offset
            if usize >= _MAX32:
                fields.append(usize)
                usize = _MAX32
            if csize >= _MAX32:
                fields.append(csize)
                csize = _MAX32
            if offset >= _MAX32:
                fields.append(offset)
                offset = _MAX32
            extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
            version = 45 if fields else 20
            self._out(_CENTRAL.pack(0x02014B50, version, version, e.flags, e.method, e.time, e.date,
                                    e.crc, csize, usize, len(name), len(extra), 0, 0, 0,
                                    e.external, offset))
            self._out(name)
            self._out(extra)
        size = self._pos - start
        count = len(self._entries)
        if count >= _MAX16 or size >= _MAX32 or start >= _MAX32:
            eocd64 = self._pos
            self._out(_EOCD64.pack(0x06064B50, 44, 45, 45, 0, 0, count, count, size, start))
            self._out(_LOCATOR.pack(0x07064B50, 0, eocd64, 1))
        self._out(_EOCD.pack(0x06054B50, 0, 0, min(count, _MAX16), min(count, _MAX16),
                             min(size, _MAX32), min(start, _MAX32), 0))
        self._f.flush()
        if self._own:
            self._f.close()

    def abort(self) -> None:
        if self._own:
            self._f.close()


def _pieces(content: Content) -> Iterable[bytes]:
    if isinstance(content, bytes):
        return (content,)
    if isinstance(content, str):
        return (content.encode("utf-8"),)
    if isinstance(content, (bytearray, memoryview)):
        return (bytes(content),)
    return (p.encode("utf-8") if isinstance(p, str) else p for p in content)


def rewrite(source: Package | str | os.PathLike | bytes | BinaryIO,
            target: str | os.PathLike | BinaryIO,
            changes: Mapping[str, Content | None], *, level: int = 6,
            levels: Mapping[str, int] | None = None, compress_stored: bool = False,
            compress: bool = True, limits: Limits = DEFAULT_LIMITS) -> None:
    """Write ``source`` to ``target`` once, with ``changes`` applied.

    ``changes`` maps a part name to its new content (bytes, text, or an iterable of pieces,
    written as they come), or to None to drop the part; a name the source lacks is added
    after the source's parts, in the mapping's order. Every other part is copied as stored,
    byte for byte. New content is deflated at ``levels[name]`` or ``level``. With
    ``compress_stored``, a part the source holds uncompressed (a package written with
    ``ZIP_STORED`` as an intermediate) is compressed here, once. With ``compress=False`` new
    content is stored uncompressed (an intermediate package that only openpyxl reads)."""
    own = not isinstance(source, Package)
    pkg = Package(source, limits=limits) if own else source
    try:
        w = ZipWriter(target)
        try:
            levels = levels or {}
            for info in pkg.zip.infolist():
                name = info.filename
                if name in changes:
                    new = changes[name]
                    if new is not None:
                        w.write(name, new, level=levels.get(name, level), date_time=info.date_time,
                                compress=compress)
                elif compress_stored and info.compress_type == zipfile.ZIP_STORED:
                    w.write(name, pkg.read(name), level=levels.get(name, level), date_time=info.date_time)
                else:
                    w.copy(pkg, info)
            for name, new in changes.items():
                if new is not None and name not in pkg:
                    w.write(name, new, level=levels.get(name, level), compress=compress)
        except BaseException:
            w.abort()
            raise
        w.close()
    finally:
        if own:
            pkg.close()


def write_package(target: str | os.PathLike | BinaryIO, parts: Iterable[tuple[str, Content]], *,
                  date_time: tuple[int, int, int, int, int, int] | None = None, level: int = 6) -> None:
    """A new package of ``parts`` (name, content), in that order, each deflated once."""
    w = ZipWriter(target)
    try:
        for name, content in parts:
            w.write(name, content, level=level, date_time=date_time)
    except BaseException:
        w.abort()
        raise
    w.close()
