"""Check areas and items in the output language (the CLI's ``check`` and ``demo``)."""
from __future__ import annotations

import re
import sys

from ..text import label
from ..workbook.i18n import check_message
from .common import EXIT_FAIL, say, tr

__all__ = ["check_area", "check_item", "list_fails", "exit_on_fails"]


def check_area(area: str, lang: str) -> str:
    """The label of a check's area code (``quarters`` is 季度 / Quarters)."""
    key = f"cli.check.area.{area}"
    shown = tr(f"check.area.{area}", lang)
    return area if shown == key else shown


# A check's ``item`` is built from codes and a few fixed words (xl_addin.core.checks):
# the words are replaced by the catalog's, the codes (EAST, Q1, MKT) stay.
_ITEMS: list[tuple[re.Pattern[str], str]] = [(re.compile(p), k) for p, k in [
    (r"^sum of amounts$", "sum_amounts"), (r"^sum of stated shares$", "sum_shares"),
    (r"^growth vs prior year$", "growth"), (r"^excess pool vs budget$", "pool"),
    (r"^now \+ hires vs planned$", "headcount"), (r"^hires by region$", "hires_by_region"),
    (r"^team at year end$", "year_end"), (r"^total weight$", "total_weight"),
    (r"^(?P<x>.+) share$", "share"), (r"^(?P<x>.+) ratio$", "ratio"),
    (r"^(?P<x>.+) children sum$", "children_sum"), (r"^(?P<x>.+) within (?P<y>.+)$", "within"),
    (r"^(?P<x>.+) duplicate$", "duplicate"), (r"^(?P<x>.+) parent$", "parent"),
    (r"^(?P<x>.+) spend vs line$", "spend_line"), (r"^(?P<x>.+) spend pace$", "spend_pace"),
    (r"^(?P<x>.+) hires region$", "hires_region"), (r"^(?P<x>.+) hires$", "hires"),
    (r"^(?P<x>base|process|growth) group weight$", "group_weight_known"),
    (r"^(?P<x>.+) group weight$", "group_weight"), (r"^(?P<x>.+) staffing$", "staffing"),
    (r"^(?P<x>.+) rep targets$", "rep_targets"),
]]


def check_item(item: str, lang: str) -> str:
    """A check's item in ``lang``: ``Q1 share`` is ``Q1 占比`` in Chinese."""
    for pattern, key in _ITEMS:
        m = pattern.match(item)
        if m:
            params = m.groupdict()
            if key == "group_weight_known":
                params["x"] = tr(f"check.group.{params['x']}", lang)
                key = "group_weight"
            return tr(f"check.item.{key}", lang, **params)
    return item


def list_fails(results, lang: str) -> bool:
    """Print the FAIL checks of ``results`` on stderr, a count then one line each, as
    ``recalc`` does; whether there were any."""
    fails = [c for c in results.check_rows if c.status == "FAIL"]
    if fails:
        say("recalc.fails", lang, err=True, n=len(fails))
        for c in fails:
            say("recalc.fail_line", lang, err=True, status=label("check_status", c.status, lang),
                area=check_area(c.area, lang), item=check_item(c.item, lang),
                message=check_message(c.code, c.params, lang))
    return bool(fails)


def exit_on_fails(results, lang: str) -> None:
    """Exit 1 (the work is done) when the plan has FAIL checks, after listing them."""
    if list_fails(results, lang):
        sys.exit(EXIT_FAIL)
