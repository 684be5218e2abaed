"""One formatter for money, numbers and dates, in the reader's language (Babel)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from leadflow.core.formatting import (
    amount_input,
    format_day,
    format_moment,
    format_money,
    format_number,
    parse_amount,
)


def test_money_reads_the_spanish_way_and_the_english_way() -> None:
    amount = Decimal("25000.50")
    assert format_money(amount, "EUR", "es") == "25.000,50\xa0€"
    assert format_money(amount, "EUR", "en") == "€25,000.50"
    assert format_money(Decimal("1234.5"), "USD", "en") == "US$1,234.50"


def test_blank_stays_blank() -> None:
    assert format_money(None, "EUR", "es") == ""
    assert format_number(None, "en") == ""
    assert format_day(None, "es") == ""
    assert amount_input(None, "es") == ""


def test_an_amount_is_typed_with_cents_and_the_locale_decimal_mark_and_no_grouping() -> None:
    assert amount_input(Decimal("25000.5"), "es") == "25000,50"
    assert amount_input(Decimal("25000.5"), "en") == "25000.50"
    assert amount_input(Decimal("0.1234"), "en") == "0.1234"


@pytest.mark.parametrize(
    ("typed", "language", "amount"),
    [
        ("25.000,50", "es", "25000.50"),
        ("25000,5", "es", "25000.5"),
        ("25,000.50", "en", "25000.50"),
        ("25000.50", "es", "25000.50"),
    ],
)
def test_an_amount_typed_either_way_reads_back(typed: str, language: str, amount: str) -> None:
    assert parse_amount(typed, language) == Decimal(amount)


def test_text_that_is_no_amount_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_amount("veinte", "es")


def test_days_and_moments_in_the_reader_language_and_time_zone() -> None:
    assert format_day(date(2026, 11, 26), "es") == "26 nov 2026"
    assert format_day(date(2026, 11, 26), "en") == "26 Nov 2026"
    moment = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert format_moment(moment, "en", time_zone="Europe/Madrid") == "26 Nov 2026, 10:30:00"
    assert format_moment(moment, "en", time_zone="UTC") == "26 Nov 2026, 09:30:00"
