"""The package's one error hierarchy, and invalid input reported all at once.

Every error we raise on purpose derives from :class:`XlAddinError`, which carries the exit
code the CLI gives it (2: bad input, a file we cannot use, an OS problem; nothing was
written). Each front end turns it into its own message: the CLI prints
:meth:`XlAddinError.lines` to stderr and exits with :attr:`~XlAddinError.exit_code`
(:mod:`xl_addin.cli.common`, the one place that maps errors to exit codes), the ribbon
macros show them in an alert, the UDFs put them in the cell. Anything else escaping a
command is a bug of ours: exit :data:`EXIT_CRASH` with a line asking to report it.

The core never stops at the first bad value: it collects every :class:`Problem` (table, row,
column, message) into one :class:`InputError`. The workbook layer adds the sheet and cell of
each problem, and the CLI prints them; nobody sees a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Iterator

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_CRASH = 0, 1, 2, 3
"""Exit codes: done; the plan has FAIL checks (or a region's email failed); bad input or a
file or folder we cannot use (nothing written); a crash of our own code (please report)."""


class XlAddinError(Exception):
    """Base of every error xl_addin raises on purpose; the message says what and what to do.

    ``exit_code`` is what the CLI exits with (2 unless a subclass says otherwise).
    :meth:`lines` is the message as a headline and detail lines, for any front end."""

    exit_code: int = EXIT_BAD_INPUT

    def lines(self) -> list[str]:
        """The headline, then one line per detail (no bullets)."""
        text = str(self) or type(self).__name__
        head, *rest = text.splitlines()
        return [head, *(line.strip().removeprefix("- ") for line in rest if line.strip())]


class WorkbookError(XlAddinError):
    """A workbook (or another file or folder) that cannot be opened or saved; the message
    names the path, says why and what to do. (Also importable from
    :mod:`xl_addin.workbook.xlsx`.)"""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    ``table`` is the contract table name (``tblActuals``); ``row`` the 1-based data row in
    that table when known; ``key`` the row's business key (``R001/Q2``) when it has one;
    ``column`` the contract column key. ``sheet`` and ``cell`` are filled in by the
    workbook layer, which knows where the table sits.
    """

    table: str
    row: int | None
    column: str | None
    message: str
    key: str | None = None
    sheet: str | None = None
    cell: str | None = None

    def located(self, sheet: str | None = None, cell: str | None = None) -> "Problem":
        return replace(self, sheet=sheet or self.sheet, cell=cell or self.cell)

    def where(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        parts.append(f"table {self.table}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.key:
            parts.append(f"({self.key})")
        if self.column:
            parts.append(f"column {self.column}")
        if self.cell:
            parts.append(f"cell {self.cell}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


class InputError(XlAddinError, ValueError):
    """Invalid input: carries every problem found, not only the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input"
        return head + ":\n" + "\n".join(f"  - {p}" for p in self.problems)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)

    def lines(self) -> list[str]:
        n = len(self.problems)
        return [f"{n} problem(s) in the input; nothing was written.", *map(str, self.problems)]


class Problems:
    """Collects problems while a table is read or checked; raises them together."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, table: str, row: int | None, column: str | None, message: str,
            key: str | None = None) -> None:
        self.items.append(Problem(table, row, column, message, key))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)
