"""What every ``xl-addin`` command shares: the one place where errors become messages and
exit codes, the output language, tables and progress bars.

Exit codes: 0 done; 1 the plan has FAIL checks (``check``) or a region's email failed
(``email``); 2 bad input, a file or folder we cannot use, another run holding the
workbook, an OS error (nothing was written); 3 a crash of our own code (a line asks to
report it, the traceback follows on stderr). :class:`Group` maps them: a command raises,
it never calls ``sys.exit`` for an error.

Every word printed comes from the text catalog (:mod:`xl_addin.text`, keys ``cli.*``) in
one language: ``--lang`` when given, else the workbook's (as the command learns it, or,
for an error before that, read from the workbook named on the command line), else
Chinese. Tables are :mod:`rich` tables (rich measures CJK width); on a terminal long work
shows a rich progress bar, otherwise only plain lines are printed.
"""
from __future__ import annotations

import difflib
import errno
import io
import shutil
import sys
import traceback
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import click

from .. import text
from ..errors import EXIT_BAD_INPUT, EXIT_CRASH, EXIT_FAIL, EXIT_OK, XlAddinError

__all__ = ["Group", "EXIT_OK", "EXIT_FAIL", "EXIT_BAD_INPUT", "EXIT_CRASH", "report",
           "os_error_line", "lang_option", "LANG", "tr", "say", "CliError", "table",
           "progress", "pick", "set_lang", "set_path", "current_lang", "is_terminal"]

LANG = click.Choice(list(text.LANGS), case_sensitive=False)
_META_LANG = "xl_addin.lang"
_META_PATH = "xl_addin.path"


def tr(key: str, lang: str, **params: Any) -> str:
    """The CLI text ``cli.<key>`` in ``lang``."""
    return text.t(f"cli.{key}", lang, **params)


def say(key: str, lang: str, *, err: bool = False, **params: Any) -> None:
    """Print the CLI text ``cli.<key>``."""
    click.echo(tr(key, lang, **params), err=err)


def _remember_lang(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        value = value.lower()
        ctx.meta[_META_LANG] = value
    return value


def lang_option(help: str | None = None):
    """The ``--lang zh|en`` option every command has: the language of what it prints (and
    of what it writes, where it writes words); default the workbook's."""
    return click.option("--lang", type=LANG, default=None, callback=_remember_lang,
                        is_eager=True, expose_value=True,
                        help=help or "Language of the output (default: the workbook's; zh without one).")


def set_lang(lang: str | None) -> str:
    """Record the language a command learnt (the workbook's) unless ``--lang`` set one;
    return the language to print in."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return lang or text.DEFAULT_LANG
    if ctx.meta.get(_META_LANG) is None and lang:
        ctx.meta[_META_LANG] = lang
    return ctx.meta.get(_META_LANG) or text.DEFAULT_LANG


def set_path(path: Path | None) -> None:
    """The workbook the command works on: an error before its language is known is
    printed in that workbook's language."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and path is not None:
        ctx.meta[_META_PATH] = Path(path)


def current_lang() -> str:
    ctx = click.get_current_context(silent=True)
    return (ctx.meta.get(_META_LANG) if ctx else None) or text.DEFAULT_LANG


def _workbook_lang(path: Path | None) -> str | None:
    """The language of the workbook at ``path`` (only on the error path: reading it may
    fail for the very reason we report, then None)."""
    if path is None or not Path(path).is_file() or Path(path).suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    try:
        from ..workbook.parse import detect_lang
        from ..workbook.xlsx import XlsxBook

        return detect_lang(XlsxBook.open(path).raw_tables())
    except Exception:  # noqa: BLE001 - any failure: we only fall back to the default
        return None


class CliError(XlAddinError):
    """An error of the command line itself (a name that matches nothing, a file that
    would be overwritten): a catalog key and its params, worded in the output language
    when it is reported."""

    def __init__(self, key: str, *details: tuple[str, dict[str, Any]], **params: Any):
        super().__init__(key)
        self.key, self.params, self.details = key, params, details

    def lines_in(self, lang: str) -> list[str]:
        def fill(params: dict[str, Any]) -> dict[str, Any]:
            return {k: tr("list_sep", lang).join(v) if isinstance(v, list) else v
                    for k, v in params.items()}
        return [tr(self.key, lang, **fill(self.params))] + [tr(k, lang, **fill(p))
                                                            for k, p in self.details]

    def lines(self) -> list[str]:
        return self.lines_in(current_lang())


def pick(value: str, choices: Sequence[str], what: str, **params: Any) -> str:
    """``value`` as one of ``choices``, ignoring case and outer spaces; a near miss raises
    :class:`CliError` with "did you mean", anything else one listing the choices. ``what``
    names the catalog key ``cli.pick.<what>``."""
    norm = {text.normalise(c): c for c in choices}
    got = norm.get(text.normalise(value))
    if got is not None:
        return got
    near = difflib.get_close_matches(text.normalise(value), list(norm), n=3, cutoff=0.7)
    listing = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    if near:
        raise CliError(f"pick.{what}", ("pick.did_you_mean", {"names": [norm[n] for n in near]}),
                       value=value, **params)
    raise CliError(f"pick.{what}", ("pick.choices", {"names": listing}), value=value, **params)


_OS_HINTS = {
    errno.ENOSPC: "enospc", errno.EACCES: "eacces", errno.EPERM: "eacces",
    errno.EROFS: "erofs", errno.ENOENT: "enoent", errno.EISDIR: "eisdir",
    errno.ENOTDIR: "enotdir",
}


def os_error_line(e: OSError, lang: str | None = None) -> str:
    """One line for an OS error that no layer below turned into our own error."""
    lang = lang or current_lang()
    where = str(e.filename) if e.filename is not None else ""
    if e.filename2 is not None:
        where += f" -> {e.filename2}"
    why = e.strerror or str(e) or type(e).__name__
    hint = _OS_HINTS.get(e.errno)
    return (f"{where}: " if where else "") + why + (tr(f"os.{hint}", lang) if hint else "")


def report(e: BaseException, lang: str | None = None) -> int:
    """Print ``e`` to stderr as the CLI does (in ``lang``); return its exit code."""
    lang = lang or current_lang()
    if isinstance(e, CliError):
        head, *rest = e.lines_in(lang)
        code = e.exit_code
    elif isinstance(e, XlAddinError):
        head, *rest = e.lines()
        code = e.exit_code
    elif isinstance(e, OSError):
        head, rest, code = os_error_line(e, lang), [], EXIT_BAD_INPUT
    else:
        say("error.internal", lang, err=True, error=f"{type(e).__name__}: {e}")
        click.echo("".join(traceback.format_exception(e)).rstrip(), err=True)
        return EXIT_CRASH
    say("error.head", lang, err=True, message=head)
    for line in rest:
        click.echo(f"  - {line}", err=True)
    return code


class Group(click.Group):
    """A click group whose commands' errors become a message and an exit code here, and
    nowhere else: :class:`~xl_addin.errors.XlAddinError` its ``exit_code`` (2), an OS
    error 2, anything else (a bug of ours) 3 with a line asking to report it. The message
    is in the command's language (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: command name -> module that defines it (a click command of that name), imported
        #: only when the command is asked for
        self.lazy_commands: dict[str, str] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and name in self.lazy_commands:
            import importlib

            command = getattr(importlib.import_module(self.lazy_commands[name]), name)
            self.add_command(command, name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as e:  # noqa: BLE001 - the one place that maps them all
            if ctx.parent is not None:   # a nested group: the top one reports
                raise
            if isinstance(e, BrokenPipeError):   # `xl-addin check x | head`: the reader left
                ctx.exit(EXIT_OK)
            lang = ctx.meta.get(_META_LANG) or _workbook_lang(ctx.meta.get(_META_PATH)) \
                or text.DEFAULT_LANG
            ctx.meta[_META_LANG] = lang
            ctx.exit(report(e, lang))


# ----------------------------------------------------------------------------- output

def is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        return f"{v:,}" if abs(v) >= 1000 else str(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, right: Sequence[int] = (),
          show_header: bool = True, indent: int = 0) -> str:
    """A :mod:`rich` table as text: columns aligned for CJK and Latin text alike; on a
    terminal as wide as the terminal (long cells wrap), otherwise one line per row with no
    trailing spaces and no colours (the same text a test or a pipe reads)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD if show_header else None, show_edge=False, pad_edge=False,
              show_header=show_header, padding=(0, 1))
    for i, h in enumerate(header):
        t.add_column(h, justify="right" if i in right else "left",
                     overflow="fold", no_wrap=not is_terminal())
    for r in rows:
        t.add_row(*[_fmt(v) for v in r])
    tty = is_terminal()
    width = max(40, shutil.get_terminal_size().columns - indent) if tty else 100_000
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=tty, color_system="standard" if tty else None,
            highlight=False, markup=False, emoji=False, soft_wrap=False).print(t)
    lines = [line.rstrip() for line in buf.getvalue().rstrip("\n").split("\n")]
    if not show_header:
        lines = [line for line in lines if line]
    return "\n".join(" " * indent + line for line in lines)


@contextmanager
def progress(total: int, label: str) -> Iterator[tuple[Callable[[str], None], Callable[[str], None]]]:
    """``(advance, echo)`` for long work: on a terminal a rich progress bar (``advance(name)``
    moves it, ``echo(line)`` prints above it); otherwise no bar and ``echo`` prints plainly."""
    if not is_terminal() or total <= 0:
        yield (lambda _name: None), click.echo
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(highlight=False, markup=False, emoji=False)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[name]}"), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task(label, total=total, name="")
        yield (lambda name: bar.update(task, advance=1, name=name)), console.print
