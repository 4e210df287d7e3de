"""The xl-addin command line: new, check, recalc, export, import, and bad input."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from conftest import run_cli
from xl_addin.core.engine import compute
from xl_addin.workbook import schema
from xl_addin.workbook.master import sample_inputs
from xl_addin.workbook.pipeline import output_rows
from xl_addin.workbook.parse import map_columns
from xl_addin.errors import Problems
from xl_addin.workbook.xlsx import raw_tables


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_rows(path: Path, table: str) -> list[dict[str, str]]:
    r = run_cli("export", path, "--table", table)
    assert r.exit_code == 0, r.output
    return list(csv.DictReader(io.StringIO(r.output)))


def set_cell(path: Path, table: str, row: int, key: str, value) -> str:
    """Change one cell of a table (data row 1-based, column by key); return its address."""
    wb = openpyxl.load_workbook(path)
    raw = raw_tables(wb)[table]
    map_columns(raw, schema.TABLES[table], Problems())
    addr = raw.cell(row, key)
    wb[raw.sheet][addr] = value
    wb.save(path)
    return addr


# ----------------------------------------------------------------------------- help and contract

@pytest.mark.parametrize("cmd", ["new", "check", "recalc", "export", "import"])
def test_every_command_has_help(cmd):
    r = run_cli(cmd, "--help")
    assert r.exit_code == 0 and "Usage" in r.output and len(r.output) > 200


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_new_workbook_has_every_contract_table_in_contract_order(tmp_path, lang):
    path = tmp_path / f"plan_{lang}.xlsx"
    assert run_cli("new", "--lang", lang, "-o", path).exit_code == 0
    for name, spec in schema.TABLES.items():
        export_rows(path, name)   # every table exports
        r = run_cli("export", path, "--table", name)
        assert next(csv.reader(io.StringIO(r.output))) == list(spec.keys)
    # without --sample: the plan, but an empty team and no actuals
    assert export_rows(path, "tblTeam") == []
    assert export_rows(path, "tblActuals") == []
    q = {r["quarter"]: r for r in export_rows(path, "tblQuarterSplit")}
    # the seed: Q1 4500万 (16%), Q2 7000万 (25%), Q3 7500万 (27%), Q4 9000万 (32%)
    assert [(k, q[k]["amount"], q[k]["stated_share"]) for k in ("Q1", "Q2", "Q3", "Q4")] == [
        ("Q1", "45000000", "0.16"), ("Q2", "70000000", "0.25"), ("Q3", "75000000", "0.27"), ("Q4", "90000000", "0.32")]


def test_check_on_sample_prints_every_check_and_passes(sample_master):
    before = sha(sample_master)
    r = run_cli("check", sample_master)
    assert r.exit_code == 0, r.output
    # the two shares the plan rounded to make 100%: OTHER 30/280 = 10.71% stated 10%, A 150/280 = 53.57% stated 53%
    warn_lines = [l for l in r.output.splitlines() if l.startswith("注意")]   # WARN, in Chinese
    assert any("OTHER 占比" in l for l in warn_lines) and any("A 占比" in l for l in warn_lines)
    assert sha(sample_master) == before  # check never writes


def test_new_recalc_export_equals_the_core(sample_master):
    r = run_cli("recalc", sample_master)
    assert r.exit_code == 0, r.output
    results = compute(sample_inputs())
    expected = results.tables()
    # a Chinese workbook carries the checks' messages in Chinese
    zh_messages = [r[schema.TABLES["tblChecks"].keys.index("message")]
                   for r in output_rows(results, "zh")["tblChecks"]]
    expected["tblChecks"] = expected["tblChecks"].assign(message=zh_messages)
    for name, df in expected.items():
        got = export_rows(sample_master, name)
        assert len(got) == len(df), name
        for g, (_, e) in zip(got, df.iterrows()):
            for key in schema.TABLES[name].keys:
                ev, gv = e[key], g[key]
                if isinstance(ev, (Decimal, int)) and not isinstance(ev, bool):
                    assert Decimal(gv) == Decimal(ev), (name, key, gv, ev)
                elif isinstance(ev, float):
                    if ev != ev:
                        assert gv == ""
                    else:
                        assert abs(float(gv) - ev) < 1e-9, (name, key, gv, ev)
                elif ev is None:
                    assert gv == ""
                elif isinstance(ev, bool):
                    assert gv == ("TRUE" if ev else "FALSE")
                else:
                    assert gv == str(ev if not hasattr(ev, "isoformat") else ev.isoformat()), (name, key)


def test_recalc_twice_changes_only_the_run_log(sample_master):
    assert run_cli("recalc", sample_master).exit_code == 0
    first = {n: export_rows(sample_master, n) for n in schema.OUTPUT_TABLES}
    log1 = export_rows(sample_master, "tblRunLog")
    assert run_cli("recalc", sample_master).exit_code == 0
    second = {n: export_rows(sample_master, n) for n in schema.OUTPUT_TABLES}
    log2 = export_rows(sample_master, "tblRunLog")
    assert first == second
    assert len(log2) == len(log1) + 1
    assert log2[-1]["action"] == "recalc" and log2[-1]["input_sha256"] == log1[-1]["input_sha256"]
    assert len(log2[-1]["input_sha256"]) == 64
    assert (sample_master.parent / (sample_master.name + ".bak")).exists()


def test_recalc_preserves_the_users_own_work(sample_master):
    wb = openpyxl.load_workbook(sample_master)
    ws = wb.create_sheet("我的分析")
    ws["A1"] = "my note"
    ws["B2"] = "=1+2"
    plan = wb[raw_tables(wb)["tblPlan"].sheet]
    plan["H1"] = "keep me"
    from openpyxl.comments import Comment
    plan["H1"].comment = Comment("director's comment", "director")
    wb.save(sample_master)
    assert run_cli("recalc", sample_master).exit_code == 0
    wb = openpyxl.load_workbook(sample_master)
    assert wb["我的分析"]["A1"].value == "my note" and wb["我的分析"]["B2"].value == "=1+2"
    plan = wb[raw_tables(wb)["tblPlan"].sheet]
    assert plan["H1"].value == "keep me" and plan["H1"].comment.text == "director's comment"


def test_export_json(sample_master):
    r = run_cli("export", sample_master, "--table", "tblRegionSplit", "--format", "json")
    data = json.loads(r.output)
    # 华东 1.2亿 (43%), 华南 8000万 (29%), 华北 5000万 (18%), 其他 3000万 (10%)
    assert [(d["region"], d["amount"], d["stated_share"]) for d in data] == [
        ("EAST", 120000000, 0.43), ("SOUTH", 80000000, 0.29), ("NORTH", 50000000, 0.18), ("OTHER", 30000000, 0.10)]


def test_import_replaces_rows_and_keeps_text_as_text(sample_master, tmp_path):
    src = tmp_path / "regions.csv"
    src.write_text("region,name,manager,email\nEAST,华东,=HYPERLINK(\"x\"),east@example.com\n"
                   "SOUTH,华南,+86 138,south@example.com\nNORTH,华北,-5,north@example.com\n"
                   "OTHER,其他,@boss,other@example.com\nHQ,总部,,\n", encoding="utf-8")
    r = run_cli("import", sample_master, "--table", "tblRegions", src)
    assert r.exit_code == 0, r.output
    r = run_cli("export", sample_master, "--table", "tblRegions", "--raw")
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert [r["manager"] for r in rows] == ['=HYPERLINK("x")', "+86 138", "-5", "@boss", ""]
    wb = openpyxl.load_workbook(sample_master)
    raw = raw_tables(wb)["tblRegions"]
    ws = wb[raw.sheet]
    cells = [c for row in ws.iter_rows() for c in row if c.value == '=HYPERLINK("x")']
    assert cells and all(c.data_type == "s" for c in cells)


def test_import_bad_value_names_csv_row_and_column_and_leaves_file(sample_master, tmp_path):
    src = tmp_path / "team.csv"
    src.write_text("rep_id,name,region,role,hire_date,end_date,quota_weight,base_bonus,mentor_id\n"
                   "R900,张三,EAST,sales,2026-01-01,,heavy,10000,\n", encoding="utf-8")
    before = sha(sample_master)
    r = run_cli("import", sample_master, "--table", "tblTeam", src)
    assert r.exit_code == 2
    assert "quota_weight" in r.output and "row 1" in r.output and "heavy" in r.output
    assert sha(sample_master) == before


# ----------------------------------------------------------------------------- bad input

BAD_CELLS = [
    # (table, data row, column, value, words the message must contain)
    ("tblActuals", 1, "sales", "一百万", ["tblActuals", "sales", "一百万", "number"]),
    ("tblActuals", 2, "visits", None, ["tblActuals", "visits", "blank"]),
    ("tblActuals", 3, "rep_id", "R999", ["tblActuals", "rep_id", "R999", "unknown rep"]),
    ("tblTeam", 2, "region", "WEST", ["tblTeam", "region", "WEST", "unknown region"]),
    ("tblCubePrior", 1, "product", "Z", None),   # handled below (optional table)
    ("tblActuals", 4, "quarter", "Q5", ["tblActuals", "quarter", "Q5"]),
    ("tblKpiScheme", 1, "weight", 45, ["tblKpiScheme", "weight", "105"]),
    ("tblBudget", 2, "amount", -1200000, ["tblBudget", "amount", "negative"]),
    ("tblActuals", 5, "collections", -10, ["tblActuals", "collections", "negative"]),
]


@pytest.mark.parametrize("case", [c for c in BAD_CELLS if c[4]], ids=lambda c: f"{c[0]}.{c[2]}={c[3]}")
def test_bad_cell_is_reported_with_its_location_and_file_untouched(sample_master, case):
    table, row, key, value, words = case
    addr = set_cell(sample_master, table, row, key, value)
    before = sha(sample_master)
    for cmd in ("recalc", "check"):
        r = run_cli(cmd, sample_master)
        assert r.exit_code == 2, (cmd, r.output)
        assert "Traceback" not in r.output
        for w in words + [addr]:
            assert w in r.output, (w, r.output)
        assert "sheet" in r.output and "column" in r.output
    assert sha(sample_master) == before


def test_unknown_product_code_in_the_split_and_prior(sample_master):
    addr = set_cell(sample_master, "tblRegionSplit", 1, "region", "MARS")
    r = run_cli("recalc", sample_master)
    assert r.exit_code == 2 and "MARS" in r.output and addr in r.output


def test_duplicate_rep_quarter_rows(sample_master):
    wb = openpyxl.load_workbook(sample_master)
    raw = raw_tables(wb)["tblActuals"]
    map_columns(raw, schema.TABLES["tblActuals"], Problems())
    ws = wb[raw.sheet]
    rep = ws[raw.cell(1, "rep_id")].value
    q = ws[raw.cell(1, "quarter")].value
    ws[raw.cell(2, "rep_id")] = rep
    ws[raw.cell(2, "quarter")] = q
    wb.save(sample_master)
    before = sha(sample_master)
    r = run_cli("recalc", sample_master)
    assert r.exit_code == 2 and "duplicate" in r.output and rep in r.output
    assert sha(sample_master) == before


def test_missing_table_and_missing_column(sample_master, tmp_path):
    wb = openpyxl.load_workbook(sample_master)
    raw = raw_tables(wb)["tblKpiScheme"]
    del wb[raw.sheet].tables["tblKpiScheme"]
    raw2 = raw_tables(wb)["tblTeam"]
    map_columns(raw2, schema.TABLES["tblTeam"], Problems())
    header_cell = raw2.cell(1, "role").rstrip("0123456789") + str(raw2.origin[0])
    wb[raw2.sheet][header_cell] = "职务?"
    wb.save(sample_master)
    before = sha(sample_master)
    r = run_cli("recalc", sample_master)
    assert r.exit_code == 2
    assert "tblKpiScheme" in r.output and "missing" in r.output
    assert "tblTeam" in r.output and "role" in r.output
    assert sha(sample_master) == before


def test_not_an_xlsx(tmp_path):
    p = tmp_path / "notes.xlsx"
    p.write_text("just some text", encoding="utf-8")
    before = sha(p)
    r = run_cli("recalc", p)
    assert r.exit_code == 2 and "not an .xlsx" in r.output and "Traceback" not in r.output
    assert sha(p) == before


def test_password_protected_workbook(sample_master, tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile
    enc = tmp_path / "locked.xlsx"
    with open(sample_master, "rb") as f, open(enc, "wb") as out:
        office = OOXMLFile(f)
        office.encrypt("secret", out)
    before = sha(enc)
    r = run_cli("recalc", enc)
    assert r.exit_code == 2 and "password" in r.output
    assert sha(enc) == before


def test_workbook_open_in_excel_is_not_overwritten(sample_master):
    lock = sample_master.with_name("~$" + sample_master.name)
    lock.write_bytes(b"owner")
    before = sha(sample_master)
    r = run_cli("recalc", sample_master)
    assert r.exit_code == 2 and "open in Excel" in r.output
    assert sha(sample_master) == before


def test_input_digest_is_stable_from_new_to_recalc(sample_master):
    # new wrote the first log row from in-memory values; recalc reads the saved file
    assert run_cli("recalc", sample_master).exit_code == 0
    log = export_rows(sample_master, "tblRunLog")
    assert [r["action"] for r in log] == ["new", "recalc"]
    assert log[0]["input_sha256"] == log[1]["input_sha256"]


def test_unknown_product_code_in_the_cube_prior(sample_master, tmp_path):
    # import checks the workbook as it would be, so the bad prior never gets in
    src = tmp_path / "prior.csv"
    src.write_text("region,quarter,product,weight\nEAST,Q1,Z,1\n", encoding="utf-8")
    before = sha(sample_master)
    r = run_cli("import", sample_master, "--table", "tblCubePrior", src)
    assert r.exit_code == 2 and "tblCubePrior" in r.output and "'Z'" in r.output and "product" in r.output
    assert ("sheet 'prior.csv', table tblCubePrior, row 1, (EAST/Q1/Z), column product, cell C2: "
            "unknown product 'Z'") in r.output
    assert sha(sample_master) == before


def test_saved_workbook_keeps_readable_permissions(sample_master):
    import os, stat
    os.chmod(sample_master, 0o644)
    assert run_cli("recalc", sample_master).exit_code == 0
    assert stat.S_IMODE(os.stat(sample_master).st_mode) == 0o644
