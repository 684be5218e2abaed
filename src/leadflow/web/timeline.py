"""A record's timeline on the lead, account, contact and opportunity pages, and the follow-ups made from it.

The timeline shows the record's notes, activities and close records newest first
(``leadflow.activities.timeline.record_timeline``), narrowed by a small GET form (type, state, and on
an account the related contacts and opportunities) and paged with a cursor. Each activity links to its
own page and offers Mark complete, Cancel or Reopen to whom may change it.

The shortcuts "Add phone call", "Add task", "Add appointment" and "Add email" open a quick-create
form in a dialog (a page of its own without JavaScript) regarding the record. The routes translate
the form into the ``create_activity`` call the REST API makes; a refusal opens the form again with
the messages next to the fields and the input kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from leadflow.activities.activity import (
    SENDING_STATES,
    cancel_activity,
    cancelable_count,
    complete_activity,
    create_activity,
    is_overdue,
    reopen_activity,
)
from leadflow.activities.models import (
    PRIVILEGE_TABLES,
    Activity,
    ActivityState,
    ActivityStatus,
    ActivityType,
    Direction,
    Note,
    Priority,
    RegardingTable,
)
from leadflow.activities.timeline import ENTRY_KINDS, TimelineEntry, record_timeline
from leadflow.core.db import mapped_class
from leadflow.core.errors import LeadflowError, NotFound, ValidationFailed
from leadflow.core.paging import Page
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.security.access import can
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.security.privileges import Depth, Privilege
from leadflow.web.forms import FormDep, Refusal, id_in_path, parse_version, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import CHOICE_LABELS
from leadflow.web.notes import file_size
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

# Entries on one page of the timeline; "Older entries" shows the next ones.
PAGE_SIZE = 25
# Users offered as an appointment's attendees.
ATTENDEE_CHOICES = 200

# The type filter: each value a kind of entry, with its label (plural).
KIND_FILTERS: tuple[tuple[str, str], ...] = (
    ("note", N_("Notes")),
    ("task", N_("Tasks")),
    ("phone_call", N_("Phone calls")),
    ("appointment", N_("Appointments")),
    ("email", N_("Emails")),
    ("close", N_("Close records")),
)
# "activities|" tells these from the same English words said of one record ("Abiertas", not "Abierto"),
# as the activity pages' "activity|Overdue" does; the prefix is cut when shown.
STATE_FILTERS: tuple[tuple[str, str], ...] = (
    ("open", N_("activities|Open")),
    ("completed", N_("activities|Completed")),
    ("canceled", N_("activities|Canceled")),
)
OVERDUE = N_("activity|Overdue")
EMAIL_TO = N_("email|To")

# The quick-create forms, in the order the shortcuts show them.
QUICK_TYPES: tuple[tuple[ActivityType, str], ...] = (
    (ActivityType.PHONE_CALL, N_("Add phone call")),
    (ActivityType.TASK, N_("Add task")),
    (ActivityType.APPOINTMENT, N_("Add appointment")),
    (ActivityType.EMAIL, N_("Add email")),
)
QUICK_TITLES = dict(QUICK_TYPES)
TYPE_ICONS = {"task": "☑", "phone_call": "☎", "appointment": "📅", "email": "✉", "note": "✎", "close": "⚑"}

# The message next to a field of the quick-create form that the form itself refuses (a time it cannot read).
FIELD_MESSAGES = {"invalid_datetime": N_("Enter a date and a time.")}
# The field a refusal that names none belongs to, by its code.
FIELDS_BY_CODE = {"smtp_not_configured": "send", "no_recipient": "to", "incoming_not_sent": "send"}

NOTICES = {
    "activity": N_("The activity was created."),
    "activity_completed": N_("The activity is completed."),
    "activity_canceled": N_("The activity is canceled."),
    "activity_reopened": N_("The activity is open again."),
}


def said_in(language: str, message: str) -> str:
    """A message whose id starts with the context it is said in ("activity|Overdue"), without that context."""
    return gettext(language, message).split("|", 1)[-1]


# ---------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class TimelineQuery:
    """What the timeline's GET form asks for: one kind, one state, the related records, the page."""

    kind: str = ""
    state: str = ""
    include_related: bool = False
    cursor: str | None = None

    @classmethod
    def of(cls, params: Mapping[str, str]) -> TimelineQuery:
        """The query of the page's address; values it does not know are ignored."""
        kind = params.get("kind", "")
        state = params.get("state", "")
        return cls(
            kind=kind if kind in ENTRY_KINDS else "",
            state=state if state in {s.value for s in ActivityState} else "",
            include_related=params.get("related") == "1",
            cursor=params.get("cursor") or None,
        )

    def link(self, base: str, **changes: Any) -> str:
        """The page's address with this query (and ``changes``), landing on the timeline."""
        values = {
            "kind": self.kind,
            "state": self.state,
            "related": "1" if self.include_related else "",
            "cursor": self.cursor or "",
        }
        values.update(changes)
        query = urlencode({name: value for name, value in values.items() if value})
        return f"{base}?{query}#timeline-section" if query else f"{base}#timeline-section"


@dataclass
class Entry:
    """One entry as the timeline shows it."""

    kind: str
    at: datetime
    icon: str
    note: Note | None = None
    activity: Activity | None = None
    close: Any = None  # an ``opportunities_page.CloseEntry``
    author: str = ""
    from_lead: bool = False
    regarding: str = ""
    download: str | None = None
    size: str = ""
    overdue: bool = False
    href: str = ""
    type_label: str = ""
    reason_label: str = ""
    priority_label: str = ""
    direction_label: str = ""
    actions: list[tuple[str, str]] = field(default_factory=list)  # (action, English label)


@dataclass
class QuickForm:
    """A quick-create form: its type, the values it shows, the messages next to fields."""

    type: str
    title: str
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    refusal: Refusal | None = None

    @property
    def dialog_id(self) -> str:
        return f"quick-{self.type.replace('_', '-')}-dialog"

    @property
    def prefix(self) -> str:
        return f"quick-{self.type.replace('_', '-')}"


@dataclass
class Timeline:
    """Everything the timeline pane and its dialogs show."""

    base: str
    entries: list[Entry]
    query: TimelineQuery
    kind_filters: list[tuple[str, str]]
    state_filters: list[tuple[str, str]]
    may_include_related: bool
    older_link: str | None
    forms: list[QuickForm]
    reopen: str | None = None  # the dialog a refusal opens again
    record_id: uuid.UUID | None = None
    attendee_users: list[tuple[str, str]] = field(default_factory=list)
    attendee_contacts: list[tuple[str, str]] = field(default_factory=list)
    mail_configured: bool = False
    overdue_label: str = "Overdue"
    to_label: str = "To"
    filtered: bool = False

    @property
    def priority_choices(self) -> list[tuple[str, str]]:
        return list(CHOICE_LABELS[Priority].items())

    @property
    def direction_choices(self) -> list[tuple[str, str]]:
        return list(CHOICE_LABELS[Direction].items())

    @property
    def action_base(self) -> str:
        return f"{self.base}/activities"


def mail_configured(request: Request) -> bool:
    """Whether leadflow can send e-mail (a mail server is configured)."""
    return bool(getattr(request.app.state.settings, "smtp_url", None))


def may_create(session: WebSession, kind: ActivityType) -> bool:
    """Whether the user may create activities of this type at all."""
    return session.actor.depth(PRIVILEGE_TABLES[kind], Privilege.CREATE) is not Depth.NONE


def _names(uow: UnitOfWork, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not user_ids:
        return {}
    return dict(uow.session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids))).all())


def _regarding_names(
    uow: UnitOfWork, session: WebSession, pairs: set[tuple[Any, Any]]
) -> dict[tuple[RegardingTable, uuid.UUID], str]:
    """The names of the related records entries regard (on an account's timeline with its related records)."""
    from leadflow.web.areas.records_lists import readable_names

    found: dict[tuple[RegardingTable, uuid.UUID], str] = {}
    for table in (RegardingTable.CONTACTS, RegardingTable.OPPORTUNITIES):
        ids = [record_id for pair_table, record_id in pairs if pair_table is table]
        for record_id, name in readable_names(uow.session, session.actor, mapped_class(table.value), ids).items():
            found[(table, record_id)] = name
    return found


def open_activity_count(uow: UnitOfWork, actor: Actor, table: RegardingTable, record_id: uuid.UUID) -> int:
    """How many open activities of the record the reader could cancel (the disqualify form offers it)."""
    return cancelable_count(uow.session, actor, table, record_id)


def _attendee_choices(uow: UnitOfWork, session: WebSession, table: RegardingTable, record: Any) -> tuple[list, list]:
    """The users, and the record's contacts, an appointment may invite."""
    users = [
        (f"user:{user_id}", name)
        for user_id, name in uow.session.execute(
            select(User.id, User.full_name)
            .where(User.is_active.is_(True))
            .order_by(User.full_name)
            .limit(ATTENDEE_CHOICES)
        )
    ]
    contact_model = mapped_class("contacts")
    ids: list[uuid.UUID] = []
    condition = None
    if table is RegardingTable.CONTACTS:
        ids = [record.id]
    elif table is RegardingTable.ACCOUNTS:
        condition = contact_model.account_id == record.id
    elif table is RegardingTable.LEADS:
        ids = [record.parent_contact_id] if record.parent_contact_id else []
    else:
        ids = [record.parent_contact_id] if record.parent_contact_id else []
        if record.parent_account_id:
            condition = contact_model.account_id == record.parent_account_id
    contacts: list[tuple[str, str]] = []
    statement = select(contact_model)
    if condition is not None and ids:
        statement = statement.where(condition | contact_model.id.in_(ids))
    elif condition is not None:
        statement = statement.where(condition)
    elif ids:
        statement = statement.where(contact_model.id.in_(ids))
    else:
        return users, contacts
    for contact in uow.session.scalars(statement.order_by(contact_model.full_name).limit(ATTENDEE_CHOICES)):
        if can(uow.session, session.actor, Privilege.READ, "contacts", contact):
            contacts.append((f"contact:{contact.id}", contact.full_name))
    return users, contacts


def _contact_details(uow: UnitOfWork, session: WebSession, table: RegardingTable, record: Any) -> tuple[str, str]:
    """The phone number and e-mail address a call or an e-mail to the record starts with."""
    if table is RegardingTable.OPPORTUNITIES:
        for model_name, record_id in (("contacts", record.parent_contact_id), ("accounts", record.parent_account_id)):
            if record_id is None:
                continue
            related = uow.session.get(mapped_class(model_name), record_id)
            if related is not None and can(uow.session, session.actor, Privilege.READ, model_name, related):
                return _contact_details(uow, session, RegardingTable(model_name), related)
        return "", ""
    phone = getattr(record, "telephone", None) or getattr(record, "business_phone", None)
    phone = phone or getattr(record, "mobile_phone", None)
    return phone or "", getattr(record, "email", None) or ""


def local_input(moment: datetime | None, zone: tzinfo) -> str:
    """A moment as a ``datetime-local`` input shows it, in the user's zone."""
    if moment is None:
        return ""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def default_values(
    kind: ActivityType, *, phone: str, email: str, zone: tzinfo, now: datetime | None = None
) -> dict[str, str]:
    """What a quick-create form starts with: the record's phone or address, an appointment at the next hour."""
    now = (now or datetime.now(zone)).astimezone(zone)
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    values = {"subject": "", "description": ""}
    if kind is ActivityType.TASK:
        values.update(due="", priority=Priority.NORMAL.value)
    elif kind is ActivityType.PHONE_CALL:
        values.update(phone_number=phone, direction=Direction.OUTGOING.value, due="", made="")
    elif kind is ActivityType.APPOINTMENT:
        values.update(
            start=local_input(start, zone),
            end=local_input(start + timedelta(minutes=30), zone),
            all_day="",
            location="",
        )
    else:
        values.update(to=email, cc="", send="")
    return values


def build_timeline(
    request: Request,
    uow: UnitOfWork,
    session: WebSession,
    table: RegardingTable,
    record: Any,
    *,
    query: TimelineQuery,
    editable: bool,
    quick: QuickForm | None = None,
    close_entries: Callable[[list[Any]], list[Any]] | None = None,
    with_entries: bool = True,
) -> Timeline:
    """The timeline of a record as its page shows it, with the quick-create forms the user may use.

    ``close_entries`` turns the opportunity close rows into the entries the opportunity's page draws.
    """
    actor = session.actor
    language = session.language
    base = f"/{table.value}/{record.id}"
    kinds = (query.kind,) if query.kind else ()
    states = (ActivityState(query.state),) if query.state else ()
    include_related = query.include_related and table is RegardingTable.ACCOUNTS
    page: Page[TimelineEntry]
    try:
        if not with_entries:
            page = Page([])
        else:
            page = record_timeline(
                table,
                record.id,
                uow=uow,
                actor=actor,
                kinds=kinds,
                states=states,
                include_related=include_related,
                limit=PAGE_SIZE,
                cursor=query.cursor,
            )
    except ValidationFailed:  # a cursor of another page or a broken one: start from the newest again
        query = TimelineQuery(query.kind, query.state, query.include_related)
        page = record_timeline(
            table, record.id, uow=uow, actor=actor, kinds=kinds, states=states, include_related=include_related
        )
    items = page.items
    people = {getattr(e.item, "created_by_id", None) for e in items if e.kind == "note"}
    people |= {e.item.owner_user_id for e in items if isinstance(e.item, Activity)}
    names = _names(uow, {person for person in people if person})
    elsewhere = {
        (e.item.regarding_table, e.item.regarding_id)
        for e in items
        if isinstance(e.item, Note | Activity)
        and e.item.regarding_id not in (None, record.id)
        and e.item.regarding_table is not RegardingTable.LEADS
    }
    regarding = _regarding_names(uow, session, elsewhere) if elsewhere else {}
    closes = [e.item for e in items if e.kind == "close"]
    drawn_closes = {c.close.id: c for c in close_entries(closes)} if close_entries and closes else {}
    entries: list[Entry] = []
    for item in items:
        entry = Entry(kind=item.kind, at=item.at, icon=TYPE_ICONS[item.kind])
        source = getattr(item.item, "regarding_table", None)
        entry.from_lead = source is RegardingTable.LEADS and table is not RegardingTable.LEADS
        if source is not None and not entry.from_lead:
            entry.regarding = regarding.get((source, item.item.regarding_id), "")
        if isinstance(item.item, Note):
            note = item.item
            entry.note = note
            entry.author = names.get(note.created_by_id, "") if note.created_by_id else ""
            entry.download = f"{base}/notes/{note.id}/attachment" if note.file_name else None
            entry.size = file_size(language, note.file_size or 0)
        elif isinstance(item.item, Activity):
            entry.activity = activity = item.item
            entry.author = names.get(activity.owner_user_id, "") if activity.owner_user_id else ""
            entry.overdue = is_overdue(activity)
            entry.href = f"/activities/{activity.id}"
            entry.type_label = CHOICE_LABELS[ActivityType][activity.type.value]
            entry.reason_label = CHOICE_LABELS[ActivityStatus][activity.status_reason.value]
            entry.priority_label = CHOICE_LABELS[Priority][activity.priority.value]
            if activity.direction is not None:
                entry.direction_label = CHOICE_LABELS[Direction][activity.direction.value]
            if can(uow.session, actor, Privilege.WRITE, activity.privilege_table, activity):
                if activity.is_open:
                    entry.actions = [("complete", N_("Mark complete")), ("cancel", N_("Cancel activity"))]
                elif activity.status_reason not in SENDING_STATES:
                    entry.actions = [("reopen", N_("Reopen"))]
        else:
            entry.close = drawn_closes.get(item.item.id)
            if entry.close is None:
                continue
        entries.append(entry)
    kind_filters = [
        (value, label)
        for value, label in KIND_FILTERS
        if value != "close" or table in (RegardingTable.OPPORTUNITIES, RegardingTable.ACCOUNTS)
    ]
    state_filters = [(value, said_in(language, label)) for value, label in STATE_FILTERS]
    forms: list[QuickForm] = []
    may_append = editable and can(uow.session, actor, Privilege.APPEND_TO, table.value, record)
    users: list[tuple[str, str]] = []
    contacts: list[tuple[str, str]] = []
    if may_append:
        phone, email = _contact_details(uow, session, table, record)
        for kind, title in QUICK_TYPES:
            if not may_create(session, kind):
                continue
            if quick is not None and quick.type == kind.value:
                forms.append(quick)
            else:
                values = default_values(kind, phone=phone, email=email, zone=session.time_zone)
                forms.append(QuickForm(kind.value, title, values))
        if any(form.type == ActivityType.APPOINTMENT.value for form in forms):
            users, contacts = _attendee_choices(uow, session, table, record)
    return Timeline(
        base=base,
        entries=entries,
        query=query,
        kind_filters=kind_filters,
        state_filters=state_filters,
        may_include_related=table is RegardingTable.ACCOUNTS,
        older_link=query.link(base, cursor=page.next_cursor) if page.next_cursor else None,
        forms=forms,
        reopen=quick.dialog_id if quick is not None and any(f is quick for f in forms) else None,
        record_id=record.id,
        attendee_users=users,
        attendee_contacts=contacts,
        mail_configured=mail_configured(request),
        overdue_label=said_in(language, OVERDUE),
        to_label=said_in(language, EMAIL_TO),
        filtered=bool(query.kind or query.state or query.include_related),
    )


# ---------------------------------------------------------------------------------------------- creating


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def posted_values(kind: ActivityType, form: Any) -> dict[str, str]:
    """The text of each field of a posted quick-create form (shown again when it is refused)."""
    values = {name: _text(form, name) for name in default_values(kind, phone="", email="", zone=UTC)}
    if kind is ActivityType.APPOINTMENT:
        values["attendees"] = ",".join(value for value in form.getlist("attendees") if isinstance(value, str) and value)
    return values


def _moment(text: str, name: str, zone: tzinfo, problems: list[dict[str, str]]) -> datetime | None:
    """A ``datetime-local`` (or date) input as a moment in the user's zone; a problem when unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        problems.append({"field": name, "code": "invalid_datetime", "message": f"{name}: enter a date and a time."})
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _addresses(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def activity_data(
    kind: ActivityType, values: dict[str, str], *, table: RegardingTable, record_id: uuid.UUID, zone: tzinfo
) -> dict[str, Any]:
    """The ``create_activity`` input of a quick-create form; unreadable times are refused by field."""
    problems: list[dict[str, str]] = []
    data: dict[str, Any] = {
        "type": kind.value,
        "subject": values.get("subject", ""),
        "regarding_table": table.value,
        "regarding_id": str(record_id),
    }
    if values.get("description"):
        data["description"] = values["description"]
    if kind is ActivityType.TASK:
        data["due"] = _moment(values.get("due", ""), "due", zone, problems)
        if values.get("priority"):
            data["priority"] = values["priority"]
    elif kind is ActivityType.PHONE_CALL:
        data["due"] = _moment(values.get("due", ""), "due", zone, problems)
        data["phone_number"] = values.get("phone_number") or None
        direction = values.get("direction") or Direction.OUTGOING.value
        data["direction"] = direction
        if values.get("made"):
            incoming = direction == Direction.INCOMING.value
            data["status_reason"] = (ActivityStatus.RECEIVED if incoming else ActivityStatus.MADE).value
    elif kind is ActivityType.APPOINTMENT:
        all_day = bool(values.get("all_day"))
        data["all_day"] = all_day
        data["start"] = _moment(values.get("start", ""), "start", zone, problems)
        data["end"] = _moment(values.get("end", ""), "end", zone, problems)
        if all_day:  # the days as the user sees them, whatever the hour typed
            for name in ("start", "end"):
                if data[name] is not None:
                    data[name] = data[name].replace(hour=0, minute=0, tzinfo=UTC)
        if data["end"] is None:
            del data["end"]
        data["location"] = values.get("location") or None
        attendees = []
        for value in (values.get("attendees") or "").split(","):
            party, _, raw_id = value.partition(":")
            if party in ("user", "contact") and raw_id:
                attendees.append({"kind": party, "id": raw_id})
        data["attendees"] = attendees
    else:
        data["to"] = _addresses(values.get("to", ""))
        data["cc"] = _addresses(values.get("cc", ""))
        data["send"] = bool(values.get("send"))
    if problems:
        raise ValidationFailed(
            " ".join(problem["message"] for problem in problems), code="validation_failed", details={"fields": problems}
        )
    return data


def form_refusal(language: str, error: LeadflowError) -> Refusal:
    """A refused quick-create form in the user's language, with each field's message beside it."""
    found = refusal(language, error, FIELDS_BY_CODE)
    details = error.details if isinstance(error.details, dict) else {}
    for item in details.get("fields") or ():
        if isinstance(item, dict) and item.get("code") in FIELD_MESSAGES and "field" in item:
            name = str(item["field"]).split(".")[0]
            found.fields[name] = gettext(language, FIELD_MESSAGES[str(item["code"])])
    if error.code in FIELD_MESSAGES and not details.get("fields"):
        found.fields.setdefault(
            FIELDS_BY_CODE.get(error.code, "subject"), gettext(language, FIELD_MESSAGES[error.code])
        )
    return found


def quick_type(raw: str) -> ActivityType:
    """The type a quick-create address or form names; an unknown one names no page."""
    try:
        return ActivityType(raw)
    except ValueError:
        raise NotFound(f"There is no activity type {raw!r}.", code="activity_type_not_found") from None


# What a record page draws again: the record's id, the quick form refused (or None), status code, notice.
ShowPage = Callable[..., Response]


def register_routes(
    router: APIRouter,
    *,
    table: RegardingTable,
    record_id_of: Callable[[str], uuid.UUID],
    show_page: ShowPage,
    read_record: Callable[[UnitOfWork, WebSession, uuid.UUID], Any],
    guard: Callable[[Any], Any],
    done_parameter: str,
) -> None:
    """The quick-create page and post, and the complete, cancel and reopen posts, under one table's records.

    ``show_page(request, session, record_id, quick=..., status_code=..., error=...)`` draws the record's
    page again after a refusal; ``done_parameter`` names the query parameter its notices use.
    """
    path = table.value

    @router.get(f"/{path}/{{record_id}}/activities/new", name=f"{path}_quick_create_page")
    @guard
    def quick_create_page(request: Request, record_id: str, session: WebSessionDep, type: str = "task") -> Response:
        """The quick-create form as a page of its own (the shortcut's dialog without JavaScript)."""
        kind = quick_type(type)
        parsed = record_id_of(record_id)
        return _quick_page(request, session, parsed, kind, None)

    def _quick_page(
        request: Request,
        session: WebSession,
        parsed: uuid.UUID,
        kind: ActivityType,
        quick: QuickForm | None,
        status_code: int = 200,
    ) -> Response:
        with database_of(request).unit_of_work(read_only=True) as uow:
            record = read_record(uow, session, parsed)
            timeline = build_timeline(
                request,
                uow,
                session,
                table,
                record,
                query=TimelineQuery(),
                editable=getattr(record, "is_open", True),
                quick=quick,
                with_entries=False,
            )
            form = next((f for f in timeline.forms if f.type == kind.value), None)
            if form is None:  # the record is closed, or the user may not create this type here
                return redirect(f"/{path}/{parsed}")
            return render(
                request,
                session,
                "records/quick_create.html",
                status_code=status_code,
                timeline=timeline,
                form=form,
                record_name=_record_name(record),
                record_href=f"/{path}/{parsed}",
            )

    @router.post(f"/{path}/{{record_id}}/activities", name=f"{path}_quick_create")
    @guard
    def quick_create(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
        """Create the activity the quick-create form describes, regarding this record."""
        parsed = record_id_of(record_id)
        kind = quick_type(_text(form, "type"))
        values = posted_values(kind, form)
        try:
            data = activity_data(kind, values, table=table, record_id=parsed, zone=session.time_zone)
            with database_of(request).unit_of_work() as uow:
                _activity, job = create_activity(
                    data, uow=uow, actor=session.actor, mail_configured=mail_configured(request)
                )
                uow.commit()
        except NotFound:
            raise
        except LeadflowError as error:
            failure = form_refusal(session.language, error)
            quick = QuickForm(kind.value, QUICK_TITLES[kind], values, failure.fields, failure)
            if _text(form, "from") == "page":
                return _quick_page(request, session, parsed, kind, quick, status_for(error))
            return show_page(request, session, parsed, quick=quick, status_code=status_for(error))
        if job is not None:
            from leadflow.tasks import submit

            submit(job.id, queue=request.app.state.queue, database=database_of(request))
        return redirect(f"/{path}/{parsed}?{done_parameter}=activity#timeline-section")

    for action, command in (("complete", complete_activity), ("cancel", cancel_activity), ("reopen", reopen_activity)):
        _register_action(router, path, action, command, record_id_of, show_page, guard, done_parameter)


def _register_action(
    router: APIRouter,
    path: str,
    action: str,
    command: Callable[..., Any],
    record_id_of: Callable[[str], uuid.UUID],
    show_page: ShowPage,
    guard: Callable[[Any], Any],
    done_parameter: str,
) -> None:
    done = {"complete": "activity_completed", "cancel": "activity_canceled", "reopen": "activity_reopened"}[action]

    @router.post(f"/{path}/{{record_id}}/activities/{{activity_id}}/{action}", name=f"{path}_activity_{action}")
    @guard
    def change_state(
        request: Request, record_id: str, activity_id: str, session: WebSessionDep, form: FormDep
    ) -> Response:
        """Mark the activity complete, cancel it or reopen it, and come back to the record's timeline."""
        parsed = record_id_of(record_id)
        activity = id_in_path(activity_id, record="activity")
        version = parse_version(form.get("row_version"))
        try:
            committed(
                request,
                lambda uow: command(activity, uow=uow, actor=session.actor, expected_version=version),
            )
        except NotFound:
            raise
        except LeadflowError as error:
            return show_page(request, session, parsed, error=error, status_code=status_for(error))
        back = _text(form, "back")
        if back.startswith(f"/{path}/{parsed}?") or back == f"/{path}/{parsed}":
            separator = "&" if "?" in back else "?"
            return redirect(f"{back}{separator}{done_parameter}={done}#timeline-section")
        return redirect(f"/{path}/{parsed}?{done_parameter}={done}#timeline-section")


def _record_name(record: Any) -> str:
    return str(getattr(record, "full_name", None) or getattr(record, "name", "") or "")
