"""Every word a user reads, in Chinese and English, from one gettext catalog.

The texts live in two gettext catalogs, ``locale/zh/LC_MESSAGES/xl_addin.po`` and
``locale/en/LC_MESSAGES/xl_addin.po``, beside this file: a translator edits a ``.po`` file
in any PO editor, then ``python -m xl_addin.text compile`` (Babel) writes the ``.mo``
files that are read here with the standard library's :mod:`gettext` (fast, nothing to
parse at start-up). A test fails when a key lacks either language, when the two
languages' placeholders differ, or when a ``.mo`` is older than its ``.po``.

Keys are the ``msgid``s, dotted by kind: ``sheet.plan``, ``column.tblTeam.rep_id``,
``role.senior_sales``, ``check.split_sum.fail``, ``cli.recalc.done``. A coded value has
its label under ``<kind>.<code>``; :func:`label` shows a code, :func:`code_of` reads a
code back from the code itself or a label in either language (any case, full- or
half-width).
"""
from __future__ import annotations

import gettext
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["LANGS", "DEFAULT_LANG", "t", "has", "label", "labels", "codes", "code_of",
           "normalise", "catalog", "LOCALE_DIR", "DOMAIN"]

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
DOMAIN = "xl_addin"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """Key -> text of one language (the compiled ``.mo``), read once per process."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (expected one of {', '.join(LANGS)})")
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as f:
        messages = gettext.GNUTranslations(f)._catalog   # msgid -> msgstr
    return {k: v for k, v in messages.items() if isinstance(k, str) and k}


def has(key: str) -> bool:
    return key in catalog(DEFAULT_LANG)


def t(key: str, lang: str = DEFAULT_LANG, /, **params: Any) -> str:
    """The text of ``key`` in ``lang``, its ``{placeholders}`` filled from ``params``.

    A key that is missing (a bug the catalog test catches) shows as the key itself, never
    as an exception in front of a user."""
    text = catalog(lang).get(key)
    if text is None:
        return key
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def label(kind: str, code: Any, lang: str = DEFAULT_LANG) -> str:
    """The label of a coded value (``label("role", "sales", "zh")`` is 销售); a code the
    catalog does not know (a region code, a product) is shown as it is."""
    if code is None:
        return ""
    key = f"{kind}.{code}"
    return catalog(lang).get(key, str(code))


def codes(kind: str) -> list[str]:
    """Every code of a kind that the catalog labels, in catalog order."""
    prefix = kind + "."
    return [k[len(prefix):] for k in catalog(DEFAULT_LANG) if k.startswith(prefix)
            and "." not in k[len(prefix):]]


def labels(kind: str, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Code -> label for every code of a kind."""
    return {c: label(kind, c, lang) for c in codes(kind)}


def normalise(text: Any) -> str:
    """Text compared the way a reader compares it: NFKC (full-width letters and digits
    become half-width), case folded, outer spaces removed."""
    return unicodedata.normalize("NFKC", str(text)).casefold().strip()


@lru_cache(maxsize=None)
def _reverse(kind: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for code in codes(kind):
        for lang in LANGS:
            out.setdefault(normalise(label(kind, code, lang)), code)
    for code in codes(kind):        # a code always reads as itself, before any label
        out[normalise(code)] = code
    return out


def code_of(kind: str, text: Any) -> str | None:
    """The code that ``text`` names: the code itself or its label in either language
    (case, full-width/half-width and outer spaces ignored); None when it names none."""
    if text is None:
        return None
    return _reverse(kind).get(normalise(text))
