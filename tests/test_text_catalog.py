"""The one text catalog: both languages complete, compiled, and read back by code or label."""
from __future__ import annotations

import ast
import gettext
import io
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo

from xl_addin import text
from xl_addin.text.__main__ import placeholders, problems, read

PKG = Path(__file__).parents[1] / "xl_addin"


def test_every_key_has_both_languages_and_the_same_placeholders():
    assert problems() == []


def test_a_key_missing_from_one_language_is_reported(monkeypatch):
    # the check itself must catch what it is for: drop one key from the English catalog
    real = read

    def without_plan(lang):
        cat = real(lang)
        if lang == "en":
            cat.delete("sheet.plan")
        return cat
    monkeypatch.setattr("xl_addin.text.__main__.read", without_plan)
    assert problems() == ["sheet.plan: no en text"]


@pytest.mark.parametrize("lang", text.LANGS)
def test_the_compiled_catalog_is_the_po_file(lang):
    # a translator who edits the .po must run `python -m xl_addin.text compile`
    buf = io.BytesIO()
    write_mo(buf, read(lang), use_fuzzy=False)
    buf.seek(0)
    fresh = {k: v for k, v in gettext.GNUTranslations(buf)._catalog.items() if k}
    assert fresh == text.catalog(lang)


def test_labels_and_codes_both_ways():
    assert text.t("sheet.plan", "zh") == "计划" and text.t("sheet.plan", "en") == "Plan"
    assert text.label("role", "senior_sales", "zh") == "资深销售"
    assert text.label("region", "EAST", "zh") == "EAST"          # not a catalogued kind: as it is
    for typed in ("senior_sales", "资深销售", "Senior sales", "SENIOR SALES", "  Ｓｅｎｉｏｒ sales "):
        assert text.code_of("role", typed) == "senior_sales", typed
    assert text.code_of("role", "销售冠军") is None
    assert text.code_of("award", "销售冠军") == "sales_champion"


def test_placeholders_are_filled_and_a_missing_key_shows_itself():
    assert text.t("check.split_sum.ok", "en", kind="Quarter", total="280,000,000") == \
        "Quarter amounts add up to 280,000,000, the annual target"
    assert text.t("no.such.key", "zh") == "no.such.key"
    assert placeholders("{a} and {b:,}") == {"a", "b"}


def _literal_keys() -> set[str]:
    """Every key the code names literally: t("key", ...)."""
    keys = set()
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "t"
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str) and "." in node.args[0].value):
                keys.add(node.args[0].value)
    return keys


def test_every_key_the_code_names_is_in_the_catalog():
    missing = sorted(k for k in _literal_keys() if not text.has(k))
    assert missing == []
