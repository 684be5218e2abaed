"""What the activity pages show: the fields of each type, the posted form read into the service's
fields, the rows of the lists, the regarding records and attendees to choose from, the dashboard's
"Today's activities" tile, and refusals in the user's language.

The routes are in ``activities``; ``leadflow.activities.activity`` decides what may change and when.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.activities import activity as activities
from leadflow.activities.models import (
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
from leadflow.core.errors import LeadflowError, field_refusal
from leadflow.core.uow import UnitOfWork
from leadflow.customers.models import Account, Contact
from leadflow.leads.models import Lead
from leadflow.opportunities.models import Opportunity
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.security.privileges import Depth, Privilege
from leadflow.web.forms import Refusal, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import CHOICE_LABELS

# The lists a seller works from (leadflow.activities.activity.VIEWS), and "all I can see" with filters.
VIEW_LABELS = {
    "my_open": N_("My open activities"),
    "due_today": N_("Due today"),
    "overdue": N_("Overdue"),
    "completed_this_week": N_("Completed this week"),
    "all": N_("All activities I can see"),
}
DEFAULT_VIEW = "my_open"
PAGE_SIZE = 50
# The tile on the dashboard shows this many of the day's activities.
TILE_SIZE = 5
# A select offers at most this many records of each kind (the current choice always).
CHOICES_LIMIT = 100

NEW_LABELS = {
    ActivityType.TASK: N_("New task"),
    ActivityType.PHONE_CALL: N_("New phone call"),
    ActivityType.APPOINTMENT: N_("New appointment"),
    ActivityType.EMAIL: N_("New e-mail"),
}
# A small sign before the type's name (the name is always written: the sign is decoration).
TYPE_ICONS = {
    ActivityType.TASK: "☑",
    ActivityType.PHONE_CALL: "☎",
    ActivityType.APPOINTMENT: "◷",
    ActivityType.EMAIL: "✉",
}
REGARDING_PATHS = {table: f"/{table.value}" for table in RegardingTable}
REGARDING_LABELS = {
    RegardingTable.LEADS: N_("Leads"),
    RegardingTable.ACCOUNTS: N_("Accounts"),
    RegardingTable.CONTACTS: N_("Contacts"),
    RegardingTable.OPPORTUNITIES: N_("Opportunities"),
}
_REGARDING_MODELS: dict[RegardingTable, tuple[type[Any], Any]] = {
    RegardingTable.LEADS: (Lead, Lead.topic),
    RegardingTable.ACCOUNTS: (Account, Account.name),
    RegardingTable.CONTACTS: (Contact, Contact.full_name),
    RegardingTable.OPPORTUNITIES: (Opportunity, Opportunity.name),
}

NOTICES = {
    "created": N_("The activity was created."),
    "saved": N_("Your changes were saved."),
    "completed": N_("The activity is completed."),
    "canceled": N_("The activity is canceled."),
    "reopened": N_("The activity is open again."),
    "sending": N_("The e-mail is being sent."),
}

# Sentences of the activity refusals whose English sentence names the type (and so has no single
# translation), and field messages of the activity codes, in words the pages translate.
ACTIVITY_REFUSALS = {
    "activity_closed": N_("This activity is completed or canceled, and so read-only; reopen it to change it."),
    "activity_completed": N_("This activity is already completed."),
    "activity_canceled": N_("This activity is canceled; reopen it first."),
    "activity_open": N_("This activity is already open."),
    "email_sent": N_("This e-mail was sent (or is being sent); it cannot be reopened."),
    "email_not_draft": N_("Only a draft or failed e-mail can be sent."),
    "smtp_not_configured": N_("Sending e-mail is not set up on this server."),
    "lead_closed": N_("The lead regarded is closed; choose an open record."),
    "opportunity_closed": N_("The opportunity regarded is closed; choose an open record."),
}
ACTIVITY_FIELD_MESSAGES = {
    "end_before_start": N_("The end comes before the start."),
    "start_required": N_("An appointment needs a start."),
    "invalid_email": N_("Enter valid e-mail addresses, like name@example.com, separated by commas."),
    "regarding_incomplete": N_("Choose a record from the list."),
    "regarding_id_not_found": N_("The chosen record no longer exists."),
    "attendees_not_found": N_("An attendee chosen no longer exists."),
    "invalid_status_reason": N_("Choose one of the options."),
    "set_by_sending": N_("Only sending sets this status."),
    "no_recipient": N_("An e-mail to send needs at least one recipient."),
    "incoming_not_sent": N_("An incoming e-mail is recorded, not sent."),
    "invalid_datetime": N_("Enter a date and a time."),
    "invalid_integer": N_("Write a whole number."),
    "missing": N_("This field is required."),
}
# The form field a service field's problem is shown beside.
FORM_FIELD_OF = {
    "regarding_table": "regarding",
    "regarding_id": "regarding",
    "attendees": "required_attendees",
    "send": "to",
}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    group: str = ""  # an English message id


@dataclass
class ActivityForm:
    """The form of one activity: its type, the values shown, the options of its selects."""

    kind: ActivityType
    values: dict[str, Any]
    regarding: list[Choice] = field(default_factory=list)
    attendees: list[Choice] = field(default_factory=list)

    @property
    def fields(self) -> frozenset[str]:
        return activities.TYPE_FIELDS[self.kind]

    @property
    def open_reasons(self) -> list[tuple[str, str]]:
        return [
            (reason.value, label_of(ActivityStatus, reason)) for reason in STATUS_REASONS[self.kind][ActivityState.OPEN]
        ]

    @property
    def complete_reasons(self) -> list[tuple[str, str]]:
        return [
            (reason.value, label_of(ActivityStatus, reason))
            for reason in STATUS_REASONS[self.kind][ActivityState.COMPLETED]
            if reason not in activities.SENDING_STATES
        ]


def label_of(enum_type: type[Any], value: Any) -> str:
    """The English message id of a choice (leadflow.http.labels), to translate when rendered."""
    if value is None:
        return ""
    raw = value.value if hasattr(value, "value") else str(value)
    return CHOICE_LABELS[enum_type].get(raw, raw)


PRIORITY_CHOICES = [(p.value, label_of(Priority, p)) for p in Priority]
DIRECTION_CHOICES = [(d.value, label_of(Direction, d)) for d in Direction]
TYPE_CHOICES = [(t.value, label_of(ActivityType, t)) for t in ActivityType]
STATE_CHOICES = [(s.value, label_of(ActivityState, s)) for s in ActivityState]


def parse_type(raw: str | None) -> ActivityType | None:
    try:
        return ActivityType(raw or "")
    except ValueError:
        return None


def may(actor: Actor, kind: ActivityType, privilege: Privilege) -> bool:
    """Whether the actor holds ``privilege`` on activities of this type at any depth."""
    return actor.depth(PRIVILEGE_TABLES[kind], privilege) is not Depth.NONE


def creatable_types(actor: Actor) -> list[ActivityType]:
    return [kind for kind in ActivityType if may(actor, kind, Privilege.CREATE)]


# ---------------------------------------------------------------------------------------------- times


def local_input(value: datetime | None, zone: tzinfo) -> str:
    """A stored time as a ``datetime-local`` input shows it, in the reader's zone."""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""


def parse_local(raw: str, zone: tzinfo, name: str) -> datetime | None:
    """A ``datetime-local`` input read in the reader's zone; refused beside the field when not a time."""
    text = raw.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise field_refusal(name, "invalid_datetime", f"{name}: {text!r} is not a date and time.") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def zone_name(zone: tzinfo) -> str | None:
    """The IANA name of a zone (None for UTC), as the service's views take it."""
    return getattr(zone, "key", None)


# ---------------------------------------------------------------------------------------------- the form


def _integer(raw: str, name: str) -> int | None:
    text = raw.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise field_refusal(name, "invalid_integer", f"{name}: write a whole number.") from None


def _addresses(raw: str) -> list[str]:
    return [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]


def _regarding(raw: str) -> tuple[RegardingTable | None, uuid.UUID | None]:
    table, _, record_id = raw.partition(":")
    if not raw.strip():
        return None, None
    try:
        return RegardingTable(table), uuid.UUID(record_id)
    except ValueError:
        raise field_refusal("regarding", "invalid_id", "regarding: choose a record from the list.") from None


def _attendees(form: Mapping[str, Any], name: str, *, optional: bool) -> list[dict[str, Any]]:
    found = []
    values = form.getlist(name) if hasattr(form, "getlist") else form.get(name, [])
    for raw in values:
        if not str(raw).strip():
            continue
        kind, _, record_id = str(raw).partition(":")
        try:
            found.append({"kind": kind, "id": str(uuid.UUID(record_id)), "optional": optional})
        except ValueError:
            raise field_refusal(name, "invalid_id", f"{name}: choose from the list.") from None
    return found


def posted_values(form: Mapping[str, Any]) -> dict[str, Any]:
    """What the user typed, to show the form again as it was when refused."""
    values: dict[str, Any] = {
        name: str(form.get(name, ""))[:100_000]
        for name in (
            "subject",
            "description",
            "regarding",
            "priority",
            "status_reason",
            "due",
            "start",
            "end",
            "location",
            "duration_minutes",
            "percent_complete",
            "direction",
            "phone_number",
            "to",
            "cc",
        )
    }
    values["all_day"] = bool(form.get("all_day"))
    values["left_voicemail"] = bool(form.get("left_voicemail"))
    for name in ("required_attendees", "optional_attendees"):
        chosen: list[Any] = form.getlist(name) if hasattr(form, "getlist") else []
        values[name] = [str(value) for value in chosen if value]
    return values


def service_fields(kind: ActivityType, form: Mapping[str, Any], zone: tzinfo, *, creating: bool) -> dict[str, Any]:
    """The posted form as the service's fields: those of the activity's type only."""
    posted = posted_values(form)
    table, record_id = _regarding(posted["regarding"])
    data: dict[str, Any] = {
        "subject": posted["subject"].strip(),
        "description": posted["description"].strip() or None,
        "regarding_table": table,
        "regarding_id": record_id,
    }
    if posted["priority"]:
        data["priority"] = posted["priority"]
    if posted["status_reason"]:
        data["status_reason"] = posted["status_reason"]
    fields = activities.TYPE_FIELDS[kind]
    if "due" in fields:
        data["due"] = parse_local(posted["due"], zone, "due")
    if "duration_minutes" in fields:
        data["duration_minutes"] = _integer(posted["duration_minutes"], "duration_minutes")
    if "percent_complete" in fields:
        data["percent_complete"] = _integer(posted["percent_complete"], "percent_complete")
    if "direction" in fields and posted["direction"]:
        data["direction"] = posted["direction"]
    if "phone_number" in fields:
        data["phone_number"] = posted["phone_number"].strip() or None
    if "left_voicemail" in fields:
        data["left_voicemail"] = posted["left_voicemail"]
    if kind is ActivityType.APPOINTMENT:
        data["all_day"] = posted["all_day"]
        data["start"] = parse_local(posted["start"], zone, "start")
        data["end"] = parse_local(posted["end"], zone, "end")
        data["location"] = posted["location"].strip() or None
        data["attendees"] = _attendees(form, "required_attendees", optional=False) + _attendees(
            form, "optional_attendees", optional=True
        )
        if data["start"] is None and creating:
            raise field_refusal("start", "start_required", "start: an appointment needs a start.")
        if data["start"] is None:
            del data["start"]
    if kind is ActivityType.EMAIL:
        data["to"] = _addresses(posted["to"])
        data["cc"] = _addresses(posted["cc"])
    if creating:
        data["type"] = kind
    return data


def stored_values(activity: Activity, parties: list[ActivityParty], zone: tzinfo) -> dict[str, Any]:
    """An activity's values as its form shows them."""

    def addresses(role: PartyRole) -> str:
        return ", ".join(p.address or "" for p in parties if p.role is role and p.address)

    def attendees(role: PartyRole) -> list[str]:
        return [
            f"{'user' if p.party_table == 'users' else 'contact'}:{p.party_id}"
            for p in parties
            if p.role is role and p.party_id
        ]

    regarding = (
        f"{activity.regarding_table.value}:{activity.regarding_id}"
        if activity.regarding_table and activity.regarding_id
        else ""
    )
    is_appointment = activity.type is ActivityType.APPOINTMENT
    # An all-day appointment keeps its days as midnight UTC: shown as those days, whatever the zone.
    shown_zone = UTC if activity.all_day else zone
    return {
        "subject": activity.subject,
        "description": activity.description or "",
        "regarding": regarding,
        "priority": activity.priority.value,
        "status_reason": activity.status_reason.value,
        "due": "" if is_appointment else local_input(activity.scheduled_end, zone),
        "start": local_input(activity.scheduled_start, shown_zone),
        "end": local_input(activity.scheduled_end, shown_zone) if is_appointment else "",
        "all_day": activity.all_day,
        "location": activity.location or "",
        "duration_minutes": "" if activity.duration_minutes is None else str(activity.duration_minutes),
        "percent_complete": "" if activity.percent_complete is None else str(activity.percent_complete),
        "direction": activity.direction.value if activity.direction else "",
        "phone_number": activity.phone_number or "",
        "left_voicemail": activity.left_voicemail,
        "to": addresses(PartyRole.TO),
        "cc": addresses(PartyRole.CC),
        "sender": addresses(PartyRole.SENDER),
        "required_attendees": attendees(PartyRole.REQUIRED),
        "optional_attendees": attendees(PartyRole.OPTIONAL),
    }


def blank_values(kind: ActivityType, *, regarding: str = "") -> dict[str, Any]:
    """The values of a new activity's form."""
    return {
        "subject": "",
        "description": "",
        "regarding": regarding,
        "priority": Priority.NORMAL.value,
        "status_reason": STATUS_REASONS[kind][ActivityState.OPEN][0].value,
        "due": "",
        "start": "",
        "end": "",
        "all_day": False,
        "location": "",
        "duration_minutes": "",
        "percent_complete": "",
        "direction": Direction.OUTGOING.value,
        "phone_number": "",
        "left_voicemail": False,
        "to": "",
        "cc": "",
        "sender": "",
        "required_attendees": [],
        "optional_attendees": [],
    }


# ---------------------------------------------------------------------------------------------- choices


def regarding_choices(session: Session, actor: Actor, current: str) -> list[Choice]:
    """The records an activity may regard that the user reads, grouped by kind; the current one always."""
    table, current_id = _regarding(current) if current else (None, None)
    choices: list[Choice] = []
    for kind, (model, name) in _REGARDING_MODELS.items():
        if actor.depth(kind.value, Privilege.READ) is Depth.NONE:
            continue
        statement = (
            select(model.id, name)
            .where(access_condition(actor, Privilege.READ, kind.value, model))
            .order_by(func.lower(name), model.id)
            .limit(CHOICES_LIMIT)
        )
        rows = list(session.execute(statement))
        if table is kind and current_id is not None and all(row[0] != current_id for row in rows):
            rows[:0] = session.execute(select(model.id, name).where(model.id == current_id)).all()
        choices += [Choice(f"{kind.value}:{row[0]}", row[1] or "—", REGARDING_LABELS[kind]) for row in rows]
    return choices


def attendee_choices(session: Session, actor: Actor) -> list[Choice]:
    """The active users and the contacts the user reads, who may attend an appointment."""
    users = session.execute(
        select(User.id, User.full_name).where(User.is_active.is_(True)).order_by(func.lower(User.full_name)).limit(500)
    )
    choices = [Choice(f"user:{user_id}", name, N_("Users")) for user_id, name in users]
    if actor.depth("contacts", Privilege.READ) is not Depth.NONE:
        contacts = session.execute(
            select(Contact.id, Contact.full_name)
            .where(access_condition(actor, Privilege.READ, "contacts", Contact))
            .order_by(func.lower(Contact.full_name))
            .limit(500)
        )
        choices += [Choice(f"contact:{contact_id}", name, N_("Contacts")) for contact_id, name in contacts]
    return choices


def activity_form(uow: UnitOfWork, actor: Actor, kind: ActivityType, values: dict[str, Any]) -> ActivityForm:
    """The form of an activity of ``kind`` showing ``values``, with the options of its selects."""
    session = uow.session
    form = ActivityForm(kind, values, regarding_choices(session, actor, str(values.get("regarding") or "")))
    if kind is ActivityType.APPOINTMENT:
        form.attendees = attendee_choices(session, actor)
    return form


# ---------------------------------------------------------------------------------------------- lists


def regarding_names(session: Session, actor: Actor, items: Iterable[Activity]) -> dict[uuid.UUID, str]:
    """The names of the records some activities regard, among those the user reads."""
    wanted: dict[RegardingTable, set[uuid.UUID]] = {}
    for item in items:
        if item.regarding_table is not None and item.regarding_id is not None:
            wanted.setdefault(item.regarding_table, set()).add(item.regarding_id)
    names: dict[uuid.UUID, str] = {}
    for table, ids in wanted.items():
        model, name = _REGARDING_MODELS[table]
        statement = select(model.id, name).where(
            model.id.in_(ids), access_condition(actor, Privilege.READ, table.value, model)
        )
        names.update(session.execute(statement).all())
    return names


@dataclass(frozen=True)
class Row:
    """One activity as a list shows it."""

    id: uuid.UUID
    type: ActivityType
    type_label: str
    icon: str
    subject: str
    regarding_name: str | None
    regarding_url: str | None
    when: datetime | None
    all_day: bool
    priority: str
    state: ActivityState
    status_reason: str
    owner: str
    overdue: bool


def rows_of(session: Session, actor: Actor, items: list[Activity]) -> list[Row]:
    """The rows of a list of activities: names of the records they regard and of their owners."""
    names = regarding_names(session, actor, items)
    owners = {item.owner_user_id for item in items if item.owner_user_id}
    owner_names = (
        dict(session.execute(select(User.id, User.full_name).where(User.id.in_(owners))).all()) if owners else {}
    )
    now = datetime.now().astimezone()
    rows = []
    for item in items:
        regarded = names.get(item.regarding_id) if item.regarding_id else None
        rows.append(
            Row(
                id=item.id,
                type=item.type,
                type_label=label_of(ActivityType, item.type),
                icon=TYPE_ICONS[item.type],
                subject=item.subject,
                regarding_name=regarded,
                regarding_url=(
                    f"{REGARDING_PATHS[item.regarding_table]}/{item.regarding_id}"
                    if regarded and item.regarding_table
                    else None
                ),
                when=item.scheduled_start if item.type is ActivityType.APPOINTMENT else item.scheduled_end,
                all_day=item.all_day,
                priority=label_of(Priority, item.priority),
                state=item.state,
                status_reason=label_of(ActivityStatus, item.status_reason),
                owner=owner_names.get(item.owner_user_id, "") if item.owner_user_id else "",
                overdue=activities.is_overdue(item, now),
            )
        )
    return rows


@dataclass(frozen=True)
class TodayTile:
    """The dashboard's "Today's activities": the user's open ones due today or overdue."""

    count: int
    overdue: int
    rows: list[Row]


def today_tile(uow: UnitOfWork, actor: Actor, zone: tzinfo) -> TodayTile | None:
    """The signed-in user's open activities due by the end of today (the overdue first); None when the
    user reads no activities."""
    if not any(may(actor, kind, Privilege.READ) for kind in ActivityType):
        return None
    _start, end = activities.day_bounds(zone_name(zone))
    condition = (
        activities.readable_activities(actor)
        & (Activity.owner_user_id == actor.user_id)
        & (Activity.state == ActivityState.OPEN)
        & (Activity.scheduled_end < end)
    )
    session = uow.session
    count = session.scalar(select(func.count()).select_from(Activity).where(condition)) or 0
    overdue = (
        session.scalar(
            select(func.count())
            .select_from(Activity)
            .where(condition, Activity.scheduled_end < datetime.now().astimezone())
        )
        or 0
    )
    items = list(
        session.scalars(select(Activity).where(condition).order_by(Activity.due_order, Activity.id).limit(TILE_SIZE))
    )
    return TodayTile(count, overdue, rows_of(session, actor, items))


# ---------------------------------------------------------------------------------------------- refusals


def activity_refusal(language: str, error: LeadflowError) -> Refusal:
    """A refusal of an activity's form in the user's language, its field messages beside the form's fields."""
    found = refusal(language, error)
    if error.code in ACTIVITY_REFUSALS:
        found.message = gettext(language, ACTIVITY_REFUSALS[error.code])
    details = error.details if isinstance(error.details, dict) else {}
    for item in details.get("fields") or ():
        if not isinstance(item, dict) or "field" not in item:
            continue
        name = str(item["field"]).split(".")[0]
        code = str(item.get("code", ""))
        form_field = FORM_FIELD_OF.get(name, name)
        if code in ACTIVITY_FIELD_MESSAGES:
            found.fields[form_field] = gettext(language, ACTIVITY_FIELD_MESSAGES[code])
        elif name in found.fields:
            found.fields.setdefault(form_field, found.fields[name])
    return found
