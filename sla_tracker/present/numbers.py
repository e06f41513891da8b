"""Numbers, amounts and percentages as people read them, per language (Babel's CLDR data):
``24 000,00 €`` / ``€24,000.00``, ``62,1 %`` / ``62.1%``, ``1,46`` / ``1.46``.

Stable JSON and CSV keep plain ``1234.50`` amounts and never come through here.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal, format_percent

from sla_tracker.present.i18n import babel_locale


def money(amount: Decimal | float, currency: str, lang: str) -> str:
    """An amount with its currency, always to the cent: "24 000,00 €", "€24,000.00"."""
    return format_currency(amount, currency, locale=babel_locale(lang))


def percent(value: float, lang: str) -> str:
    """A percentage given out of 100, as many decimals as it has: "62,1 %", "100 %"."""
    fraction = Decimal(str(value)) / 100  # 33.3 stays 33.3, not 33.299999999999997
    return format_percent(fraction, locale=babel_locale(lang), decimal_quantization=False)


def number(value: Decimal | float, lang: str, *, decimals: int = 2) -> str:
    """A decimal number rounded to ``decimals`` places at most: "1,46", "1 234,5"."""
    pattern = "#,##0." + "#" * decimals if decimals else "#,##0"
    return format_decimal(value, pattern, locale=babel_locale(lang))
