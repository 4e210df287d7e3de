"""One error hierarchy, turned into each front end's own message: the CLI's stderr line and
exit code, a ribbon macro's alert, a UDF's cell text."""
from __future__ import annotations

import pytest

from conftest import run_cli
from tests.support.xlwings_remote import run_macro
from tests.support.xlwings_udfs import load_udf_module, udf_cell
from xl_addin.errors import EXIT_BAD_INPUT, EXIT_CRASH, InputError, WorkbookError, XlAddinError


def test_every_error_of_ours_derives_from_one_base_with_exit_2():
    from xl_addin.core.statement import StatementError
    from xl_addin.excel.addin import AddinError
    from xl_addin.excel.udfs import UdfArgumentError
    from xl_addin.mail.email import EmailError
    from xl_addin.reports.regional import RegionalError
    from xl_addin.storage import LockBusy, StorageError
    from xl_addin.workbook.xlsx import WorkbookError as FromXlsx

    assert FromXlsx is WorkbookError
    for cls in (InputError, WorkbookError, StatementError, AddinError, UdfArgumentError,
                EmailError, RegionalError, LockBusy, StorageError):
        assert issubclass(cls, XlAddinError), cls
        assert cls.exit_code == EXIT_BAD_INPUT == 2
    assert issubclass(InputError, ValueError) and issubclass(StatementError, ValueError)


def test_a_crash_of_our_code_exits_3_and_asks_to_report(sample_master, monkeypatch):
    from xl_addin.workbook import master

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(master, "check_master", broken)
    r = run_cli("check", sample_master)
    assert r.exit_code == EXIT_CRASH == 3
    first, *rest = r.stderr.splitlines()
    # the sample master is Chinese, so is the line
    assert first == ("错误：xl-addin 内部错误（KeyError: 'boom'）；这是程序缺陷，请把下面几行报告给 "
                     "xl_addin 的维护者")
    assert rest[0] == "Traceback (most recent call last):" and rest[-1] == "KeyError: 'boom'"
    r = run_cli("check", sample_master, "--lang", "en")
    assert r.stderr.splitlines()[0] == (
        "Error: internal error in xl-addin (KeyError: 'boom'); this is a bug, "
        "please report it to the xl_addin maintainers with the lines below")


def test_an_os_error_no_layer_caught_is_one_line_exit_2(sample_master, monkeypatch):
    from xl_addin.workbook import master

    def unreadable(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/srv/plan.xlsx")

    monkeypatch.setattr(master, "check_master", unreadable)
    r = run_cli("check", sample_master)
    # the reason is the operating system's own text; the hint is ours, in the workbook's language
    assert (r.exit_code, r.stderr) == (2, "错误：/srv/plan.xlsx: Permission denied；请检查该文件及其"
                                          "文件夹的权限\n")
    r = run_cli("check", sample_master, "--lang", "en")
    assert (r.exit_code, r.stderr) == (2, "Error: /srv/plan.xlsx: Permission denied; check "
                                          "the permissions of the file and its folder\n")


def test_a_statement_error_is_exit_2_with_its_message(sample_master):
    r = run_cli("explain", sample_master, "--rep", "R999", "--quarter", "Q5")
    assert (r.exit_code, r.stderr) == (2, "错误：没有季度 Q5\n  - 可用：Q1, Q2, Q3, Q4\n")
    r = run_cli("explain", sample_master, "--rep", "R999")
    assert r.exit_code == 2
    assert r.stderr.startswith("错误：团队表中没有工号 R999\n  - 可用：R001, R002, R003")
    # a rep without a quota: the statement's own error, one headline in the workbook's language
    r = run_cli("explain", sample_master, "--rep", "R001")
    assert r.exit_code == 2 and r.stderr.startswith("错误：R001 (")
    assert "Traceback" not in r.stderr


def test_macro_shows_an_unwritable_folder_as_one_alert(sample_master, tmp_path):
    from xl_addin.excel import macros

    not_a_folder = tmp_path / "regional"
    not_a_folder.write_text("a file where the folder should be")
    got = []
    _, alerts = run_macro(sample_master, lambda b: got.append(macros.regional(b, not_a_folder)),
                          tmp_path / "out.xlsx")
    assert got == [None]
    assert [a.prompt for a in alerts] == [f"错误 / Error: {not_a_folder}: exists and is not a folder"]


def test_macro_crash_alerts_asking_to_report_and_reraises(sample_master, tmp_path, monkeypatch):
    from xl_addin.excel import macros
    from xl_addin.workbook import pipeline

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(pipeline, "recalc", broken)
    seen = []

    def run(book):
        try:
            macros.recalc(book)
        except KeyError as e:
            seen.append(e)

    _, alerts = run_macro(sample_master, run, tmp_path / "out.xlsx")
    assert len(seen) == 1
    assert [a.prompt for a in alerts] == [
        "内部错误，请报告 / Internal error in xl_addin, please report it: KeyError: 'boom'"]


def test_udf_shows_our_errors_and_crashes_in_the_cell(monkeypatch):
    udfs = load_udf_module("xl_addin.excel.udfs")
    assert udf_cell(udfs, "XL_SPLIT", 100, [[0], [0]]).values == [["#XL! all weights are zero"]]

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(udfs._splits, "split_exact", broken)
    assert udf_cell(udfs, "XL_SPLIT", 100, [[1], [1]]).values == [
        ["#XL! internal error, please report it: KeyError: 'boom'"]]
