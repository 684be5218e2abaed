"""Undo a merge: both records and every moved child go back exactly as they were, row versions and
modification times included, unless one of them changed since (then undo names what changed)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from leadflow.core.db import utcnow
from leadflow.core.errors import Conflict, InvalidState, NotFound
from leadflow.core.uow import UnitOfWork
from leadflow.duplicates.merge.execute import chunks, reindex
from leadflow.duplicates.merge.plan import SET_MEMBERS
from leadflow.duplicates.merge.policy import POLICIES, describe, label_of, record_table
from leadflow.duplicates.merge.snapshot import from_json, row_values
from leadflow.duplicates.models import DetectionTable, DuplicateSet, MergeJournal, MergeState
from leadflow.security.access import require
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege

SETS = DuplicateSet.__table__


def get_journal(session: Session, merge_id: uuid.UUID, *, lock: bool = False) -> MergeJournal:
    statement = select(MergeJournal).where(MergeJournal.id == merge_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    journal = session.scalars(statement).first()
    if journal is None:
        raise NotFound(f"No merge has the id {merge_id}.", code="merge_not_found")
    return journal


def _locked_rows(session: Session, table: Table, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    rows: dict[uuid.UUID, Any] = {}
    for chunk in chunks(sorted(set(ids))):
        statement = select(table).where(table.c.id.in_(chunk)).order_by(table.c.id).with_for_update()
        rows.update((row.id, row) for row in session.execute(statement))
    return rows


@dataclass
class _ChildRestore:
    table: Table
    id: uuid.UUID
    columns: dict[str, str]  # column -> the subordinate's id it held
    version_before: int
    modified_at_before: str
    version_after: int


def _child_restores(moved: list[dict[str, Any]]) -> list[_ChildRestore]:
    """One restore per moved row: a row moved in several columns goes back in one step."""
    restores: dict[tuple[str, str], _ChildRestore] = {}
    for entry in moved:
        if entry["table"] == SET_MEMBERS.name:
            continue
        key = (entry["table"], entry["id"])
        restore = restores.get(key)
        if restore is None:
            restores[key] = _ChildRestore(
                record_table(entry["table"]),
                uuid.UUID(entry["id"]),
                {entry["column"]: entry["old"]},
                entry["version_before"],
                entry["modified_at_before"],
                entry["version_after"],
            )
        else:  # moved again by a later link of the same merge: the first entry holds the original stamp
            restore.columns[entry["column"]] = entry["old"]
            restore.version_after = entry["version_after"]
    return list(restores.values())


def _conflicts(
    session: Session, journal: MergeJournal, records: dict[uuid.UUID, Any], table: Table, restores: list[_ChildRestore]
) -> list[dict[str, Any]]:
    """Every row the merge wrote that changed (or vanished) since: undoing would overwrite that work."""
    found = []
    for record_id, expected in (
        (journal.master_id, journal.master_version_after),
        (journal.subordinate_id, journal.subordinate_version_after),
    ):
        row = records.get(record_id)
        if row is None or row.row_version != expected:
            found.append(_conflict(table, record_id, row, expected))
    by_table: dict[str, list[_ChildRestore]] = {}
    for restore in restores:
        by_table.setdefault(restore.table.name, []).append(restore)
    for name, items in by_table.items():
        child_table = record_table(name)
        rows = _locked_rows(session, child_table, [item.id for item in items])
        for item in items:
            row = rows.get(item.id)
            if row is None or row.row_version != item.version_after:
                found.append(_conflict(child_table, item.id, row, item.version_after))
    return found


def _conflict(table: Table, record_id: uuid.UUID, row: Any, expected: int) -> dict[str, Any]:
    label = label_of(table)
    if row is None:
        return {
            "table": table.name,
            "id": str(record_id),
            "change": "deleted",
            "message": f"the {label} (id {record_id}) was deleted after the merge",
        }
    return {
        "table": table.name,
        "id": str(record_id),
        "change": "changed",
        "row_version": row.row_version,
        "expected_row_version": expected,
        "message": f"{describe(table, row)} was changed after the merge",
    }


def _restore_children(session: Session, restores: list[_ChildRestore]) -> None:
    groups: dict[tuple[str, tuple[str, ...]], list[_ChildRestore]] = {}
    for restore in restores:
        groups.setdefault((restore.table.name, tuple(sorted(restore.columns))), []).append(restore)
    for (name, columns), items in groups.items():
        table = record_table(name)
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.row_version == bindparam("b_expected"))
            .values(
                {column: bindparam(f"b_{column}") for column in columns}
                | {"row_version": bindparam("b_row_version"), "modified_at": bindparam("b_modified_at")}
            )
        )
        session.execute(
            statement,
            [
                {
                    "b_id": item.id,
                    "b_expected": item.version_after,
                    **{f"b_{column}": uuid.UUID(item.columns[column]) for column in columns},
                    "b_row_version": item.version_before,
                    "b_modified_at": from_json(table.c.modified_at, item.modified_at_before),
                }
                for item in items
            ],
        )
        reindex(session, table, [item.id for item in items])


def _restore_memberships(session: Session, journal: MergeJournal) -> None:
    """Put the subordinate back in its duplicate sets, where those sets still exist (a new scan replaces them)."""
    for entry in journal.moved:
        if entry["table"] != SET_MEMBERS.name:
            continue
        set_id = uuid.UUID(entry["id"])
        if session.scalar(select(SETS.c.id).where(SETS.c.id == set_id)) is None:
            continue
        if entry["removed"]:
            present = session.scalar(
                select(SET_MEMBERS.c.set_id).where(
                    SET_MEMBERS.c.set_id == set_id, SET_MEMBERS.c.record_id == journal.subordinate_id
                )
            )
            if present is None:
                session.execute(insert(SET_MEMBERS).values(set_id=set_id, record_id=journal.subordinate_id))
        else:
            session.execute(
                update(SET_MEMBERS)
                .where(SET_MEMBERS.c.set_id == set_id, SET_MEMBERS.c.record_id == journal.master_id)
                .values(record_id=journal.subordinate_id)
            )


def undo_merge(merge_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> MergeJournal:
    """Put both records and every moved child back exactly as they were before the merge."""
    session = uow.session
    journal = get_journal(session, merge_id, lock=True)
    policy = POLICIES[DetectionTable(journal.table_name)]
    table: Table = policy.model.__table__
    if journal.state is MergeState.UNDONE:
        raise InvalidState(
            f"This merge was already undone on {journal.undone_at.isoformat() if journal.undone_at else 'an earlier date'}; "
            "there is nothing left to undo.",
            code="merge_already_undone",
        )
    records = _locked_rows(session, table, [journal.master_id, journal.subordinate_id])
    for record in records.values():
        require(session, actor, Privilege.WRITE, policy.table.value, record)
    restores = _child_restores(journal.moved)
    conflicts = _conflicts(session, journal, records, table, restores)
    if conflicts:
        raise Conflict(
            "This merge cannot be undone because "
            + "; ".join(item["message"] for item in conflicts)
            + ". Undoing it would overwrite those changes (undo any later merge first, or fix the records by hand).",
            code="merge_undo_conflict",
            details={"changed": conflicts},
        )

    for record_id, snapshot, expected in (
        (journal.master_id, journal.master_before, journal.master_version_after),
        (journal.subordinate_id, journal.subordinate_before, journal.subordinate_version_after),
    ):
        values = row_values(table, snapshot)
        values.pop("id")
        session.execute(update(table).where(table.c.id == record_id, table.c.row_version == expected).values(values))
    reindex(session, table, [journal.master_id, journal.subordinate_id])
    _restore_children(session, restores)
    _restore_memberships(session, journal)
    # Records of this table loaded earlier in the unit of work now hold the merged values.
    for record in list(session.identity_map.values()):
        if isinstance(record, policy.model) and record.id in (journal.master_id, journal.subordinate_id):
            session.expire(record)

    journal.state = MergeState.UNDONE
    journal.undone_by_id = actor.user_id
    journal.undone_at = utcnow()
    uow.flush()
    record_action(
        session,
        actor,
        "unmerge",
        table=policy.table.value,
        record_id=journal.master_id,
        changes={"merge_id": str(journal.id), "subordinate_id": str(journal.subordinate_id)},
    )
    return journal
