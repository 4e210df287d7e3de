"""The ``xl-addin`` command line: a thin layer over the library.

Each command opens the workbook and calls one library function; the library's errors
become a clear message and an exit code in one place, :class:`.common.Group`: 0 done,
1 the plan has FAIL checks, 2 bad input or a file we cannot use (nothing is written then),
3 a crash of our own code. :mod:`.commands` holds the regional, email, explain and demo
commands.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..workbook import schema
from .commands import COMMANDS
from .common import EXIT_BAD_INPUT, EXIT_FAIL, Group, lang_option, text_table

__all__ = ["main", "text_table", "EXIT_FAIL", "EXIT_BAD_INPUT"]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xl_addin")
def main() -> None:
    """xl-addin: the 2026 sales plan engine behind the master workbook.

    Splits targets, checks the plan, scores KPI, computes bonuses, awards and the
    watchlist, and writes regional workbooks. Run `xl-addin COMMAND --help` for details.
    """


@main.command()
@click.option("--sample", is_flag=True, help="Fill the 2026 plan's sample team and four quarters of actuals.")
@lang_option(help="Label language.")
@click.option("--year", type=int, default=2026, show_default=True, help="Fiscal year of the built-in plan.")
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), required=True,
              help="Where to write the new workbook (.xlsx).")
def new(sample: bool, lang: str, year: int, output: Path) -> None:
    """Create a fresh master planning workbook."""
    from ..workbook.master import new_master

    outcome = new_master(output, lang=lang, year=year, sample=sample)
    click.echo(f"{output}: {'sample ' if sample else ''}master workbook for {year} written ({lang}); {outcome.summary}")


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date for the spend-to-date check (default: the Plan's as_of_date).")
def check(path: Path, as_of) -> None:
    """Validate the inputs and print every check; writes nothing.

    Exit 0 when all checks pass or warn, 1 when any check FAILs, 2 when the input is invalid.
    """
    from ..workbook.master import check_master

    outcome = check_master(path, as_of=as_of.date() if as_of else None)
    df = outcome.results.checks
    rows = [[r.status, r.area, r.item, r.stated, r.computed, r.message] for r in df.itertuples()]
    click.echo(text_table(["status", "area", "item", "stated", "computed", "message"], rows))
    counts = df["status"].value_counts().to_dict()
    click.echo(f"\n{len(df)} checks: {counts.get('OK', 0)} OK, {counts.get('WARN', 0)} WARN, {counts.get('FAIL', 0)} FAIL")
    if counts.get("FAIL", 0):
        sys.exit(EXIT_FAIL)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Date for the spend-to-date check.")
def recalc(path: Path, as_of) -> None:
    """Compute every output table and save the workbook in place (previous file kept as .bak).

    Exit 0 when all checks pass or warn; 1 when any check FAILs (the outputs are still
    written, and the FAIL checks listed); 2 when the input is invalid (nothing written).
    """
    from ..workbook.master import recalc_master

    outcome = recalc_master(path, as_of=as_of.date() if as_of else None)
    click.echo(f"{path}: recalculated; {outcome.summary}")
    df = outcome.results.checks
    fails = df[df["status"] == "FAIL"]
    if len(fails):
        click.echo(f"{len(fails)} FAIL check(s):", err=True)
        for r in fails.itertuples():
            click.echo(f"  FAIL {r.area}: {r.item}: {r.message}", err=True)
        sys.exit(EXIT_FAIL)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--table", "table", required=True, type=click.Choice(sorted(schema.TABLES)), help="Contract table name.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="File to write (default: standard output).")
@click.option("--raw", is_flag=True,
              help="CSV: write text exactly as it is. By default text that begins with = + - @ "
                   "or a tab or carriage return gets a leading ' so that a spreadsheet does not "
                   "run it as a formula. JSON always holds the values as they are.")
def export(path: Path, table: str, fmt: str, output: Path | None, raw: bool) -> None:
    """Export one table with the contract's column keys as headers."""
    from ..workbook.master import export_table

    text = export_table(path, table, fmt, raw=raw)
    if output:
        from ..storage import write_text

        write_text(output, text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
    else:
        click.echo(text, nl=False)


@main.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--table", "table", required=True, type=click.Choice(sorted(schema.INPUT_TABLES)), help="Input table to replace.")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(path: Path, table: str, csv_file: Path) -> None:
    """Replace an input table's rows with a CSV file (contract keys as headers)."""
    from ..workbook.master import import_table

    n = import_table(path, table, csv_file)
    click.echo(f"{path}: {table} replaced with {n} row(s) from {csv_file}")


@main.group()
def addin() -> None:
    """The Excel add-in (.xlam) with the xl_addin ribbon tab: build, install, uninstall."""


@addin.command("build")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write xl_addin.xlam into.")
def addin_build(out_dir: Path) -> None:
    """Build xl_addin.xlam from our ribbon and VBA templates and the installed xlwings."""
    from ..excel.addin import build_addin

    click.echo(str(build_addin(out_dir)))


@addin.command("install")
@click.option("--interpreter", default=None, help="Python that Excel should run (default: this one).")
def addin_install(interpreter: str | None) -> None:
    """Build the add-in and put it where Excel loads it at start (Windows XLSTART, macOS startup)."""
    from ..excel.addin import install_addin

    path = install_addin(interpreter=interpreter)
    click.echo(f"installed {path}; restart Excel to see the 销售工具 tab")


@addin.command("uninstall")
def addin_uninstall() -> None:
    """Remove the add-in and our interpreter setting."""
    from ..excel.addin import uninstall_addin

    for p in uninstall_addin():
        click.echo(f"removed {p}")


for _command in COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
