"""What other domains ask of the activities regarding one of their records: how many open ones the
actor could cancel and canceling them (a lead disqualified), moving them to another record (a merge),
deleting them with the record. These work on many activities at once, in bulk statements, and audit
each activity they cancel."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, delete, false, func, or_, select, update
from sqlalchemy.orm import Session

from leadflow.activities.models import (
    PRIVILEGE_TABLES,
    Activity,
    ActivityParty,
    ActivityState,
    ActivityStatus,
    RegardingTable,
)
from leadflow.core.db import utcnow
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege


def _cancelable(actor: Actor, table: RegardingTable, record_id: uuid.UUID) -> ColumnElement[bool]:
    """The open activities regarding one record that the actor may change."""
    writable = or_(
        false(),
        *(
            (Activity.type == kind) & access_condition(actor, Privilege.WRITE, table_name, Activity)
            for kind, table_name in PRIVILEGE_TABLES.items()
        ),
    )
    return (
        (Activity.regarding_table == table)
        & (Activity.regarding_id == record_id)
        & (Activity.state == ActivityState.OPEN)
        & writable
    )


def cancelable_count(session: Session, actor: Actor, table: RegardingTable, record_id: uuid.UUID) -> int:
    """How many open activities of the record the actor could cancel (the disqualify form offers it)."""
    return int(
        session.scalar(select(func.count()).select_from(Activity).where(_cancelable(actor, table, record_id))) or 0
    )


def cancel_open_activities_of(session: Session, actor: Actor, table: RegardingTable, record_id: uuid.UUID) -> int:
    """Cancel the open activities regarding one record that the actor may change (a lead disqualified
    with its activities canceled); those of others the actor may not change stay open. Returns how many."""
    now = utcnow()
    condition = _cancelable(actor, table, record_id)
    ids = list(session.scalars(select(Activity.id).where(condition)))
    if not ids:
        return 0
    session.execute(
        update(Activity)
        .where(Activity.id.in_(ids))
        .values(
            state=ActivityState.CANCELED,
            status_reason=ActivityStatus.CANCELED,
            actual_end=now,
            modified_at=now,
            modified_by_id=actor.user_id,
            row_version=Activity.row_version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    for activity_id in ids:
        record_action(session, actor, "cancel", table="activities", record_id=activity_id, summary=None)
    return len(ids)


def move_activities(
    session: Session, source: tuple[RegardingTable, uuid.UUID], target: tuple[RegardingTable, uuid.UUID]
) -> int:
    """Make the activities regarding one record regard another (a merge moves them to the master)."""
    result = session.execute(
        update(Activity)
        .where(Activity.regarding_table == source[0], Activity.regarding_id == source[1])
        .values(regarding_table=target[0], regarding_id=target[1], row_version=Activity.row_version + 1)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delete_activities_of(session: Session, table: RegardingTable, record_id: uuid.UUID) -> None:
    """Delete every activity regarding a record that is deleted, with their parties."""
    ids = select(Activity.id).where(Activity.regarding_table == table, Activity.regarding_id == record_id)
    session.execute(delete(ActivityParty).where(ActivityParty.activity_id.in_(ids)))
    session.execute(
        delete(Activity)
        .where(Activity.regarding_table == table, Activity.regarding_id == record_id)
        .execution_options(synchronize_session=False)
    )
