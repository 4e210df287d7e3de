"""Catalog maintenance with Babel: ``python -m xl_addin.text compile|check``.

``compile`` writes each language's ``.mo`` from its ``.po`` (after a translator edited
it); ``check`` reports keys missing from a language, empty texts and placeholders that
differ between the languages, and exits 1 if there is any.
"""
from __future__ import annotations

import string
import sys

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from . import DOMAIN, LANGS, LOCALE_DIR


def po_path(lang: str):
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(lang: str):
    with open(po_path(lang), "rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def compile_all() -> None:
    for lang in LANGS:
        cat = read(lang)
        with open(po_path(lang).with_suffix(".mo"), "wb") as f:
            write_mo(f, cat, use_fuzzy=False)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def problems() -> list[str]:
    cats = {lang: {m.id: m.string for m in read(lang) if m.id} for lang in LANGS}
    out = []
    every = set().union(*cats.values())
    for key in sorted(every):
        for lang in LANGS:
            if not cats[lang].get(key):
                out.append(f"{key}: no {lang} text")
        texts = [cats[lang][key] for lang in LANGS if cats[lang].get(key)]
        if len(texts) == len(LANGS) and len({frozenset(placeholders(x)) for x in texts}) > 1:
            out.append(f"{key}: placeholders differ between languages: "
                       + "; ".join(f"{lang} {sorted(placeholders(cats[lang][key]))}" for lang in LANGS))
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["compile"]:
        compile_all()
        return 0
    if argv[:1] == ["check"]:
        found = problems()
        for p in found:
            print(p)
        return 1 if found else 0
    print(__doc__.strip())
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
