"""A record's timeline: its notes, activities and close records, newest first, in pages (reference §5).

Each kind of entry of each record shown is read from its own table, in the order of (created_at, id)
and from the cursor on, at most one page of each; the pages are merged and cut, so a page costs a few
index range scans however long the timeline is. The cursor is the last entry's (created_at, id), which orders entries of
every kind alike.

What a timeline shows: the record's own entries and those of the lead it came from (§2.7: the lead's
notes and its open activities show on the opportunity it became, without being copied), when the
reader may read that lead; an account's, as an option, also those of its contacts and opportunities.
Activities show only to readers of their type; close records only on opportunities.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, false, or_, select, tuple_

from leadflow.activities.activity import readable_activities
from leadflow.activities.models import Activity, ActivityState, ActivityType, Note, RegardingTable
from leadflow.activities.service import timeline_sources
from leadflow.core.db import mapped_class
from leadflow.core.errors import field_refusal
from leadflow.core.paging import INVALID_CURSOR, MAX_LIMIT, Page, check_limit, decode_cursor, encode_cursor
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege

EntryKind = Literal["note", "task", "phone_call", "appointment", "email", "close"]
ENTRY_KINDS: tuple[str, ...] = ("note", "task", "phone_call", "appointment", "email", "close")


@dataclass(frozen=True)
class TimelineEntry:
    """One entry: its kind, when it was made, and the note, activity or close record itself."""

    kind: str
    at: datetime
    item: Any

    @property
    def id(self) -> uuid.UUID:
        return self.item.id


def _regarding(model: Any, sources: Sequence[tuple[RegardingTable, Any]]) -> ColumnElement[bool]:
    """Rows regarding one of the sources; a source is a record id or a subquery of ids."""
    parts = []
    for table, ids in sources:
        matches = model.regarding_id.in_(ids) if not isinstance(ids, uuid.UUID) else model.regarding_id == ids
        parts.append(and_(model.regarding_table == table, matches))
    return or_(false(), *parts)


def _related_sources(actor: Actor, account_id: uuid.UUID) -> list[tuple[RegardingTable, Any]]:
    """An account's contacts and opportunities the reader may read, as subqueries of ids."""
    contact = mapped_class("contacts")
    opportunity = mapped_class("opportunities")
    contacts = select(contact.id).where(
        contact.account_id == account_id, access_condition(actor, Privilege.READ, "contacts", contact)
    )
    opportunities = select(opportunity.id).where(
        or_(
            opportunity.parent_account_id == account_id,
            and_(opportunity.customer_kind == "account", opportunity.customer_id == account_id),
        ),
        access_condition(actor, Privilege.READ, "opportunities", opportunity),
    )
    return [(RegardingTable.CONTACTS, contacts), (RegardingTable.OPPORTUNITIES, opportunities)]


def record_timeline(
    table: RegardingTable,
    record_id: uuid.UUID,
    *,
    uow: UnitOfWork,
    actor: Actor,
    kinds: Sequence[str] = (),
    states: Sequence[ActivityState] = (),
    include_related: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[TimelineEntry]:
    """A page of a record's timeline, newest first, narrowed to ``kinds`` and (for activities) ``states``.

    A state filter shows activities only: notes and close records have no state of their own.
    """
    check_limit(limit, most=MAX_LIMIT)
    unknown = [kind for kind in kinds if kind not in ENTRY_KINDS]
    if unknown:
        raise field_refusal("type", "invalid_type", f"type: choose among {', '.join(ENTRY_KINDS)}.")
    wanted = set(kinds or ENTRY_KINDS)
    if states:
        wanted -= {"note", "close"}
    session = uow.session
    sources: list[tuple[RegardingTable, Any]] = list(timeline_sources(uow, actor, table, record_id))
    if include_related and table is RegardingTable.ACCOUNTS:
        sources += _related_sources(actor, record_id)
    after = decode_cursor(cursor, "datetime", refusal=INVALID_CURSOR) if cursor else None

    def page_of(model: Any, *conditions: ColumnElement[bool]) -> list[Any]:
        statement = select(model).where(*conditions)
        if after is not None:
            statement = statement.where(tuple_(model.created_at, model.id) < tuple_(*after))
        return list(session.scalars(statement.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)))

    # One query per source and kind: each reads its index (regarding, created_at, id) in order from the
    # cursor and stops after a page, where one query over several sources would sort all their entries.
    entries: list[TimelineEntry] = []
    activity_types = [ActivityType(kind) for kind in wanted if kind in {t.value for t in ActivityType}]
    readable = readable_activities(actor, activity_types)
    for source in sources:
        if "note" in wanted:
            entries += [TimelineEntry("note", n.created_at, n) for n in page_of(Note, _regarding(Note, [source]))]
        if activity_types:
            conditions = [_regarding(Activity, [source]), readable]
            if states:
                conditions.append(Activity.state.in_(list(states)))
            entries += [TimelineEntry(a.type.value, a.created_at, a) for a in page_of(Activity, *conditions)]
        source_table, ids = source
        if "close" in wanted and source_table is RegardingTable.OPPORTUNITIES:
            close = mapped_class("opportunity_closes")
            condition = close.opportunity_id.in_(ids) if not isinstance(ids, uuid.UUID) else close.opportunity_id == ids
            entries += [TimelineEntry("close", row.created_at, row) for row in page_of(close, condition)]
    entries.sort(key=lambda entry: (entry.at, entry.id), reverse=True)
    page = entries[:limit]
    if len(entries) <= limit:
        return Page(page)
    last = page[-1]
    return Page(page, encode_cursor(last.at, last.id))
