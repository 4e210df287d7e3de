"""The ``xl-addin`` command line: a thin layer over the library.

Each command opens the workbook and calls one library function; the library's errors
become a clear message and an exit code in one place, :class:`.common.Group`: 0 done,
1 the plan has FAIL checks, 2 bad input or a file we cannot use (nothing is written then),
3 a crash of our own code. :mod:`.commands` holds the regional, email, explain and demo
commands.
"""
from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from ..text import label
from ..workbook import schema
from ..workbook.i18n import check_message
from .check_text import check_area, check_item, exit_on_fails
from .common import (EXIT_BAD_INPUT, EXIT_FAIL, CliError, Group, lang_option, pick,
                     say, set_lang, set_path, table, tr)

__all__ = ["main", "EXIT_FAIL", "EXIT_BAD_INPUT"]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xl_addin")
def main() -> None:
    """xl-addin: the 2026 sales plan engine behind the master workbook.

    Splits targets, checks the plan, scores KPI, computes bonuses, awards and the
    watchlist, and writes regional workbooks. Run `xl-addin COMMAND --help` for details.
    """


def _summary(outcome, lang: str) -> str:
    """The run's figures in one line of the output language."""
    r = outcome.results
    b = r.bonus
    total = sum(b["total"], Decimal(0)) if len(b) else Decimal(0)
    st = r.checks["status"].value_counts().to_dict() if len(r.checks) else {}
    return tr("summary", lang, reps=r.rep_targets["rep_id"].nunique() if len(r.rep_targets) else 0,
              kpi=len(r.kpi), bonus=f"{total:,.2f}", ok=st.get("OK", 0), warn=st.get("WARN", 0),
              fail=st.get("FAIL", 0), watch=len(r.watchlist))


def _table_name(table: str, choices) -> str:
    return pick(table, sorted(choices), "table")


@main.command()
@click.option("--sample", is_flag=True, help="Fill the 2026 plan's sample team and four quarters of actuals.")
@lang_option(help="Label language of the workbook (default zh).")
@click.option("--year", type=int, default=2026, show_default=True, help="Fiscal year of the built-in plan.")
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), required=True,
              help="Where to write the new workbook (.xlsx).")
@click.option("--force", is_flag=True, help="Replace an existing file at OUTPUT.")
def new(sample: bool, lang: str | None, year: int, output: Path, force: bool) -> None:
    """Create a fresh master planning workbook (.xlsx; an existing file only with --force)."""
    from ..workbook.master import new_master

    lang = set_lang(lang)
    if output.is_dir():
        pass   # the save says "is a folder, not a file"
    elif output.suffix.lower() != ".xlsx":
        raise CliError("new.not_xlsx", path=str(output), suffix=output.suffix or '""')
    elif os.path.lexists(output) and not force:
        raise CliError("new.exists", path=str(output))
    outcome = new_master(output, lang=lang, year=year, sample=sample)
    say("new.done_sample" if sample else "new.done", lang, path=str(output), year=year,
        summary=_summary(outcome, lang))


def _check_rows(results, lang: str) -> list[list[Any]]:
    return [[label("check_status", c.status, lang), check_area(c.area, lang),
             check_item(c.item, lang), c.stated, c.computed,
             check_message(c.code, c.params, lang)] for c in results.check_rows]


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date for the spend-to-date check (default: the Plan's as_of_date).")
@lang_option()
def check(path: Path, as_of, lang: str | None) -> None:
    """Validate the inputs and print every check; writes nothing.

    Exit 0 when all checks pass or warn, 1 when any check FAILs, 2 when the input is invalid.
    """
    from ..workbook.master import check_master

    set_path(path)
    outcome = check_master(path, as_of=as_of.date() if as_of else None)
    lang = set_lang(outcome.lang)
    head = [tr(f"check.head.{k}", lang) for k in ("status", "area", "item", "stated", "computed", "message")]
    click.echo(table(head, _check_rows(outcome.results, lang), right=(3, 4)))
    counts = outcome.results.checks["status"].value_counts().to_dict()
    click.echo("")
    say("check.total", lang, n=len(outcome.results.checks), ok=counts.get("OK", 0),
        warn=counts.get("WARN", 0), fail=counts.get("FAIL", 0))
    if counts.get("FAIL", 0):
        sys.exit(EXIT_FAIL)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Date for the spend-to-date check.")
@lang_option()
def recalc(path: Path, as_of, lang: str | None) -> None:
    """Compute every output table and save the workbook in place (previous file kept as .bak).

    Exit 0 when all checks pass or warn; 1 when any check FAILs (the outputs are still
    written, and the FAIL checks listed); 2 when the input is invalid (nothing written).
    """
    from ..workbook.master import recalc_master

    set_path(path)
    outcome = recalc_master(path, as_of=as_of.date() if as_of else None)
    lang = set_lang(outcome.lang)
    say("recalc.done", lang, path=str(path), summary=_summary(outcome, lang))
    exit_on_fails(outcome.results, lang)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--table", "table_name", required=True, metavar="TABLE",
              help="Contract table name, any case: " + ", ".join(sorted(schema.TABLES)) + ".")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"], case_sensitive=False), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="File to write (default: standard output).")
@click.option("--raw", is_flag=True,
              help="CSV: write text exactly as it is. By default text that begins with = + - @ "
                   "or a tab or carriage return gets a leading ' so that a spreadsheet does not "
                   "run it as a formula. JSON always holds the values as they are.")
@lang_option(help="Language of messages (default: the workbook's); the table keeps its codes.")
def export(path: Path, table_name: str, fmt: str, output: Path | None, raw: bool,
           lang: str | None) -> None:
    """Export one table with the contract's column keys as headers (codes, not labels)."""
    from ..workbook.master import export_table

    set_path(path)
    table_name = _table_name(table_name, schema.TABLES)
    text_out = export_table(path, table_name, fmt.lower(), raw=raw)
    if output:
        from ..storage import write_text

        write_text(output, text_out, encoding="utf-8-sig" if fmt.lower() == "csv" else "utf-8")
    else:
        click.echo(text_out, nl=False)


@main.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--table", "table_name", required=True, metavar="TABLE",
              help="Input table to replace, any case: " + ", ".join(sorted(schema.INPUT_TABLES)) + ".")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@lang_option()
def import_(path: Path, table_name: str, csv_file: Path, lang: str | None) -> None:
    """Replace an input table's rows with a CSV file (contract keys as headers).

    Exit 0 when the plan as imported passes or warns; 1 when any check FAILs (the rows are
    still imported, and the FAIL checks listed); 2 when the CSV or the workbook as it would
    be after the import is invalid (nothing written).
    """
    from ..workbook.master import import_and_check

    set_path(path)
    table_name = _table_name(table_name, schema.INPUT_TABLES)
    n, outcome = import_and_check(path, table_name, csv_file)
    lang = set_lang(outcome.lang)
    say("import.done", lang, path=str(path), table=table_name, n=n, csv=str(csv_file))
    exit_on_fails(outcome.results, lang)


@main.group()
def addin() -> None:
    """The Excel add-in (.xlam) with the xl_addin ribbon tab: build, install, uninstall."""


@addin.command("build")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write xl_addin.xlam into.")
@lang_option(help="Language of messages (default zh).")
def addin_build(out_dir: Path, lang: str | None) -> None:
    """Build xl_addin.xlam from our ribbon and VBA templates and the installed xlwings."""
    from ..excel.addin import build_addin

    say("addin.built", set_lang(lang), path=str(build_addin(out_dir)))


def _desktop_excel_here() -> bool:
    return sys.platform.startswith("win") or sys.platform == "darwin"


@addin.command("install")
@click.option("--interpreter", default=None, help="Python that Excel should run (default: this one).")
@lang_option(help="Language of messages (default zh).")
def addin_install(interpreter: str | None, lang: str | None) -> None:
    """Build the add-in and put it where Excel loads it at start (Windows XLSTART, macOS startup)."""
    from ..excel.addin import install_addin

    lang = set_lang(lang)
    if not _desktop_excel_here():
        raise CliError("addin.no_excel", ("addin.no_excel.build", {}), ("addin.no_excel.cli", {}),
                       platform=sys.platform)
    path = install_addin(interpreter=interpreter)
    say("addin.installed", lang, path=str(path))


@addin.command("uninstall")
@lang_option(help="Language of messages (default zh).")
def addin_uninstall(lang: str | None) -> None:
    """Remove the add-in and our interpreter setting."""
    from ..excel.addin import uninstall_addin

    lang = set_lang(lang)
    if not _desktop_excel_here():
        raise CliError("addin.no_excel", ("addin.no_excel.cli", {}), platform=sys.platform)
    removed = uninstall_addin()
    for p in removed:
        say("addin.removed", lang, path=str(p))
    if not removed:
        say("addin.nothing", lang)


# The regional, email, explain and demo commands are imported when one of them runs (or
# for --help): their modules (reports, mail, statements) cost a fifth of a second at start-up
# that `check` and `recalc` do not need.
main.lazy_commands.update({name: "xl_addin.cli.commands" for name in ("regional", "email", "explain", "demo")})


if __name__ == "__main__":  # pragma: no cover
    main()
