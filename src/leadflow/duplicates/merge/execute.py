"""A merge: the subordinate's children move to the master, the master takes the chosen values, the
subordinate closes with a link to its master, and the journal keeps everything undo needs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, and_, delete, select, update
from sqlalchemy.orm import Session

from leadflow.core.db import utcnow
from leadflow.core.uow import UnitOfWork
from leadflow.duplicates.engine import index_rows, record_values, serialise_on_codes
from leadflow.duplicates.merge.plan import SET_MEMBERS, memberships, prepare
from leadflow.duplicates.merge.policy import Mergeable, MergePolicy, describe
from leadflow.duplicates.merge.snapshot import row_snapshot, to_json
from leadflow.duplicates.models import DetectionTable, MergeJournal, MergeState
from leadflow.duplicates.tables import TABLES
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action


def chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def reindex(session: Session, table: Table, ids: Sequence[uuid.UUID]) -> None:
    """Recompute match codes of rows written with Core statements (the ORM hook does not see them)."""
    if table.name not in {t.value for t in TABLES}:
        return
    for chunk in chunks(list(ids)):
        rows = [dict(row) for row in session.execute(select(table).where(table.c.id.in_(chunk))).mappings()]
        index_rows(session, table.name, rows)


def _move_children(
    session: Session, policy: MergePolicy, *, master_id: uuid.UUID, subordinate_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Re-point the subordinate's children at the master, bumping each one's row version."""
    moved: list[dict[str, Any]] = []
    now = utcnow()
    for link in policy.children:
        table = link.table
        condition = link.condition(subordinate_id)
        rows = session.execute(
            select(table.c.id, table.c.row_version, table.c.modified_at)
            .where(condition)
            .order_by(table.c.id)
            .with_for_update()
        ).all()
        if not rows:
            continue
        session.execute(
            update(table)
            .where(condition)
            .values({link.column: master_id, "row_version": table.c.row_version + 1, "modified_at": now})
        )
        moved.extend(
            {
                "table": table.name,
                "id": str(row.id),
                "column": link.column,
                "old": str(subordinate_id),
                "version_before": row.row_version,
                "modified_at_before": to_json(row.modified_at),
                "version_after": row.row_version + 1,
            }
            for row in rows
        )
        reindex(session, table, [row.id for row in rows])
    return moved


def _movememberships(session: Session, *, master_id: uuid.UUID, subordinate_id: uuid.UUID) -> list[dict[str, Any]]:
    """Duplicate sets the subordinate belongs to now hold the master (once: a set never lists it twice)."""
    moved = []
    master_sets = set(memberships(session, master_id))
    for set_id in memberships(session, subordinate_id):
        membership = and_(SET_MEMBERS.c.set_id == set_id, SET_MEMBERS.c.record_id == subordinate_id)
        removed = set_id in master_sets
        if removed:
            session.execute(delete(SET_MEMBERS).where(membership))
        else:
            session.execute(update(SET_MEMBERS).where(membership).values(record_id=master_id))
        moved.append(
            {
                "table": SET_MEMBERS.name,
                "id": str(set_id),
                "column": "record_id",
                "old": str(subordinate_id),
                "removed": removed,
            }
        )
    return moved


def _deactivate(policy: MergePolicy, subordinate: Mergeable, master_id: uuid.UUID) -> None:
    setattr(subordinate, policy.master_column, master_id)
    subordinate.close_as_merged()


def merge_records(
    table: str | DetectionTable,
    master_id: uuid.UUID,
    subordinate_id: uuid.UUID,
    *,
    fields: Mapping[str, str] | None = None,
    force_parenting: bool = False,
    uow: UnitOfWork,
    actor: Actor,
) -> MergeJournal:
    """Merge the subordinate into the master; returns the journal that can undo it."""
    session = uow.session
    policy, master, subordinate, plan = prepare(
        session, actor, table, master_id, subordinate_id, fields, force_parenting=force_parenting, lock=True
    )
    record_table = policy.model.__table__
    master_before = row_snapshot(record_table, master)
    subordinate_before = row_snapshot(record_table, subordinate)

    moved = _move_children(session, policy, master_id=master.id, subordinate_id=subordinate.id)
    moved += _movememberships(session, master_id=master.id, subordinate_id=subordinate.id)

    now = utcnow()
    for name, value in plan.values.items():
        setattr(master, name, value)
    # The master's new values may duplicate a record someone is saving now: one of the two waits.
    serialise_on_codes(session, {policy.table: [record_values(master)]})
    # Stamped even when no value changes: the master gained children, and its new row version is
    # what undo later checks.
    master.modified_at = now
    master.modified_by_id = actor.user_id
    _deactivate(policy, subordinate, master.id)
    subordinate.modified_at = now
    subordinate.modified_by_id = actor.user_id
    uow.flush()  # the ORM bumps both row versions and re-indexes both records' match codes

    journal = MergeJournal(
        id=uuid.uuid4(),
        table_name=policy.table,
        master_id=master.id,
        subordinate_id=subordinate.id,
        state=MergeState.MERGED,
        merged_by_id=actor.user_id,
        master_before=master_before,
        subordinate_before=subordinate_before,
        master_version_after=master.row_version,
        subordinate_version_after=subordinate.row_version,
        moved=moved,
        choices=plan.choices,
    )
    session.add(journal)
    uow.flush()
    record_action(
        session,
        actor,
        "merge",
        table=policy.table.value,
        record_id=master.id,
        changes={"merge_id": str(journal.id), "subordinate_id": str(subordinate.id), "moved": len(moved)},
        summary=f"Merged {describe(record_table, subordinate)} into {describe(record_table, master)}",
    )
    return journal
