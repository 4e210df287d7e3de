"""Check messages in the workbook's language.

:mod:`xl_addin.core.checks` gives every check row a stable message ``code`` and its ``params``
(numbers already formatted, language-neutral), with English templates in
:data:`xl_addin.checks.MESSAGES`. :func:`check_message` fills the Chinese template of
:data:`ZH_MESSAGES` for a Chinese workbook and the English one otherwise, so the
``message`` column of ``tblChecks`` reads naturally in either language while ``item``
(built from codes) stays the same.

A few params carry English words (``direction`` "above"/"below", ``kind`` "quarter",
``base_name`` "the annual target", ``gap`` "3 short", the growth ``label``); they are
translated here, and anything unknown is kept as it is.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from ..core.checks import MESSAGES

__all__ = ["ZH_MESSAGES", "check_message"]

_SHARE_TAIL = {
    "ok": "{formula} = {computed}，计划写明 {stated}；相差 {diff} 个百分点，在计划精度的一半"
          "（{half} 个百分点）以内",
    "warn": "{formula} = {computed}，计划写明 {stated}；相差 {diff} 个百分点，超过计划精度的一半"
            "（{half} 个百分点），但在一个单位（{unit} 个百分点）以内",
    "fail": "{formula} = {computed}，计划写明 {stated}；相差 {diff} 个百分点，超过计划精度的"
            "一个单位（{unit} 个百分点）",
}
_KIND_HEAD = {"share": "{label} 占比：", "budget_ratio": "{label} 占营收比：", "growth": "{label}："}

ZH_MESSAGES: dict[str, str] = {
    **{f"{kind}.{status}": head + tail for kind, head in _KIND_HEAD.items()
       for status, tail in _SHARE_TAIL.items()},
    "ratio.no_base": "{label}：计划写明 {stated}，但{base_name}为零，无法核对",
    "split_sum.ok": "各{kind}金额合计 {total}，等于年度目标",
    "split_sum.fail": "各{kind}金额合计 {total}，比年度目标 {target} {direction} {diff}",
    "stated_sum.ok": "各{kind}的计划占比合计为 100%",
    "stated_sum.warn": "各{kind}的计划占比合计为 {total}，不是 100%",
    "duplicate_line.fail": "预算科目 {line} 出现了 {count} 次",
    "unknown_parent.fail": "预算科目 {line} 的上级科目 {parent} 不是预算科目",
    "parent_cycle.fail": "预算科目 {line} 是自己的上级（{chain}）",
    "children_sum.ok": "{parent} 已全部细分：{terms} = {total}",
    "children_sum.fail": "{parent} 已全部细分，但下级科目合计 {total}（{terms}），比 {amount} "
                         "{direction} {diff}",
    "children_within.ok": "{parent} 的下级科目合计 {total}（{terms}），未超过 {amount}",
    "children_within.fail": "{parent} 的下级科目合计 {total}（{terms}），比 {amount} 多 {diff}",
    "child_above_parent.fail": "预算科目 {line}（{amount}）高于其上级科目 {parent}"
                               "（{parent_amount}）",
    "pool.ok": "超额奖池 {pool} 已在预算科目 {line}（{amount}）中预留",
    "pool.warn": "预算科目 {line} 预留 {amount}，比超额奖池 {pool} 多 {diff}",
    "pool.fail": "预算科目 {line} 仅预留 {amount}，比超额奖池 {pool} 少 {diff}",
    "pool.missing": "没有预算科目预留超额奖池 {pool}（科目编号应以 {suffix} 结尾）",
    "pool.ambiguous": "有多个预算科目像是超额奖池：{lines}",
    "pool_within.ok": "奖池科目 {line}（{amount}）未超过 {parent}（{parent_amount}）",
    "pool_within.fail": "奖池科目 {line}（{amount}）超过了 {parent}（{parent_amount}）",
    "spend_line.ok": "{line}：已支出 {spent}，预算 {amount}",
    "spend_line.fail": "{line}：已支出 {spent}，超出预算 {amount} 共 {diff}",
    "spend_pace.ok": "{line}：截至 {date} 已支出预算的 {share}，全年时间已过 {elapsed}"
                     "（领先 {lead} 个百分点；超过 {limit} 个百分点预警）",
    "spend_pace.warn": "{line}：截至 {date} 已支出预算的 {share}，比全年时间进度 {elapsed} "
                       "领先 {lead} 个百分点（超过 {limit} 个百分点预警）",
    "headcount.ok": "现有 {now} 人 + 新招 {hires} 人 = {computed} 人，等于计划人数",
    "headcount.fail": "现有 {now} 人 + 新招 {hires} 人 = {computed} 人，但计划人数为 {planned} 人",
    "hires_sum.ok": "各区域新招人数 {terms} = {computed}，等于计划新招人数",
    "hires_sum.fail": "各区域新招人数 {terms} = {computed}，但计划新招 {hires} 人",
    "hires_region.warn": "计划新招人数中的区域 {region} 不是已知区域",
    "team_year_end.ok": "团队表中 {date} 在职 {count} 人，等于计划人数",
    "team_year_end.warn": "团队表中 {date} 在职 {count} 人，计划 {planned} 人（{gap}）；"
                          "此前离职：{leavers}；新招未达计划的区域：{short}",
    "team_hires.ok": "{region}：团队表中 {year} 年新招 {count} 人，与计划一致",
    "team_hires.warn": "{region}：团队表中 {year} 年新招 {count} 人，计划 {planned} 人（仅供参考）",
    "kpi_group.ok": "{group}类指标权重 {terms} = {computed}，等于该类权重",
    "kpi_group.fail": "{group}类指标权重 {terms} = {computed}，但该类权重为 {stated}",
    "kpi_group_unknown.fail": "指标 {indicators} 属于类别 {group}，但该类别没有设定权重",
    "kpi_cap.warn": "{indicator}：封顶 {cap} 使超过 100% 的达成可弥补其他指标；KPI 得分仍以 100 封顶",
    "kpi_total.ok": "指标权重合计为 {computed}",
    "kpi_total.fail": "指标权重合计为 {computed}，不是 {stated}",
    "unstaffed.fail": "{region} {quarter} 有目标 {target}，但没有在岗的承担指标的销售人员",
    "rep_targets_sum.ok": "{key}：个人目标 {reps} + 无人承接 {unstaffed} = {computed}，等于目标",
    "rep_targets_sum.fail": "{key}：个人目标 {reps} + 无人承接 {unstaffed} = {computed}，"
                            "比目标 {target} {direction} {diff}",
    "rep_targets_unknown.fail": "个人目标中出现了计划里没有的{kind} {key}（合计 {computed}）",
}

_WORDS = {
    "direction": {"above": "多", "below": "少"},
    "kind": {"quarter": "季度", "region": "区域", "product": "产品"},
    "base_name": {"the annual target": "年度目标", "the prior year": "上年销售额"},
    "group": {"base": "基础", "process": "过程", "growth": "成长"},
}
_GAP = re.compile(r"^(\d+) (short|over)$")


def _zh_params(code: str, params: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(params)
    if code.startswith(("growth.", "ratio.no_base")) and out.get("label") == "growth":
        out["label"] = "同比增长"
    for name, words in _WORDS.items():
        if isinstance(out.get(name), str) and out[name] in words:
            out[name] = words[out[name]]
    gap = out.get("gap")
    if isinstance(gap, str) and (m := _GAP.match(gap)):
        out["gap"] = f"{'少' if m.group(2) == 'short' else '多'} {m.group(1)} 人"
    if out.get("leavers") == "-":
        out["leavers"] = "无"
    if out.get("short") == "-":
        out["short"] = "无"
    return out


def check_message(code: str, params: Mapping[str, Any], lang: str) -> str:
    """The sentence of a check row in ``lang`` ("zh" or "en"). An unknown code or a
    template the params do not fill falls back to English, then to the code itself."""
    if lang == "zh" and code in ZH_MESSAGES:
        try:
            return ZH_MESSAGES[code].format(**_zh_params(code, params))
        except (KeyError, IndexError, ValueError):
            pass
    try:
        return MESSAGES[code].format(**params)
    except (KeyError, IndexError, ValueError):
        return code
