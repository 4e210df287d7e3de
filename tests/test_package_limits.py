"""Hostile and damaged packages through the real CLI: a zip bomb, a cell text over Excel's
limit, corrupt table ranges, a deleted output table. Each must end with exit 2 and a message
naming the part, cell or table, in a child process that stays well under 1 GB, with the
file left exactly as it was."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from xl_addin import ooxml

SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
SST_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def cli(*args) -> tuple[int, str, int]:
    """Run ``xl-addin`` in a child process: (exit code, stdout + stderr, peak memory in MB)."""
    code = ("import resource, subprocess, sys\n"
            "p = subprocess.run([sys.executable, '-m', 'xl_addin.cli', *sys.argv[1:]], "
            "capture_output=True, text=True)\n"
            "sys.stdout.write(p.stdout + p.stderr)\n"
            "sys.stdout.write('\\nPEAK_KB=%d' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(p.returncode)\n")
    p = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                       text=True, timeout=300, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    out, _, peak = p.stdout.rpartition("\nPEAK_KB=")
    return p.returncode, out + p.stderr, int(peak) // 1024


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def with_parts(src: Path, dst: Path, changes: dict, streamed: dict | None = None) -> None:
    """``src`` with ``changes`` (part -> bytes) applied, and parts streamed from
    generators (``streamed``: part -> iterable of bytes) written chunk by chunk, never
    held in memory whole."""
    with ooxml.Package(src) as pkg:
        ooxml.rewrite(pkg, dst, changes)
    if streamed:
        with zipfile.ZipFile(dst, "a", zipfile.ZIP_DEFLATED) as z:
            for name, pieces in streamed.items():
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with z.open(info, "w") as f:
                    for piece in pieces:
                        f.write(piece)


def _with_sst_rel(pkg: ooxml.Package) -> dict:
    book = pkg.workbook_part()
    rels = ooxml.rels_part_name(book)
    xml = pkg.read(rels).replace(
        b"</Relationships>", f'<Relationship Id="rIdBomb" Type="{SST_REL}" Target="sharedStrings.xml"/>'
        "</Relationships>".encode())
    ct = pkg.read("[Content_Types].xml").replace(
        b"</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_CT}"/></Types>'.encode())
    return {rels: xml, "[Content_Types].xml": ct}


def test_shared_strings_bomb_is_refused_at_once(sample_master, tmp_path):
    """A ~1.6 MB file whose sharedStrings part inflates to 1.5 GB."""
    bomb = tmp_path / "bomb.xlsx"
    item = b"<si><t>" + b"A" * 30000 + b"</t></si>"
    n = 1_500_000_000 // len(item)              # 49,988 items of 30,009 bytes: 1.5 GB

    def pieces():
        yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        for _ in range(n // 1000):
            yield item * 1000
        yield b"</sst>"

    with ooxml.Package(sample_master) as pkg:
        changes = _with_sst_rel(pkg)
    with_parts(sample_master, bomb, changes, {"xl/sharedStrings.xml": pieces()})
    assert bomb.stat().st_size < 3_000_000
    before = digest(bomb)
    for command in (["check", bomb], ["recalc", bomb], ["export", bomb, "--table", "tblTeam"]):
        code, out, peak = cli(*command)
        assert code == 2, out
        assert "xl/sharedStrings.xml" in out and "Traceback" not in out
        assert peak < 400, f"{command[0]}: {peak} MB"
        assert digest(bomb) == before
    assert not list(tmp_path.glob("*.bak"))


def test_cell_text_over_the_limit(sample_master, tmp_path):
    """A team member's name of 40,000 characters (Excel holds 32,767 in a cell)."""
    bad = tmp_path / "long.xlsx"
    with ooxml.Package(sample_master) as pkg:
        place = pkg.table("tblTeam")
        c1, r1, _, _ = ooxml.parse_range(place.ref)
        xml = pkg.read(place.sheet_part)
        ref = f"{ooxml.sheet.column_letter(c1 + 1)}{r1 + 1}".encode()   # the first rep's name
        i = xml.index(b'<c r="' + ref + b'"')
        j = xml.index(b"</c>", i) + 4
        cell = b'<c r="' + ref + b'" t="inlineStr"><is><t>' + b"x" * 40000 + b"</t></is></c>"
        ooxml.rewrite(pkg, bad, {place.sheet_part: xml[:i] + cell + xml[j:]})
    before = digest(bad)
    code, out, _ = cli("recalc", bad)
    assert code == 2, out
    assert f"cell {ref.decode()}" in out and "40,000 characters" in out and "Traceback" not in out
    assert digest(bad) == before


@pytest.mark.parametrize("ref", ["A1:ZZZ", "K40:A4", "A4:K1048577", "A4:XFE9"])
def test_corrupt_table_range_names_the_table(sample_master, tmp_path, ref):
    bad = tmp_path / "range.xlsx"
    with ooxml.Package(sample_master) as pkg:
        place = pkg.table("tblActuals")
        xml = pkg.read(place.part).replace(f'ref="{place.ref}"'.encode(), f'ref="{ref}"'.encode())
        ooxml.rewrite(pkg, bad, {place.part: xml})
    before = digest(bad)
    from xl_addin.workbook.master import export_table

    csv = tmp_path / "team.csv"
    csv.write_text(export_table(sample_master, "tblTeam"), encoding="utf-8")
    for command in (["check", bad], ["recalc", bad], ["export", bad, "--table", "tblTeam"],
                    ["import", bad, "--table", "tblTeam", csv]):
        code, out, _ = cli(*command)
        assert code == 2, (command, out)
        assert "tblActuals" in out and ref in out and "Traceback" not in out, out
        assert digest(bad) == before


def test_deleted_output_table_is_refused(sample_master, tmp_path):
    wb = openpyxl.load_workbook(sample_master)
    for ws in wb.worksheets:
        if "tblKpi" in ws.tables:
            del ws.tables["tblKpi"]
    bad = tmp_path / "no_kpi.xlsx"
    wb.save(bad)
    before = digest(bad)
    code, out, _ = cli("recalc", bad)
    assert code == 2, out
    assert "tblKpi" in out and "missing" in out and "Traceback" not in out
    assert digest(bad) == before
