"""Amounts of money in words: the Chinese capital amount (大写金额) and English.

:func:`rmb_upper` writes an amount the way Chinese payroll slips, cheques and invoices do
(人民银行《支付结算办法》 and 《会计基础工作规范》 art. 52)::

    12345.67   -> 壹万贰仟叁佰肆拾伍元陆角柒分
    10         -> 壹拾元整             (10..19 keep their 壹)
    10.07      -> 壹拾元零柒分         (a zero 角 before a 分 is written 零)
    1000001    -> 壹佰万零壹元整       (a run of zeros inside the number is one 零)
    120000000  -> 壹亿贰仟万元整
    0.5        -> 伍角整               (no 零元 before 角 or 分)
    0          -> 零元整

Readings where the two rules allow a choice, fixed here so every statement reads the same:
``整`` follows ``元`` and ``角`` (both rules allow it after 角, one requires it) and never
``分``; a zero units digit before the 角 (``1680.32``) is written without ``零``
(壹仟陆佰捌拾元叁角贰分), which both rules allow. Amounts are rounded half-up to the fen
first; a negative amount starts with ``负``.

:func:`english_amount` gives the English counterpart, ``"One hundred twenty thousand
yuan only"`` / ``"Ten yuan and seven fen"``.
"""
from __future__ import annotations

from decimal import Decimal

from .fmt import to_decimal
from .money import round_half_up

__all__ = ["rmb_upper", "english_amount", "amount_in_words"]

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("仟", "佰", "拾", "")
_WAN, _YI = 10**4, 10**8


def _fen(amount: Decimal | int | float | str) -> tuple[bool, int]:
    """(negative, whole fen) of an amount rounded half-up to the fen."""
    d = round_half_up(to_decimal(amount), 2)
    fen = int(d.scaleb(2))
    return fen < 0, abs(fen)


def _group(n: int) -> str:
    """1..9999 in capital digits; zeros inside the group become one 零, leading and
    trailing zeros nothing (the caller decides about a 零 before the group)."""
    out: list[str] = []
    pending_zero = False
    for digit, unit in zip(f"{n:04d}", _SMALL_UNITS):
        d = int(digit)
        if d == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(_DIGITS[d] + unit)
    return "".join(out)


def _integer(n: int) -> str:
    """A positive whole number in capital digits with 万 and 亿 (亿亿 beyond 10^16)."""
    if n >= _YI:
        high, low = divmod(n, _YI)
        words = _integer(high) + "亿"
        if low:
            words += ("零" if low < _YI // 10 else "") + _integer(low)
        return words
    if n >= _WAN:
        high, low = divmod(n, _WAN)
        words = _group(high) + "万"
        if low:
            words += ("零" if low < _WAN // 10 else "") + _group(low)
        return words
    return _group(n)


def rmb_upper(amount: Decimal | int | float | str) -> str:
    """The Chinese capital amount of ``amount`` yuan: ``Decimal("12345.67")`` ->
    ``"壹万贰仟叁佰肆拾伍元陆角柒分"`` (no ``人民币`` prefix; add it where needed)."""
    negative, fen = _fen(amount)
    if fen == 0:
        return "零元整"
    whole, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    words = _integer(whole) + "元" if whole else ""
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif fen_digit and whole:
        words += "零"
    if fen_digit:
        words += _DIGITS[fen_digit] + "分"
    else:
        words += "整"
    return ("负" if negative else "") + words


# ----------------------------------------------------------------------------- English

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))


def _below_thousand(n: int) -> str:
    parts = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        parts.append(f"{_ONES[hundreds]} hundred")
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        parts.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    elif rest:
        parts.append(_ONES[rest])
    return " ".join(parts)


def _english_integer(n: int) -> str:
    if n == 0:
        return "zero"
    parts = []
    for size, name in _SCALES:
        if n >= size:
            high, n = divmod(n, size)
            parts.append(f"{_english_integer(high)} {name}")
    if n:
        parts.append(_below_thousand(n))
    return " ".join(parts)


def english_amount(amount: Decimal | int | float | str) -> str:
    """``amount`` yuan in English words: ``"One hundred twenty thousand yuan only"``,
    ``"Ten yuan and seven fen"``, ``"Fifty fen"`` (rounded half-up to the fen)."""
    negative, fen = _fen(amount)
    whole, cents = divmod(fen, 100)
    if whole and cents:
        text = f"{_english_integer(whole)} yuan and {_english_integer(cents)} fen"
    elif cents:
        text = f"{_english_integer(cents)} fen"
    else:
        text = f"{_english_integer(whole)} yuan only"
    text = ("minus " if negative else "") + text
    return text[0].upper() + text[1:]


def amount_in_words(amount: Decimal | int | float | str, lang: str = "zh") -> str:
    """The amount in words for a statement: the capital amount (zh) or English (en)."""
    return english_amount(amount) if lang == "en" else rmb_upper(amount)
