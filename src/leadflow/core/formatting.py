"""One way to write money, numbers and dates for people, in their language (Babel).

Every page, the command line, and later exports and printed documents use these, so that an
amount reads "25.000,50 €" in Spanish and "€25,000.50" in English wherever it appears. Typed input
(a form field) uses ``amount_input`` and ``parse_amount``: no grouping, the locale's decimal mark.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.numbers import NumberFormatError, format_currency, format_decimal, parse_decimal
from babel.numbers import format_percent as _format_percent

# The Babel locale of each language leadflow speaks.
LOCALES = {"en": "en_GB", "es": "es_ES"}
DEFAULT_TIME_ZONE = "Europe/Madrid"


def locale_of(language: str | None) -> str:
    """The Babel locale for a language code (English when unknown)."""
    return LOCALES.get(language or "en", "en_GB")


def format_money(amount: Decimal | float | None, currency: str | None, language: str | None) -> str:
    """An amount with its currency: "25.000,50 €" (es), "€25,000.50" (en); blank for None."""
    if amount is None:
        return ""
    return format_currency(amount, currency or "EUR", locale=locale_of(language))


def format_number(value: Decimal | float | int | None, language: str | None) -> str:
    """A number with the locale's grouping and decimal mark; blank for None."""
    return "" if value is None else format_decimal(value, locale=locale_of(language))


def format_percent(value: float | Decimal | None, language: str | None) -> str:
    """A fraction as a percentage (0.25 → "25 %" in Spanish); blank for None."""
    return "" if value is None else _format_percent(value, locale=locale_of(language))


def format_day(value: date | datetime | None, language: str | None, *, format: str = "medium") -> str:
    """A calendar day in the locale's form; a timestamp gives its UTC day."""
    if value is None:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    return _format_date(day, format=format, locale=locale_of(language))


def format_moment(
    value: datetime | None, language: str | None, *, format: str = "medium", time_zone: str | tzinfo = DEFAULT_TIME_ZONE
) -> str:
    """A timestamp in the reader's time zone and locale."""
    if value is None:
        return ""
    return _format_datetime(value, format=format, locale=locale_of(language), tzinfo=time_zone)


def amount_input(value: Decimal | None, language: str | None) -> str:
    """An amount as a person types it: the locale's decimal mark, no grouping, cents always shown
    ("25000,50" in Spanish, "25000.50" in English)."""
    if value is None:
        return ""
    return format_decimal(value, format="0.00##", locale=locale_of(language))


def parse_amount(text: str, language: str | None) -> Decimal:
    """An amount typed in the user's locale ("25.000,50" in Spanish) or with a plain decimal point.

    Raises ValueError for text that is neither.
    """
    try:
        return parse_decimal(text, locale=locale_of(language), strict=True)
    except NumberFormatError:
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(text) from None
