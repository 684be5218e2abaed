"""What a request may say about an activity, and how it is checked: the fields of each type (a field
of another type is refused by name), the status reasons a type has, the record regarded (readable, open
to Append To, editable), attendees and e-mail addresses, times (an appointment's start and end, whole
days as written; the due time of the other types), turned into the columns and parties
``leadflow.activities.activity`` writes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import Field
from sqlalchemy import delete
from sqlalchemy.orm import Session

from leadflow.activities.models import (
    NOT_DUE,
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
from leadflow.core.errors import ValidationFailed, field_refusal
from leadflow.core.records import unknown_reference
from leadflow.core.schemas import InputModel
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import can, linkable
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.security.privileges import Privilege

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
