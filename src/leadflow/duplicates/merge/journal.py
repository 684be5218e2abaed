"""Reading the merge journal: one merge, the merges of a record, and their public shape."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from leadflow.core.errors import ValidationFailed
from leadflow.core.uow import UnitOfWork
from leadflow.duplicates.merge.policy import POLICIES
from leadflow.duplicates.merge.undo import get_journal
from leadflow.duplicates.models import DetectionTable, MergeJournal, MergeState
from leadflow.security.access import can, forbidden, has_admin
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege



def _readable(session: Session, actor: Actor, journal: MergeJournal) -> bool:
    """A merge is visible to whoever may read its master (or its subordinate, once the master is gone)."""
    table = POLICIES[DetectionTable(journal.table_name)].model.__table__
    for record_id in (journal.master_id, journal.subordinate_id):
        row = session.execute(select(table).where(table.c.id == record_id)).first()
        if row is not None:
            return can(session, actor, Privilege.READ, journal.table_name.value, row)
    return has_admin(actor, "audit", Privilege.READ)


def get_merge(merge_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> MergeJournal:
    """One merge journal entry, if the actor may read the records it merged."""
    journal = get_journal(uow.session, merge_id)
    if not _readable(uow.session, actor, journal):
        raise forbidden(actor, Privilege.READ, journal.table_name.value)
    return journal


def list_merges(
    *, record_id: uuid.UUID | None = None, limit: int = 50, uow: UnitOfWork, actor: Actor
) -> list[MergeJournal]:
    """Merges (involving one record, as master or subordinate, if given), newest first."""
    if not 1 <= limit <= 500:
        raise ValidationFailed("limit must be between 1 and 500.", code="invalid_limit")
    statement = select(MergeJournal).order_by(MergeJournal.created_at.desc(), MergeJournal.id.desc())
    if record_id is not None:
        statement = statement.where(or_(MergeJournal.master_id == record_id, MergeJournal.subordinate_id == record_id))
    found = []
    for journal in uow.session.scalars(statement):
        if _readable(uow.session, actor, journal):
            found.append(journal)
            if len(found) == limit:
                break
    return found


def moved_summary(journal: MergeJournal) -> list[dict[str, Any]]:
    """How many rows moved, per table and column, in the order the merge moved them."""
    counts: dict[tuple[str, str], int] = {}
    for entry in journal.moved:
        key = (entry["table"], entry["column"])
        counts[key] = counts.get(key, 0) + 1
    return [{"table": table, "column": column, "count": count} for (table, column), count in counts.items()]


def journal_out(journal: MergeJournal) -> dict[str, Any]:
    """A merge as the API and the command line show it."""
    per_table: dict[str, set[str]] = {}
    for entry in journal.moved:
        per_table.setdefault(entry["table"], set()).add(entry["id"])
    link = f"/api/v1/merges/{journal.id}"
    links = {"self": link}
    if journal.state is MergeState.MERGED:
        links["undo"] = f"{link}/undo"
    return {
        "id": str(journal.id),
        "table": DetectionTable(journal.table_name).value,
        "master_id": str(journal.master_id),
        "subordinate_id": str(journal.subordinate_id),
        "state": MergeState(journal.state).value,
        "choices": journal.choices,
        "moved": {table: len(ids) for table, ids in per_table.items()},
        "moved_by_column": moved_summary(journal),
        "created_at": journal.created_at.isoformat(),
        "merged_by_id": str(journal.merged_by_id) if journal.merged_by_id else None,
        "undone_at": journal.undone_at.isoformat() if journal.undone_at else None,
        "undone_by_id": str(journal.undone_by_id) if journal.undone_by_id else None,
        "links": links,
    }
