"""Check messages in the workbook's language: Chinese in a Chinese workbook, English in an
English one; the item column stays language-neutral."""
from __future__ import annotations

import re
import string

import pytest

from conftest import run_cli
from xl_addin.core.checks import MESSAGES
from xl_addin.core.engine import compute
from xl_addin.workbook.i18n import ZH_MESSAGES, check_message
from xl_addin.workbook.master import read_table, sample_inputs
from xl_addin.workbook.pipeline import output_rows

CJK = re.compile(r"[\u4e00-\u9fff]")


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.fixture(scope="module")
def sample_checks():
    return compute(sample_inputs()).check_rows


def test_every_code_has_a_chinese_template_with_the_same_params():
    assert set(ZH_MESSAGES) == set(MESSAGES)
    for code, zh in ZH_MESSAGES.items():
        assert fields(zh) <= fields(MESSAGES[code]), code     # never a param the check lacks
        assert CJK.search(zh), code


def test_every_code_formats_in_chinese_with_dummy_params():
    for code, en in MESSAGES.items():
        params = {name: f"<{name}>" for name in fields(en)}
        text = check_message(code, params, "zh")
        assert CJK.search(text) and text != en.format(**params), code
        assert check_message(code, params, "en") == en.format(**params)


def test_the_2026_sample_checks_in_chinese_and_english(sample_checks):
    assert len(sample_checks) > 50
    for c in sample_checks:
        zh = check_message(c.code, c.params, "zh")
        assert CJK.search(zh) and "{" not in zh, c.code
        assert check_message(c.code, c.params, "en") == c.message
    by_item = {c.item: check_message(c.code, c.params, "zh") for c in sample_checks}
    assert by_item["Q1 share"] == ("Q1 占比：45,000,000 / 280,000,000 = 16.07%，计划写明 16%；"
                                   "相差 0.07 个百分点，在计划精度的一半（0.5 个百分点）以内")
    assert by_item["OTHER share"].endswith("超过计划精度的一半（0.5 个百分点），但在一个单位（1 个百分点）以内")
    assert by_item["growth vs prior year"].startswith("同比增长：280,000,000 / 224,000,000 - 1 = 25.00%")
    assert by_item["team at year end"] == ("团队表中 2026-12-31 在职 27 人，计划 28 人（少 1 人）；"
                                           "此前离职：R012；新招未达计划的区域：无")
    assert by_item["base group weight"] == "基础类指标权重 40 + 15 + 5 = 60，等于该类权重"
    assert by_item["sum of amounts"] == "各产品金额合计 280,000,000，等于年度目标"


def test_english_words_in_params_are_translated():
    msg = check_message("split_sum.fail", {"kind": "region", "total": "1", "target": "2",
                                            "diff": "1", "direction": "below"}, "zh")
    assert msg == "各区域金额合计 1，比年度目标 2 少 1"
    msg = check_message("ratio.no_base", {"label": "growth", "stated": "25%",
                                           "base_name": "the prior year"}, "zh")
    assert msg == "同比增长：计划写明 25%，但上年销售额为零，无法核对"
    # a share label that happens to read "growth" is a code, kept as it is
    assert check_message("share.ok", {"label": "growth", "formula": "1 / 2", "computed": "50%",
                                      "stated": "50%", "diff": "0", "half": "0.5", "unit": "1"},
                         "zh").startswith("growth 占比：")


def test_unknown_code_or_missing_param_falls_back():
    assert check_message("no.such_code", {}, "zh") == "no.such_code"
    assert check_message("kpi_total.ok", {}, "zh") == "kpi_total.ok"        # nothing to fill
    assert check_message("kpi_total.ok", {"computed": "100"}, "fr") == MESSAGES["kpi_total.ok"].format(computed="100")


def test_output_rows_localise_the_message_only(sample_checks):
    results = compute(sample_inputs())
    en, zh = output_rows(results)["tblChecks"], output_rows(results, "zh")["tblChecks"]
    assert [r[:5] for r in en] == [r[:5] for r in zh]                  # area..status unchanged
    assert [r[5] for r in en] == [c.message for c in sample_checks]    # English by default
    assert all(CJK.search(r[5]) for r in zh)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_new_workbook_writes_messages_in_its_language(tmp_path, lang, sample_checks):
    path = tmp_path / f"plan_{lang}.xlsx"
    assert run_cli("new", "--sample", "--lang", lang, "-o", path).exit_code == 0
    rows = read_table(path, "tblChecks")
    assert [r["item"] for r in rows] == [c.item for c in sample_checks]
    if lang == "zh":
        assert [r["message"] for r in rows] == [check_message(c.code, c.params, "zh") for c in sample_checks]
    else:
        assert [r["message"] for r in rows] == [c.message for c in sample_checks]
    # recalc keeps the language
    assert run_cli("recalc", path).exit_code == 0
    assert [r["message"] for r in read_table(path, "tblChecks")] == [r["message"] for r in rows]
