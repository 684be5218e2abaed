"""Tasks, phone calls, appointments and e-mails (reference §5): create, read, change, complete, cancel,
reopen, send and delete them, list them in the seller's views, and each user's private calendar feed.

An activity is answered with the fields of its type, named as in the input (``due`` for a task, a
phone call or an e-mail; ``start`` and ``end`` for an appointment), so that what a client reads it
can send back.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from leadflow.activities import activity as service
from leadflow.activities import calendar
from leadflow.activities.activity import ActivityChanges, ActivityFields, ActivityFilter
from leadflow.activities.models import (
    Activity,
    ActivityParty,
    ActivityState,
    ActivityStatus,
    ActivityType,
    Direction,
    PartyRole,
    Priority,
    RegardingTable,
)
from leadflow.api.deps import (
    CurrentActor,
    DatabaseDep,
    ExpectedVersion,
    QueueDep,
    ReadUowDep,
    SettingsDep,
    UowDep,
)
from leadflow.api.paging import Cursor, Limit, Moment, PageOut
from leadflow.core.config import Settings
from leadflow.core.schemas import InputModel
from leadflow.core.uow import Database, UnitOfWork
from leadflow.jobs.models import Job
from leadflow.jobs.queue import JobQueue
from leadflow.organisation.service import time_zone_of
from leadflow.security.actor import Actor
from leadflow.tasks import submit

router = APIRouter(tags=["activities"])
# The feed itself, outside /api/v1 and without a sign-in: its secret address is the credential.
feed_router = APIRouter(tags=["activities"])

# ------------------------------------------------------------------------------------------------ shapes


class AttendeeOut(BaseModel):
    """An appointment's attendee: a user or a contact (``id`` null when the party is only an address)."""

    kind: Literal["user", "contact"] | None
    id: uuid.UUID | None
    name: str | None
    address: str | None
    optional: bool


class _ActivityOut(BaseModel):
    id: uuid.UUID
    subject: str
    description: str | None
    regarding_table: RegardingTable | None
    regarding_id: uuid.UUID | None
    state: ActivityState
    status_reason: ActivityStatus
    priority: Priority
    overdue: bool = Field(description="Open and past its due time (an appointment: past its end).")
    actual_end: datetime | None = Field(description="When it was completed or canceled.")
    owner_user_id: uuid.UUID | None
    owner_team_id: uuid.UUID | None
    owning_business_unit_id: uuid.UUID | None
    created_by_id: uuid.UUID | None
    modified_by_id: uuid.UUID | None
    row_version: int
    created_at: datetime
    modified_at: datetime


class TaskOut(_ActivityOut):
    type: Literal["task"]
    due: datetime | None
    percent_complete: int | None
    duration_minutes: int | None


class PhoneCallOut(_ActivityOut):
    type: Literal["phone_call"]
    due: datetime | None
    direction: Direction | None
    phone_number: str | None
    duration_minutes: int | None
    left_voicemail: bool


class AppointmentOut(_ActivityOut):
    type: Literal["appointment"]
    start: datetime | None
    end: datetime | None
    all_day: bool
    location: str | None
    attendees: list[AttendeeOut]


class EmailOut(_ActivityOut):
    type: Literal["email"]
    due: datetime | None
    direction: Direction | None
    sender: list[str]
    to: list[str]
    cc: list[str]
    send_attempts: int
    send_error: str | None = Field(description="Why the last try to send it failed.")
    next_send_at: datetime | None = Field(description="When sending is tried again.")
    sent_at: datetime | None
    job_id: uuid.UUID | None = Field(default=None, description="The job this request started to send it.")


ActivityOut = Annotated[TaskOut | PhoneCallOut | AppointmentOut | EmailOut, Field(discriminator="type")]


class CompleteIn(InputModel):
    """Complete with one of the type's completed status reasons (its default when none is named)."""

    status_reason: ActivityStatus | None = None


class CalendarFeedOut(BaseModel):
    url: str = Field(description="The feed's secret address; shown once, subscribe to it in a calendar app.")


class CalendarFeedState(BaseModel):
    active: bool


# --------------------------------------------------------------------------------------------- rendering


def _addresses(parties: list[ActivityParty], role: PartyRole) -> list[str]:
    return [party.address for party in parties if party.role is role and party.address]


def _attendees(parties: list[ActivityParty]) -> list[dict[str, Any]]:
    """The attendees in the order they were given (required and optional ones share the positions)."""
    kinds = {"users": "user", "contacts": "contact"}
    attending = sorted(
        (party for party in parties if party.role in (PartyRole.REQUIRED, PartyRole.OPTIONAL)),
        key=lambda party: party.position,
    )
    return [
        {
            "kind": kinds.get(party.party_table or ""),
            "id": party.party_id,
            "name": party.name,
            "address": party.address,
            "optional": party.role is PartyRole.OPTIONAL,
        }
        for party in attending
    ]


def activity_fields(
    activity: Activity, parties: list[ActivityParty], *, job_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """An activity's representation as a dict: the common fields and those of its type."""
    values: dict[str, Any] = {name: getattr(activity, name) for name in _ActivityOut.model_fields if name != "overdue"}
    values["overdue"] = service.is_overdue(activity)
    values["type"] = activity.type.value
    kind = activity.type
    if kind is ActivityType.APPOINTMENT:
        values.update(
            start=activity.scheduled_start,
            end=activity.scheduled_end,
            all_day=activity.all_day,
            location=activity.location,
            attendees=_attendees(parties),
        )
        return values
    values.update(due=activity.scheduled_end, duration_minutes=activity.duration_minutes)
    if kind is ActivityType.TASK:
        values["percent_complete"] = activity.percent_complete
    elif kind is ActivityType.PHONE_CALL:
        values.update(
            direction=activity.direction,
            phone_number=activity.phone_number,
            left_voicemail=activity.left_voicemail,
        )
    else:
        del values["duration_minutes"]
        values.update(
            direction=activity.direction,
            sender=_addresses(parties, PartyRole.SENDER),
            to=_addresses(parties, PartyRole.TO),
            cc=_addresses(parties, PartyRole.CC),
            send_attempts=activity.send_attempts,
            send_error=activity.send_error,
            next_send_at=activity.next_send_at,
            sent_at=activity.sent_at,
            job_id=job_id,
        )
    return values


_OUT: dict[ActivityType, type[_ActivityOut]] = {
    ActivityType.TASK: TaskOut,
    ActivityType.PHONE_CALL: PhoneCallOut,
    ActivityType.APPOINTMENT: AppointmentOut,
    ActivityType.EMAIL: EmailOut,
}


def activity_out(
    activity: Activity, parties: list[ActivityParty], *, job_id: uuid.UUID | None = None
) -> TaskOut | PhoneCallOut | AppointmentOut | EmailOut:
    """An activity as the API answers it."""
    out = _OUT[activity.type].model_validate(activity_fields(activity, parties, job_id=job_id))
    assert isinstance(out, TaskOut | PhoneCallOut | AppointmentOut | EmailOut)
    return out


def _render(
    activity: Activity, uow: UnitOfWork, response: Response, *, job: Job | None = None
) -> TaskOut | PhoneCallOut | AppointmentOut | EmailOut:
    parties = service.parties_of(uow.session, [activity.id])[activity.id]
    response.headers["ETag"] = activity.etag
    return activity_out(activity, parties, job_id=job.id if job is not None else None)


def _after_send(
    activity_id: uuid.UUID, job: Job, *, database: Database, queue: JobQueue, actor: Actor, response: Response
) -> TaskOut | PhoneCallOut | AppointmentOut | EmailOut:
    """Hand the committed send job to the queue, then answer the e-mail as it is now (sent already
    when the queue runs jobs at once)."""
    submit(job.id, queue=queue, database=database)
    with database.unit_of_work(read_only=True) as uow:
        return _render(service.get_activity(activity_id, uow=uow, actor=actor), uow, response, job=job)


def _mail_configured(settings: Settings) -> bool:
    return bool(settings.smtp_url)


# ------------------------------------------------------------------------------------------------ routes


@router.post("/activities", status_code=status.HTTP_201_CREATED)
def create_activity(
    data: ActivityFields,
    uow: UowDep,
    actor: CurrentActor,
    database: DatabaseDep,
    queue: QueueDep,
    settings: SettingsDep,
    response: Response,
) -> ActivityOut:
    """Create a task, phone call, appointment or e-mail with the fields of its type; an e-mail with
    `send: true` is sent by a job (`job_id`), retried when the mail server does not take it."""
    activity, job = service.create_activity(data, uow=uow, actor=actor, mail_configured=_mail_configured(settings))
    uow.commit()
    response.headers["Location"] = f"/api/v1/activities/{activity.id}"
    if job is not None:
        return _after_send(activity.id, job, database=database, queue=queue, actor=actor, response=response)
    return _render(activity, uow, response)


@router.get("/activities")
def list_activities(
    uow: ReadUowDep,
    actor: CurrentActor,
    types: Annotated[list[ActivityType] | None, Query(alias="type", description="Repeat for several types.")] = None,
    states: Annotated[list[ActivityState] | None, Query(alias="state", description="Repeat for several.")] = None,
    regarding_table: RegardingTable | None = None,
    regarding_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
    owner: Annotated[Literal["me"] | None, Query(description="`me`: your own activities.")] = None,
    due_before: Annotated[Moment, Query(description="Due (an appointment: ending) before this moment.")] = None,
    view: Annotated[
        str | None,
        Query(
            max_length=50,
            description="my_open, due_today, overdue or completed_this_week: your own, 'today' and "
            "'this week' in your time zone.",
        ),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[ActivityOut]:
    """The activities you may read; open ones soonest due first (undated last), others newest first."""
    filters = ActivityFilter(
        types=tuple(types or ()),
        states=tuple(states or ()),
        regarding_table=regarding_table,
        regarding_id=regarding_id,
        owner_user_id=actor.user_id if owner == "me" else owner_id,
        due_before=due_before,
        view=view,
    )
    time_zone = time_zone_of(actor, session=uow.session).key
    page = service.list_activities(filters, uow=uow, actor=actor, time_zone=time_zone, limit=limit, cursor=cursor)
    parties = service.parties_of(uow.session, [activity.id for activity in page.items])
    items = [activity_out(activity, parties[activity.id]) for activity in page.items]
    return PageOut[ActivityOut](items=items, next_cursor=page.next_cursor)


@router.get("/activities/{activity_id}")
def get_activity(activity_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> ActivityOut:
    """Read one activity; the ETag header carries its row version."""
    return _render(service.get_activity(activity_id, uow=uow, actor=actor), uow, response)


@router.patch("/activities/{activity_id}")
def update_activity(
    activity_id: uuid.UUID,
    changes: ActivityChanges,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> ActivityOut:
    """Change the named fields of an open activity; send `If-Match` with its ETag to refuse overwriting a
    newer version. Completed and canceled activities are read-only until reopened."""
    activity = service.update_activity(activity_id, changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _render(activity, uow, response)


@router.delete("/activities/{activity_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_activity(activity_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
    """Delete an activity."""
    service.delete_activity(activity_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/activities/{activity_id}/complete")
def complete_activity(
    activity_id: uuid.UUID,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
    data: CompleteIn | None = None,
) -> ActivityOut:
    """Mark an open activity complete, optionally with a completed status reason (a call: made or received)."""
    reason = data.status_reason if data is not None else None
    activity = service.complete_activity(
        activity_id, status_reason=reason, uow=uow, actor=actor, expected_version=version
    )
    uow.commit()
    return _render(activity, uow, response)


@router.post("/activities/{activity_id}/cancel")
def cancel_activity(
    activity_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> ActivityOut:
    """Cancel an open activity (an e-mail waiting to be sent is not sent)."""
    activity = service.cancel_activity(activity_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _render(activity, uow, response)


@router.post("/activities/{activity_id}/reopen")
def reopen_activity(
    activity_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> ActivityOut:
    """Open a completed or canceled activity again (a sent e-mail stays sent)."""
    activity = service.reopen_activity(activity_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _render(activity, uow, response)


@router.post("/activities/{activity_id}/send")
def send_email(
    activity_id: uuid.UUID,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    database: DatabaseDep,
    queue: QueueDep,
    settings: SettingsDep,
    response: Response,
) -> ActivityOut:
    """Send a draft (or failed) e-mail through the configured mail server, as a job (`job_id`); a server
    that does not take it is tried again 1, 5, 15 and 60 minutes later, then the e-mail is Failed."""
    activity, job = service.send_email(
        activity_id, uow=uow, actor=actor, mail_configured=_mail_configured(settings), expected_version=version
    )
    uow.commit()
    return _after_send(activity.id, job, database=database, queue=queue, actor=actor, response=response)


# ---------------------------------------------------------------------------------------------- calendar


def _site_address(request: Request, settings: Settings) -> str:
    """The web app's address as people reach it: the configured public URL, else this request's."""
    return (settings.public_url or str(request.base_url)).rstrip("/")


@router.post("/me/calendar-feed", status_code=status.HTTP_201_CREATED)
def issue_calendar_feed(
    uow: UowDep, actor: CurrentActor, settings: SettingsDep, request: Request, response: Response
) -> CalendarFeedOut:
    """Make your private calendar feed (your appointments and due tasks, as iCalendar); an earlier
    address stops working. Anyone holding the address can read the feed: keep it secret."""
    token = calendar.issue_feed(uow=uow, actor=actor)
    uow.commit()
    response.headers["Cache-Control"] = "no-store"
    return CalendarFeedOut(url=f"{_site_address(request, settings)}/calendar/{token}.ics")


@router.get("/me/calendar-feed")
def calendar_feed_state(uow: ReadUowDep, actor: CurrentActor) -> CalendarFeedState:
    """Whether you have a calendar feed (its address is shown only when it is made)."""
    return CalendarFeedState(active=calendar.has_feed(uow=uow, actor=actor))


@router.delete("/me/calendar-feed", status_code=status.HTTP_204_NO_CONTENT)
def revoke_calendar_feed(uow: UowDep, actor: CurrentActor) -> Response:
    """Stop your calendar feed: its address answers 404 from now on."""
    calendar.revoke_feed(uow=uow, actor=actor)
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@feed_router.get("/calendar/{token}.ics", response_class=Response, include_in_schema=False)
def calendar_feed(token: str, database: DatabaseDep, settings: SettingsDep, request: Request) -> Response:
    """A user's calendar feed, for calendar apps: no sign-in, the secret address is the credential."""
    with database.unit_of_work(read_only=True) as uow:
        content = calendar.feed_calendar(token[:200], uow=uow, link=_site_address(request, settings))
    return Response(
        content,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
