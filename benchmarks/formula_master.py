"""The same calculation as plain spreadsheet formulas: what a team without xl_addin would build.

:func:`write_formula_master` writes a workbook (XlsxWriter) with three sheets:

* ``Plan`` - the settings (gate, excess rate and pool, award amounts, top N, collection
  threshold) and the KPI scheme (weight, target and cap per indicator) as plain cells that
  every formula refers to;
* ``Calc`` - one row per rep-quarter, sorted by quarter then rep: the inputs (the rep's
  sales target from tblRepTargets, active and quarter days, the actuals, base bonus) and,
  as formulas, the capped achievement of every indicator (``MIN(MAX(actual/target,0),cap)``),
  the KPI score (weights x achievements over the applicable weights, ``ROUND(...,2)``), the
  base bonus gate (``IF``), the raw excess bonus (``ROUND(MAX(0,sales-target)*rate,2)``), the
  excess paid (scaled by its quarter's pool), the rank by new customers within the quarter
  (``RANK``) and the top-N award, the collection award and the total;
* ``Totals`` - the pool drawn quarter by quarter, and region x quarter totals of target,
  sales, bonus and the mean KPI score (``SUMIFS`` / ``AVERAGEIFS``).

The rep targets come from our own target split (the exact largest-remainder split is not a
formula a spreadsheet user would write), everything after them is formulas. The pool is
scaled in floating point (a spreadsheet has no largest-remainder split), so ``excess_paid``
can differ from the engine's by a fen; the KPI scores, gates, awards and raw excess must
agree with the engine to 0.01, which :func:`compare` checks on LibreOffice's results.

XlsxWriter stores 0 as every formula's cached result, so a program that does not really
recalculate is caught by :func:`compare`.
"""
from __future__ import annotations

import random
import sys
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from xl_addin.core.model import INDICATORS, QUARTERS, PlanInputs  # noqa: E402

# Calc sheet columns: inputs, then formulas
INPUT_COLUMNS = ("rep_id", "region", "quarter", "sales_target", "active_days", "quarter_days",
                 "sales", "collections", "receivables", "new_customers", "visits", "reports",
                 "training_rate", "mentee_conversion", "proposals", "base_bonus")
FORMULA_COLUMNS = (*(f"ach_{i}" for i in INDICATORS), "kpi_score", "base_paid", "excess_raw",
                   "excess_paid", "nc_rank", "new_customer_award", "collection_award", "total")
COLUMNS = INPUT_COLUMNS + FORMULA_COLUMNS
CALC, PLAN, TOTALS = "Calc", "Plan", "Totals"
# where an indicator's actual comes from
_ACTUAL = {"sales": "sales", "new_customers": "new_customers", "visits": "visits",
           "reports": "reports", "training_rate": "training_rate",
           "mentee_conversion": "mentee_conversion", "proposals": "proposals"}


@lru_cache(maxsize=None)
def _col(name: str) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name(COLUMNS.index(name))


def _num(v: Any) -> Any:
    return None if v is None else float(v)


def calc_rows(inputs: PlanInputs) -> list[list[Any]]:
    """The input part of every Calc row, sorted by quarter then rep (each quarter a block)."""
    from xl_addin.core.splits import cube_frame, rep_target_frame

    targets, _ = rep_target_frame(inputs, cube_frame(inputs))
    tgt = {(r, q): (int(t), int(a), int(d)) for r, q, t, a, d in zip(
        targets["rep_id"], targets["quarter"], targets["sales_target"], targets["active_days"],
        targets["quarter_days"])}
    reps = {r.rep_id: r for r in inputs.team}
    order = {q: i for i, q in enumerate(QUARTERS)}
    rows = []
    for a in sorted((a for a in inputs.actuals if a.sales is not None and (a.rep_id, a.quarter) in tgt),
                    key=lambda a: (order[a.quarter], a.rep_id)):
        t, active, qdays = tgt[(a.rep_id, a.quarter)]
        rep = reps[a.rep_id]
        rows.append([a.rep_id, rep.region, a.quarter, t, active, qdays, _num(a.sales),
                     _num(a.collections), _num(a.receivables), _num(a.new_customers),
                     _num(a.visits), _num(a.reports), _num(a.training_rate),
                     _num(a.mentee_conversion), _num(a.proposals), _num(rep.base_bonus)])
    return rows


def _plan_sheet(wb, inputs: PlanInputs) -> dict[str, str]:
    """Settings and KPI scheme cells; returns name -> absolute reference."""
    s = inputs.settings
    ws = wb.add_worksheet(PLAN)
    refs: dict[str, str] = {}
    settings = [("base_gate", s.base_gate), ("excess_rate", s.excess_rate),
                ("excess_pool", s.excess_pool), ("new_customer_award", s.new_customer_award),
                ("new_customer_top_n", s.new_customer_top_n), ("collection_award", s.collection_award),
                ("collection_threshold", s.collection_threshold)]
    # (constant-memory mode: every row is written once, top to bottom)
    ws.write_row(0, 0, ["setting", "value", None, "indicator", "weight", "target", "cap", "basis"])
    scheme = list(inputs.kpi_scheme)
    for n in range(1, max(len(settings), len(scheme)) + 1):
        row: list[Any] = [None] * 8
        if n <= len(settings):
            key, value = settings[n - 1]
            row[0:2] = [key, float(value)]
            refs[key] = f"{PLAN}!$B${n + 1}"
        if n <= len(scheme):
            ind = scheme[n - 1]
            row[3:8] = [ind.indicator, float(ind.weight), _num(ind.target), float(ind.cap), ind.basis]
            for k, c in (("weight", "E"), ("target", "F"), ("cap", "G")):
                refs[f"{ind.indicator}.{k}"] = f"{PLAN}!${c}${n + 1}"
        ws.write_row(n, 0, row)
    return refs


def _achievement(ind, refs: dict[str, str], r: int) -> str | None:
    """Formula of one indicator's capped achievement in Calc row ``r`` (1-based), '' when N/A."""
    c = lambda name: f"{_col(name)}{r}"  # noqa: E731
    cap = refs[f"{ind.indicator}.cap"]
    if ind.basis == "sales_target":
        target, applies = c("sales_target"), f"{c('sales_target')}>0"
    elif ind.basis == "count":
        target = f"({refs[f'{ind.indicator}.target']}*{c('active_days')}/{c('quarter_days')})"
        applies = None
    else:
        target, applies = refs[f"{ind.indicator}.target"], None
    if ind.indicator == "collection_rate":
        actual, blank = f"{c('collections')}/{c('receivables')}", f"{c('receivables')}<>0"
    else:
        actual = c(_ACTUAL[ind.indicator])
        blank = f"ISNUMBER({actual})" if ind.indicator == "mentee_conversion" else None
    cond = " ,".join(x for x in (applies, blank) if x).replace(" ,", ",")
    core = f"MIN(MAX({actual}/{target},0),{cap})"
    if not cond:
        return f"={core}"
    return f'=IF(AND({cond}),{core},"")'


def write_formula_master(inputs: PlanInputs, path: Path | str) -> int:
    """Write the formula workbook; returns the number of Calc rows."""
    import xlsxwriter

    rows = calc_rows(inputs)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    refs = _plan_sheet(wb, inputs)
    ws = wb.add_worksheet(CALC)
    # Our formulas use no "future" functions (Excel 2010+), so skip XlsxWriter's dozens of
    # regular expressions per formula that look for them (most of the writing time).
    ws._prepare_formula = lambda f, expand_future_functions=False: f[1:] if f.startswith("=") else f
    ws.write_row(0, 0, list(COLUMNS))
    scheme = [ind for ind in inputs.kpi_scheme if ind.weight > 0 and ind.indicator in INDICATORS]
    n = len(rows)
    # the quarter blocks (rows are sorted by quarter): first and last sheet row, 1-based
    blocks: dict[str, tuple[int, int]] = {}
    for i, row in enumerate(rows, 2):
        lo, _ = blocks.get(row[2], (i, i))
        blocks[row[2]] = (lo, i)
    pool_row = {q: k + 2 for k, q in enumerate(q for q in QUARTERS if q in blocks)}
    linear = inputs.settings.base_mode == "linear"
    for i, values in enumerate(rows, 2):
        c = lambda name: f"{_col(name)}{i}"  # noqa: E731
        formulas = {}
        for name in INDICATORS:
            ind = next((x for x in scheme if x.indicator == name), None)
            formulas[f"ach_{name}"] = _achievement(ind, refs, i) if ind else '=""'
        num = "+".join(f"{refs[f'{x.indicator}.weight']}*N({c('ach_' + x.indicator)})" for x in scheme)
        den = "+".join(f"{refs[f'{x.indicator}.weight']}*ISNUMBER({c('ach_' + x.indicator)})" for x in scheme)
        formulas["kpi_score"] = f"=IF(({den})>0,ROUND(({num})/({den})*100,2),0)"
        pay = (f"ROUND({c('base_bonus')}*MIN({c('kpi_score')},100)/100,2)" if linear
               else c("base_bonus"))
        formulas["base_paid"] = f"=IF({c('kpi_score')}>={refs['base_gate']},{pay},0)"
        formulas["excess_raw"] = f"=ROUND(MAX(0,{c('sales')}-{c('sales_target')})*{refs['excess_rate']},2)"
        formulas["excess_paid"] = f"=ROUND({c('excess_raw')}*{TOTALS}!$F${pool_row[values[2]]},2)"
        lo, hi = blocks[values[2]]
        nc = _col("new_customers")
        formulas["nc_rank"] = f"=RANK({c('new_customers')},${nc}${lo}:${nc}${hi})"
        formulas["new_customer_award"] = (f"=IF(AND({c('new_customers')}>0,{c('nc_rank')}<="
                                          f"{refs['new_customer_top_n']}),{refs['new_customer_award']},0)")
        formulas["collection_award"] = (f"=IF(AND({c('receivables')}>0,{c('collections')}>="
                                        f"{c('receivables')}*{refs['collection_threshold']}),"
                                        f"{refs['collection_award']},0)")
        formulas["total"] = (f"={c('base_paid')}+{c('excess_paid')}+{c('new_customer_award')}"
                             f"+{c('collection_award')}")
        ws.write_row(i - 1, 0, values)
        for j, name in enumerate(FORMULA_COLUMNS, len(INPUT_COLUMNS)):
            ws.write_formula(i - 1, j, formulas[name])
    _totals_sheet(wb, inputs, refs, blocks, n)
    wb.close()
    return n


def _totals_sheet(wb, inputs: PlanInputs, refs: dict[str, str], blocks, n: int) -> None:
    ws = wb.add_worksheet(TOTALS)
    rng = lambda name: f"{CALC}!${_col(name)}$2:${_col(name)}${n + 1}"  # noqa: E731
    ws.write_row(0, 0, ["quarter", "pool_before", "excess_raw_total", "excess_paid_total",
                        "pool_after", "scale"])
    ex = _col("excess_raw")
    for k, q in enumerate(q for q in QUARTERS if q in blocks):
        r = k + 2
        lo, hi = blocks[q]
        before = refs["excess_pool"] if k == 0 else f"E{r - 1}"
        ws.write_string(r - 1, 0, q)
        ws.write_formula(r - 1, 1, f"={before}")
        ws.write_formula(r - 1, 2, f"=SUM({CALC}!${ex}${lo}:${ex}${hi})")
        ws.write_formula(r - 1, 3, f"=MIN(C{r},B{r})")
        ws.write_formula(r - 1, 4, f"=B{r}-D{r}")
        ws.write_formula(r - 1, 5, f"=IF(C{r}>0,D{r}/C{r},1)")
    top = 8
    ws.write_row(top - 1, 0, ["region", "quarter", "sales_target", "sales", "bonus", "kpi_mean"])
    regions = [line.key for line in inputs.regions_split]
    r = top
    for region in regions:
        for q in QUARTERS:
            r += 1
            ws.write_row(r - 1, 0, [region, q])
            crit = f'{rng("region")},$A{r},{rng("quarter")},$B{r}'
            ws.write_formula(r - 1, 2, f"=SUMIFS({rng('sales_target')},{crit})")
            ws.write_formula(r - 1, 3, f"=SUMIFS({rng('sales')},{crit})")
            ws.write_formula(r - 1, 4, f"=SUMIFS({rng('total')},{crit})")
            ws.write_formula(r - 1, 5, f'=IFERROR(AVERAGEIFS({rng("kpi_score")},{crit}),"")')


# ----------------------------------------------------------------------------- reading back

def read_results(path: Path | str) -> dict[tuple[str, str], dict[str, Any]]:
    """The Calc sheet's stored values (after a spreadsheet program recalculated and saved
    it): (rep_id, quarter) -> {column: value}."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    data = wb.get_sheet_by_name(CALC).to_python()
    header = [str(h) for h in data[0]]
    out = {}
    for row in data[1:]:
        rec = dict(zip(header, row))
        if rec.get("rep_id"):
            out[(str(rec["rep_id"]), str(rec["quarter"]))] = rec
    return out


COMPARED = ("kpi_score", "base_paid", "excess_raw", "new_customer_award", "collection_award")


def compare(results: dict[tuple[str, str], dict[str, Any]], engine, *, sample: int | None = 500,
            seed: int = 0, tol: float = 0.01) -> list[str]:
    """Differences (as messages) between the formula results and the engine's
    :class:`~xl_addin.engine.Results` on a random sample of rep-quarters (all when
    ``sample`` is None): KPI score, base paid, raw excess, new-customer and collection award
    within ``tol``. Also fails when a row is missing or every sampled score is 0 (nothing
    was recalculated)."""
    bonus = engine.bonus
    ours = {(r, q): {"kpi_score": k, "base_paid": b, "excess_raw": e, "new_customer_award": nc,
                     "collection_award": ca}
            for r, q, k, b, e, nc, ca in zip(bonus["rep_id"], bonus["quarter"], bonus["kpi_score"],
                                             bonus["base_paid"], bonus["excess_raw"],
                                             bonus["new_customer_award"], bonus["collection_award"])}
    keys = sorted(ours)
    if sample is not None and sample < len(keys):
        keys = random.Random(seed).sample(keys, sample)
    problems = []
    nonzero = 0
    for key in keys:
        got = results.get(key)
        if got is None:
            problems.append(f"{key}: no row in the formula workbook")
            continue
        for name in COMPARED:
            want, have = ours[key][name], got.get(name)
            if not isinstance(have, (int, float)) or isinstance(have, bool):
                problems.append(f"{key} {name}: formula result {have!r}, engine {want}")
            elif abs(Decimal(repr(float(have))) - Decimal(want)) > Decimal(str(tol)):
                problems.append(f"{key} {name}: formula result {have}, engine {want}")
        if isinstance(got.get("kpi_score"), (int, float)) and got["kpi_score"]:
            nonzero += 1
    if keys and not nonzero:
        problems.append("every sampled KPI score is 0: the workbook was not recalculated")
    return problems
