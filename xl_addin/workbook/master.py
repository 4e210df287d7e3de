"""Library entry points for the master workbook file: new, check, recalc, export, import.

The CLI calls these one-to-one; so can any Python program (``import xl_addin``).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem, Problems
from ..core.model import default_plan
from . import schema
from .parse import RawTable, detect_lang, inputs_from_raw, map_columns, typed_rows
from .pipeline import RunOutcome, read_and_compute, recalc
from ..storage import locked
from .xlsx import WorkbookError, XlsxBook, check_not_locked, check_openable


def sample_inputs(year: int = 2026, lang: str = "zh"):
    """The built-in plan with the sample team and four quarters of sample actuals."""
    from ..core.sample import sample_actuals, sample_regions, sample_team
    from ..core.splits import cube_frame, rep_target_frame

    team = sample_team(year)
    plan = default_plan(year, lang, team=team, regions=sample_regions(lang))
    targets, _ = rep_target_frame(plan, cube_frame(plan))
    sales_targets = {(r.rep_id, r.quarter): int(r.sales_target) for r in targets.itertuples()}
    return default_plan(year, lang, team=team, regions=sample_regions(lang),
                        actuals=sample_actuals(team, sales_targets))


def new_master(path: Path | str, *, lang: str = "zh", year: int = 2026, sample: bool = False,
               now: dt.datetime | None = None) -> RunOutcome:
    """Build a master workbook (optionally with the sample team and actuals), compute its
    outputs and save it."""
    from .build import build_master

    path = Path(path)
    inputs = sample_inputs(year, lang) if sample else default_plan(year, lang)
    book = XlsxBook(build_master(inputs, lang), path)
    outcome = recalc(book, action="new", now=now)
    book.wb.calculation.fullCalcOnLoad = True
    book.save(path)
    return outcome


def check_master(path: Path | str, *, as_of: dt.date | None = None) -> RunOutcome:
    """Validate and compute without writing anything."""
    return read_and_compute(XlsxBook.open(path), as_of=as_of)


def recalc_master(path: Path | str, *, as_of: dt.date | None = None,
                  now: dt.datetime | None = None, splice: bool = True) -> RunOutcome:
    """Recompute every output table in the file and save it atomically (one .bak kept),
    holding the workbook's lock (:func:`xl_addin.storage.locked`) from reading to saving.

    ``splice=False`` loads and saves the whole workbook through openpyxl; the default keeps
    the big sheets' rows out of it (:mod:`.splice`), with the same result, much faster."""
    path = Path(path)
    check_openable(path)   # a missing file is "no such file", before any lock is taken
    with locked(path):   # read, compute and save as one step: no Run log row lost
        check_not_locked(path)
        book = XlsxBook.open(path, splice=splice, fresh_dashboard=splice)
        outcome = recalc(book, as_of=as_of, now=now)
        book.wb.calculation.fullCalcOnLoad = True
        book.save(path)
    return outcome


# ----------------------------------------------------------------------------- export / import

def _plain(v: Any) -> Any:
    """A typed value as text for CSV (numbers without float noise, dates ISO)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, Decimal):
        return format(v.normalize(), "f") if v == v.to_integral_value() else format(v, "f")
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat()
    return str(v)


def _json_value(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, (dt.datetime, dt.date)):
        return _plain(v)
    return v


def read_table(path: Path | str, table: str) -> list[dict[str, Any]]:
    """A table's rows as ``{key: typed value}`` in contract column order."""
    spec = schema.TABLES[table]
    book = XlsxBook.open(path)
    raw = book.raw_tables().get(table)
    if raw is None:
        raise InputError([Problem(table, None, None, f"table {table} ({spec.zh} / {spec.en}) is missing")])
    problems = Problems()
    map_columns(raw, spec, problems)
    rows = typed_rows(raw, spec, problems)
    problems.raise_if_any()
    return [{k: rec.get(k) for k in spec.keys} for _, rec in rows]


CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may take for the start of a formula when it opens a CSV file (OWASP,
"CSV Injection")."""


def csv_safe(v: Any) -> str:
    """A value as a CSV cell that a spreadsheet will not run: text that begins like a
    formula gets a leading single quote (OWASP's advice). Numbers stay numbers, so -5 as a
    number is written -5; the text "-5" is written '-5."""
    text = _plain(v)
    if isinstance(v, str) and text.startswith(CSV_FORMULA_STARTS):
        return "'" + text
    return text


def export_table(path: Path | str, table: str, fmt: str = "csv", *, raw: bool = False) -> str:
    """CSV or JSON text of one table, keys as headers.

    In CSV, text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
    written with a leading ``'`` so that Excel shows it instead of running it, unless
    ``raw``; JSON always holds the values as they are."""
    spec = schema.TABLES[table]
    rows = read_table(path, table)
    if fmt == "json":
        return json.dumps([{k: _json_value(v) for k, v in r.items()} for r in rows],
                          ensure_ascii=False, indent=2) + "\n"
    cell = _plain if raw else csv_safe
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(spec.keys)
    for r in rows:
        w.writerow([cell(r[k]) for k in spec.keys])
    return buf.getvalue()


def import_table(path: Path | str, table: str, csv_path: Path | str) -> int:
    """Replace an input table's rows with a CSV file whose headers are contract keys.

    Values are typed by the contract (numbers, dates, codes); text stays text, so a value
    starting with '=' is never written as a formula. Any bad cell aborts the import with
    the CSV row and column named, and the workbook is left untouched."""
    spec = schema.TABLES[table]
    if spec.direction != "in":
        raise WorkbookError(f"{table} is an output table; it is computed by recalc, not imported")
    csv_path = Path(csv_path)
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise WorkbookError(f"{csv_path}: not UTF-8 text; save the CSV as UTF-8") from None
    reader = list(csv.reader(io.StringIO(text)))
    if not reader:
        raise WorkbookError(f"{csv_path}: empty file (expected a header row of column keys)")
    header = [h.strip() for h in reader[0]]
    problems = Problems()
    raw = RawTable(table, csv_path.name, header, [[c if c != "" else None for c in r] for r in reader[1:]])
    map_columns(raw, spec, problems, lang="key")
    rows = typed_rows(raw, spec, problems)
    problems.raise_if_any()
    check_openable(Path(path))
    with locked(path):   # no recalc or import in between our read and our save
        check_not_locked(Path(path))
        book = XlsxBook.open(path)
        raws = dict(book.raw_tables())
        # The workbook as it would be after the import must be valid: check it whole (the
        # new rows with the CSV's own row and column numbers) before anything is written.
        raws[table] = raw
        inputs_from_raw(raws)
        write_imported(path, table, [[rec.get(k) for k in spec.keys] for _, rec in rows])
    return len(rows)


def write_imported(path: Path | str, table: str, rows: list[list[Any]]) -> None:
    """Save typed ``rows`` (contract key order) as input table ``table``'s data rows. Only
    that table's sheet part is rewritten (:func:`~.table_write.replace_rows`); a workbook
    that path cannot take safely is loaded and saved through openpyxl, with the same result."""
    from .. import ooxml
    from .table_write import replace_rows
    from .xlsx import _table_places, check_openable

    path = Path(path)
    check_not_locked(path)
    check_openable(path)
    try:
        pkg = ooxml.Package(path.read_bytes(), name=str(path))
    except OSError as e:
        raise WorkbookError(f"{path}: cannot be read ({e.strerror or e})") from None
    with pkg:
        _table_places(pkg, path)     # every contract table's range checked, as a full open does
        if replace_rows(path, table, rows, pkg):
            return
    book = XlsxBook.open(path)
    lang = detect_lang(book.raw_tables())
    book.write_table(table, rows, lang)
    book.save(path)
