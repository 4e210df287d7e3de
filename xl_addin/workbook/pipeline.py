"""The one recalculation pipeline, over any open book.

A :class:`BookPort` is "a workbook we can read tables from and write tables to": an .xlsx
file through openpyxl (:mod:`xl_addin.workbook.xlsx`) or a live Excel book through xlwings
(:mod:`xl_addin.excel.macros`). Both run exactly this code, so the CLI and the ribbon buttons
produce identical output tables.
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol


from ..core.engine import Results, compute
from ..errors import InputError, Problems
from ..core.model import PlanInputs
from . import schema
from .i18n import check_message
from .tables import cell_value
from .parse import RawTable, detect_lang, inputs_from_raw, locate, map_columns


class BookPort(Protocol):
    """What the pipeline needs from a workbook, whatever program holds it."""

    def raw_tables(self) -> dict[str, RawTable]: ...

    def write_table(self, name: str, rows: list[list[Any]], lang: str) -> None: ...

    def refresh_dashboard(self, results: Results, inputs: PlanInputs, lang: str) -> None: ...


@dataclass
class RunOutcome:
    inputs: PlanInputs
    results: Results
    lang: str
    digest: str
    summary: str
    raws: dict[str, RawTable]


def output_rows(results: Results, lang: str = "en") -> dict[str, list[list[Any]]]:
    """Each output table's rows as cell values, columns in contract order. The
    ``message`` of tblChecks is in ``lang`` (:func:`~.i18n.check_message`, from each
    check's code and params); ``item`` and every code stay language-neutral."""
    out = {}
    for name, df in results.tables().items():
        columns = [_cell_values(df[c].tolist()) for c in df.columns]
        out[name] = list(map(list, zip(*columns))) if columns else [[] for _ in range(len(df))]
    checks = out.get("tblChecks", [])
    if len(results.check_rows) == len(checks):
        col = schema.TABLES["tblChecks"].keys.index("message")
        for row, check in zip(checks, results.check_rows):
            if check.code:
                row[col] = check_message(check.code, check.params, lang)
    return out


_AS_IS = {str, int, bool, type(None)}


def _cell_values(column: list[Any]) -> list[Any]:
    """:func:`~.tables.cell_value` of every value of a column; a column of plain text,
    whole numbers, blanks and finite decimals (most of them) is returned as it is."""
    kinds = set(map(type, column))
    if kinds <= _AS_IS or (kinds <= _AS_IS | {Decimal} and
                           all(v.is_finite() for v in column if type(v) is Decimal)):
        return column
    return [cell_value(v) for v in column]


def _canonical(v: Any) -> Any:
    """A cell value in a form that survives a save and reload: numbers as normalised
    decimal text, midnight datetimes as dates, blanks as None."""
    t = type(v)
    if t is str:
        return v.strip() or None
    if t is int:
        return str(v)   # what the Decimal route below gives for a whole number
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float, Decimal)):
        d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
        return format(d.normalize(), "f")
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def input_digest(raws: dict[str, RawTable]) -> str:
    """sha256 over the input tables' cell values (not the file bytes), so the same inputs
    always give the same digest whatever the outputs, formatting or file round trip."""
    h = hashlib.sha256()
    for name in schema.INPUT_TABLES:
        raw = raws.get(name)
        if raw is None:
            continue
        rows = [[_canonical(v) for v in r] for r in raw.rows]
        rows = [r for r in rows if r.count(None) != len(r)]
        h.update(json.dumps([name, raw.header, rows], ensure_ascii=False).encode())
    return h.hexdigest()


@dataclass
class InputsRead:
    """A book's input tables as read (raw cells), parsed into the plan, and their digest."""

    raws: dict[str, RawTable]
    lang: str
    inputs: PlanInputs
    digest: str


def read_inputs(port: BookPort) -> InputsRead:
    """Read and parse the inputs, without running the engine (for a command that only
    needs to know which inputs a book holds). Raises located InputError."""
    raws = port.raw_tables()
    return InputsRead(raws, detect_lang(raws), inputs_from_raw(raws), input_digest(raws))


def compute_outcome(read: InputsRead, *, as_of: dt.date | None = None) -> RunOutcome:
    """Run the engine on inputs :func:`read_inputs` read. Raises located InputError."""
    try:
        results = compute(read.inputs, as_of=as_of)
    except InputError as e:
        raise InputError(locate(e.problems, read.raws)) from None
    return RunOutcome(read.inputs, results, read.lang, read.digest, summarize(results), read.raws)


def read_and_compute(port: BookPort, *, as_of: dt.date | None = None) -> RunOutcome:
    """Read the inputs and run the engine; no writes. Raises located InputError."""
    return compute_outcome(read_inputs(port), as_of=as_of)


def summarize(results: Results) -> str:
    """One line for the run log and the console."""
    b = results.bonus
    total = sum(b["total"], Decimal(0)) if len(b) else Decimal(0)
    st = results.checks["status"].value_counts().to_dict() if len(results.checks) else {}
    return (f"reps={results.rep_targets['rep_id'].nunique() if len(results.rep_targets) else 0} "
            f"kpi_rows={len(results.kpi)} bonus_total={total:.2f} "
            f"checks OK={st.get('OK', 0)} WARN={st.get('WARN', 0)} FAIL={st.get('FAIL', 0)} "
            f"watchlist={len(results.watchlist)}")


def write_outputs(port: BookPort, outcome: RunOutcome) -> None:
    """Every output table and the Dashboard; touches nothing else."""
    for name, rows in output_rows(outcome.results, outcome.lang).items():
        port.write_table(name, rows, outcome.lang)
    port.refresh_dashboard(outcome.results, outcome.inputs, outcome.lang)


def log_row(action: str, outcome: RunOutcome | None, *, user: str | None = None,
            now: dt.datetime | None = None, summary: str | None = None) -> list[Any]:
    """A tblRunLog row: timestamp, user, action, input_sha256, summary."""
    return [(now or dt.datetime.now()).replace(microsecond=0), user or current_user(), action,
            outcome.digest if outcome else "", summary if summary is not None else
            (outcome.summary if outcome else "")]


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): not worth failing a run for
        return "unknown"


def recalc(port: BookPort, *, as_of: dt.date | None = None, action: str = "recalc",
           user: str | None = None, now: dt.datetime | None = None) -> RunOutcome:
    """Read, compute, write every output table and the Dashboard, append a run-log row."""
    outcome = read_and_compute(port, as_of=as_of)
    write_outputs(port, outcome)
    append_log(port, outcome, log_row(action, outcome, user=user, now=now))
    return outcome


def append_log(port: BookPort, outcome: RunOutcome, row: list[Any]) -> None:
    """Rewrite tblRunLog as its previous rows plus ``row`` (columns in contract order)."""
    raw = outcome.raws.get("tblRunLog")
    old = []
    if raw is not None:
        map_columns(raw, schema.TABLES["tblRunLog"], Problems())  # by key or either label
        cols = [raw.columns.get(k) for k in schema.TABLES["tblRunLog"].keys]
        for r in raw.rows:
            if any(v not in (None, "") for v in r):
                old.append([r[i] if i is not None and i < len(r) else None for i in cols])
    port.write_table("tblRunLog", old + [row], outcome.lang)
