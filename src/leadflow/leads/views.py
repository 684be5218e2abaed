"""The lead views of §10 with filter, sort, search and keyset paging."""

from __future__ import annotations

import base64
import binascii
import enum
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, tuple_

from leadflow.db import Money, utcnow
from leadflow.errors import ValidationFailed
from leadflow.leads.models import Lead, LeadSource, LeadState, LeadStatusReason, Rating
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege
from leadflow.uow import UnitOfWork


class LeadView(enum.StrEnum):
    """The system views of §10."""

    MY_OPEN = "my-open"
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"
    OPENED_THIS_WEEK = "opened-this-week"
    OPENED_LAST_WEEK = "opened-last-week"


_NO_BUDGET = Decimal(-1)



def _text(column: Any) -> Any:
    """Text sorts without regard to letter case, blanks first (coalesce keeps keyset paging total)."""
    return func.lower(func.coalesce(column, ""))


def _by_meaning(column: Any, order: list[str]) -> Any:
    """Pick-list values sort by what they mean (hot before warm), not alphabetically."""
    return case({value: rank for rank, value in enumerate(order, start=1)}, value=column, else_=0)


# Sortable columns and the SQL expression each sorts by.
SORTABLE: dict[str, Any] = {
    "created_at": Lead.created_at,
    "modified_at": Lead.modified_at,
    "topic": _text(Lead.topic),
    "full_name": _text(Lead.full_name),
    "last_name": _text(Lead.last_name),
    "company_name": _text(Lead.company_name),
    "email": _text(Lead.email),
    "status_reason": _by_meaning(Lead.status_reason, [reason.value for reason in LeadStatusReason]),
    "rating": _by_meaning(Lead.rating, [Rating.HOT.value, Rating.WARM.value, Rating.COLD.value]),
    "budget_amount": func.coalesce(Lead.budget_amount, literal(_NO_BUDGET, Money())),
}
_DATETIME_KEYS = {"created_at", "modified_at"}
_INTEGER_KEYS = {"status_reason", "rating"}
MAX_PAGE = 500


def start_of_week(now: datetime) -> datetime:
    """Monday 00:00 UTC of the week containing ``now``."""
    monday = now - timedelta(days=now.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def view_condition(view: LeadView, *, actor: Actor, now: datetime) -> ColumnElement[bool]:
    """The SQL condition that defines a view."""
    week = start_of_week(now)
    return {
        LeadView.MY_OPEN: and_(Lead.state == LeadState.OPEN, Lead.owner_user_id == actor.user_id),
        LeadView.OPEN: Lead.state == LeadState.OPEN,
        LeadView.CLOSED: Lead.state.in_([LeadState.QUALIFIED, LeadState.DISQUALIFIED]),
        LeadView.ALL: literal(True),
        LeadView.OPENED_THIS_WEEK: Lead.created_at >= week,
        LeadView.OPENED_LAST_WEEK: and_(
            Lead.created_at >= week - timedelta(days=7), Lead.created_at < week
        ),
    }[view]


@dataclass(frozen=True)
class LeadQuery:
    """What a caller asks of a lead list."""

    view: LeadView = LeadView.MY_OPEN
    q: str | None = None
    sort: str = "-created_at"
    limit: int = 50
    cursor: str | None = None
    state: LeadState | None = None
    status_reason: LeadStatusReason | None = None
    rating: Rating | None = None
    lead_source: LeadSource | None = None
    owner_user_id: uuid.UUID | None = None


@dataclass
class LeadPage:
    """One page of a view and the cursor of the next, if any."""

    items: list[Lead]
    next_cursor: str | None


def _parse_sort(sort: str) -> tuple[str, bool]:
    descending = sort.startswith("-")
    key = sort.lstrip("-+ ")
    if key not in SORTABLE:
        raise ValidationFailed(
            f"Cannot sort by {key!r}; sort by one of {', '.join(sorted(SORTABLE))}, "
            "with a leading '-' for descending order.",
            code="invalid_sort",
        )
    return key, descending


def _encode_cursor(value: Any, lead_id: uuid.UUID) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    elif isinstance(value, enum.Enum):
        value = value.value
    raw = json.dumps([value, str(lead_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, key: str) -> tuple[Any, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, raw_id = json.loads(base64.urlsafe_b64decode(padded))
        lead_id = uuid.UUID(raw_id)
        if key in _DATETIME_KEYS:
            value = datetime.fromisoformat(value)
        elif key == "budget_amount":
            value = Decimal(value)
        elif key in _INTEGER_KEYS:
            if not isinstance(value, int):
                raise ValueError("unexpected cursor value")
        elif not isinstance(value, str):
            raise ValueError("unexpected cursor value")
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise ValidationFailed(
            "The cursor is not valid for this list; start again from the first page.",
            code="invalid_cursor",
        ) from None
    return value, lead_id


def _search_condition(q: str) -> ColumnElement[bool]:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(
        *(
            func.lower(column).like(pattern, escape="\\")
            for column in (Lead.topic, Lead.full_name, Lead.company_name, Lead.email)
        )
    )


def list_leads(query: LeadQuery, *, uow: UnitOfWork, actor: Actor) -> LeadPage:
    """One page of a lead view, filtered and searched in SQL, paged by keyset (no OFFSET)."""
    key, descending = _parse_sort(query.sort)
    if not 1 <= query.limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}.", code="invalid_limit")
    sort_column = SORTABLE[key]
    statement = select(Lead).where(
        view_condition(query.view, actor=actor, now=utcnow()),
        access_condition(actor, Privilege.READ, "leads", Lead),
    )
    filters = {
        Lead.state: query.state,
        Lead.status_reason: query.status_reason,
        Lead.rating: query.rating,
        Lead.lead_source: query.lead_source,
        Lead.owner_user_id: query.owner_user_id,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(column == value)
    if query.q and query.q.strip():
        statement = statement.where(_search_condition(query.q.strip()))
    if query.cursor:
        value, last_id = _decode_cursor(query.cursor, key)
        position = tuple_(sort_column, Lead.id)
        # Bind the cursor with the sort expression's own type (money is stored scaled).
        last = tuple_(literal(value, sort_column.type), literal(last_id, Lead.id.type))
        statement = statement.where(position < last if descending else position > last)
    order = (sort_column.desc(), Lead.id.desc()) if descending else (sort_column.asc(), Lead.id.asc())
    rows = uow.session.execute(statement.add_columns(sort_column).order_by(*order).limit(query.limit + 1)).all()
    items = [lead for lead, _ in rows[: query.limit]]
    next_cursor = None
    if len(rows) > query.limit:
        last_lead, last_value = rows[query.limit - 1]
        next_cursor = _encode_cursor(last_value, last_lead.id)
    return LeadPage(items=items, next_cursor=next_cursor)
