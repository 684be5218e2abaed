"""The lead views of §10 with filter, sort, search and keyset paging."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    UnaryExpression,
    and_,
    literal,
    select,
    text,
    tuple_,
)
from sqlalchemy.sql.operators import custom_op

from leadflow.core.db import utcnow
from leadflow.core.errors import ValidationFailed
from leadflow.core.paging import CursorKind, contains, decode_cursor, encode_cursor
from leadflow.core.schemas import clean_search
from leadflow.core.uow import UnitOfWork
from leadflow.fields.filters import Condition, conditions_sql, custom_sort
from leadflow.leads.models import (
    LEAD_SORTS,
    Lead,
    LeadSource,
    LeadState,
    LeadStatusReason,
    Rating,
)
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege


class LeadView(enum.StrEnum):
    """The system views of §10."""

    MY_OPEN = "my-open"
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"
    OPENED_THIS_WEEK = "opened-this-week"
    OPENED_LAST_WEEK = "opened-last-week"


# Sortable keys and the SQL expression each sorts by; each has an index (leadflow.leads.models).
SORTABLE: dict[str, Any] = LEAD_SORTS
_DATETIME_KEYS = {"created_at", "modified_at"}
_INTEGER_KEYS = {"status_reason", "rating", "score"}
MAX_PAGE = 500


def start_of_week(now: datetime) -> datetime:
    """Monday 00:00 UTC of the week containing ``now``."""
    monday = now - timedelta(days=now.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def _unindexed(column: Any) -> Any:
    """``+column``: the same value, which SQLite will not use to choose an index."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def view_condition(
    view: LeadView, *, actor: Actor, now: datetime, steer_to_sort_index: bool = False
) -> ColumnElement[bool]:
    """The SQL condition that defines a view.

    ``steer_to_sort_index`` writes the state and owner tests so that SQLite does not pick their
    index (see ``list_leads``); the condition means the same either way.
    """
    week = start_of_week(now)
    state = _unindexed(Lead.state) if steer_to_sort_index else Lead.state
    owner = _unindexed(Lead.owner_user_id) if steer_to_sort_index else Lead.owner_user_id
    return {
        LeadView.MY_OPEN: and_(state == LeadState.OPEN, owner == actor.user_id),
        LeadView.OPEN: state == LeadState.OPEN,
        LeadView.CLOSED: state.in_([LeadState.QUALIFIED, LeadState.DISQUALIFIED]),
        LeadView.ALL: literal(True),
        LeadView.OPENED_THIS_WEEK: Lead.created_at >= week,
        LeadView.OPENED_LAST_WEEK: and_(Lead.created_at >= week - timedelta(days=7), Lead.created_at < week),
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
    grade: str | None = None
    # Filters on any field, built-in or custom (leadflow.fields.filters), all of which must hold.
    conditions: tuple[Condition, ...] = ()


@dataclass
class LeadPage:
    """One page of a view and the cursor of the next, if any."""

    items: list[Lead]
    next_cursor: str | None


def _parse_sort(sort: str) -> tuple[str, bool]:
    descending = sort.startswith("-")
    key = sort.lstrip("-+ ")
    if key not in SORTABLE and not key.startswith("custom."):
        raise ValidationFailed(
            f"Cannot sort by {key!r}; sort by one of {', '.join(sorted(SORTABLE))}, "
            "with a leading '-' for descending order.",
            code="invalid_sort",
        )
    return key, descending


def _cursor_kind(key: str) -> CursorKind:
    if key in _DATETIME_KEYS:
        return "datetime"
    if key == "budget_amount":
        return "money"
    return "integer" if key in _INTEGER_KEYS else "text"


def decode_lead_cursor(cursor: str, key: str, kind: CursorKind | None = None) -> tuple[Any, uuid.UUID]:
    """The sort value and lead id of a lead list's cursor sorted by ``key``; refused when not valid."""
    return decode_cursor(
        cursor,
        kind or _cursor_kind(key),
        refusal="The cursor is not valid for this list; start again from the first page.",
    )


def _search_condition(q: str, dialect: str) -> ColumnElement[bool]:
    """Leads whose topic, full name, company or e-mail contains ``q``, ignoring letter case.

    An index answers it: on PostgreSQL the trigram GIN indexes on ``lower(column)`` serve the
    LIKE itself; on SQLite the FTS5 trigram table ``leads_search`` (kept by triggers, see
    migration 0004) finds the rows. A trigram index cannot look up fewer than three characters,
    so shorter terms fall back to the plain LIKE over the view.
    """
    term = q.lower()
    if dialect == "sqlite" and len(term) >= 3:
        phrase = '"' + term.replace('"', '""') + '"'  # one FTS5 string: every character literal
        matches = text(
            "SELECT lead_id FROM leads_search_rows WHERE id IN "
            "(SELECT rowid FROM leads_search WHERE leads_search MATCH :phrase)"
        ).bindparams(phrase=phrase)
        return Lead.id.in_(matches.columns(lead_id=Lead.id.type))
    return contains((Lead.topic, Lead.full_name, Lead.company_name, Lead.email), term)


def list_leads(query: LeadQuery, *, uow: UnitOfWork, actor: Actor) -> LeadPage:
    """One page of a lead view, filtered and searched in SQL, paged by keyset (no OFFSET)."""
    key, descending = _parse_sort(query.sort)
    if not 1 <= query.limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}.", code="invalid_limit")
    cursor_kind: CursorKind | None = None
    if key.startswith("custom."):
        sort_column, cursor_kind = custom_sort(uow.session, "leads", key)
    else:
        sort_column = SORTABLE[key]
    dialect = uow.session.get_bind().dialect.name
    term = clean_search(query.q or "").strip()
    searching = bool(term)
    # SQLite's planner prefers an index on the view's state (or owner and state) and then sorts
    # the whole view, tens of thousands of rows, even when the sort's own index, which carries
    # state and owner, would read the first page in order. Without a search (the search table
    # drives the query then) and outside the week views (whose date index finds few rows),
    # the state and owner tests are written so that SQLite walks the sort index instead.
    steer = (
        dialect == "sqlite"
        and key != "created_at"
        and not searching
        and query.view not in (LeadView.OPENED_THIS_WEEK, LeadView.OPENED_LAST_WEEK)
    )
    statement = select(Lead).where(
        view_condition(query.view, actor=actor, now=utcnow(), steer_to_sort_index=steer),
        access_condition(actor, Privilege.READ, "leads", Lead),
    )
    filters = {
        Lead.state: query.state,
        Lead.status_reason: query.status_reason,
        Lead.rating: query.rating,
        Lead.lead_source: query.lead_source,
        Lead.owner_user_id: query.owner_user_id,
        Lead.score_grade: query.grade,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where((_unindexed(column) if steer else column) == value)
    if searching:
        statement = statement.where(_search_condition(term, dialect))
    for condition in conditions_sql(uow.session, "leads", query.conditions):
        statement = statement.where(condition)
    if query.cursor:
        value, last_id = decode_lead_cursor(query.cursor, key, cursor_kind)
        position = tuple_(sort_column, Lead.id)
        # Bind the cursor with the sort expression's own type (money is stored scaled).
        last = tuple_(literal(value, sort_column.type), literal(last_id, Lead.id.type))
        statement = statement.where(position < last if descending else position > last)
        # The same bound on the sort value alone: SQLite does not read a row-value comparison as a range
        # of an expression index, and would walk the index from its start to the cursor on every page.
        bound = literal(value, sort_column.type)
        statement = statement.where(sort_column <= bound if descending else sort_column >= bound)
    order = (sort_column.desc(), Lead.id.desc()) if descending else (sort_column.asc(), Lead.id.asc())
    rows = uow.session.execute(statement.add_columns(sort_column).order_by(*order).limit(query.limit + 1)).all()
    items = [lead for lead, _ in rows[: query.limit]]
    next_cursor = None
    if len(rows) > query.limit:
        last_lead, last_value = rows[query.limit - 1]
        next_cursor = encode_cursor(last_value, last_lead.id)
    return LeadPage(items=items, next_cursor=next_cursor)
