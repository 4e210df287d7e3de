"""Human-readable money and ratio strings for emails and reports.

Pure functions, no locale dependence: the output is the same on every machine.

* :func:`yuan` gives the exact amount, ``¥1,234,567.89``.
* :func:`wan_yi` gives the short form a Chinese reader expects, ``2.8亿``, ``4,500万`` or
  ``¥3,000``; in English ``CNY 280.0m``, ``CNY 1.2bn`` or ``CNY 3,000``.
* :func:`percent` gives a ratio as ``93.5%``.

Rounding is half-up (away from zero on ties), as everywhere else in xl_addin.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ["to_decimal", "yuan", "wan_yi", "percent"]

_WAN = Decimal(10) ** 4
_YI = Decimal(10) ** 8
_THOUSAND = Decimal(10) ** 3
_MILLION = Decimal(10) ** 6
_BILLION = Decimal(10) ** 9


def to_decimal(amount: Decimal | int | float | str) -> Decimal:
    """``amount`` as a finite Decimal (floats via their shortest repr, so 0.1 stays 0.1).

    Raises ``ValueError`` for booleans, text that is not a number, NaN and infinities.
    """
    if isinstance(amount, bool):
        raise ValueError("a boolean is not an amount")
    try:
        if isinstance(amount, Decimal):
            d = amount
        elif isinstance(amount, float):
            d = Decimal(repr(amount))
        elif isinstance(amount, int):
            d = Decimal(amount)
        else:
            d = Decimal(str(amount).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not an amount: {amount!r}") from None
    if not d.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    return d


def _round(x: Decimal, places: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _grouped(x: Decimal, places: int) -> str:
    """Non-negative ``x`` rounded to ``places`` decimals with thousands separators."""
    return f"{_round(x, places):,.{places}f}"


def _strip_zeros(text: str) -> str:
    """``"2.80"`` -> ``"2.8"``, ``"3.00"`` -> ``"3"``; text without a point is unchanged."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _sign(d: Decimal, body: str) -> str:
    # A value that rounds to zero is shown without a minus sign.
    if d < 0 and any(ch in "123456789" for ch in body):
        return "-" + body
    return body


def yuan(amount: Decimal | int | float | str, places: int = 2) -> str:
    """The exact amount in yuan: ``yuan(Decimal("1234567.891"))`` -> ``"¥1,234,567.89"``.

    Negative amounts read ``"-¥1,234.00"``. ``places`` sets the decimals shown (default 2).
    """
    d = to_decimal(amount)
    return _sign(d, "¥" + _grouped(abs(d), places))


def _short_unit(a: Decimal, unit: Decimal) -> str:
    """``a / unit`` with about three significant digits: 2 decimals below 10, 1 below 100,
    none from 100 on (trailing zeros dropped)."""
    v = a / unit
    places = 2 if v < 10 else 1 if v < 100 else 0
    return _strip_zeros(_grouped(v, places))


def _small_yuan(a: Decimal, prefix: str) -> str:
    """Whole amounts without decimals (``¥3,000``), others with two (``¥2,999.50``)."""
    if _round(a, 2) == _round(a, 0):
        return prefix + _grouped(a, 0)
    return prefix + _grouped(a, 2)


def wan_yi(amount: Decimal | int | float | str, lang: str = "zh") -> str:
    """A short, readable amount.

    Chinese (``lang="zh"``, the default):

    * from 1亿 (10^8) on: ``"2.8亿"``, ``"1.23亿"``, ``"15.6亿"``, ``"1,234亿"``;
    * from 1万 (10^4) on: ``"4,500万"``, ``"1,235万"``, ``"45.6万"``, ``"1.2万"``;
    * below 1万: the yuan amount, ``"¥3,000"`` or ``"¥2,999.50"``.

    English (``lang="en"``): ``"CNY 1.2bn"`` from 10^9, ``"CNY 280.0m"`` from 10^6 (one
    decimal), below that ``"CNY 3,000"`` / ``"CNY 450,000"``.

    A value that rounds up into the next unit moves to it (99,995,000 is ``"1亿"``, not
    ``"10,000万"``). Negative amounts get a leading ``-``.
    """
    d = to_decimal(amount)
    a = abs(d)
    if lang == "en":
        if a >= _MILLION:
            millions = _round(a / _MILLION, 1)
            if millions >= _THOUSAND:
                body = f"CNY {_grouped(a / _BILLION, 1)}bn"
            else:
                body = f"CNY {millions:,.1f}m"
        else:
            body = _small_yuan(a, "CNY ")
        return _sign(d, body)
    if lang != "zh":
        raise ValueError(f"unsupported language {lang!r} (use 'zh' or 'en')")
    if a >= _YI:
        body = _short_unit(a, _YI) + "亿"
    elif a >= _WAN:
        wan = _short_unit(a, _WAN)
        if Decimal(wan.replace(",", "")) >= _WAN:  # rounded up to 10,000万
            body = _short_unit(a, _YI) + "亿"
        else:
            body = wan + "万"
    else:
        body = _small_yuan(a, "¥")
        if body == "¥10,000":  # 9,999.995 rounds up to a whole 万
            body = "1万"
    return _sign(d, body)


def percent(ratio: Decimal | int | float | str | None, places: int = 1) -> str:
    """A ratio as a percentage: ``percent(Decimal("0.935"))`` -> ``"93.5%"``.

    ``None`` (e.g. attainment against a zero target) gives ``"—"``.
    """
    if ratio is None:
        return "—"
    d = to_decimal(ratio) * 100
    return _sign(d, f"{_round(abs(d), places):,.{places}f}%")
