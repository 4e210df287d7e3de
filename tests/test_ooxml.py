"""The package layer (xl_addin.ooxml): cell XML, ranges, the rewrite primitive, limits.

Cell XML is checked by reading it back with openpyxl (an independent reader); the rewrite
primitive by comparing each part's stored (compressed) bytes with the source's; the limits
with crafted packages."""
from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_addin import ooxml
from xl_addin.ooxml import cells, sheet as sheetxml
from xl_addin.ooxml.package import Limits, Package, PackageError, PackageLimitError


def _book(tmp_path: Path) -> Path:
    """A small workbook saved by openpyxl: one sheet with a table, one plain sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["name", "amount"])
    ws.append(["a", 1])
    from openpyxl.worksheet.table import Table

    ws.add_table(Table(displayName="tblData", ref="A1:B2"))
    wb.create_sheet("Other")["A1"] = "x"
    path = tmp_path / "book.xlsx"
    wb.save(path)
    return path


def _stored(path: Path) -> dict[str, tuple[int, int, bytes]]:
    """Each part's (method, CRC, compressed bytes) as stored in the zip."""
    out = {}
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        for info in z.infolist():
            f.seek(info.header_offset)
            head = f.read(30)
            n, x = struct.unpack("<HH", head[26:30])
            f.seek(info.header_offset + 30 + n + x)
            out[info.filename] = (info.compress_type, info.CRC, f.read(info.compress_size))
    return out


def _with_rows(src: Path, dst: Path, rows_xml: str, dim: str = "A1:D9") -> None:
    """``src`` with its Data sheet's rows replaced by ``rows_xml``."""
    with Package(src) as p:
        part = p.sheet_part("Data")
        xml = p.read(part)
        start, end = sheetxml.rows_span(xml, 1)
        xml = xml[:start] + rows_xml.encode() + xml[end:]
        xml = sheetxml.set_dimension(xml, sheetxml.parse_range(dim))
        ooxml.rewrite(p, dst, {part: xml})


# ----------------------------------------------------------------------------- cells

def test_cells_read_back_by_openpyxl(tmp_path):
    src = _book(tmp_path)
    row = "".join([
        cells.text("A1", 0, "  lead & <trail>  "),
        cells.number("B1", 0, Decimal("1234.5")),
        cells.boolean("C1", 0, True),
        cells.error("D1", 0, "#DIV/0!"),
    ])
    row2 = "".join([
        cells.date("A2", 0, dt.date(2026, 3, 31)),
        cells.formula("B2", 0, "=B1*2", Decimal("2469")),
        cells.formula("C2", 0, 'IF(1,"ok","no")', "ok"),
        cells.blank("D2", 0),
    ])
    out = tmp_path / "out.xlsx"
    _with_rows(src, out, f'<row r="1">{row}</row><row r="2">{row2}</row>', "A1:D2")
    ws = openpyxl.load_workbook(out)["Data"]
    assert ws["A1"].value == "  lead & <trail>  "
    assert ws["B1"].value == 1234.5 and ws["C1"].value is True and ws["D1"].value == "#DIV/0!"
    assert ws["D1"].data_type == "e"
    # 31 March 2026 is serial 46112 (days since 30 Dec 1899, as Excel counts)
    assert ws["A2"].value == 46112
    assert ws["B2"].value == "=B1*2"
    values = openpyxl.load_workbook(out, data_only=True)["Data"]
    assert values["B2"].value == 2469 and values["C2"].value == "ok"


def test_date_serials_match_openpyxl():
    from openpyxl.utils.datetime import to_excel

    for d in (dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1), dt.date(2026, 12, 4),
              dt.datetime(2026, 12, 4, 18, 30, 15)):
        text = cells.date("A1", None, d)
        assert text == f'<c r="A1" t="n"><v>{"%.16g" % to_excel(d)}</v></c>'


def test_text_limits():
    assert cells.text("A1", 3, "") == '<c r="A1" s="3" t="inlineStr"/>'
    with pytest.raises(cells.CellValueError, match="A1.*32,767"):
        cells.text("A1", 0, "x" * 32768)
    assert cells.text("A1", 0, "x" * 32768, truncate=True).count("x") == 32767
    with pytest.raises(cells.CellValueError, match="control character"):
        cells.text("A1", 0, "bad\x01")
    with pytest.raises(cells.CellValueError):
        cells.number("A1", 0, float("nan"))


_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"
                              + "".join(map(chr, range(32)))), max_size=40)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(_TEXT, st.integers(-10**15, 10**15), st.none(),
                          st.floats(allow_nan=False, allow_infinity=False)),
                min_size=1, max_size=6))
def test_column_round_trips_through_openpyxl(tmp_path_factory, values):
    tmp = tmp_path_factory.mktemp("col")
    src = _book(tmp)
    rns = [str(i + 1) for i in range(len(values))]
    col = cells.column("A", 0, rns, values)
    rows = "".join(f'<row r="{rn}">{c}</row>' for rn, c in zip(rns, col))
    out = tmp / "out.xlsx"
    _with_rows(src, out, rows, f"A1:A{len(values)}")
    ws = openpyxl.load_workbook(out)["Data"]
    got = [ws.cell(i + 1, 1).value for i in range(len(values))]
    # the oracle: the same values written and read back by openpyxl alone
    ref = openpyxl.Workbook()
    for i, v in enumerate(values):
        ref.active.cell(i + 1, 1).value = v
    ref.save(tmp / "ref.xlsx")
    back = openpyxl.load_workbook(tmp / "ref.xlsx").active
    assert got == [back.cell(i + 1, 1).value for i in range(len(values))]


# ----------------------------------------------------------------------------- ranges, tables

@pytest.mark.parametrize("ref", ["A1:ZZZ", "B5:A1", "A1:XFE2", "A0:B2", "A1:B1048577", "", "1:2"])
def test_bad_ranges(ref):
    with pytest.raises(ooxml.RangeError):
        ooxml.parse_range(ref)


def test_ranges():
    assert ooxml.parse_range("A1:XFD1048576") == (1, 1, 16384, 1048576)
    assert ooxml.parse_range("$B$2") == (2, 2, 2, 2)
    assert ooxml.range_ref((27, 3, 28, 9)) == "AA3:AB9"


def test_table_ref_and_autofilter(tmp_path):
    src = _book(tmp_path)
    with Package(src) as p:
        place = p.table("TBLDATA")          # Excel table names ignore case
        assert (place.sheet, place.ref) == ("Data", "A1:B2")
        xml = sheetxml.set_table_ref(p.read(place.part), "A1:B40")
        bare = sheetxml.set_table_ref(
            b'<table xmlns="x" id="1" name="t" displayName="t" ref="A1:B2"><tableColumns/></table>', "A1:B3")
        ooxml.rewrite(p, tmp_path / "out.xlsx", {place.part: xml})
    assert b'<autoFilter ref="A1:B3"/>' in bare
    t = openpyxl.load_workbook(tmp_path / "out.xlsx")["Data"].tables["tblData"]
    assert t.ref == "A1:B40" and t.autoFilter.ref == "A1:B40"


# ----------------------------------------------------------------------------- rewrite

def test_rewrite_copies_unchanged_parts_byte_for_byte(tmp_path):
    src = _book(tmp_path)
    out = tmp_path / "out.xlsx"
    with Package(src) as p:
        part = p.sheet_part("Other")
        new = p.read(part).replace(b"<v>", b"<v>")   # same content, written again
        ooxml.rewrite(p, out, {part: new, "docProps/app.xml": None, "custom/extra.xml": b"<x/>"})
    before, after = _stored(src), _stored(out)
    assert set(after) == set(before) - {"docProps/app.xml"} | {"custom/extra.xml"}
    for name, stored in before.items():
        if name not in (part, "docProps/app.xml"):
            assert after[name] == stored, name
    assert zipfile.ZipFile(out).read("custom/extra.xml") == b"<x/>"
    assert zipfile.ZipFile(out).testzip() is None
    assert [n for n in zipfile.ZipFile(out).namelist()][-1] == "custom/extra.xml"
    assert openpyxl.load_workbook(out)["Other"]["A1"].value == "x"


def test_rewrite_to_a_file_object_and_compress_stored(tmp_path):
    src = _book(tmp_path)
    stored = tmp_path / "stored.zip"
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as o:
        for info in z.infolist():
            o.writestr(info.filename, z.read(info.filename))
    buf = io.BytesIO()
    ooxml.rewrite(stored, buf, {}, compress_stored=True)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
        assert z.testzip() is None
        assert z.read("xl/workbook.xml") == zipfile.ZipFile(src).read("xl/workbook.xml")


def test_write_package_without_needless_zip64(tmp_path):
    out = tmp_path / "p.zip"
    ooxml.write_package(out, [("a.xml", b"<a/>"), ("b/名.xml", "<b/>")])
    data = out.read_bytes()
    assert b"PK\x06\x06" not in data and b"PK\x06\x07" not in data
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == ["a.xml", "b/名.xml"] and z.read("b/名.xml") == b"<b/>"


# ----------------------------------------------------------------------------- limits

def _zip_with(path: Path, name: str, pieces) -> None:
    """A copy of a minimal package plus part ``name`` streamed from ``pieces``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            for p in pieces:
                f.write(p)


def test_declared_ratio_and_size_refused_before_reading(tmp_path):
    bomb = tmp_path / "bomb.zip"
    _zip_with(bomb, "xl/sharedStrings.xml", [b"A" * (1 << 20)] * 8)      # 8 MB of "A"
    with pytest.raises(PackageLimitError, match=r"xl/sharedStrings.xml.*compressed"):
        Package(bomb)
    with pytest.raises(PackageLimitError, match=r"xl/sharedStrings.xml inflates to 8,388,608"):
        Package(bomb, limits=Limits(max_part_bytes=4 << 20, max_ratio=10**6))
    with pytest.raises(PackageLimitError, match="zip entries"):
        Package(bomb, limits=Limits(max_entries=1))


def test_a_part_that_lies_about_its_size_is_cut_short(tmp_path):
    """Declared 100 bytes, inflates to 64 MB: read() stops at 101 bytes."""
    big = b"B" * (64 << 20)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp = co.compress(big) + co.flush()
    path = tmp_path / "liar.zip"
    name = b"xl/big.xml"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 33, 0, len(comp), 100, len(name), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 33, zlib.crc32(big[:100]),
                          len(comp), 100, len(name), 0, 0, 0, 0, 0, 0)
    body = local + name + comp
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(name), len(body), 0)
    path.write_bytes(body + central + name + eocd)
    with Package(path) as p, pytest.raises(PackageLimitError, match="xl/big.xml inflates to more than 100"):
        p.read("xl/big.xml")
    # and the check made when a workbook is opened inflates every part that way
    with pytest.raises(PackageLimitError, match="xl/big.xml"):
        ooxml.check_package(path)


def test_shared_string_limits(tmp_path):
    path = tmp_path / "sst.zip"
    items = b"".join([b"<si><t>ok</t></si>"] * 5 + [b"<si><t>" + b"x" * 40000 + b"</t></si>"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                   '</Relationships>')
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org'
                   '/package/2006/relationships"><Relationship Id="r2" Type="http://schemas.openxmlformats'
                   '.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                   '</Relationships>')
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/sharedStrings.xml", b"<sst>" + items + b"</sst>")
    with Package(path) as p, pytest.raises(PackageLimitError, match="shared string 5 .*40,000 characters"):
        p.shared_strings()
    with Package(path, limits=Limits(max_shared_strings=3)) as p, \
            pytest.raises(PackageLimitError, match="6 shared strings"):
        p.shared_strings()
    with Package(path, limits=Limits(max_text=10**6)) as p:
        assert p.shared_strings()[:2] == [b"<t>ok</t>", b"<t>ok</t>"]


def test_not_a_zip(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"hello")
    with pytest.raises(PackageError, match="not a valid zip"):
        Package(path)
