"""Where :func:`~.build.build_master` puts things: the rows of a sheet's frame, each
table's columns, and the Plan table's rows. Both the builder and the Dashboard
(:mod:`.dashboard`) read it, so neither imports the other's internals."""
from __future__ import annotations

from functools import lru_cache
from types import MappingProxyType
from typing import Any, Mapping

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from ..core.model import SETTING_KEYS, Settings
from . import schema

TITLE_ROW, HINT_ROW, CAPTION_ROW, HEADER_ROW = 1, 2, 3, 4
FIRST_DATA_ROW = HEADER_ROW + 1
VALIDATION_ROWS = 2000          # input rows that get drop-down lists
LAST_ROW = 1_048_576            # conditional formats cover whole output columns
GAP_WIDTH = 3
PLAN_VALUE_WIDTH = 36          # fits the non-cash award texts

# Left-to-right order of tables on a sheet, where it differs from the schema's order.
_SHEET_ORDER = {"team": ("tblTeam", "tblRegions")}

@lru_cache(maxsize=None)
def table_layout() -> Mapping[str, tuple[tuple[str, str], ...]]:
    """Sheet key -> ((table name, top-left cell of its header), ...), left to right."""
    by_sheet: dict[str, list[str]] = {}
    for name, spec in schema.TABLES.items():
        by_sheet.setdefault(spec.sheet, []).append(name)
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for sheet, names in by_sheet.items():
        order = _SHEET_ORDER.get(sheet, tuple(names))
        col, placed = 1, []
        for name in order:
            placed.append((name, f"{get_column_letter(col)}{HEADER_ROW}"))
            col += len(schema.TABLES[name].columns) + 1
        out[sheet] = tuple(placed)
    return MappingProxyType(out)


def column_letter(name: str, key: str) -> str:
    """Column letter of contract column ``key`` of table ``name`` as built."""
    for placed in table_layout().values():
        for tname, top_left in placed:
            if tname == name:
                letters, _ = coordinate_from_string(top_left)
                offset = schema.TABLES[name].keys.index(key)
                return get_column_letter(column_index_from_string(letters) + offset)
    raise KeyError(f"table {name!r} is not in the layout")


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def workbook_title(year: int, lang: str) -> str:
    """The master's title, on every sheet's first row and in every page header."""
    return _t(lang, f"{year}年销售计划", f"Sales plan {year}")


SETTING_NOTES: dict[str, tuple[str, str]] = {
    "fiscal_year": ("财年（自然年）", "Fiscal year (calendar year)"),
    "annual_target": ("年度销售目标（元）", "Annual revenue target, yuan"),
    "prior_year": ("上年销售额（元），用于核对增长率", "Prior-year revenue, yuan (checks the growth)"),
    "stated_growth": ("计划写明的同比增长", "Growth stated in the plan"),
    "base_gate": ("KPI得分达到此分数，发放基础奖金", "KPI score from which the base bonus is paid"),
    "base_mode": ("gate = 达标全额发放；linear = 达标后按 得分/100 发放",
                  "gate = paid in full at the gate; linear = base x score/100 above it"),
    "excess_rate": ("超额奖金 = 超出季度目标部分 × 此比例", "Excess bonus = sales above target x this rate"),
    "excess_pool": ("全年超额奖励池（元），按季度使用，不足时等比例缩减",
                    "Year's excess-bonus pool, yuan; scaled down pro rata when short"),
    "new_customer_award": ("新客户开发奖（元/人）", "New-customer award per winner, yuan"),
    "new_customer_top_n": ("新客户奖名额：全公司新客户数前 N 名（并列同名次）",
                           "New-customer award: company-wide top N (ties share a rank)"),
    "collection_award": ("回款奖（元）", "Collection award, yuan"),
    "collection_threshold": ("回款奖门槛：回款额 / 应收额", "Collection award threshold: collections / receivables"),
    "champion_award": ("销售冠军奖金（元）", "Sales champion award, yuan"),
    "champion_non_cash": ("销售冠军非现金奖励", "Sales champion non-cash reward"),
    "growth_award": ("最佳成长奖奖金（元）", "Best growth award, yuan"),
    "growth_non_cash": ("最佳成长奖非现金奖励", "Best growth non-cash reward"),
    "team_award": ("团队贡献奖总额（元），获奖成员平分", "Team contribution award, yuan, shared equally"),
    "team_award_members": ("获奖团队成员工号，逗号分隔（如 R002,R003）",
                           "Rep IDs of the winning team, comma-separated (R002,R003)"),
    "watch_threshold": ("观察名单：季度得分低于此分数记预警", "Watchlist: a quarter's score under this is a warning"),
    "watch_consecutive": ("连续几个季度低于上述分数进入改进期", "Consecutive quarters under it that start an improvement period"),
    "improvement_months": ("改进期时长（月）", "Improvement period, months"),
    "probation_months": ("入职几个月内不进入观察名单", "Months after hire exempt from the watchlist"),
    "headcount_now": ("现有人数", "Headcount now"),
    "headcount_planned": ("计划人数", "Planned headcount"),
    "hires_total": ("计划新招人数", "Planned hires"),
    "hires_by_region": ("各区域新招人数，格式 区域:人数，逗号分隔", "Hires by region as REGION:N, comma-separated"),
    "spend_lead_warn": ("预算支出进度超出时间进度多少时预警", "Spend ahead of the elapsed year by more than this is a WARN"),
    "as_of_date": ("数据截止日期，用于预算进度检查（留空则不查）", "As-of date of the spend check (blank: no check)"),
    "kpi_group_base": ("基础指标组权重", "Weight of the base indicator group"),
    "kpi_group_process": ("过程指标组权重", "Weight of the process indicator group"),
    "kpi_group_growth": ("成长指标组权重", "Weight of the growth indicator group"),
}

def _extra_notes() -> dict[str, tuple[str, str]]:
    from ..text import t

    return {"sheet_password": (t("print.sheet_password", "zh"), t("print.sheet_password", "en"))}


# Plan settings the engine does not read but the workbook does (not in SETTING_KEYS):
# sheet_password, the password of the output sheets' protection (see protection.py).
EXTRA_NOTES: dict[str, tuple[str, str]] = _extra_notes()


def setting_value(value: Any) -> Any:
    """A setting as it sits in the Plan table's value cell: numbers as numbers, dates as
    dates, member lists comma-joined, hires as ``EAST:3,SOUTH:2``; blank as None."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items()) or None
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value) or None
    return value


def plan_rows(settings: Settings, lang: str) -> list[list[Any]]:
    """tblPlan: every setting in :data:`SETTING_KEYS` order with a note, then any extra keys,
    then ``sheet_password`` (blank) when the plan has none."""
    rows = [[key, setting_value(getattr(settings, key)),
             _t(lang, *SETTING_NOTES.get(key, ("", "")))] for key in SETTING_KEYS]
    rows += [[k, v or None, _t(lang, *EXTRA_NOTES.get(k, ("", ""))) or None]
             for k, v in settings.extra.items()]
    for key in EXTRA_NOTES:                      # offered blank, so a user sees the setting
        if key not in settings.extra:
            rows.append([key, None, _t(lang, *EXTRA_NOTES[key])])
    return rows


def refresh_print_areas(wb: Any, results: Any = None) -> None:
    """Set each table sheet's print area to its tables' columns and filled rows: from the
    tables as they stand, or, for an output table in ``results`` (contract name -> frame,
    the rows a recalc is about to write), from its new row count (and one more row for the
    run log). Run on ``new`` and on
    every recalc, so the area follows the tables as they grow."""
    from openpyxl.utils import range_boundaries

    for ws in wb.worksheets:
        last_row = last_col = 0
        for name, ref in ws.tables.items():      # openpyxl: (name, ref) pairs
            spec = schema.TABLES.get(name)
            if spec is None:
                continue
            _, min_row, max_col, max_row = range_boundaries(ref)
            if results is not None and spec.direction == "out" and name in results:
                max_row = min_row + max(1, len(results[name]))
            elif results is not None and spec.direction == "log":
                max_row += 1        # the row this run is about to log
            last_row, last_col = max(last_row, max_row), max(last_col, max_col)
        if last_row:
            ws.print_area = f"A1:{get_column_letter(last_col)}{last_row}"
