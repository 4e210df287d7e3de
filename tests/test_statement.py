"""Bonus statements (xl_addin.core.statement) and amounts in words (xl_addin.core.fmt_words).

The statement must agree with the engine's tables to the fen for every rep-quarter of the
sample, its points must add up to the KPI score, and a few figures are checked by hand.
"""
from __future__ import annotations

import dataclasses
import math
import re
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as hst

from conftest import run_cli
from xl_addin.cli.app import main
from xl_addin.cli.commands import COMMANDS
from xl_addin.core.engine import compute
from xl_addin.core.fmt_words import amount_in_words, english_amount, rmb_upper
from xl_addin.core.model import INDICATORS, default_plan
from xl_addin.core.statement import (StatementError, StatementIndex, build_statement, build_statements,
                                competition_ranks, render_text)
from xl_addin.workbook.master import sample_inputs

for _c in COMMANDS:
    if _c.name not in main.commands:
        main.add_command(_c)

D = Decimal


# ----------------------------------------------------------------------------- amounts in words

@pytest.mark.parametrize("amount, words", [
    ("0", "零元整"),
    ("0.5", "伍角整"),
    ("0.07", "柒分"),
    ("0.57", "伍角柒分"),
    ("1", "壹元整"),
    ("10", "壹拾元整"),
    ("10.07", "壹拾元零柒分"),
    ("16", "壹拾陆元整"),
    ("20", "贰拾元整"),
    ("101", "壹佰零壹元整"),
    ("1010", "壹仟零壹拾元整"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    ("1409.50", "壹仟肆佰零玖元伍角整"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
    ("66666.67", "陆万陆仟陆佰陆拾陆元陆角柒分"),
    ("100000", "壹拾万元整"),
    ("107000.53", "壹拾万柒仟元伍角叁分"),
    ("1000001", "壹佰万零壹元整"),
    ("120000000.00", "壹亿贰仟万元整"),
    ("100000001", "壹亿零壹元整"),
    ("105000000", "壹亿零伍佰万元整"),
    ("280000000", "贰亿捌仟万元整"),
    ("99999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("1000000000000", "壹万亿元整"),
    ("-3.2", "负叁元贰角整"),
    ("0.005", "壹分"),            # rounded half-up to the fen first
    ("0.004", "零元整"),
    (0.1, "壹角整"),              # floats by their shortest repr
    (568518.10, "伍拾陆万捌仟伍佰壹拾捌元壹角整"),
])
def test_rmb_upper(amount, words):
    assert rmb_upper(amount) == words


@pytest.mark.parametrize("amount, words", [
    ("0", "Zero yuan only"),
    ("0.5", "Fifty fen"),
    ("10.07", "Ten yuan and seven fen"),
    ("100000", "One hundred thousand yuan only"),
    ("1000001", "One million one yuan only"),
    ("120000000.00", "One hundred twenty million yuan only"),
    ("66666.67", "Sixty-six thousand six hundred sixty-six yuan and sixty-seven fen"),
])
def test_english_amount(amount, words):
    assert english_amount(amount) == words
    assert amount_in_words(amount, "en") == words


def test_amount_in_words_defaults_to_chinese():
    assert amount_in_words(D("12345.67")) == "壹万贰仟叁佰肆拾伍元陆角柒分"


_DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_UNIT = {"拾": 10, "佰": 100, "仟": 1000}


def _parse_group(s: str) -> int:
    total, digit = 0, 0
    for ch in s:
        if ch in _DIGIT:
            digit = _DIGIT[ch]
        elif ch in _UNIT:
            total += digit * _UNIT[ch]
            digit = 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {s!r}")
    return total + digit


def _parse_integer(s: str) -> int:
    if "亿" in s:
        high, low = s.rsplit("亿", 1)
        return _parse_integer(high) * 10**8 + _parse_integer(low)
    if "万" in s:
        high, low = s.split("万")
        return _parse_group(high) * 10**4 + _parse_group(low)
    return _parse_group(s)


def parse_rmb(words: str) -> int:
    """An independent reader of capital amounts, in fen."""
    sign = -1 if words.startswith("负") else 1
    words = words.removeprefix("负")
    assert words.endswith(("整", "分")), words
    words = words.removesuffix("整")
    whole, _, cents = words.rpartition("元") if "元" in words else ("", "", words)
    fen = 0
    m = re.fullmatch(r"零?(?:(.)角)?(?:(.)分)?", cents)
    assert m, words
    if m.group(1):
        fen += _DIGIT[m.group(1)] * 10
    if m.group(2):
        fen += _DIGIT[m.group(2)]
    return sign * (_parse_integer(whole) * 100 + fen)


@settings(max_examples=400, deadline=None)
@given(hst.integers(min_value=-10**14, max_value=10**14))
def test_rmb_upper_reads_back(fen):
    words = rmb_upper(D(fen).scaleb(-2))
    assert parse_rmb(words) == fen
    # the written rules: no doubled 零, no 零 before a unit or at the end, 整 never after 分
    assert "零零" not in words
    assert fen == 0 or not re.search("零[元万亿角分拾佰仟]", words)
    assert not words.endswith("分整")
    assert words.endswith("整") == (fen % 10 == 0)


# ----------------------------------------------------------------------------- statements

@pytest.fixture(scope="module")
def sample():
    inputs = sample_inputs()
    return inputs, compute(inputs)


def test_statement_matches_engine_for_every_rep_quarter(sample):
    inputs, results = sample
    kpi = {(r.rep_id, r.quarter): r for r in results.kpi.itertuples()}
    bonus = {(r.rep_id, r.quarter): r for r in results.bonus.itertuples()}
    pool = {r.quarter: r for r in results.pool.itertuples()}
    statements = build_statements(inputs, results)
    seen = set()
    for st in statements:
        for q in st.quarters:
            if not q.reported:
                continue
            key = (st.rep_id, q.quarter)
            seen.add(key)
            k, b = kpi[key], bonus[key]
            assert q.kpi_score == k.kpi_score
            assert sum(line.points for line in q.lines) == q.kpi_score, key
            for line in q.lines:
                ach = getattr(k, f"ach_{line.indicator}")
                if line.na_reason:
                    assert math.isnan(ach) and line.points == 0
                else:
                    assert abs(float(line.capped) - ach) < 1e-4, (key, line.indicator)
            assert (q.base_paid, q.excess_raw, q.excess_paid, q.new_customer_award,
                    q.collection_award, q.total) == (b.base_paid, b.excess_raw, b.excess_paid,
                                                     b.new_customer_award, b.collection_award,
                                                     b.total), key
            assert q.pool_scale == pool[q.quarter].scale
            assert q.gate_passed == (q.kpi_score >= inputs.settings.base_gate)
        mine = results.bonus[results.bonus["rep_id"] == st.rep_id]
        assert st.quarterly_total == sum(mine["total"], D(0))
        won = results.awards[results.awards["rep_id"] == st.rep_id]
        assert st.awards_total == sum(won["amount"], D(0))
        assert st.total == st.quarterly_total + st.awards_total
    assert seen == set(kpi), "every KPI row has a statement quarter"


def test_points_add_up_with_na_indicators(sample):
    inputs, results = sample
    st = build_statement(inputs, results, "R016")          # no mentees: one N/A line
    for q in st.quarters:
        na = [x for x in q.lines if x.na_reason]
        assert [x.indicator for x in na] == ["mentee_conversion"]
        assert na[0].na_reason == "no mentees"
        applicable = [x for x in q.lines if not x.na_reason]
        # the 5 points of mentoring are spread over the other 95: sales weighs 40/95
        sales = next(x for x in applicable if x.indicator == "sales")
        assert sales.effective_weight == D("42.1053")
        assert sum(x.points for x in q.lines) == q.kpi_score


def test_hand_checked_figures_for_r002(sample):
    """R002 王建华 (EAST), checked with a calculator from the sample's actuals."""
    inputs, results = sample
    st = build_statement(inputs, results, "R002")
    q1, q2, q4 = st.quarters[0], st.quarters[1], st.quarters[3]
    # Q1: sales 4,771,535.90 against 2,972,114: excess 3% x 1,799,421.90 = 53,982.657
    assert q1.sales == D("4771535.90") and q1.sales_target == 2972114
    assert q1.excess_raw == D("53982.66") and q1.excess_paid == D("53982.66")
    assert q1.base_paid == D("15000.00") and q1.nc_rank == 1 and q1.new_customer_award == D("5000.00")
    # Q2: collections 4,856,545.95 / receivables 5,323,594.01 = 91.23% of the 95% target:
    # 15 x 0.96029 = 14.40 points; all else full: 85 + 14.40 = 99.40
    collection = next(x for x in q2.lines if x.indicator == "collection_rate")
    assert collection.points == D("14.40") and q2.kpi_score == D("99.40")
    # Q4: the pool is short; the raw 126,676.99 is scaled by 963,693.71 / 1,123,676.57
    assert q4.pool_scaled and q4.pool_scale == D("0.857626")
    exact = Fraction(D("126676.99")) * Fraction(D("963693.71")) / Fraction(D("1123676.57"))
    assert abs(Fraction(q4.excess_paid) - exact) <= Fraction(1, 100)
    assert q4.excess_paid == D("108641.42")
    champion = next(a for a in st.awards if a.award == "sales_champion")
    assert champion.won and champion.rank == 1 and champion.amount == D("200000.00")
    assert st.total == D("568518.10")
    assert st.words("zh") == "人民币伍拾陆万捌仟伍佰壹拾捌元壹角整"


def test_gate_not_passed_pays_no_base(sample):
    inputs, results = sample
    q4 = build_statement(inputs, results, "R016", "Q4").quarters[0]
    assert q4.kpi_score == D("50.56") and not q4.gate_passed and q4.base_paid == 0


def test_quarter_only_statement_has_no_awards(sample):
    inputs, results = sample
    st = build_statement(inputs, results, "R002", "Q3")
    assert [q.quarter for q in st.quarters] == ["Q3"] and st.awards == ()
    assert st.total == D("97410.20")


def test_rank_of_new_customer_award_is_company_wide(sample):
    inputs, results = sample
    ranking = results.new_customer_rank
    for st in build_statements(inputs, results, "SOUTH"):
        for q in st.quarters:
            if q.reported:
                row = ranking[(ranking.rep_id == st.rep_id) & (ranking.quarter == q.quarter)].iloc[0]
                assert q.nc_rank == row["rank"] and q.nc_field == (ranking.quarter == q.quarter).sum()
                assert (q.new_customer_award > 0) == bool(row["won"])


def test_competition_ranks_share_ties_and_skip_after_them():
    values = {"a": D("10"), "b": D("8"), "c": D("12"), "d": D("8.00"), "e": D("5"),
              "f": D("8.0"), "g": D("-1")}
    # 12 first, 10 second, the three 8s share third, so 5 is sixth and -1 seventh
    assert competition_ranks(values) == {"c": 1, "a": 2, "b": 3, "d": 3, "f": 3, "e": 6, "g": 7}
    assert competition_ranks({"x": D("3"), "y": D("3")}) == {"x": 1, "y": 1}
    assert competition_ranks({}) == {}


def test_annual_award_rank_counts_every_rep_above(sample):
    """Sales champion rank of a rep = 1 + the number of reps with more annual sales
    (counted here from the actuals of the quarters the engine scored)."""
    inputs, results = sample
    scored = set(zip(results.kpi["rep_id"], results.kpi["quarter"]))
    annual: dict[str, Decimal] = {}
    for a in inputs.actuals:
        if a.sales is not None and (a.rep_id, a.quarter) in scored:
            annual[a.rep_id] = annual.get(a.rep_id, D(0)) + a.sales
    for st in build_statements(inputs, results):
        line = next(x for x in st.awards if x.award == "sales_champion")
        assert line.measure == annual[st.rep_id]
        assert line.rank == 1 + sum(v > annual[st.rep_id] for v in annual.values())
        assert line.field == len(annual)


def test_one_index_for_many_statements_gives_the_same_statements(sample):
    inputs, results = sample
    index = StatementIndex(inputs, results)
    for rep_id in ("R002", "R016", "R020"):
        assert build_statement(inputs, results, rep_id, index=index) == \
            build_statement(inputs, results, rep_id)
        assert build_statement(inputs, results, rep_id, "Q2", index=index) == \
            build_statement(inputs, results, rep_id, "Q2")


def test_two_engine_rows_for_one_rep_quarter_are_an_error(sample):
    inputs, results = sample
    kpi = results.kpi
    twice = dataclasses.replace(results, kpi=pd.concat(
        [kpi, kpi[(kpi["rep_id"] == "R002") & (kpi["quarter"] == "Q3")]], ignore_index=True))
    with pytest.raises(StatementError, match=r"tblKpi: 2 rows for \{'rep_id': 'R002', 'quarter': 'Q3'\}"):
        build_statement(inputs, twice, "R002")
    build_statement(inputs, twice, "R003")          # other reps are not affected


@pytest.mark.parametrize("rep_id, quarter, message", [
    ("R999", None, "no rep 'R999'"),
    ("R001", None, "without a sales quota"),
    ("R002", "Q5", "unknown quarter"),
])
def test_statement_errors(sample, rep_id, quarter, message):
    inputs, results = sample
    with pytest.raises(StatementError, match=message):
        build_statement(inputs, results, rep_id, quarter)


def test_plan_only_statement_before_any_actuals():
    from xl_addin.core.sample import sample_regions, sample_team

    team = sample_team()
    inputs = default_plan(team=team, regions=sample_regions())
    results = compute(inputs)
    st = build_statement(inputs, results, "R002")
    assert [q.reported for q in st.quarters] == [False] * 4
    assert st.total == 0 and st.words() == "人民币零元整"
    text = render_text(st, "zh")
    assert "尚未报告" in text and "销售目标" in text


def test_linear_base_mode_is_explained(sample):
    inputs, _ = sample
    inputs = dataclasses.replace(inputs, settings=dataclasses.replace(inputs.settings, base_mode="linear"))
    results = compute(inputs)
    st = build_statement(inputs, results, "R004", "Q1")
    q = st.quarters[0]
    row = results.bonus[(results.bonus.rep_id == "R004") & (results.bonus.quarter == "Q1")].iloc[0]
    assert q.base_paid == row["base_paid"] < q.base_bonus
    assert "按得分比例发放" in render_text(st, "zh")


def test_render_text_zh_and_en(sample):
    inputs, results = sample
    st = build_statement(inputs, results, "R002")
    zh = render_text(st, "zh")
    for needle in ("2026年奖金明细 · 王建华（R002）", "第四季度（Q4）", "KPI得分", "门槛 60",
                   "按系数 0.857626 缩减", "排名 1/21", "销售冠军", "¥568,518.10",
                   "大写：人民币伍拾陆万捌仟伍佰壹拾捌元壹角整"):
        assert needle in zh, needle
    en = render_text(st, "en")
    for needle in ("Bonus statement 2026 - 王建华 (R002)", "KPI score", "gate 60",
                   "factor 0.857626", "Sales champion",
                   "Five hundred sixty-eight thousand five hundred eighteen yuan and ten fen",
                   "大写：人民币伍拾陆万捌仟伍佰壹拾捌元壹角整"):
        assert needle in en, needle


# ----------------------------------------------------------------------------- explain CLI

def test_explain_cli(sample_master):
    r = run_cli("explain", sample_master, "--rep", "R002")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "王建华（R002）" in out and "应发奖金合计：¥568,518.10" in out
    # hand check, Q1 sales line: actual, target, achievement 160.5%, 40 points
    line = next(l for l in out.splitlines() if l.strip().startswith("销售额") and "4,771,535.90" in l)
    assert "2,972,114" in line and "160.5%" in line and line.split()[-1] == "40.00"
    assert "实发 ¥108,641.42" in out


def test_explain_cli_one_quarter_in_english(sample_master):
    r = run_cli("explain", sample_master, "--rep", "R016", "--quarter", "q4", "--lang", "en")
    assert r.exit_code == 0, r.output
    assert "KPI 50.56 < gate 60: no base bonus" in r.stdout
    assert "no mentees: N/A" in r.stdout and "Q1" not in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--rep", "R999"], "团队表中没有工号 R999"),   # the CLI's own check, in the master's language
    (["--rep", "R001"], "without a sales quota"),
])
def test_explain_cli_errors(sample_master, args, message):
    r = run_cli("explain", sample_master, *args)
    assert r.exit_code == 2 and message in r.stderr and "Traceback" not in r.output


def test_explain_cli_bad_workbook(tmp_path):
    bad = tmp_path / "not.xlsx"
    bad.write_text("hello")
    r = run_cli("explain", bad, "--rep", "R002")
    assert r.exit_code == 2 and "not an .xlsx" in r.stderr


def test_every_indicator_has_a_label():
    from xl_addin.core.statement import indicator_label

    for ind in INDICATORS:
        assert indicator_label(ind, "zh") != ind and indicator_label(ind, "en") != ind


# ----------------------------------------------------------------------------- KPI lines in integers

def _reference_lines(scheme, actual, target, active, qdays):
    """The KPI lines as explain_kpi computes them with Fractions, the points split by
    largest remainder over weight x exact capped achievement (the earlier statement code)."""
    from xl_addin.core.kpi import explain_kpi, explain_score
    from xl_addin.core.money import frac
    from xl_addin.core.splits import split_exact

    lines = explain_kpi(scheme, actual, target, active, qdays)
    score = explain_score(lines)
    weights = [frac(x.weight) * (x.exact_capped or 0) if not x.na_reason else Fraction(0)
               for x in lines]
    if score == 0 or not any(weights):
        points = [D("0.00")] * len(lines)
    else:
        points = [p.quantize(D("0.01")) for p in split_exact(score, weights, D("0.01"))]
    return score, [(x.indicator, x.actual, x.target, x.achievement, x.capped, x.cap, x.weight,
                    x.effective_weight, p, x.na_reason) for x, p in zip(lines, points)]


_money = hst.decimals(min_value=-10**6, max_value=10**8, places=2, allow_nan=False)
_count = hst.decimals(min_value=0, max_value=500, places=1, allow_nan=False)
_rate = hst.decimals(min_value=0, max_value=2, places=3, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(data=hst.data())
def test_kpi_lines_in_integers_are_explain_kpi_s(data):
    """Every figure of a statement's KPI lines (shown actual, target, achievement, capped,
    effective weight, points with their exponents, N/A reasons) equals what explain_kpi's
    exact Fractions give, for random figures, weights (zero too), caps, receivables of 0,
    blank mentee conversion, sales targets of 0 and part-quarter days."""
    from xl_addin.core import statement as stm
    from xl_addin.core.model import Actual, Indicator

    base = default_plan().kpi_scheme
    scheme = tuple(dataclasses.replace(
        ind, weight=data.draw(hst.sampled_from([D(0), D(5), D(10), D("12.5"), D(40)])),
        cap=data.draw(hst.sampled_from([D(1), D("1.2"), D("1.5")])))
        for ind in base)
    qdays = data.draw(hst.integers(80, 92))
    active = data.draw(hst.integers(1, qdays))
    target = data.draw(hst.sampled_from([0, 1, 999_999, 2_972_114]))
    receivables = data.draw(hst.sampled_from([D(0), D("1000.00"), D("123456.78")]))
    actual = Actual("R1", "Q1", sales=data.draw(_money), collections=data.draw(_money),
                    receivables=receivables, new_customers=data.draw(_count),
                    visits=data.draw(_count), reports=data.draw(_count),
                    training_rate=data.draw(_rate),
                    mentee_conversion=data.draw(hst.one_of(hst.none(), _rate)),
                    proposals=data.draw(_count))
    score, want = _reference_lines(scheme, actual, target, active, qdays)
    got = stm._kpi_lines(stm._scheme_facts(scheme), actual,
                         {"sales_target": target, "active_days": active, "quarter_days": qdays},
                         score)
    assert [(x.indicator, x.actual, x.target, x.achievement, x.capped, x.cap, x.weight,
             x.effective_weight, x.points, x.na_reason) for x in got] == want
    assert [str(x.effective_weight) for x in got] == [str(w[7]) for w in want]  # exponents too
    assert [str(x.points) for x in got] == [str(w[8]) for w in want]
    assert sum(x.points for x in got) == score or score == 0


def test_kpi_lines_refuse_a_score_that_is_not_the_lines(sample):
    from xl_addin.core import statement as stm

    inputs, results = sample
    index = StatementIndex(inputs, results)
    (rep_id, q), actual = next(iter(index.actuals.items()))
    row = next(r for r in index.targets[rep_id] if r["quarter"] == q)
    score = D(index.kpi[(rep_id, q)][0]["kpi_score"])
    stm._kpi_lines(index.facts, actual, row, score)                  # the engine's: fine
    with pytest.raises(StatementError, match="differs from tblKpi"):
        stm._kpi_lines(index.facts, actual, row, score + D("0.01"))
