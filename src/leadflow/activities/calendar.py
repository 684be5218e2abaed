"""Each user's private iCalendar feed of their appointments and due tasks.

The feed lives at a secret address: ``issue_feed`` makes a new secret (the old address stops working
at once), ``revoke_feed`` ends it; only a digest of the secret is stored, so the database never holds
a working address. The feed shows the appointments the user owns or attends from 90 days ago to a
year ahead (canceled ones marked CANCELLED, so that subscribed calendars remove them) and the user's
open tasks with a due time, as to-dos (VTODO), each with a stable UID and a SEQUENCE that follows the
record's version, as calendar clients expect.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from icalendar import Calendar, Event, Todo, vCalAddress, vText
from sqlalchemy import delete, exists, or_, select

from leadflow.activities.models import (
    Activity,
    ActivityParty,
    ActivityState,
    ActivityType,
    CalendarFeed,
    PartyRole,
    Priority,
)
from leadflow.core.db import utcnow
from leadflow.core.errors import NotFound
from leadflow.core.uow import UnitOfWork
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.models import User

PAST = timedelta(days=90)
AHEAD = timedelta(days=366)
# iCalendar PRIORITY: 1 highest, 9 lowest.
_PRIORITY = {Priority.HIGH: 1, Priority.NORMAL: 5, Priority.LOW: 9}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed(*, uow: UnitOfWork, actor: Actor) -> str:
    """A new secret for the actor's feed (replacing any earlier one); show it once, it is not kept."""
    token = secrets.token_urlsafe(32)
    session = uow.session
    session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == actor.user_id))
    session.add(CalendarFeed(user_id=actor.user_id, token_hash=_digest(token)))
    record_action(session, actor, "calendar_feed_issue", table="users", record_id=actor.user_id, summary=None)
    uow.flush()
    return token


def revoke_feed(*, uow: UnitOfWork, actor: Actor) -> bool:
    """End the actor's feed; whether there was one."""
    result = uow.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == actor.user_id))
    record_action(uow.session, actor, "calendar_feed_revoke", table="users", record_id=actor.user_id, summary=None)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def has_feed(*, uow: UnitOfWork, actor: Actor) -> bool:
    return uow.session.get(CalendarFeed, actor.user_id) is not None


def feed_calendar(token: str, *, uow: UnitOfWork, link: str | None = None) -> bytes:
    """The iCalendar text of the feed whose secret is ``token``; NotFound for an unknown or revoked one
    (or a deactivated user). ``link``: the web app's address, for a link to each activity."""
    session = uow.session
    feed = session.scalars(select(CalendarFeed).where(CalendarFeed.token_hash == _digest(token))).first()
    user = session.get(User, feed.user_id) if feed is not None else None
    if feed is None or user is None or not user.is_active:
        raise NotFound("No calendar feed has this address; it was revoked or replaced.", code="feed_not_found")
    now = utcnow()
    attends = exists().where(
        ActivityParty.activity_id == Activity.id,
        ActivityParty.party_table == "users",
        ActivityParty.party_id == user.id,
        ActivityParty.role.in_([PartyRole.REQUIRED, PartyRole.OPTIONAL]),
    )
    appointments = session.scalars(
        select(Activity)
        .where(
            Activity.type == ActivityType.APPOINTMENT,
            or_(Activity.owner_user_id == user.id, attends),
            Activity.scheduled_end >= now - PAST,
            Activity.scheduled_start <= now + AHEAD,
        )
        .order_by(Activity.scheduled_start, Activity.id)
    ).all()
    tasks = session.scalars(
        select(Activity)
        .where(
            Activity.type == ActivityType.TASK,
            Activity.owner_user_id == user.id,
            Activity.state == ActivityState.OPEN,
            Activity.scheduled_end.is_not(None),
        )
        .order_by(Activity.scheduled_end, Activity.id)
    ).all()
    parties: dict[uuid.UUID, list[ActivityParty]] = {a.id: [] for a in appointments}
    if appointments:
        for party in session.scalars(
            select(ActivityParty)
            .where(ActivityParty.activity_id.in_(list(parties)))
            .order_by(ActivityParty.role, ActivityParty.position)
        ):
            parties[party.activity_id].append(party)
    owners = {
        row.id: row
        for row in session.scalars(
            select(User).where(User.id.in_({a.owner_user_id for a in appointments if a.owner_user_id}))
        )
    }
    calendar = Calendar()
    calendar.add("prodid", "-//leadflow//activities//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"leadflow: {user.full_name}")
    for activity in appointments:
        event = Event()
        _common(event, activity, link)
        if activity.all_day and activity.scheduled_start and activity.scheduled_end:
            event.add("dtstart", activity.scheduled_start.date())
            event.add("dtend", activity.scheduled_end.date())
        else:
            event.add("dtstart", activity.scheduled_start)
            event.add("dtend", activity.scheduled_end)
        if activity.location:
            event.add("location", activity.location)
        event.add("status", "CANCELLED" if activity.state is ActivityState.CANCELED else "CONFIRMED")
        owner = owners.get(activity.owner_user_id) if activity.owner_user_id else None
        if owner is not None:
            organizer = vCalAddress(f"mailto:{owner.email}")
            organizer.params["cn"] = vText(owner.full_name)
            event.add("organizer", organizer)
        for party in parties[activity.id]:
            if not party.address:
                continue
            attendee = vCalAddress(f"mailto:{party.address}")
            attendee.params["cn"] = vText(party.name or party.address)
            attendee.params["role"] = vText(
                "REQ-PARTICIPANT" if party.role is PartyRole.REQUIRED else "OPT-PARTICIPANT"
            )
            event.add("attendee", attendee, encode=False)
        calendar.add_component(event)
    for activity in tasks:
        todo = Todo()
        _common(todo, activity, link)
        todo.add("due", activity.scheduled_end)
        todo.add("status", "IN-PROCESS" if (activity.percent_complete or 0) > 0 else "NEEDS-ACTION")
        if activity.percent_complete is not None:
            todo.add("percent-complete", activity.percent_complete)
        calendar.add_component(todo)
    return calendar.to_ical()


def _common(component: Event | Todo, activity: Activity, link: str | None) -> None:
    component.add("uid", f"{activity.id}@leadflow")
    component.add("dtstamp", activity.modified_at)
    component.add("created", activity.created_at)
    component.add("last-modified", activity.modified_at)
    component.add("sequence", activity.row_version - 1)
    component.add("summary", activity.subject)
    component.add("priority", _PRIORITY[activity.priority])
    if activity.description:
        component.add("description", activity.description)
    if link:
        component.add("url", f"{link.rstrip('/')}/activities/{activity.id}")
