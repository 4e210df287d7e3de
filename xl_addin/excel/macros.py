"""Ribbon macros: the recalc, check, regional and email buttons, run on the open book.

Each macro takes the xlwings ``Book`` (default: the book that called it through
``RunPython``) and runs the very pipeline the CLI runs (:mod:`xl_addin.workbook.pipeline`),
reading and writing through xlwings tables and ranges, never by saving and reloading the
file. Only output tables, the Dashboard's values and the run log are written.
Invalid input shows one alert listing the problems with their cells; nothing is written.
Every other error of ours (:class:`~xl_addin.errors.XlAddinError`: a file or folder that
cannot be written, another run holding the lock, email settings) and any OS error is one
alert too (:func:`_alerting`); a crash of our own code alerts asking to report it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
from pathlib import Path
from typing import Any

import pandas as pd
import xlwings as xw

from ..errors import InputError, Problems, WorkbookError, XlAddinError
from ..workbook import pipeline, schema
from ..workbook.protection import PASSWORD_KEY, protected_sheet_keys
from ..workbook.parse import RawTable, map_columns
from ..workbook.tables import looks_like_formula

TITLE = "xl_addin"
MAX_PROBLEMS_SHOWN = 12
# Client callbacks that lift and restore a sheet's protection on an engine without COM
# (xlwings Server / Lite: the Office.js client runs them as ``runMacro`` actions, in order
# with the writes): (sheet name, password or "").
UNPROTECT_CALLBACK, PROTECT_CALLBACK = "xlAddinUnprotectSheet", "xlAddinProtectSheet"


def _excel_value(v: Any) -> Any:
    """A Python value as xlwings writes it: Decimal to float, blanks to None, and text
    that Excel would take for a formula kept as text."""
    from decimal import Decimal

    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() and abs(v) < 2**53 else float(v)
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime(v.year, v.month, v.day)
    if looks_like_formula(v):
        return "'" + v
    return v


class XlwingsBook:
    """A :class:`~xl_addin.workbook.pipeline.BookPort` over an open xlwings Book."""

    def __init__(self, book: "xw.Book"):
        self.book = book
        self._tables: dict[str, Any] | None = None
        self._password: str | None = None

    def _find(self) -> dict[str, Any]:
        if self._tables is None:
            found = {}
            for sheet in self.book.sheets:
                for table in sheet.tables:
                    if table.name in schema.TABLES:
                        found[table.name] = (sheet, table)
            self._tables = found
        return self._tables

    def raw_tables(self) -> dict[str, RawTable]:
        out = {}
        for name, (sheet, table) in self._find().items():
            header_rng = table.header_row_range
            header = ["" if v is None else str(v) for v in _row(header_rng.value)]
            body = table.data_body_range
            rows = body.options(ndim=2).value if body is not None else []
            out[name] = RawTable(name, sheet.name, header, [list(r) for r in rows or []],
                                 (header_rng.row, header_rng.column))
        self._password = _plan_password(out.get("tblPlan"))
        return out

    @contextlib.contextmanager
    def _writable(self, sheet: Any):
        """Lift ``sheet``'s protection for the writes in the block and restore it after,
        also when a write fails (Excel refuses a write to a protected sheet)."""
        lifted = _unprotect(sheet, self._password)
        try:
            yield
        finally:
            if lifted:
                _protect(sheet, self._password)

    def write_table(self, name: str, rows: list[list[Any]], lang: str) -> None:
        sheet, table = self._find()[name]
        header = ["" if v is None else str(v) for v in _row(table.header_row_range.value)]
        spec = schema.TABLES[name]
        found = RawTable(name, sheet.name, header, [])
        map_columns(found, spec, Problems())  # keep the user's column order and labels
        by_index = {i: k for k, i in found.columns.items()}
        keys = [by_index.get(i) for i in range(len(header))]
        pos = {k: i for i, k in enumerate(spec.keys)}
        data = [[_excel_value(r[pos[k]]) if k in pos else None for k in keys] for r in rows]
        if not data:
            data = [[None] * len(header)]
        df = pd.DataFrame(data, columns=header, dtype=object)
        with self._writable(sheet):
            table.update(df, index=False)

    def refresh_dashboard(self, results, inputs, lang: str) -> None:
        from ..workbook.dashboard import Formula, dashboard_cells

        title = schema.SHEETS["dashboard"].title(lang)
        names = [s.name for s in self.book.sheets]
        if title not in names:
            return  # the user removed the Dashboard: nothing to refresh
        sheet = self.book.sheets[title]
        with self._writable(sheet):
            for address, value in dashboard_cells(results.tables(), inputs, lang).items():
                rng = sheet[address]
                if isinstance(value, Formula):
                    rng.formula = value
                else:
                    rng.value = _excel_value(value)


def _plan_password(raw: RawTable | None) -> str | None:
    """The ``sheet_password`` of the Plan table as read, or None."""
    if raw is None:
        return None
    found = RawTable(raw.name, raw.sheet, raw.header, [])
    map_columns(found, schema.TABLES["tblPlan"], Problems())
    key, value = found.columns.get("key"), found.columns.get("value")
    if key is None or value is None:
        return None
    for row in raw.rows:
        if len(row) > max(key, value) and str(row[key] or "").strip() == PASSWORD_KEY:
            return str(row[value]).strip() if row[value] not in (None, "") else None
    return None


def _protected_by_design(name: str) -> bool:
    titles = {t for k in protected_sheet_keys() for t in (schema.SHEETS[k].zh, schema.SHEETS[k].en)}
    return name in titles


def _unprotect(sheet: Any, password: str | None) -> bool:
    """Unprotect ``sheet``; True when it was protected (so it is protected again after).

    Desktop Excel (COM): ``Worksheet.Unprotect`` when ``ProtectContents``. An engine
    without COM (the remote engine of xlwings Server / Lite) reports no protection state:
    a sheet the master protects by design is unprotected through the client callback
    :data:`UNPROTECT_CALLBACK`, queued before the writes."""
    api = getattr(sheet, "api", None)
    if hasattr(api, "Unprotect"):
        if not api.ProtectContents:
            return False
        try:
            api.Unprotect(password or "")
        except Exception as e:
            raise WorkbookError(f"sheet {sheet.name!r} is protected with another password: "
                               f"unprotect it, or set {PASSWORD_KEY} in the Plan table") from e
        return True
    if not _protected_by_design(sheet.name):
        return False
    sheet.book.app.macro(UNPROTECT_CALLBACK)(sheet.name, password or "")
    return True


def _protect(sheet: Any, password: str | None) -> None:
    """Protect ``sheet`` as the master is built: locked cells locked, filtering, sorting and
    column widths allowed (:func:`xl_addin.workbook.protection.protect`)."""
    api = getattr(sheet, "api", None)
    if hasattr(api, "Protect"):
        api.Protect(Password=password or "", DrawingObjects=True, Contents=True, Scenarios=True,
                    AllowFiltering=True, AllowSorting=True, AllowFormattingColumns=True,
                    AllowFormattingRows=True)
        return
    sheet.book.app.macro(PROTECT_CALLBACK)(sheet.name, password or "")


def _row(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _caller(book: "xw.Book | None") -> "xw.Book":
    return book if book is not None else xw.Book.caller()


def _alert(book: "xw.Book", text: str, *, mode: str = "info", buttons: str = "ok") -> Any:
    try:
        return book.app.alert(text, title=TITLE, buttons=buttons, mode=mode)
    except Exception:  # an engine without alerts must not turn a good run into an error
        return None


def _problems_text(e: InputError) -> str:
    lines = [f"输入有 {len(e.problems)} 处问题，未写入任何内容 / {len(e.problems)} problem(s) in the input; nothing was written:"]
    lines += [f"• {p}" for p in e.problems[:MAX_PROBLEMS_SHOWN]]
    if len(e.problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"… +{len(e.problems) - MAX_PROBLEMS_SHOWN} (xl-addin check 查看全部 / shows all)")
    return "\n".join(lines)


def _error_text(e: BaseException) -> str:
    """What an alert says about ``e``: our error's headline and details, an OS error's
    path and reason, or, for a bug of ours, a line asking to report it."""
    if isinstance(e, InputError):
        return _problems_text(e)
    if isinstance(e, XlAddinError):
        head, *rest = e.lines()
        return "\n".join([f"错误 / Error: {head}", *(f"• {line}" for line in rest[:MAX_PROBLEMS_SHOWN])])
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        return f"错误 / Error: {where}{e.strerror or e}"
    return (f"内部错误，请报告 / Internal error in xl_addin, please report it: "
            f"{type(e).__name__}: {e}")


def _alerting(macro):
    """A ribbon macro that shows any error as an alert on the book (and returns None)
    instead of xlwings' traceback window; a crash of our own code is also re-raised, so
    that its traceback reaches the log."""
    @functools.wraps(macro)
    def run(book: "xw.Book | None" = None, *args, **kwargs):
        book = _caller(book)
        try:
            return macro(book, *args, **kwargs)
        except (XlAddinError, OSError) as e:
            _alert(book, _error_text(e), mode="critical")
            return None
        except Exception as e:
            _alert(book, _error_text(e), mode="critical")
            raise
    return run


@_alerting
def recalc(book: "xw.Book | None" = None, *, now: dt.datetime | None = None) -> pipeline.RunOutcome | None:
    """重算奖金 Recalculate bonuses: every output table, the Dashboard and a run-log row."""
    book = _caller(book)
    try:
        outcome = pipeline.recalc(XlwingsBook(book), action="recalc-excel", now=now)
    except InputError as e:
        _alert(book, _problems_text(e), mode="critical")
        return None
    _alert(book, f"重算完成 / Recalculated.\n{outcome.summary}")
    return outcome


def _read_and_compute(book: "xw.Book", port: XlwingsBook | None = None) -> pipeline.RunOutcome | None:
    """The book's inputs computed; None (after an alert listing the problems) when the
    inputs are not valid."""
    try:
        return pipeline.read_and_compute(port or XlwingsBook(book))
    except InputError as e:
        _alert(book, _problems_text(e), mode="critical")
        return None


def _regional_dir(book: "xw.Book", out_dir: Path | str | None) -> Path:
    """Where the regional workbooks go: ``out_dir``, else ``regional`` beside the master."""
    return Path(out_dir) if out_dir else _master_dir(book) / "regional"


@_alerting
def check(book: "xw.Book | None" = None) -> pipeline.RunOutcome | None:
    """检查计划 Check plan: the Checks table plus a short alert; nothing else is written."""
    book = _caller(book)
    port = XlwingsBook(book)
    outcome = _read_and_compute(book, port)
    if outcome is None:
        return None
    port.write_table("tblChecks", pipeline.output_rows(outcome.results, outcome.lang)["tblChecks"],
                     outcome.lang)
    counts = outcome.results.checks["status"].value_counts().to_dict()
    text = (f"检查完成 / Checked: {counts.get('OK', 0)} OK, {counts.get('WARN', 0)} WARN, "
            f"{counts.get('FAIL', 0)} FAIL")
    _alert(book, text, mode="critical" if counts.get("FAIL") else "info")
    return outcome


def _master_dir(book: "xw.Book") -> Path:
    try:
        full = Path(book.fullname)
        if full.parent != Path("") and full.parent.exists():
            return full.parent
    except Exception:
        pass
    return Path.cwd()


@_alerting
def regional(book: "xw.Book | None" = None, out_dir: Path | str | None = None) -> list[Path] | None:
    """生成区域工作簿 Regional workbooks: one file per sales region, saved next to the master."""

    book = _caller(book)
    outcome = _read_and_compute(book)
    if outcome is None:
        return None
    target = _regional_dir(book, out_dir)
    manifest = _write_regional(book, outcome, target)
    paths = [target / e.file for e in manifest.files]
    _alert(book, f"已生成 {len(paths)} 个区域工作簿 / {len(paths)} regional workbooks written to:\n{target}")
    return paths


def _write_regional(book: "xw.Book", outcome: pipeline.RunOutcome, target: Path):
    from ..reports import regional as regional_mod

    return regional_mod.write_regional(outcome.inputs, outcome.results, target,
                                       input_sha256=outcome.digest, master_name=book.name,
                                       lang=outcome.lang)


@_alerting
def email(book: "xw.Book | None" = None, out_dir: Path | str | None = None, *,
          confirm: bool | None = None, dry_run: bool = False, settings=None) -> list | None:
    """发送邮件 Email regional workbooks: builds them, asks for confirmation, sends each to
    its regional manager with the SMTP settings of the user's config file."""
    from ..mail import email as email_mod
    from ..reports import regional as regional_mod

    book = _caller(book)
    outcome = _read_and_compute(book)
    if outcome is None:
        return None
    target = _regional_dir(book, out_dir)
    files = regional_mod.regional_files(_write_regional(book, outcome, target), target)
    if confirm is None:
        who = "\n".join(f"{f.region_name}: {f.manager} <{f.email}>" for f in files)
        answer = _alert(book, f"发送 {len(files)} 封邮件? / Send {len(files)} emails?\n{who}",
                        buttons="ok_cancel", mode="info")
        confirm = str(answer).lower() == "ok"
    if not confirm:
        return []
    try:
        results = email_mod.send_all(files, settings if settings is not None or dry_run
                                     else email_mod.load_settings(None),
                                     log_path=email_mod.send_log_path(target), dry_run=dry_run,
                                     outbox=target / "outbox", lang=outcome.lang)
    except email_mod.EmailError as e:
        _alert(book, f"邮件未发送 / Not sent:\n{e}", mode="critical")
        return None
    counts = email_mod.count_by_status(results)
    _alert(book, "邮件 / Email: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return results


def main() -> None:
    """Entry point for xlwings' standard add-in "Run main" button (see workbooks/*.py)."""
    recalc()
