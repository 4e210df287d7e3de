"""Money and ratio strings (xl_addin.core.fmt), checked against explicit expected text."""
from __future__ import annotations

from decimal import Decimal

import pytest

from xl_addin.core.fmt import percent, to_decimal, wan_yi, yuan

D = Decimal


@pytest.mark.parametrize("amount, expected", [
    (D("1234567.89"), "¥1,234,567.89"),
    (D("1234567.891"), "¥1,234,567.89"),
    (D("1234567.895"), "¥1,234,567.90"),     # half-up, not banker's rounding
    (D("0.125"), "¥0.13"),
    (D("0"), "¥0.00"),
    (D("3000"), "¥3,000.00"),
    (D("999.999"), "¥1,000.00"),
    (D("-1234.5"), "-¥1,234.50"),
    (D("-0.001"), "¥0.00"),                  # rounds to zero: no minus sign
    (280_000_000, "¥280,000,000.00"),
    ("1,234.5", "¥1,234.50"),
    (0.1, "¥0.10"),
])
def test_yuan(amount, expected):
    assert yuan(amount) == expected


def test_yuan_places():
    assert yuan(D("1234.5"), places=0) == "¥1,235"
    assert yuan(D("1234.5678"), places=3) == "¥1,234.568"


@pytest.mark.parametrize("amount, expected", [
    # 亿 (10^8): two decimals below 10亿, one below 100亿, none above; zeros dropped
    (D("280000000"), "2.8亿"),
    (D("120000000"), "1.2亿"),
    (D("123456789"), "1.23亿"),
    (D("100000000"), "1亿"),
    (D("1560000000"), "15.6亿"),
    (D("123456789012"), "1,235亿"),
    # 万 (10^4)
    (D("80000000"), "8,000万"),
    (D("45000000"), "4,500万"),
    (D("12345678"), "1,235万"),
    (D("3200000"), "320万"),
    (D("456000"), "45.6万"),
    (D("12000"), "1.2万"),
    (D("12345"), "1.23万"),
    (D("10000"), "1万"),
    # rounding up into the next unit moves to it
    (D("99995000"), "1亿"),
    (D("9999.995"), "1万"),
    # below 1万: the yuan amount, whole without decimals
    (D("3000"), "¥3,000"),
    (D("2999.5"), "¥2,999.50"),
    (D("0"), "¥0"),
    (D("9999.99"), "¥9,999.99"),
    # negatives
    (D("-45000000"), "-4,500万"),
    (D("-280000000"), "-2.8亿"),
    (D("-3000"), "-¥3,000"),
])
def test_wan_yi_zh(amount, expected):
    assert wan_yi(amount) == expected
    assert wan_yi(amount, "zh") == expected


@pytest.mark.parametrize("amount, expected", [
    (D("280000000"), "CNY 280.0m"),
    (D("45000000"), "CNY 45.0m"),
    (D("1234567"), "CNY 1.2m"),
    (D("1000000"), "CNY 1.0m"),
    (D("1200000000"), "CNY 1.2bn"),
    (D("999950000"), "CNY 1.0bn"),           # 999.95m rounds to 1,000.0m: shown as bn
    (D("12345678901"), "CNY 12.3bn"),
    (D("450000"), "CNY 450,000"),
    (D("3000"), "CNY 3,000"),
    (D("2999.5"), "CNY 2,999.50"),
    (D("-45000000"), "-CNY 45.0m"),
])
def test_wan_yi_en(amount, expected):
    assert wan_yi(amount, lang="en") == expected


def test_wan_yi_unknown_language():
    with pytest.raises(ValueError, match="unsupported language"):
        wan_yi(D("1"), lang="fr")


@pytest.mark.parametrize("ratio, expected", [
    (D("0.935"), "93.5%"),
    (D("1.2"), "120.0%"),
    (D("0.9355"), "93.6%"),
    (D("0"), "0.0%"),
    (D("12.3456"), "1,234.6%"),
    (D("-0.05"), "-5.0%"),
    (None, "—"),
])
def test_percent(ratio, expected):
    assert percent(ratio) == expected


@pytest.mark.parametrize("bad", [True, "abc", D("NaN"), D("Infinity"), float("inf")])
def test_to_decimal_refuses(bad):
    with pytest.raises(ValueError):
        to_decimal(bad)
    with pytest.raises(ValueError):
        yuan(bad)
