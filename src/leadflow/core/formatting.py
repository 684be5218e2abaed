"""One way to write money, numbers and dates for people, in their language (Babel).

Every page, the command line, and later exports and printed documents use these, so that an
amount reads "25.000,50 €" in Spanish and "€25,000.50" in English wherever it appears. Typed input
(a form field) uses ``amount_input`` and ``parse_amount``: no grouping, the locale's decimal mark.

Moments are stored in UTC and shown in the reader's time zone: their own, else the organisation's
default, else UTC (``resolve_time_zone``; ``leadflow.organisation.service.time_zone_of`` reads the
two settings for an actor). An exporter writes a moment for people with ``format_moment`` and the
zone ``time_zone_of`` gives, as the pages and the command line do; machine-readable output (the
API's JSON, ``--json``) keeps UTC ISO 8601 with its offset.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.numbers import NumberFormatError, format_currency, format_decimal, parse_decimal
from babel.numbers import format_percent as _format_percent

# The Babel locale of each language leadflow speaks.
LOCALES = {"en": "en_GB", "es": "es_ES"}
# The time zone of a new organisation, and of a reader with no zone set (or one no longer known).
DEFAULT_TIME_ZONE = "UTC"
# Names the system's time zone database holds that are no place to choose: the machine's own zone
# (which differs between machines) and placeholders.
_NOT_CHOOSABLE = frozenset({"localtime", "posixrules", "Factory"})


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


# ---------------------------------------------------------------------------------------------- time zones


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name the system knows, sorted: the choices of a time zone field."""
    return tuple(sorted(available_timezones() - _NOT_CHOOSABLE))


@cache
def _names_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in time_zone_names()}


def known_time_zone(name: str | None) -> str | None:
    """The IANA name as the time zone database spells it ("europe/madrid" gives "Europe/Madrid"),
    or None when ``name`` names no time zone."""
    if not name:
        return None
    return _names_by_folded_name().get(name.strip().casefold())


def resolve_time_zone(own: str | None, organisation: str | None) -> ZoneInfo:
    """The zone a reader sees times in: their own, else the organisation's default, else UTC.

    A stored name the time zone database no longer knows is passed over rather than refused, so that
    a page never fails over it.
    """
    for name in (own, organisation):
        known = known_time_zone(name)
        if known is not None:
            try:
                return ZoneInfo(known)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo(DEFAULT_TIME_ZONE)


def local_moment(value: datetime, time_zone: str | tzinfo = DEFAULT_TIME_ZONE) -> datetime:
    """The same instant on the clock of ``time_zone``; a moment without an offset is taken as UTC."""
    zone = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(zone)


def format_day(
    value: date | datetime | None,
    language: str | None,
    *,
    format: str = "medium",
    time_zone: str | tzinfo = DEFAULT_TIME_ZONE,
) -> str:
    """A calendar day in the locale's form; a timestamp gives its day in ``time_zone``."""
    if value is None:
        return ""
    day = local_moment(value, time_zone).date() if isinstance(value, datetime) else value
    return _format_date(day, format=format, locale=locale_of(language))


def format_moment(
    value: datetime | None, language: str | None, *, format: str = "medium", time_zone: str | tzinfo = DEFAULT_TIME_ZONE
) -> str:
    """A timestamp on the clock of the reader's time zone, in their locale: what pages, the command
    line and exports write. ``format`` is a Babel format name (short, medium, long) or pattern."""
    if value is None:
        return ""
    return _format_datetime(local_moment(value, time_zone), format=format, locale=locale_of(language))


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
