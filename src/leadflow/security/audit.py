"""The audit log: an append-only record of who did what, when (§8), written and read here.

Every service writes its entries in the caller's transaction; reading the log is a privilege of
its own (Read on ``audit``).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import JSON, ColumnElement, ForeignKey, Index, String, Table, inspect, or_, select, true
from sqlalchemy.orm import Mapped, Session, mapped_column

from leadflow.core.db import Base, UTCDateTime, utcnow
from leadflow.core.paging import Page, keyset_page
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.privileges import Depth, Privilege


class AuditEntry(Base):
    """One audited action. Entries are only ever inserted; nothing updates or deletes them."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_occurred", "occurred_at", "id"),
        Index("ix_audit_entries_record", "table_name", "record_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The acting user's business unit at the time, so that audit reads can be limited by unit.
    business_unit_id: Mapped[uuid.UUID | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(40), index=True)
    table_name: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID | None] = mapped_column()
    # For updates: {"field": {"old": ..., "new": ...}}; otherwise what the action needs to tell.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    summary: Mapped[str | None] = mapped_column(String(500))


AUDIT_TABLE = cast(Table, AuditEntry.__table__)


def plain(value: Any) -> Any:
    """A JSON-safe form of a column value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def changed_fields(record: Any) -> dict[str, dict[str, Any]]:
    """The columns changed on a loaded record since it was read, as {"field": {"old", "new"}}."""
    changes = {}
    state = inspect(record)
    for attribute in state.mapper.column_attrs:
        if attribute.key in {"row_version", "modified_at", "modified_by_id"}:
            continue
        history = state.attrs[attribute.key].history
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if attribute.key == "custom":
                changes.update(_custom_changes(record, old or {}, new or {}))
            elif old != new:
                changes[attribute.key] = {"old": plain(old), "new": plain(new)}
    return changes


# How the audit shows a custom field's stored value, ``shown(record, name, stored)``: as the API shows it
# (money and decimals as amounts). The custom fields domain above knows the definitions and registers it
# under "custom"; without it values are kept as stored.
AUDIT_SHOWN: dict[str, Callable[[Any, str, Any], Any]] = {}


def _custom_changes(record: Any, old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Custom field values (one JSON column) audited field by field, as ``custom.<name>``, as shown."""
    shown = AUDIT_SHOWN.get("custom", lambda _record, _name, stored: stored)
    return {
        f"custom.{name}": {
            "old": plain(shown(record, name, old.get(name))),
            "new": plain(shown(record, name, new.get(name))),
        }
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name) and "__" not in name
    }


def entry_values(
    actor: Actor | None,
    action: str,
    *,
    table: str | None = None,
    record_id: uuid.UUID | None = None,
    changes: dict[str, Any] | None = None,
    summary: str | None = None,
) -> dict[str, Any]:
    """The column values of one audit entry (for batched inserts)."""
    return {
        "id": uuid.uuid4(),
        "occurred_at": utcnow(),
        "user_id": actor.user_id if actor else None,
        "business_unit_id": actor.business_unit_id if actor else None,
        "action": action,
        "table_name": table,
        "record_id": record_id,
        "changes": changes,
        "summary": summary[:500] if summary else None,
    }


# Called with every batch of entries as it is written, in the same transaction: what the domains
# above tell other systems (webhooks) they learn here, so that no use case has to remember to.
EntryListener = Callable[[Session, list[dict[str, Any]]], None]
ENTRY_LISTENERS: list[EntryListener] = []


def write_entries(session: Session, entries: list[dict[str, Any]]) -> None:
    """Append entries made by ``entry_values`` to the audit log, in the caller's transaction."""
    if not entries:
        return
    session.execute(AUDIT_TABLE.insert(), entries)
    for listener in ENTRY_LISTENERS:
        listener(session, entries)


def record_action(session: Session, actor: Actor | None, action: str, **values: Any) -> None:
    """Append one entry to the audit log, in the caller's transaction."""
    write_entries(session, [entry_values(actor, action, **values)])


@dataclass(frozen=True)
class AuditQuery:
    user_id: uuid.UUID | None = None
    action: str | None = None
    table: str | None = None
    record_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    cursor: str | None = None  # the next_cursor of the previous page: older entries


def _within_reach(actor: Actor) -> ColumnElement[bool]:
    """The audit entries the actor's access level on the audit log reaches, by who acted and where."""
    depth = actor.depth("audit", Privilege.READ)
    if depth is Depth.ORGANIZATION:
        return true()
    own = AuditEntry.user_id == actor.user_id
    if depth is Depth.BUSINESS_UNIT:
        return or_(own, AuditEntry.business_unit_id == actor.business_unit_id)
    if depth is Depth.PARENT_CHILD:
        return or_(own, AuditEntry.business_unit_id.in_(actor.unit_subtree))
    return own


def list_entries(query: AuditQuery, *, uow: UnitOfWork, actor: Actor) -> Page[AuditEntry]:
    """A page of audit entries, newest first, for roles allowed to read the audit log, as far as their
    access level reaches: their own actions (User), their business unit's (Business Unit), their
    unit's and those below it (Parent: Child Business Units), or everyone's (Organization)."""
    require_admin(actor, "audit", Privilege.READ)
    statement = select(AuditEntry).where(_within_reach(actor))
    for column, value in (
        (AuditEntry.user_id, query.user_id),
        (AuditEntry.action, query.action),
        (AuditEntry.table_name, query.table),
        (AuditEntry.record_id, query.record_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if query.since:
        statement = statement.where(AuditEntry.occurred_at >= query.since)
    if query.until:
        statement = statement.where(AuditEntry.occurred_at < query.until)
    return keyset_page(
        uow.session,
        statement,
        key=AuditEntry.occurred_at,
        id_column=AuditEntry.id,
        kind="datetime",
        limit=query.limit,
        cursor=query.cursor,
        descending=True,
        most=1000,
    )
