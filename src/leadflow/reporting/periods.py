"""Calendar periods the pipeline is read by: a month (2026-11), a quarter (2026-Q4) or a year (2026).

The board filters open opportunities by the period their estimated close date falls in, and the
forecast sums each period; both name a period with the same key. Relative periods (this quarter,
next month...) are resolved against a day the caller gives: today where the user is.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date

from leadflow.core.errors import ValidationFailed

PeriodKind = enum.StrEnum("PeriodKind", "MONTH QUARTER YEAR")

_KEY = re.compile(r"^(?P<year>\d{4})(?:-Q(?P<quarter>\d)|-(?P<month>\d{2}))?$")
FIRST_YEAR, LAST_YEAR = 1900, 2999


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter or year: the days from ``start`` up to, not including, ``end``."""

    start: date
    end: date
    kind: PeriodKind

    @property
    def key(self) -> str:
        """The period's name in URLs, the API and the command line: 2026-11, 2026-Q4 or 2026."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def last_day(self) -> date:
        """The period's last day (``end`` is the day after it)."""
        return date.fromordinal(self.end.toordinal() - 1)

    def following(self, steps: int = 1) -> Period:
        """The period of the same kind ``steps`` periods later (earlier when negative)."""
        months = _MONTHS[self.kind] * steps
        index = self.start.year * 12 + self.start.month - 1 + months
        return _period(index // 12, index % 12 + 1, self.kind)

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


_MONTHS = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}


def _period(year: int, first_month: int, kind: PeriodKind) -> Period:
    index = year * 12 + first_month - 1 + _MONTHS[kind]
    return Period(date(year, first_month, 1), date(index // 12, index % 12 + 1, 1), kind)


def invalid_period(value: str, *, field: str = "period") -> ValidationFailed:
    """The refusal of a period key that names no month, quarter or year."""
    message = f"{value!r} is not a period: write a year (2026), a quarter (2026-Q4) or a month (2026-11)."
    return ValidationFailed(
        f"{field}: {message}",
        code="invalid_period",
        details={"fields": [{"field": field, "code": "invalid_period", "message": message}]},
    )


def parse_period(value: str, *, field: str = "period") -> Period:
    """The period a key names: ``2026`` (a year), ``2026-Q4`` (a quarter) or ``2026-11`` (a month)."""
    found = _KEY.match(value.strip()) if isinstance(value, str) else None
    if found is None or not FIRST_YEAR <= int(found["year"]) <= LAST_YEAR:
        raise invalid_period(str(value), field=field)
    year = int(found["year"])
    if found["quarter"] is not None:
        quarter = int(found["quarter"])
        if not 1 <= quarter <= 4:
            raise invalid_period(value, field=field)
        return _period(year, 3 * quarter - 2, PeriodKind.QUARTER)
    if found["month"] is not None:
        month = int(found["month"])
        if not 1 <= month <= 12:
            raise invalid_period(value, field=field)
        return _period(year, month, PeriodKind.MONTH)
    return _period(year, 1, PeriodKind.YEAR)


def period_containing(day: date, kind: PeriodKind) -> Period:
    """The month, quarter or year ``day`` falls in."""
    first_month = {PeriodKind.MONTH: day.month, PeriodKind.QUARTER: 3 * ((day.month - 1) // 3) + 1, PeriodKind.YEAR: 1}[
        kind
    ]
    return _period(day.year, first_month, kind)
