"""Tasks, phone calls, appointments and e-mails: create, change, complete, cancel, reopen, delete, and
the lists a seller works from (Dynamics' activity model, reference §5).

Each type keeps its own fields: a field of another type is refused by name, not ignored. An activity
regards at most one lead, account, contact or opportunity, which the user must be able to read and
append to; its privileges are its type's (``tasks``, ``phone_calls``, ``appointments``, ``emails``).
Completed and canceled activities are read-only until reopened, as in Dynamics.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from pydantic import Field
from sqlalchemy import ColumnElement, delete, false, func, or_, select, update
from sqlalchemy.orm import Session

from leadflow.activities.models import (
    NOT_DUE,
    PRIVILEGE_TABLES,
    STATUS_REASONS,
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
from leadflow.core.db import mapped_class, utcnow
from leadflow.core.errors import InvalidState, ValidationFailed, field_refusal
from leadflow.core.paging import MAX_LIMIT, Page, keyset_page
from leadflow.core.records import check_version, unknown_reference
from leadflow.core.schemas import InputModel, parse
from leadflow.core.uow import UnitOfWork
from leadflow.jobs.models import Job
from leadflow.jobs.service import create_job
from leadflow.security.access import access_condition, can, get_accessible, linkable
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.models import User
from leadflow.security.ownership import change_owned, create_owned, delete_owned, with_owner_unit
from leadflow.security.privileges import Privilege

SEND_KIND = "email_send"
# How often sending an e-mail is tried before it is left Open as Failed, and the waits between tries.
MAX_SEND_ATTEMPTS = 5
SEND_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
MAX_PARTIES = 500

# The fields of each type, beyond those every activity has.
TYPE_FIELDS: dict[ActivityType, frozenset[str]] = {
    ActivityType.TASK: frozenset({"due", "percent_complete", "duration_minutes"}),
    ActivityType.PHONE_CALL: frozenset({"due", "direction", "phone_number", "duration_minutes", "left_voicemail"}),
    ActivityType.APPOINTMENT: frozenset({"start", "end", "all_day", "location", "attendees"}),
    ActivityType.EMAIL: frozenset({"due", "direction", "sender", "to", "cc", "send"}),
}
COMMON_FIELDS = frozenset(
    {"type", "subject", "description", "regarding_table", "regarding_id", "owner_user_id", "priority", "status_reason"}
)
# Set only by sending: an e-mail is never created or changed into these.
SENDING_STATES = frozenset({ActivityStatus.SENT, ActivityStatus.PENDING_SEND, ActivityStatus.SENDING})


class AttendeeIn(InputModel):
    """An appointment's attendee: a user or a contact, required unless ``optional``."""

    kind: Literal["user", "contact"]
    id: uuid.UUID
    optional: bool = False


class ActivityFields(InputModel):
    """An activity as a request states it; the fields of its type only."""

    type: ActivityType
    subject: str = Field(min_length=1, max_length=400)
    description: str | None = Field(default=None, max_length=100_000)
    regarding_table: RegardingTable | None = None
    regarding_id: uuid.UUID | None = None
    owner_user_id: uuid.UUID | None = None
    priority: Priority = Priority.NORMAL
    status_reason: ActivityStatus | None = None
    due: datetime | None = None
    start: datetime | None = None
    end: datetime | None = None
    all_day: bool = False
    location: str | None = Field(default=None, max_length=400)
    duration_minutes: int | None = Field(default=None, ge=0, le=525_600)
    percent_complete: int | None = Field(default=None, ge=0, le=100)
    direction: Direction | None = None
    phone_number: str | None = Field(default=None, max_length=64)
    left_voicemail: bool = False
    sender: str | None = Field(default=None, max_length=320)
    to: list[str] | None = Field(default=None, max_length=MAX_PARTIES)
    cc: list[str] | None = Field(default=None, max_length=MAX_PARTIES)
    attendees: list[AttendeeIn] | None = Field(default=None, max_length=MAX_PARTIES)
    send: bool = False


_CHANGEABLE = {name: field for name, field in ActivityFields.model_fields.items() if name not in ("type", "send")}


class ActivityChanges(InputModel):
    """The fields a change names; the others stay as they are (the type never changes)."""

    subject: str | None = Field(default=None, min_length=1, max_length=400)
    description: str | None = Field(default=None, max_length=100_000)
    regarding_table: RegardingTable | None = None
    regarding_id: uuid.UUID | None = None
    owner_user_id: uuid.UUID | None = None
    priority: Priority | None = None
    status_reason: ActivityStatus | None = None
    due: datetime | None = None
    start: datetime | None = None
    end: datetime | None = None
    all_day: bool | None = None
    location: str | None = Field(default=None, max_length=400)
    duration_minutes: int | None = Field(default=None, ge=0, le=525_600)
    percent_complete: int | None = Field(default=None, ge=0, le=100)
    direction: Direction | None = None
    phone_number: str | None = Field(default=None, max_length=64)
    left_voicemail: bool | None = None
    sender: str | None = Field(default=None, max_length=320)
    to: list[str] | None = Field(default=None, max_length=MAX_PARTIES)
    cc: list[str] | None = Field(default=None, max_length=MAX_PARTIES)
    attendees: list[AttendeeIn] | None = Field(default=None, max_length=MAX_PARTIES)


_LABELS = {
    RegardingTable.LEADS: "lead",
    RegardingTable.ACCOUNTS: "account",
    RegardingTable.CONTACTS: "contact",
    RegardingTable.OPPORTUNITIES: "opportunity",
}

# --------------------------------------------------------------------------------------------- checks


def _aware(value: datetime | None, field: str) -> datetime | None:
    """A time as UTC; a time without a zone is read as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise field_refusal(field, "invalid_datetime", f"{field}: this time cannot be stored.") from None


def _only_fields_of(kind: ActivityType, named: set[str]) -> None:
    foreign = sorted(named - COMMON_FIELDS - TYPE_FIELDS[kind] - {"type"})
    if foreign:
        fields = [
            {
                "field": name,
                "code": "not_for_type",
                "message": f"{name}: a {kind.value.replace('_', ' ')} has no such field.",
            }
            for name in foreign
        ]
        raise ValidationFailed(" ".join(f["message"] for f in fields), code="not_for_type", details={"fields": fields})


def _check_reason(kind: ActivityType, reason: ActivityStatus) -> ActivityState:
    """The state a status reason belongs to for this type; refused when the type has no such reason."""
    if kind is ActivityType.EMAIL and reason in SENDING_STATES:
        raise field_refusal(
            "status_reason", "set_by_sending", "status_reason: an e-mail becomes sent only by sending it (send)."
        )
    for state, reasons in STATUS_REASONS[kind].items():
        if reason in reasons:
            return state
    allowed = ", ".join(r.value for reasons in STATUS_REASONS[kind].values() for r in reasons)
    raise field_refusal(
        "status_reason",
        "invalid_status_reason",
        f"status_reason: a {kind.value.replace('_', ' ')} has the status reasons {allowed}.",
    )


def email_address(value: str, field: str) -> str:
    """An e-mail address in its normal form; refused (422 naming ``field``) when it is not one."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise field_refusal(field, "invalid_email", f"{field}: {value!r} is not an e-mail address ({error}).") from None


def _regarding(uow: UnitOfWork, actor: Actor, table: RegardingTable | None, record_id: uuid.UUID | None) -> Any | None:
    """The record an activity regards: readable and open to Append To, and editable (a closed lead is not)."""
    if table is None and record_id is None:
        return None
    if table is None or record_id is None:
        missing = "regarding_table" if table is None else "regarding_id"
        raise field_refusal(missing, "regarding_incomplete", f"{missing}: name both the table and the record regarded.")
    record = linkable(uow.session, actor, mapped_class(table.value), record_id, field="regarding_id")
    record.ensure_editable()
    return record


def _attendees(session: Session, actor: Actor, attendees: Sequence[AttendeeIn]) -> list[dict[str, Any]]:
    """Parties of the attendees: each an active user or a contact the actor may read."""
    parties = []
    contact_model = mapped_class("contacts")
    for position, attendee in enumerate(attendees):
        role = PartyRole.OPTIONAL if attendee.optional else PartyRole.REQUIRED
        if attendee.kind == "user":
            user = session.get(User, attendee.id)
            if user is None or not user.is_active:
                raise unknown_reference(field="attendees", label="user", record_id=attendee.id)
            parties.append(
                {
                    "role": role,
                    "position": position,
                    "party_table": "users",
                    "party_id": user.id,
                    "name": user.full_name,
                    "address": user.email,
                }
            )
        else:
            contact = session.get(contact_model, attendee.id)
            if contact is None or not can(session, actor, Privilege.READ, "contacts", contact):
                raise unknown_reference(field="attendees", label="contact", record_id=attendee.id)
            parties.append(
                {
                    "role": role,
                    "position": position,
                    "party_table": "contacts",
                    "party_id": contact.id,
                    "name": contact.full_name,
                    "address": contact.email,
                }
            )
    return parties


def _addresses(role: PartyRole, addresses: Sequence[str], field: str) -> list[dict[str, Any]]:
    return [
        {"role": role, "position": position, "address": email_address(address, field)}
        for position, address in enumerate(addresses)
    ]


@dataclass
class _Times:
    start: datetime | None
    end: datetime | None


def _day(written: datetime | None, stored: datetime) -> date:
    """The calendar day of a time as it was written (in its own offset), else as stored."""
    return written.date() if written is not None else stored.date()


def _times(kind: ActivityType, values: dict[str, Any], current: Activity | None) -> _Times:
    """The stored start and end: an appointment's own; the due time (end) of the other types."""
    if kind is not ActivityType.APPOINTMENT:
        end = _aware(values["due"], "due") if "due" in values else (current.scheduled_end if current else None)
        return _Times(None, end)
    start = _aware(values["start"], "start") if "start" in values else (current.scheduled_start if current else None)
    end = _aware(values["end"], "end") if "end" in values else (current.scheduled_end if current else None)
    all_day = values.get("all_day", current.all_day if current else False)
    if start is None:
        raise field_refusal("start", "start_required", "start: an appointment needs a start.")
    if all_day:
        # Whole days are the days as written, whatever the offset: kept as midnight UTC of each day.
        start = datetime.combine(_day(values.get("start"), start), time(), UTC)
        end = datetime.combine(_day(values.get("end"), end or start), time(), UTC)
        if end <= start:
            end = start + timedelta(days=1)
    elif end is None:
        end = start + timedelta(minutes=30)
    if end < start:
        raise field_refusal("end", "end_before_start", "end: the appointment ends before it starts.")
    return _Times(start, end)


def _columns(kind: ActivityType, values: dict[str, Any], current: Activity | None) -> dict[str, Any]:
    """The columns an activity's values set (times checked, parties left to the caller)."""
    columns: dict[str, Any] = {}
    for name in (
        "subject",
        "description",
        "priority",
        "location",
        "duration_minutes",
        "percent_complete",
        "direction",
        "left_voicemail",
        "all_day",
        "owner_user_id",
    ):
        if name in values:
            columns[name] = values[name]
    if "phone_number" in values:
        columns["phone_number"] = (values["phone_number"] or "").strip() or None
    if {"due", "start", "end", "all_day"} & values.keys() or current is None:
        times = _times(kind, values, current)
        columns["scheduled_start"], columns["scheduled_end"] = times.start, times.end
        columns["due_order"] = times.end or NOT_DUE
    if columns.get("owner_user_id", True) is None:
        del columns["owner_user_id"]
    if columns.get("priority") is None:
        columns.pop("priority", None)
    for flag in ("all_day", "left_voicemail"):
        if flag in columns and columns[flag] is None:
            columns.pop(flag)
    return columns


def _state_columns(kind: ActivityType, reason: ActivityStatus | None, current: Activity | None) -> dict[str, Any]:
    """State, status reason and end time for a reason named on create or change."""
    if reason is None:
        if current is not None:
            return {}
        return {"state": ActivityState.OPEN, "status_reason": STATUS_REASONS[kind][ActivityState.OPEN][0]}
    state = _check_reason(kind, reason)
    columns: dict[str, Any] = {"state": state, "status_reason": reason}
    if state is not ActivityState.OPEN:
        columns["actual_end"] = utcnow()
        if kind is ActivityType.TASK and state is ActivityState.COMPLETED:
            columns["percent_complete"] = 100
    return columns


def _replace_parties(
    session: Session, activity: Activity, parties: list[dict[str, Any]], roles: set[PartyRole]
) -> None:
    session.execute(
        delete(ActivityParty).where(ActivityParty.activity_id == activity.id, ActivityParty.role.in_(roles))
    )
    session.add_all(ActivityParty(id=uuid.uuid4(), activity_id=activity.id, **party) for party in parties)


def _parties(
    session: Session, actor: Actor, kind: ActivityType, values: dict[str, Any]
) -> tuple[list[dict[str, Any]], set[PartyRole]]:
    """The parties the values name, and the roles they replace."""
    parties: list[dict[str, Any]] = []
    roles: set[PartyRole] = set()
    if kind is ActivityType.APPOINTMENT and "attendees" in values:
        parties += _attendees(session, actor, values["attendees"] or [])
        roles |= {PartyRole.REQUIRED, PartyRole.OPTIONAL}
    if kind is ActivityType.EMAIL:
        for role, field in ((PartyRole.TO, "to"), (PartyRole.CC, "cc")):
            if field in values:
                parties += _addresses(role, values[field] or [], field)
                roles.add(role)
        if "sender" in values and values["sender"]:
            parties += _addresses(PartyRole.SENDER, [values["sender"]], "sender")
            roles.add(PartyRole.SENDER)
    return parties, roles


# ------------------------------------------------------------------------------------------ operations


def get_activity(
    activity_id: uuid.UUID,
    *,
    uow: UnitOfWork,
    actor: Actor,
    privilege: Privilege = Privilege.READ,
    for_update: bool = False,
) -> Activity:
    """An activity the actor holds ``privilege`` on (one they may not read is not found)."""
    return get_accessible(
        uow.session, Activity, activity_id, label="activity", actor=actor, privilege=privilege, for_update=for_update
    )


def parties_of(session: Session, activity_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[ActivityParty]]:
    """The parties of some activities, in their order, by activity."""
    found: dict[uuid.UUID, list[ActivityParty]] = {activity_id: [] for activity_id in activity_ids}
    if not activity_ids:
        return found
    rows = session.scalars(
        select(ActivityParty)
        .where(ActivityParty.activity_id.in_(list(activity_ids)))
        .order_by(ActivityParty.activity_id, ActivityParty.role, ActivityParty.position)
    )
    for party in rows:
        found[party.activity_id].append(party)
    return found


def create_activity(
    data: ActivityFields | dict[str, Any],
    *,
    uow: UnitOfWork,
    actor: Actor,
    mail_configured: bool = False,
    record_id: uuid.UUID | None = None,
) -> tuple[Activity, Job | None]:
    """A new activity of the actor (or of the owner named, with Assign), with the id a client chose
    when it chose one, and, for an e-mail created with ``send``, the job that sends it (hand it to the
    queue after commit)."""
    fields = data if isinstance(data, ActivityFields) else parse(ActivityFields, data)
    named = set(fields.model_fields_set)
    kind = fields.type
    _only_fields_of(kind, named)
    values = {name: getattr(fields, name) for name in named}
    session = uow.session
    _regarding(uow, actor, fields.regarding_table, fields.regarding_id)
    columns = _columns(kind, values, None)
    columns.update(_state_columns(kind, fields.status_reason, None))
    if kind in (ActivityType.PHONE_CALL, ActivityType.EMAIL) and columns.get("direction") is None:
        columns["direction"] = Direction.OUTGOING
    if kind is ActivityType.PHONE_CALL and fields.status_reason is None and "direction" in named:
        pass  # an open call; made or received when it is completed
    if kind is ActivityType.EMAIL and fields.send and columns.get("direction") is Direction.INCOMING:
        raise field_refusal("send", "incoming_not_sent", "send: an incoming e-mail is recorded, not sent.")
    if kind is ActivityType.EMAIL and fields.send and fields.status_reason is not None:
        raise field_refusal("status_reason", "set_by_sending", "status_reason: sending sets the e-mail's status.")
    parties, _roles = _parties(session, actor, kind, values)
    if kind is ActivityType.EMAIL and "sender" not in named:
        user = session.get(User, actor.user_id)
        if user is not None:
            parties.append(
                {
                    "role": PartyRole.SENDER,
                    "position": 0,
                    "party_table": "users",
                    "party_id": user.id,
                    "name": user.full_name,
                    "address": user.email,
                }
            )
    columns.update(
        type=kind,
        regarding_table=fields.regarding_table,
        regarding_id=fields.regarding_id,
    )
    if record_id is not None:
        columns["id"] = record_id
    activity = create_owned(Activity, with_owner_unit(session, columns), summary_of="subject", uow=uow, actor=actor)
    session.add_all(ActivityParty(id=uuid.uuid4(), activity_id=activity.id, **party) for party in parties)
    uow.flush()
    job = None
    if fields.send:
        job = _request_send(activity, uow=uow, actor=actor, mail_configured=mail_configured)
    return activity, job


def update_activity(
    activity_id: uuid.UUID,
    data: ActivityChanges | dict[str, Any],
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> Activity:
    """Change the named fields of an open activity (completed and canceled ones are read-only)."""
    changes = data if isinstance(data, ActivityChanges) else parse(ActivityChanges, data)
    named = set(changes.model_fields_set)
    session = uow.session
    activity = get_activity(activity_id, uow=uow, actor=actor, privilege=Privilege.WRITE)
    check_version(activity, expected_version)
    _only_fields_of(activity.type, named)
    if not activity.is_open:
        raise InvalidState(
            f"This {_kind_label(activity)} is {activity.state.value} and read-only; reopen it to change it.",
            code="activity_closed",
        )
    values = {name: getattr(changes, name) for name in named}
    if "subject" in values and values["subject"] is None:
        raise field_refusal("subject", "missing", "subject: an activity needs a subject.")
    if "regarding_table" in values or "regarding_id" in values:
        table = values.get("regarding_table", activity.regarding_table)
        record_id = values.get("regarding_id", activity.regarding_id)
        _regarding(uow, actor, table, record_id)
    columns = _columns(activity.type, values, activity)
    reason = values.get("status_reason")
    if reason is not None and _check_reason(activity.type, reason) is not ActivityState.OPEN:
        raise field_refusal(
            "status_reason",
            "use_complete_or_cancel",
            "status_reason: complete or cancel the activity to give it a closed status reason.",
        )
    columns.update(_state_columns(activity.type, reason, activity))
    for name in ("regarding_table", "regarding_id"):
        if name in values:
            columns[name] = values[name]
    parties, roles = _parties(session, actor, activity.type, values)
    if roles:
        _replace_parties(session, activity, parties, roles)
    change_owned(activity, with_owner_unit(session, columns), uow=uow, actor=actor)
    return activity


def _kind_label(activity: Activity) -> str:
    return activity.type.value.replace("_", " ")


def complete_activity(
    activity_id: uuid.UUID,
    *,
    status_reason: ActivityStatus | None = None,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> Activity:
    """Mark an open activity complete (with one of its type's completed reasons); a canceled one must be
    reopened first, a completed one is left as it is."""
    activity = get_activity(activity_id, uow=uow, actor=actor, privilege=Privilege.WRITE, for_update=True)
    check_version(activity, expected_version)
    if activity.state is ActivityState.CANCELED:
        raise InvalidState(
            f"This {_kind_label(activity)} is canceled; reopen it before completing it.", code="activity_canceled"
        )
    if activity.state is ActivityState.COMPLETED:
        raise InvalidState(f"This {_kind_label(activity)} is already completed.", code="activity_completed")
    reasons = STATUS_REASONS[activity.type][ActivityState.COMPLETED]
    if status_reason is None:
        status_reason = reasons[0]
        if activity.type is ActivityType.PHONE_CALL and activity.direction is Direction.INCOMING:
            status_reason = ActivityStatus.RECEIVED
        if activity.type is ActivityType.EMAIL and activity.direction is Direction.INCOMING:
            status_reason = ActivityStatus.RECEIVED
    if _check_reason(activity.type, status_reason) is not ActivityState.COMPLETED:
        raise field_refusal(
            "status_reason",
            "invalid_status_reason",
            f"status_reason: a completed {_kind_label(activity)} has the status reasons "
            f"{', '.join(r.value for r in reasons if r not in SENDING_STATES)}.",
        )
    _close(activity, ActivityState.COMPLETED, status_reason, uow=uow, actor=actor, action="complete")
    return activity


def cancel_activity(
    activity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Activity:
    """Cancel an open activity (an e-mail waiting to be sent is no longer sent)."""
    activity = get_activity(activity_id, uow=uow, actor=actor, privilege=Privilege.WRITE, for_update=True)
    check_version(activity, expected_version)
    if activity.state is ActivityState.CANCELED:
        raise InvalidState(f"This {_kind_label(activity)} is already canceled.", code="activity_canceled")
    if activity.state is ActivityState.COMPLETED and activity.status_reason is not ActivityStatus.PENDING_SEND:
        raise InvalidState(
            f"This {_kind_label(activity)} is completed; reopen it before canceling it.", code="activity_completed"
        )
    _close(activity, ActivityState.CANCELED, ActivityStatus.CANCELED, uow=uow, actor=actor, action="cancel")
    activity.next_send_at = None
    return activity


def reopen_activity(
    activity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Activity:
    """Open a completed or canceled activity again, with its type's first open status reason; a sent
    e-mail stays sent (it left; there is nothing to reopen)."""
    activity = get_activity(activity_id, uow=uow, actor=actor, privilege=Privilege.WRITE, for_update=True)
    check_version(activity, expected_version)
    if activity.is_open:
        raise InvalidState(f"This {_kind_label(activity)} is already open.", code="activity_open")
    if activity.status_reason in SENDING_STATES:
        raise InvalidState("This e-mail was sent (or is being sent); it cannot be reopened.", code="email_sent")
    activity.state = ActivityState.OPEN
    activity.status_reason = STATUS_REASONS[activity.type][ActivityState.OPEN][0]
    activity.actual_end = None
    activity.modified_by_id = actor.user_id
    uow.flush()
    record_action(uow.session, actor, "reopen", table="activities", record_id=activity.id, summary=activity.subject)
    return activity


def _close(
    activity: Activity, state: ActivityState, reason: ActivityStatus, *, uow: UnitOfWork, actor: Actor, action: str
) -> None:
    activity.state = state
    activity.status_reason = reason
    activity.actual_end = utcnow()
    if activity.type is ActivityType.TASK and state is ActivityState.COMPLETED:
        activity.percent_complete = 100
    activity.modified_by_id = actor.user_id
    uow.flush()
    record_action(uow.session, actor, action, table="activities", record_id=activity.id, summary=activity.subject)


def delete_activity(
    activity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete an activity with its parties."""
    activity = get_activity(activity_id, uow=uow, actor=actor, privilege=Privilege.DELETE)
    check_version(activity, expected_version)
    uow.session.execute(delete(ActivityParty).where(ActivityParty.activity_id == activity.id))
    delete_owned(activity, summary=activity.subject, uow=uow, actor=actor)


# ------------------------------------------------------------------------------------------------ e-mail


def _request_send(activity: Activity, *, uow: UnitOfWork, actor: Actor, mail_configured: bool) -> Job:
    if not mail_configured:
        raise InvalidState(
            "No mail server is configured (LEADFLOW_SMTP_URL), so leadflow cannot send e-mail; record it "
            "without sending, or ask an administrator to configure one.",
            code="smtp_not_configured",
        )
    if activity.direction is Direction.INCOMING:
        raise InvalidState("An incoming e-mail is recorded, not sent.", code="incoming_not_sent")
    recipients = uow.session.scalar(
        select(ActivityParty.id)
        .where(ActivityParty.activity_id == activity.id, ActivityParty.role.in_([PartyRole.TO, PartyRole.CC]))
        .limit(1)
    )
    if recipients is None:
        raise field_refusal("to", "no_recipient", "to: an e-mail to send needs at least one recipient.")
    activity.state = ActivityState.COMPLETED
    activity.status_reason = ActivityStatus.PENDING_SEND
    activity.send_error = None
    # Each sending gets its own tries: a failed e-mail sent again is not failed again at its first try.
    activity.send_attempts = 0
    activity.next_send_at = utcnow()
    activity.modified_by_id = actor.user_id
    uow.flush()
    return create_job(
        uow.session,
        actor,
        kind=SEND_KIND,
        title=f"Send the e-mail {activity.subject}"[:200],
        parameters={"activity_id": str(activity.id)},
    )


def send_email(
    activity_id: uuid.UUID,
    *,
    uow: UnitOfWork,
    actor: Actor,
    mail_configured: bool,
    expected_version: int | None = None,
) -> tuple[Activity, Job]:
    """Send a draft (or failed) e-mail: it becomes Pending Send and a job sends it, retrying on failure."""
    activity = get_activity(activity_id, uow=uow, actor=actor, privilege=Privilege.WRITE, for_update=True)
    check_version(activity, expected_version)
    if activity.type is not ActivityType.EMAIL:
        raise InvalidState(f"A {_kind_label(activity)} is not sent; only e-mails are.", code="not_an_email")
    if not activity.is_open:
        raise InvalidState(
            f"This e-mail is {activity.status_reason.value.replace('_', ' ')}; only a draft is sent.",
            code="email_not_draft",
        )
    return activity, _request_send(activity, uow=uow, actor=actor, mail_configured=mail_configured)


def send_backoff(attempts: int) -> timedelta:
    """How long to wait before the next try after ``attempts`` failed ones."""
    return SEND_BACKOFF[min(attempts, len(SEND_BACKOFF)) - 1]


# ------------------------------------------------------------------------------------------------ lists

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


# --------------------------------------------------------------------------------- other domains' needs


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
