"""The lead fields a scoring model may learn from, and how each lead's value of them is read.

Every field is turned into one categorical value (a pick-list value, a range of amounts or counts,
present or blank), so that a model's weight per value explains itself ("Lead source: Trade show").
The catalogue is data: a field's ``version`` changes whenever the way its value is derived changes,
and a model trained on another version of a field is stale (its leads are "not enough information"
until it is retrained).
"""

from __future__ import annotations

import enum
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from leadflow.activities.models import Activity, Note, RegardingTable
from leadflow.core.db import utcnow
from leadflow.leads.models import BudgetStatus, Lead, LeadSource, Need, PurchaseProcess, PurchaseTimeframe, Rating

BLANK = ""  # a field left empty is a value of its own ("No budget status")
OTHER = "~other"  # an open field's values seen too seldom to learn from, and those never seen


class Kind(enum.StrEnum):
    CHOICE = "choice"  # a pick-list: a value the model never saw (a new lead source) cannot be scored
    OPEN = "open"  # free text (country): rare and unseen values count as "other"
    RANGE = "range"  # a number in ranges
    PRESENT = "present"  # filled in or not


@dataclass(frozen=True)
class Field:
    """One field a model may use: its key, the English label and how its value is derived."""

    key: str
    label: str
    kind: Kind
    choices: type[enum.Enum] | None = None
    edges: tuple[float, ...] = ()  # RANGE: the lower bound of each range after the first
    default: bool = True
    version: int = 1
    columns: tuple[str, ...] = field(default=())

    def range_value(self, number: float | None) -> str:
        """The range a number falls in, named by its bounds ("10000-50000", "250000+"); blank for none."""
        if number is None:
            return BLANK
        bounds = (0.0, *self.edges)
        for low, high in zip(bounds, (*self.edges, None), strict=True):
            if high is None or number < high:
                return f"{_n(low)}+" if high is None else f"{_n(low)}-{_n(high)}"
        raise AssertionError("unreachable")  # pragma: no cover

    def values(self) -> list[str]:
        """Every value of a closed field (pick-list, ranges, present): the ones a model can know."""
        if self.kind is Kind.CHOICE and self.choices is not None:
            return [BLANK, *(member.value for member in self.choices)]
        if self.kind is Kind.RANGE:
            bounds = (0.0, *self.edges)
            return [BLANK] * (self.key in _NULLABLE_RANGES) + [
                f"{_n(low)}+" if high is None else f"{_n(low)}-{_n(high)}"
                for low, high in zip(bounds, (*self.edges, None), strict=True)
            ]
        if self.kind is Kind.PRESENT:
            return ["yes", "no"]
        return []


def _n(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


_NULLABLE_RANGES = {"budget_amount"}

FIELDS: tuple[Field, ...] = (
    Field("lead_source", "Lead source", Kind.CHOICE, choices=LeadSource, columns=("lead_source",)),
    Field("rating", "Rating", Kind.CHOICE, choices=Rating, columns=("rating",)),
    Field("budget_status", "Budget status", Kind.CHOICE, choices=BudgetStatus, columns=("budget_status",)),
    Field(
        "budget_amount",
        "Estimated budget",
        Kind.RANGE,
        edges=(10_000, 50_000, 250_000),
        columns=("budget_amount_base",),
    ),
    Field(
        "purchase_timeframe",
        "Purchase timeframe",
        Kind.CHOICE,
        choices=PurchaseTimeframe,
        columns=("purchase_timeframe",),
    ),
    Field("purchase_process", "Purchase process", Kind.CHOICE, choices=PurchaseProcess, columns=("purchase_process",)),
    Field("need", "Need", Kind.CHOICE, choices=Need, columns=("need",)),
    Field("decision_maker", "Identify decision maker", Kind.CHOICE, columns=("decision_maker",)),
    Field("country", "Country/Region", Kind.OPEN, columns=("address_country",)),
    Field("email_kind", "Email domain", Kind.CHOICE, columns=("email",)),
    Field("company_name", "Company name", Kind.PRESENT, columns=("company_name",)),
    Field("job_title", "Job title", Kind.PRESENT, columns=("job_title",)),
    Field("business_phone", "Business phone", Kind.PRESENT, columns=("business_phone",)),
    Field("website", "Website", Kind.PRESENT, columns=("website",)),
    Field("notes", "Notes", Kind.RANGE, edges=(1, 2, 4), columns=()),
    Field("activities", "Activities", Kind.RANGE, edges=(1, 2, 4), columns=()),
    Field("days_open", "Days open", Kind.RANGE, edges=(8, 31, 91), columns=("created_at", "closed_at")),
)
BY_KEY = {f.key: f for f in FIELDS}
DEFAULT_FIELDS = [f.key for f in FIELDS if f.default]
# Closed value lists of the fields whose values are not an enum.
_CLOSED_VALUES = {"decision_maker": [BLANK, "yes", "no"], "email_kind": [BLANK, "company", "free"]}

# Mail providers anyone can sign up to: a lead writing from one of them gave no company address.
FREE_MAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com hotmail.com hotmail.es hotmail.co.uk hotmail.fr outlook.com outlook.es
    live.com live.es msn.com yahoo.com yahoo.es yahoo.co.uk yahoo.fr ymail.com icloud.com me.com mac.com
    aol.com gmx.com gmx.de gmx.es gmx.net web.de mail.com protonmail.com proton.me pm.me zoho.com
    yandex.com yandex.ru mail.ru terra.es telefonica.net orange.fr free.fr laposte.net libero.it
    tutanota.com fastmail.com hey.com""".split()
)


def closed_values(key: str) -> list[str]:
    """The values a closed field can take (a pick-list's, the ranges'); empty for an open field."""
    return _CLOSED_VALUES.get(key) or BY_KEY[key].values()


def unknown_fields(keys: Iterable[str]) -> list[str]:
    """The keys that name no field leadflow knows (a field removed since a model was made)."""
    return [key for key in keys if key not in BY_KEY]


def _enum_value(value: Any) -> str:
    if value is None:
        return BLANK
    return str(value.value if isinstance(value, enum.Enum) else value)


def _present(value: Any) -> str:
    return "yes" if value is not None and str(value).strip() else "no"


def email_kind(email: str | None) -> str:
    """company, free (a public mail provider) or blank."""
    if not email or "@" not in email:
        return BLANK
    return "free" if email.rsplit("@", 1)[1].strip().lower() in FREE_MAIL_DOMAINS else "company"


def _days_open(row: Mapping[Any, Any], now: datetime) -> float:
    end = row["closed_at"] or now
    return max((end - row["created_at"]).total_seconds() / 86400, 0.0)


Reader = Callable[[Mapping[Any, Any], datetime], str]


def _range_reader(definition: Field, read: Callable[[Mapping[Any, Any], datetime], float | None]) -> Reader:
    labels = [definition.range_value(low) for low in (0.0, *definition.edges)]
    edges = definition.edges

    def reader(row: Mapping[Any, Any], now: datetime) -> str:
        number = read(row, now)
        return BLANK if number is None else labels[bisect_right(edges, number)]

    return reader


def _column_reader(definition: Field) -> Reader:
    name = definition.columns[0]
    if definition.kind is Kind.PRESENT:
        return lambda row, _now: _present(row[name])
    return lambda row, _now: _enum_value(row[name])


def _amount(row: Mapping[Any, Any], _now: datetime) -> float | None:
    amount: Decimal | None = row["budget_amount_base"]
    return None if amount is None else float(amount)


def _flag(row: Mapping[Any, Any], _now: datetime) -> str:
    flag = row["decision_maker"]
    return BLANK if flag is None else ("yes" if flag else "no")


# How each field's value is read from a lead row; made once, used for every lead scored.
_READERS: dict[str, Reader] = {
    **{f.key: _column_reader(f) for f in FIELDS if f.kind in (Kind.CHOICE, Kind.PRESENT) and f.columns},
    "decision_maker": _flag,
    "email_kind": lambda row, _now: email_kind(row["email"]),
    "country": lambda row, _now: (row["address_country"] or "").strip().casefold()[:80],
    "budget_amount": _range_reader(BY_KEY["budget_amount"], _amount),
    "notes": _range_reader(BY_KEY["notes"], lambda row, _now: float(row["notes_count"] or 0)),
    "activities": _range_reader(BY_KEY["activities"], lambda row, _now: float(row["activities_count"] or 0)),
    "days_open": _range_reader(BY_KEY["days_open"], _days_open),
}


def values_of(row: Mapping[Any, Any], keys: Sequence[str], *, now: datetime | None = None) -> dict[str, str]:
    """The value of each field ``keys`` names for one lead row (as ``lead_rows`` reads it)."""
    now = now or utcnow()
    return {key: _READERS[key](row, now) for key in keys}


def _count_of(model: Any) -> ColumnElement[int]:
    return (
        select(func.count())
        .select_from(model)
        .where(model.regarding_table == RegardingTable.LEADS, model.regarding_id == Lead.id)
        .scalar_subquery()
    )


_LEAD_COLUMNS = sorted({column for f in FIELDS for column in f.columns})


def lead_rows_statement() -> Select[Any]:
    """A SELECT of what scoring reads of leads: the fields' columns, the counts of notes and activities,
    and what chooses a lead's model (state, business unit, source); filter it with ``.where``."""
    table = Lead.__table__
    columns = [table.c.id, table.c.state, table.c.owning_business_unit_id, table.c.closed_at, table.c.created_at]
    columns += [table.c[name] for name in _LEAD_COLUMNS if name not in ("created_at", "closed_at")]
    if "lead_source" not in _LEAD_COLUMNS:  # pragma: no cover - the source always chooses a model
        columns.append(table.c.lead_source)
    return select(
        *columns,
        _count_of(Note).label("notes_count"),
        _count_of(Activity).label("activities_count"),
    )


def lead_rows(session: Session, lead_ids: Sequence[uuid.UUID]) -> list[Mapping[Any, Any]]:
    """The rows ``values_of`` reads, of these leads (in slices: a long IN list has limits)."""
    rows: list[Mapping[Any, Any]] = []
    ids = list(lead_ids)
    for start in range(0, len(ids), 500):
        statement = lead_rows_statement().where(Lead.id.in_(ids[start : start + 500]))
        rows.extend(row._mapping for row in session.execute(statement))
    return rows
