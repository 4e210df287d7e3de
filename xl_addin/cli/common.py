"""What every ``xl-addin`` command shares: the one place where errors become messages and
exit codes, the plain-text table, and shared options.

Exit codes: 0 done; 1 the plan has FAIL checks (``check``) or a region's email failed
(``email``); 2 bad input, a file or folder we cannot use, another run holding the
workbook, an OS error (nothing was written); 3 a crash of our own code (a line asks to
report it, the traceback follows on stderr). :class:`Group` maps them: a command raises,
it never calls ``sys.exit`` for an error.
"""
from __future__ import annotations

import errno
import traceback
import unicodedata
from decimal import Decimal
from typing import Any

import click

from ..errors import EXIT_BAD_INPUT, EXIT_CRASH, EXIT_FAIL, EXIT_OK, XlAddinError

__all__ = ["Group", "EXIT_OK", "EXIT_FAIL", "EXIT_BAD_INPUT", "EXIT_CRASH", "report",
           "os_error_line", "text_table", "lang_option", "LANG", "t"]

LANG = click.Choice(["zh", "en"])


def t(lang: str, zh: str, en: str) -> str:
    """The text in the user's language."""
    return en if lang == "en" else zh


def lang_option(help: str = "Language of the output.", default: str = "zh"):
    """The ``--lang zh|en`` option every command that writes text has."""
    return click.option("--lang", type=LANG, default=default, show_default=True, help=help)


_OS_HINTS = {
    errno.ENOSPC: "free some space and try again",
    errno.EACCES: "check the permissions of the file and its folder",
    errno.EPERM: "check the permissions of the file and its folder",
    errno.EROFS: "the disk is read-only; use another folder",
    errno.ENOENT: "check the path",
    errno.EISDIR: "give a file, not a folder",
    errno.ENOTDIR: "part of the path is a file, not a folder",
}


def os_error_line(e: OSError) -> str:
    """One line for an OS error that no layer below turned into our own error."""
    where = str(e.filename) if e.filename is not None else ""
    if e.filename2 is not None:
        where += f" -> {e.filename2}"
    why = e.strerror or str(e) or type(e).__name__
    hint = _OS_HINTS.get(e.errno)
    return (f"{where}: " if where else "") + why + (f"; {hint}" if hint else "")


def report(e: BaseException) -> int:
    """Print ``e`` to stderr as the CLI does; return its exit code."""
    if isinstance(e, XlAddinError):
        head, *rest = e.lines()
        code = e.exit_code
    elif isinstance(e, OSError):
        head, rest, code = os_error_line(e), [], EXIT_BAD_INPUT
    else:
        click.echo(f"错误 / Error: internal error in xl-addin ({type(e).__name__}: {e}); this is a "
                   "bug, please report it to the xl_addin maintainers with the lines below", err=True)
        click.echo("".join(traceback.format_exception(e)).rstrip(), err=True)
        return EXIT_CRASH
    click.echo(f"错误 / Error: {head}", err=True)
    for line in rest:
        click.echo(f"  - {line}", err=True)
    return code


class Group(click.Group):
    """A click group whose commands' errors become a message and an exit code here, and
    nowhere else: :class:`~xl_addin.errors.XlAddinError` its ``exit_code`` (2), an OS
    error 2, anything else (a bug of ours) 3 with a line asking to report it."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as e:  # noqa: BLE001 - the one place that maps them all
            if ctx.parent is not None:   # a nested group: the top one reports
                raise
            ctx.exit(report(e))


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        return f"{v:,}" if abs(v) >= 1000 else str(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def text_table(header: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table aligned for CJK and Latin text alike."""
    cells = [[_fmt(v) for v in r] for r in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(header)]

    def line(vals):
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(vals, widths)).rstrip()
    out = [line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)

