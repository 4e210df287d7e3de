"""Invalid input, reported all at once.

The core never stops at the first bad value: it collects every :class:`Problem` (table, row,
column, message) into one :class:`InputError`. The workbook layer adds the sheet and cell of
each problem, and the CLI prints them; nobody sees a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Iterator


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


class InputError(ValueError):
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


class WorkbookError(Exception):
    """A workbook that cannot be opened or saved; the message says why and what to do
    (the CLI's exit 2). Also importable from :mod:`xl_addin.workbook.xlsx`."""
