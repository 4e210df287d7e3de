"""Exact money and rounding.

Amounts are ``Decimal`` (yuan) at the edges and integer fen inside hot loops. Rounding is
always half-up (0.005 -> 0.01), as in Chinese payroll practice and Excel's ROUND.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from numbers import Rational

FEN = Decimal("0.01")
YUAN = Decimal("1")
Number = int | float | Decimal | Fraction


def dec(x: Number | str) -> Decimal:
    """A Decimal from an int, str, Decimal, Fraction or float (floats via their shortest repr,
    so 0.1 becomes Decimal('0.1'), never 0.1000000000000000055...)."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(x, int):
        return Decimal(x)
    if isinstance(x, float):
        return Decimal(repr(x))
    if isinstance(x, Fraction):
        return Decimal(x.numerator) / Decimal(x.denominator)
    try:
        return Decimal(str(x).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not a number: {x!r}") from None


def frac(x: Number) -> Fraction:
    """An exact Fraction from any number (floats exactly as their shortest repr reads)."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, Rational)):
        return Fraction(x)
    return Fraction(dec(x))


def round_half_up(x: Number, places: int = 2) -> Decimal:
    """Round half away from zero to ``places`` decimals, exactly (Fractions are not
    converted through binary floating point)."""
    q = Decimal(1).scaleb(-places)
    if isinstance(x, Fraction):
        scaled = x * 10**places
        n = abs(scaled.numerator) * 2 + scaled.denominator
        units = n // (2 * scaled.denominator)
        if scaled < 0:
            units = -units
        return (Decimal(units) * q).quantize(q)
    return dec(x).quantize(q, rounding=ROUND_HALF_UP)


def to_fen(amount: Number) -> int:
    """Integer fen of an amount given in yuan (rounded half-up to the fen)."""
    return int(round_half_up(amount, 2) * 100)


def from_fen(fen: int) -> Decimal:
    """Yuan with two decimals from integer fen."""
    return (Decimal(int(fen)) / 100).quantize(FEN)


def div_half_up(num: int, den: int) -> int:
    """``round_half_up(num / den)`` for integers, exactly (den > 0)."""
    if den <= 0:
        raise ValueError("denominator must be positive")
    q, r = divmod(abs(num) * 2 + den, 2 * den)
    return q if num >= 0 else -q
