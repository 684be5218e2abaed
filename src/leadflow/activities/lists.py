"""The lists of activities a seller works from: each reader sees the activities of the types they may
read; the views "my open", "due today", "overdue" and "completed this week" are read in the reader's
time zone, and filters narrow a list by type, state, owner, record regarded and due time. Pages are
keyset pages, open activities soonest due first, the others newest first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, false, or_, select

from leadflow.activities.checks import _aware
from leadflow.activities.models import PRIVILEGE_TABLES, Activity, ActivityState, ActivityType, RegardingTable
from leadflow.core.db import utcnow
from leadflow.core.errors import field_refusal
from leadflow.core.paging import MAX_LIMIT, Page, keyset_page
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege

View = Literal["my_open", "due_today", "overdue", "completed_this_week"]
VIEWS: tuple[str, ...] = ("my_open", "due_today", "overdue", "completed_this_week")


@dataclass(frozen=True)
class ActivityFilter:
    """What a list of activities is narrowed to; every part optional."""

    types: Sequence[ActivityType] = ()
    states: Sequence[ActivityState] = ()
    regarding_table: RegardingTable | None = None
    regarding_id: uuid.UUID | None = None
    owner_user_id: uuid.UUID | None = None
    due_before: datetime | None = None
    view: str | None = None


def readable_activities(actor: Actor, types: Sequence[ActivityType] = ()) -> ColumnElement[bool]:
    """The activities the actor may read: each type by its own privileges."""
    return or_(
        false(),
        *(
            (Activity.type == kind) & access_condition(actor, Privilege.READ, PRIVILEGE_TABLES[kind], Activity)
            for kind in (types or tuple(ActivityType))
        ),
    )


def day_bounds(zone: str | None, today: date | None = None) -> tuple[datetime, datetime]:
    """The start and end (UTC) of today in the reader's time zone."""
    tz = ZoneInfo(zone) if zone else UTC
    day = today or datetime.now(tz).date()
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)


def week_start(zone: str | None) -> datetime:
    """Monday 00:00 of this week in the reader's time zone, in UTC."""
    tz = ZoneInfo(zone) if zone else UTC
    today = datetime.now(tz).date()
    monday = today - timedelta(days=today.weekday())
    return datetime.combine(monday, time(), tz).astimezone(UTC)


def list_activities(
    filters: ActivityFilter,
    *,
    uow: UnitOfWork,
    actor: Actor,
    time_zone: str | None = None,
    limit: int = MAX_LIMIT,
    cursor: str | None = None,
) -> Page[Activity]:
    """A page of the activities the actor may read, narrowed by ``filters``.

    Open ones come soonest due first (those without a due time last); a view or a state that is not
    open orders by when they were created, newest first.
    """
    conditions: list[ColumnElement[bool]] = [readable_activities(actor, filters.types)]
    states = list(filters.states)
    owner = filters.owner_user_id
    due_before = _aware(filters.due_before, "due_before")
    now = utcnow()
    if filters.view is not None:
        if filters.view not in VIEWS:
            raise field_refusal("view", "invalid_view", f"view: choose one of {', '.join(VIEWS)}.")
        owner = actor.user_id
        if filters.view == "completed_this_week":
            states = [ActivityState.COMPLETED]
            conditions.append(Activity.actual_end >= week_start(time_zone))
        else:
            states = [ActivityState.OPEN]
            # On due_order, which the index (owner, state, due_order) reads as a range.
            if filters.view == "due_today":
                start, end = day_bounds(time_zone)
                conditions += [Activity.due_order >= start, Activity.due_order < end]
            elif filters.view == "overdue":
                conditions.append(Activity.due_order < now)
    if states:
        conditions.append(Activity.state.in_(states))
    if owner is not None:
        conditions.append(Activity.owner_user_id == owner)
    if filters.regarding_table is not None:
        conditions.append(Activity.regarding_table == filters.regarding_table)
    if filters.regarding_id is not None:
        conditions.append(Activity.regarding_id == filters.regarding_id)
    if due_before is not None:
        conditions.append(Activity.due_order < due_before)
    statement = select(Activity).where(*conditions)
    if states == [ActivityState.OPEN]:
        # Soonest due first; those without a due time after every dated one (``due_order``).
        return keyset_page(
            uow.session,
            statement,
            key=Activity.due_order,
            id_column=Activity.id,
            kind="datetime",
            limit=limit,
            cursor=cursor,
        )
    return keyset_page(
        uow.session,
        statement,
        key=Activity.created_at,
        id_column=Activity.id,
        kind="datetime",
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def is_overdue(activity: Activity, now: datetime | None = None) -> bool:
    """Open and past its due time (an appointment: past its end)."""
    return activity.is_open and activity.scheduled_end is not None and activity.scheduled_end < (now or utcnow())
