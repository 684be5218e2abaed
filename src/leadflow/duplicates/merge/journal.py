"""Reading the merge journal: one merge, the merges of a record, and their public shape."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from leadflow.core.paging import INVALID_CURSOR, Page, check_limit, decode_cursor, encode_cursor
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
    *, record_id: uuid.UUID | None = None, limit: int = 50, cursor: str | None = None, uow: UnitOfWork, actor: Actor
) -> Page[MergeJournal]:
    """A page of the merges the actor may see (involving one record, as master or subordinate, if
    given), newest first; ``cursor`` is the previous page's ``next_cursor``."""
    check_limit(limit)
    statement = select(MergeJournal).order_by(MergeJournal.created_at.desc(), MergeJournal.id.desc())
    if record_id is not None:
        statement = statement.where(or_(MergeJournal.master_id == record_id, MergeJournal.subordinate_id == record_id))
    if cursor is not None:
        when, last_id = decode_cursor(cursor, "datetime", refusal=INVALID_CURSOR)
        statement = statement.where(tuple_(MergeJournal.created_at, MergeJournal.id) < tuple_(when, last_id))
    found: list[MergeJournal] = []
    # Readability is decided per merge (by its records), so the page fills as readable ones come.
    for journal in uow.session.scalars(statement.execution_options(yield_per=200)):
        if _readable(uow.session, actor, journal):
            if len(found) == limit:
                last = found[-1]
                return Page(found, encode_cursor(last.created_at, last.id))
            found.append(journal)
    return Page(found)


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
