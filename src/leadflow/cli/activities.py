"""`leadflow activities list|show|add-task|add-call|add-appointment|add-email|update|complete|cancel|
reopen|delete|send|timeline|calendar-feed ...`: the seller's day from the command line.

Each command runs one activities use case, where the privileges (each type its own: tasks,
phone_calls, appointments, emails) and the state rules are checked. Moments are read and printed on
the acting user's clock: a date-time without a zone (2026-12-07T16:30, or a bare day 2026-12-07 for its
midnight) is in the user's time zone (their own, else the organisation's, else UTC); ``--json``
prints moments in UTC, as the REST API does. An e-mail asked to be sent is sent by a job, handed to
the queue once the e-mail is saved.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import func, inspect, select

from leadflow.activities.activity import (
    ActivityFilter,
    cancel_activity,
    complete_activity,
    create_activity,
    delete_activity,
    get_activity,
    is_overdue,
    list_activities,
    parties_of,
    reopen_activity,
    send_email,
    update_activity,
)
from leadflow.activities.calendar import has_feed, issue_feed, revoke_feed
from leadflow.activities.models import (
    Activity,
    ActivityParty,
    ActivityState,
    ActivityStatus,
    ActivityType,
    Direction,
    Priority,
    RegardingTable,
)
from leadflow.activities.timeline import ENTRY_KINDS, TimelineEntry, record_timeline
from leadflow.cli.catalog import Cursor, Limit
from leadflow.cli.common import (
    JsonFlag,
    console,
    day,
    emit,
    errors,
    fail,
    moment,
    open_as_actor,
    page_of,
    read,
    run,
    settings_of,
    text,
    zone_name,
)
from leadflow.cli.jobs import WaitFlag, start_and_follow
from leadflow.core.config import public_url
from leadflow.core.db import mapped_class, utcnow
from leadflow.core.errors import LeadflowError, NotFound, field_refusal
from leadflow.core.uow import Database, UnitOfWork
from leadflow.jobs.models import Job, JobState
from leadflow.organisation.service import time_zone_of
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.security.privileges import Privilege

activities_app = typer.Typer(
    help="Tasks, phone calls, appointments and e-mails: the seller's day, timelines and the calendar feed.",
    no_args_is_help=True,
)
calendar_feed_app = typer.Typer(help="Your private calendar feed (iCalendar): issue, status, revoke.")
activities_app.add_typer(calendar_feed_app, name="calendar-feed")

ActivityId = Annotated[uuid.UUID, typer.Argument(help="The activity's id.")]
Subject = Annotated[str, typer.Argument(help="What the activity is about.")]
MOMENT_HELP = "ISO 8601, e.g. 2026-12-07T16:30 (your time zone) or 2026-12-07T16:30+01:00"
Regarding = Annotated[
    str | None,
    typer.Option(metavar="TABLE:ID", help="The record it regards: lead, account, contact or opportunity, and its id."),
]
Due = Annotated[str | None, typer.Option(metavar="DATETIME", help=f"When it is due: {MOMENT_HELP}.")]
Description = Annotated[str | None, typer.Option(help="Its text.")]
PriorityOption = Annotated[Priority | None, typer.Option(help="low, normal or high (normal by default).")]


class View(enum.StrEnum):
    """The lists a seller works from (the acting user's own activities)."""

    MY_OPEN = "my-open"
    DUE_TODAY = "due-today"
    OVERDUE = "overdue"
    COMPLETED_THIS_WEEK = "completed-this-week"


# The tables an activity may regard, as the command line names them (singular or plural).
REGARDING_NAMES = {
    **{table.value: table for table in RegardingTable},
    "lead": RegardingTable.LEADS,
    "account": RegardingTable.ACCOUNTS,
    "contact": RegardingTable.CONTACTS,
    "opportunity": RegardingTable.OPPORTUNITIES,
}
# The column that names a regarded record in each table.
NAME_COLUMNS = {
    RegardingTable.LEADS: "full_name",
    RegardingTable.ACCOUNTS: "name",
    RegardingTable.CONTACTS: "full_name",
    RegardingTable.OPPORTUNITIES: "name",
}
_SINGULAR = {
    RegardingTable.LEADS: "lead",
    RegardingTable.ACCOUNTS: "account",
    RegardingTable.CONTACTS: "contact",
    RegardingTable.OPPORTUNITIES: "opportunity",
}
# Columns kept out of a shown activity: the order key is the due time, repeated.
_HIDDEN = frozenset({"due_order"})
# The columns only one type uses, shown for that type only.
TYPE_COLUMNS = {
    "all_day": ActivityType.APPOINTMENT,
    "location": ActivityType.APPOINTMENT,
    "scheduled_start": ActivityType.APPOINTMENT,
    "percent_complete": ActivityType.TASK,
    "phone_number": ActivityType.PHONE_CALL,
    "left_voicemail": ActivityType.PHONE_CALL,
    "message_id": ActivityType.EMAIL,
    "send_attempts": ActivityType.EMAIL,
    "send_error": ActivityType.EMAIL,
    "next_send_at": ActivityType.EMAIL,
    "sent_at": ActivityType.EMAIL,
}
# What the stored times mean: an appointment's start and end, the due time of the other types.
APPOINTMENT_LABELS = {"scheduled_start": "start", "scheduled_end": "end"}
DUE_LABELS = {"scheduled_end": "due"}


# ------------------------------------------------------------------------------------------ input


def given(**values: Any) -> dict[str, Any]:
    """The options given (left-out ones stay out, so the service's defaults apply)."""
    return {name: value for name, value in values.items() if value is not None}


def parse_moment(value: str | None, *, option: str) -> datetime | None:
    """An ISO 8601 date-time (or a day, for its midnight) as given, possibly without a zone."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 date-time ({MOMENT_HELP}).", param_hint=option
        ) from None


def on_clock(value: datetime | None, zone: tzinfo) -> datetime | None:
    """A moment without a zone read on the user's clock; one with a zone as it is."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=zone)


def as_day(value: datetime | None) -> datetime | None:
    """The day of an all-day appointment, kept as the day written (whatever the time zone)."""
    return None if value is None else datetime.combine(value.date(), time(), UTC)


def parse_regarding(value: str | None, *, option: str = "--regarding") -> tuple[RegardingTable, uuid.UUID] | None:
    """``TABLE:ID`` as the table and the id of the record regarded."""
    if value is None:
        return None
    table, _, record = value.partition(":")
    regarding = REGARDING_NAMES.get(table.strip().lower())
    try:
        record_id = uuid.UUID(record.strip())
    except ValueError:
        record_id = None
    if regarding is None or record_id is None:
        raise typer.BadParameter(
            f"{value!r}: write TABLE:ID, TABLE one of lead, account, contact, opportunity, e.g. lead:<uuid>.",
            param_hint=option,
        )
    return regarding, record_id


def regarding_fields(value: str | None) -> dict[str, Any]:
    """The regarding fields of the service's input (none when the option was not given)."""
    regarding = parse_regarding(value)
    if regarding is None:
        return {}
    return {"regarding_table": regarding[0].value, "regarding_id": str(regarding[1])}


def addresses(values: Sequence[str] | None) -> list[str] | None:
    """Addresses given as repeated options or separated by commas."""
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def user_with_email(uow: UnitOfWork, email: str) -> User | None:
    """The user with this address (case aside)."""
    return uow.session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()


def owner_id(owner: str | None, *, uow: UnitOfWork, actor: Actor) -> uuid.UUID | None:
    """``me`` or a user's address as the user's id."""
    if owner is None:
        return None
    if owner.strip().lower() == "me":
        return actor.user_id
    user = user_with_email(uow, owner)
    if user is None:
        raise NotFound(
            f"No user has the address {owner.strip()!r}; `leadflow users list` lists them.", code="user_not_found"
        )
    return user.id


def attendee_fields(
    required: Sequence[str] | None, optional: Sequence[str] | None, *, uow: UnitOfWork
) -> list[dict[str, Any]] | None:
    """``user:EMAIL``, ``user:ID`` or ``contact:ID`` as the service's attendees."""
    if not required and not optional:
        return None
    attendees = []
    for values, is_optional in ((required or [], False), (optional or [], True)):
        for value in values:
            kind, _, reference = value.partition(":")
            kind = kind.strip().lower()
            reference = reference.strip()
            if kind not in ("user", "contact") or not reference:
                raise typer.BadParameter(
                    f"{value!r}: write user:EMAIL, user:ID or contact:ID.",
                    param_hint="--optional-attendee" if is_optional else "--attendee",
                )
            try:
                attendee_id = uuid.UUID(reference)
            except ValueError:
                user = user_with_email(uow, reference) if kind == "user" else None
                if user is None:
                    raise field_refusal(
                        "attendees",
                        "attendees_not_found",
                        f"attendees: {reference!r} is not the id of a {kind}"
                        + (" nor the address of a user." if kind == "user" else "."),
                    ) from None
                attendee_id = user.id
            attendees.append({"kind": kind, "id": str(attendee_id), "optional": is_optional})
    return attendees


# ------------------------------------------------------------------------------------------ output


def columns_of(record: Any) -> dict[str, Any]:
    """Every column of a record, by attribute name."""
    return {
        attribute.key: getattr(record, attribute.key)
        for attribute in inspect(record).mapper.column_attrs
        if attribute.key not in _HIDDEN
    }


def activity_document(activity: Activity, parties: list[ActivityParty]) -> Any:
    """An activity as the REST API answers it (the fields of its type)."""
    from leadflow.api.activities import activity_out  # the API's fields; imported here to keep the CLI quick

    return activity_out(activity, parties)


def entry_document(entry: TimelineEntry, parties: dict[uuid.UUID, list[ActivityParty]]) -> Any:
    """A timeline entry as the REST API answers it: the item's fields, its kind and when it was made."""
    from leadflow.api.notes import timeline_item  # the API's fields; imported here to keep the CLI quick

    return timeline_item(entry, parties)


@dataclass(frozen=True)
class Described:
    """Activities read for printing, with what their rows show beside their own columns."""

    activities: list[Activity]
    parties: dict[uuid.UUID, list[ActivityParty]]
    regarding: dict[tuple[RegardingTable, uuid.UUID], str]
    users: dict[uuid.UUID, str]
    zone: tzinfo
    now: datetime

    def documents(self) -> list[dict[str, Any]]:
        return [activity_document(a, self.parties.get(a.id, [])) for a in self.activities]

    def regarding_text(self, activity: Activity) -> str:
        if activity.regarding_table is None or activity.regarding_id is None:
            return ""
        key = (activity.regarding_table, activity.regarding_id)
        return f"{_SINGULAR[activity.regarding_table]} {self.regarding.get(key) or activity.regarding_id}"

    def when(self, activity: Activity) -> str:
        """An appointment's start and end; the due time of the others."""
        if activity.type is ActivityType.APPOINTMENT:
            if activity.all_day:
                return f"{day(activity.scheduled_start, UTC)} (all day)"
            start, end = moment(activity.scheduled_start, self.zone), moment(activity.scheduled_end, self.zone)
            return f"{start} – {end[11:] if end[:10] == start[:10] else end}"
        return moment(activity.scheduled_end, self.zone)

    def owner(self, activity: Activity) -> str:
        return self.users.get(activity.owner_user_id, "") if activity.owner_user_id else ""


def describe(activities: Sequence[Activity], *, uow: UnitOfWork, actor: Actor) -> Described:
    """What the rows of these activities show: parties, the names of the records they regard (those
    the reader may read; the others by id), the owners' names, and the reader's time zone."""
    session = uow.session
    ids = [activity.id for activity in activities]
    wanted: dict[RegardingTable, set[uuid.UUID]] = {}
    for activity in activities:
        if activity.regarding_table is not None and activity.regarding_id is not None:
            wanted.setdefault(activity.regarding_table, set()).add(activity.regarding_id)
    regarding: dict[tuple[RegardingTable, uuid.UUID], str] = {}
    for table, record_ids in wanted.items():
        model = mapped_class(table.value)
        rows = session.execute(
            select(model.id, getattr(model, NAME_COLUMNS[table])).where(
                model.id.in_(record_ids), access_condition(actor, Privilege.READ, table.value, model)
            )
        )
        regarding.update({(table, record_id): name for record_id, name in rows})
    parties = parties_of(session, ids)
    user_ids = {activity.owner_user_id for activity in activities if activity.owner_user_id}
    users = {
        user_id: name or email
        for user_id, name, email in session.execute(
            select(User.id, User.full_name, User.email).where(User.id.in_(user_ids))
        )
    }
    return Described(
        activities=list(activities),
        parties=parties,
        regarding=regarding,
        users=users,
        zone=time_zone_of(actor, session=session),
        now=utcnow(),
    )


def state_text(activity: Activity) -> str:
    return f"{activity.state.value}/{activity.status_reason.value}"


def kind_text(kind: ActivityType | str) -> str:
    return str(getattr(kind, "value", kind)).replace("_", " ")


def said(activity: Activity, verb: str) -> str:
    """One line saying what happened to an activity and where it stands."""
    return f"{verb} {kind_text(activity.type)} [bold]{activity.subject}[/] ({state_text(activity)}) {activity.id}"


def activities_table(described: Described, title: str) -> Table:
    """Activities as a table: type, subject, regarding, due or start, state, owner, overdue marked."""
    grid = Table(title=title)
    grid.add_column("id", no_wrap=True, min_width=36)  # whole, so that it can be copied into a command
    grid.add_column("type")
    grid.add_column("subject")
    grid.add_column("regarding")
    grid.add_column(f"due / start ({zone_name(described.zone)})")
    grid.add_column("state/status")
    grid.add_column("owner")
    grid.add_column("overdue")
    for activity in described.activities:
        grid.add_row(
            str(activity.id),
            kind_text(activity.type),
            activity.subject,
            described.regarding_text(activity),
            described.when(activity),
            state_text(activity),
            described.owner(activity),
            "[bold red]OVERDUE[/]" if is_overdue(activity, described.now) else "",
        )
    return grid


def print_activity(described: Described) -> None:
    """One activity: every field that has a value, then its parties."""
    [activity] = described.activities
    grid = Table(title=f"{kind_text(activity.type).capitalize()}: {activity.subject}", show_header=False)
    grid.add_column("field")
    grid.add_column("value")
    shown = {
        "regarding": described.regarding_text(activity),
        "state/status": state_text(activity),
        "owner": described.owner(activity),
        "overdue": "yes" if is_overdue(activity, described.now) else "",
    }
    labels = APPOINTMENT_LABELS if activity.type is ActivityType.APPOINTMENT else DUE_LABELS
    for name, value in columns_of(activity).items():
        if name in ("state", "status_reason", "regarding_table", "regarding_id", "subject") or value is None:
            continue
        if TYPE_COLUMNS.get(name, activity.type) is not activity.type:
            continue
        name = labels.get(name, name)
        if isinstance(value, datetime):
            if activity.all_day and name in ("start", "end"):
                cell = day(value, UTC)
            else:
                cell = f"{moment(value, described.zone)} ({zone_name(described.zone)})"
        elif isinstance(value, bool):
            cell = "yes" if value else "no"
        else:
            cell = text(getattr(value, "value", value))
        shown[name.replace("_", " ")] = cell
    for name, value in shown.items():
        if value != "":
            grid.add_row(name, value)
    console.print(grid)
    parties = described.parties.get(activity.id, [])
    if parties:
        table = Table(title="Parties")
        for column in ("role", "name", "address", "record"):
            table.add_column(column)
        for party in parties:
            record = f"{party.party_table} {party.party_id}" if party.party_table else ""
            table.add_row(party.role.value, text(party.name), text(party.address), record)
        console.print(table)


# ------------------------------------------------------------------------------------------ running


def _mail_configured(ctx: typer.Context) -> bool:
    return bool(settings_of(ctx).smtp_url)


def _create(ctx: typer.Context, data: Callable[[UnitOfWork, Actor, tzinfo], dict[str, Any]], *, wait: bool) -> None:
    """Create the activity ``data`` describes and say so; an e-mail to send is handed to the queue."""
    database, actor = open_as_actor(ctx)
    job: Job | None
    try:
        with database.unit_of_work() as uow:
            zone = time_zone_of(actor, session=uow.session)
            activity, job = create_activity(
                data(uow, actor, zone), uow=uow, actor=actor, mail_configured=_mail_configured(ctx)
            )
            line = said(activity, "Created")
            activity_id = activity.id
            uow.commit()
    except LeadflowError as error:
        fail(error)
    console.print(line)
    if job is not None:
        _send_job(ctx, database, actor, job, activity_id, wait=wait)


def _send_job(
    ctx: typer.Context, database: Database, actor: Actor, job: Job, activity_id: uuid.UUID, *, wait: bool
) -> None:
    """Hand a committed send job to the queue; with ``wait``, say how the sending ended."""
    ended = start_and_follow(ctx, database, actor, job, wait=wait)
    if not wait:
        return
    with database.unit_of_work(read_only=True) as uow:
        activity = get_activity(activity_id, uow=uow, actor=actor)
        state, error = state_text(activity), activity.send_error
    if ended.state is JobState.SUCCEEDED:
        console.print(f"E-mail {activity_id}: {state}")
        return
    errors.print(
        f"[bold red]Error:[/] the e-mail was not sent ({state}): {error or ended.error}. "
        "It stays recorded and is tried again later.",
        soft_wrap=True,
    )
    raise typer.Exit(code=1)


def _change(ctx: typer.Context, verb: str, change: Callable[[UnitOfWork, Actor], Activity]) -> None:
    """Run one change on an activity and say where it ended."""
    console.print(run(ctx, lambda uow, actor: said(change(uow, actor), verb)))


# ------------------------------------------------------------------------------------------ commands


@activities_app.command("list")
def list_(
    ctx: typer.Context,
    kind: Annotated[
        list[ActivityType] | None, typer.Option("--type", help="Only this type (repeat for several).")
    ] = None,
    state: Annotated[list[ActivityState] | None, typer.Option(help="Only this state (repeat for several).")] = None,
    regarding: Regarding = None,
    owner: Annotated[str | None, typer.Option(metavar="me|EMAIL", help="Only those this user owns.")] = None,
    due_before: Annotated[
        str | None, typer.Option(metavar="DATETIME", help=f"Only those due before: {MOMENT_HELP}.")
    ] = None,
    view: Annotated[
        View | None, typer.Option(help="One of your lists (your own activities; 'today' and 'week' on your clock).")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    as_json: JsonFlag = False,
) -> None:
    """The activities you may read: open ones soonest due first, others newest first."""
    target = parse_regarding(regarding)
    before = parse_moment(due_before, option="--due-before")

    def listed(uow: UnitOfWork, actor: Actor) -> tuple[Described, str | None]:
        zone = time_zone_of(actor, session=uow.session)
        filters = ActivityFilter(
            types=tuple(kind or ()),
            states=tuple(state or ()),
            regarding_table=target[0] if target else None,
            regarding_id=target[1] if target else None,
            owner_user_id=owner_id(owner, uow=uow, actor=actor),
            due_before=on_clock(before, zone),
            view=view.value.replace("-", "_") if view else None,
        )
        page = list_activities(filters, uow=uow, actor=actor, time_zone=zone_name(zone), limit=limit, cursor=cursor)
        return describe(page.items, uow=uow, actor=actor), page.next_cursor

    described, next_cursor = read(ctx, listed)

    def render() -> None:
        console.print(activities_table(described, f"Activities{': ' + view.value if view else ''}"))
        if next_cursor:
            console.print(f"Next page: --cursor {next_cursor}")

    emit(as_json, page_of(described.documents(), next_cursor), render)


@activities_app.command("show")
def show(ctx: typer.Context, activity_id: ActivityId, as_json: JsonFlag = False) -> None:
    """An activity with all its fields and its parties."""
    described = read(
        ctx, lambda uow, actor: describe([get_activity(activity_id, uow=uow, actor=actor)], uow=uow, actor=actor)
    )
    emit(as_json, described.documents()[0], lambda: print_activity(described))


@activities_app.command("add-task")
def add_task(
    ctx: typer.Context,
    subject: Subject,
    regarding: Regarding = None,
    due: Due = None,
    priority: PriorityOption = None,
    description: Description = None,
) -> None:
    """Create a task (open, not started)."""
    due_at = parse_moment(due, option="--due")

    def data(uow: UnitOfWork, actor: Actor, zone: tzinfo) -> dict[str, Any]:
        return given(
            type="task",
            subject=subject,
            description=description,
            priority=priority,
            due=on_clock(due_at, zone),
            **regarding_fields(regarding),
        )

    _create(ctx, data, wait=False)


@activities_app.command("add-call")
def add_call(
    ctx: typer.Context,
    subject: Subject,
    regarding: Regarding = None,
    phone: Annotated[str | None, typer.Option(help="The number called or calling.")] = None,
    direction: Annotated[Direction | None, typer.Option(help="incoming or outgoing (outgoing by default).")] = None,
    due: Due = None,
    made: Annotated[bool, typer.Option("--made", help="Record it as a call made (completed).")] = False,
    received: Annotated[
        bool, typer.Option("--received", help="Record it as a call received (completed; incoming unless told).")
    ] = False,
    duration: Annotated[int | None, typer.Option("--duration", min=0, help="How long it lasted, in minutes.")] = None,
    voicemail: Annotated[bool, typer.Option("--left-voicemail", help="A voicemail was left.")] = False,
    priority: PriorityOption = None,
    description: Description = None,
) -> None:
    """Create a phone call: open, to be made, or recorded as made (--made) or received (--received)."""
    if made and received:
        raise typer.BadParameter("give --made or --received, not both.", param_hint="--made / --received")
    due_at = parse_moment(due, option="--due")
    reason = "made" if made else "received" if received else None
    if received and direction is None:
        direction = Direction.INCOMING

    def data(uow: UnitOfWork, actor: Actor, zone: tzinfo) -> dict[str, Any]:
        return given(
            type="phone_call",
            subject=subject,
            description=description,
            priority=priority,
            phone_number=phone,
            direction=direction,
            due=on_clock(due_at, zone),
            status_reason=reason,
            duration_minutes=duration,
            left_voicemail=voicemail or None,
            **regarding_fields(regarding),
        )

    _create(ctx, data, wait=False)


Attendees = Annotated[
    list[str] | None,
    typer.Option(metavar="user:EMAIL|contact:ID", help="A required attendee (repeat for several)."),
]
OptionalAttendees = Annotated[
    list[str] | None,
    typer.Option(metavar="user:EMAIL|contact:ID", help="An optional attendee (repeat for several)."),
]


@activities_app.command("add-appointment")
def add_appointment(
    ctx: typer.Context,
    subject: Subject,
    start: Annotated[str, typer.Option(metavar="DATETIME", help=f"When it starts: {MOMENT_HELP}.")],
    end: Annotated[
        str | None,
        typer.Option(
            metavar="DATETIME",
            help="When it ends (30 minutes after the start by default); all day: the day after its last day.",
        ),
    ] = None,
    all_day: Annotated[
        bool, typer.Option("--all-day", help="It takes whole days (--start and --end as days).")
    ] = False,
    location: Annotated[str | None, typer.Option(help="Where.")] = None,
    attendee: Attendees = None,
    optional_attendee: OptionalAttendees = None,
    regarding: Regarding = None,
    priority: PriorityOption = None,
    description: Description = None,
) -> None:
    """Create an appointment (busy), with its attendees: users by address or id, contacts by id."""
    start_at = parse_moment(start, option="--start")
    end_at = parse_moment(end, option="--end")

    def data(uow: UnitOfWork, actor: Actor, zone: tzinfo) -> dict[str, Any]:
        return given(
            type="appointment",
            subject=subject,
            description=description,
            priority=priority,
            start=as_day(start_at) if all_day else on_clock(start_at, zone),
            end=as_day(end_at) if all_day else on_clock(end_at, zone),
            all_day=all_day or None,
            location=location,
            attendees=attendee_fields(attendee, optional_attendee, uow=uow),
            **regarding_fields(regarding),
        )

    _create(ctx, data, wait=False)


Recipients = Annotated[list[str] | None, typer.Option(metavar="ADDRESS", help="A recipient (repeat, or a, b).")]


@activities_app.command("add-email")
def add_email(
    ctx: typer.Context,
    subject: Subject,
    to: Annotated[list[str], typer.Option(metavar="ADDRESS", help="A recipient (repeat, or separate with commas).")],
    cc: Recipients = None,
    sender: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Who sent it: you by default; with --incoming, who wrote.")
    ] = None,
    body: Annotated[str | None, typer.Option(help="The message's text.")] = None,
    regarding: Regarding = None,
    due: Due = None,
    priority: PriorityOption = None,
    send: Annotated[bool, typer.Option("--send", help="Send it through the mail server (a job).")] = False,
    incoming: Annotated[
        bool, typer.Option("--incoming", help="Record an e-mail received (completed/received).")
    ] = False,
    wait: WaitFlag = True,
) -> None:
    """Record an e-mail: a draft, one received (--incoming), or one sent at once (--send)."""
    if send and incoming:
        raise typer.BadParameter("an incoming e-mail is recorded, not sent.", param_hint="--send / --incoming")
    due_at = parse_moment(due, option="--due")

    def data(uow: UnitOfWork, actor: Actor, zone: tzinfo) -> dict[str, Any]:
        return given(
            type="email",
            subject=subject,
            description=body,
            priority=priority,
            sender=sender,
            to=addresses(to),
            cc=addresses(cc),
            due=on_clock(due_at, zone),
            direction="incoming" if incoming else None,
            status_reason="received" if incoming else None,
            send=send or None,
            **regarding_fields(regarding),
        )

    _create(ctx, data, wait=wait)


@activities_app.command("update")
def update(
    ctx: typer.Context,
    activity_id: ActivityId,
    subject: Annotated[str | None, typer.Option(help="A new subject.")] = None,
    description: Description = None,
    regarding: Annotated[
        str | None, typer.Option(metavar="TABLE:ID|none", help="The record it regards (none: no record).")
    ] = None,
    owner: Annotated[str | None, typer.Option(metavar="EMAIL", help="Assign it to this user.")] = None,
    priority: PriorityOption = None,
    status_reason: Annotated[
        ActivityStatus | None, typer.Option(help="An open status reason (complete or cancel to close it).")
    ] = None,
    due: Due = None,
    start: Annotated[str | None, typer.Option(metavar="DATETIME", help="An appointment's start.")] = None,
    end: Annotated[str | None, typer.Option(metavar="DATETIME", help="An appointment's end.")] = None,
    all_day: Annotated[
        bool | None, typer.Option("--all-day/--not-all-day", help="An appointment's whole days.")
    ] = None,
    location: Annotated[str | None, typer.Option(help="An appointment's place.")] = None,
    attendee: Attendees = None,
    optional_attendee: OptionalAttendees = None,
    percent_complete: Annotated[int | None, typer.Option(min=0, max=100, help="A task's progress.")] = None,
    duration: Annotated[int | None, typer.Option("--duration", min=0, help="Minutes.")] = None,
    phone: Annotated[str | None, typer.Option(help="A call's number.")] = None,
    direction: Annotated[Direction | None, typer.Option(help="incoming or outgoing.")] = None,
    to: Recipients = None,
    cc: Recipients = None,
) -> None:
    """Change the fields given of an open activity (a field of another type is refused)."""
    due_at = parse_moment(due, option="--due")
    start_at = parse_moment(start, option="--start")
    end_at = parse_moment(end, option="--end")
    options = (subject, description, regarding, owner, priority, status_reason, due, start, end, all_day, location)
    more = (attendee, optional_attendee, percent_complete, duration, phone, direction, to, cc)
    if all(value is None for value in (*options, *more)):
        raise typer.BadParameter("give at least one field to change (see --help).")
    clear_regarding = regarding is not None and regarding.strip().lower() == "none"
    regarding_data = {"regarding_table": None, "regarding_id": None} if clear_regarding else regarding_fields(regarding)

    def change(uow: UnitOfWork, actor: Actor) -> Activity:
        zone = time_zone_of(actor, session=uow.session)
        current = get_activity(activity_id, uow=uow, actor=actor)
        whole_days = all_day if all_day is not None else current.all_day

        def placed(value: datetime | None) -> datetime | None:
            return as_day(value) if whole_days else on_clock(value, zone)

        data = given(
            subject=subject,
            description=description,
            owner_user_id=owner and str(owner_id(owner, uow=uow, actor=actor)),
            priority=priority,
            status_reason=status_reason,
            due=on_clock(due_at, zone),
            start=placed(start_at),
            end=placed(end_at),
            all_day=all_day,
            location=location,
            attendees=attendee_fields(attendee, optional_attendee, uow=uow),
            percent_complete=percent_complete,
            duration_minutes=duration,
            phone_number=phone,
            direction=direction,
            to=addresses(to),
            cc=addresses(cc),
        )
        data.update(regarding_data)
        return update_activity(activity_id, data, uow=uow, actor=actor)

    _change(ctx, "Changed", change)


@activities_app.command("complete")
def complete(
    ctx: typer.Context,
    activity_id: ActivityId,
    reason: Annotated[
        ActivityStatus | None,
        typer.Option(help="A completed status reason of its type (a call: made or received); the default otherwise."),
    ] = None,
) -> None:
    """Mark an open activity completed."""
    _change(
        ctx,
        "Completed",
        lambda uow, actor: complete_activity(activity_id, status_reason=reason, uow=uow, actor=actor),
    )


@activities_app.command("cancel")
def cancel(ctx: typer.Context, activity_id: ActivityId) -> None:
    """Cancel an open activity (an e-mail waiting to be sent is no longer sent)."""
    _change(ctx, "Canceled", lambda uow, actor: cancel_activity(activity_id, uow=uow, actor=actor))


@activities_app.command("reopen")
def reopen(ctx: typer.Context, activity_id: ActivityId) -> None:
    """Open a completed or canceled activity again (a sent e-mail stays sent)."""
    _change(ctx, "Reopened", lambda uow, actor: reopen_activity(activity_id, uow=uow, actor=actor))


@activities_app.command("delete")
def delete(ctx: typer.Context, activity_id: ActivityId) -> None:
    """Delete an activity with its parties."""

    def remove(uow: UnitOfWork, actor: Actor) -> str:
        activity = get_activity(activity_id, uow=uow, actor=actor)
        line = f"Deleted {kind_text(activity.type)} [bold]{activity.subject}[/] {activity.id}"
        delete_activity(activity_id, uow=uow, actor=actor)
        return line

    console.print(run(ctx, remove))


@activities_app.command("send")
def send(ctx: typer.Context, activity_id: ActivityId, wait: WaitFlag = True) -> None:
    """Send a draft (or failed) e-mail through the mail server: a job sends it, retrying on failure."""
    database, actor = open_as_actor(ctx)
    try:
        with database.unit_of_work() as uow:
            activity, job = send_email(activity_id, uow=uow, actor=actor, mail_configured=_mail_configured(ctx))
            line = said(activity, "Sending")
            uow.commit()
    except LeadflowError as error:
        fail(error)
    console.print(line)
    _send_job(ctx, database, actor, job, activity_id, wait=wait)


# ------------------------------------------------------------------------------------------ timeline


def _entry_subject(entry: TimelineEntry) -> str:
    item = entry.item
    if entry.kind == "note":
        first = (item.body or "").strip().splitlines()
        return item.title or (first[0] if first else "")
    if entry.kind == "close":
        return f"opportunity {item.opportunity_state.value} ({item.status_reason.value})"
    return str(item.subject)


@activities_app.command("timeline")
def timeline(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(metavar="TABLE", help="lead, account, contact or opportunity.")],
    record_id: Annotated[uuid.UUID, typer.Argument(help="The record's id.")],
    kind: Annotated[
        list[str] | None,
        typer.Option("--type", help=f"Only this kind of entry (repeat): {', '.join(ENTRY_KINDS)}."),
    ] = None,
    state: Annotated[
        list[ActivityState] | None, typer.Option(help="Only activities in this state (repeat for several).")
    ] = None,
    include_related: Annotated[
        bool, typer.Option("--include-related", help="An account's: also its contacts' and opportunities' entries.")
    ] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
    as_json: JsonFlag = False,
) -> None:
    """A record's notes, activities and close records, newest first."""
    regarding = REGARDING_NAMES.get(table.strip().lower())
    if regarding is None:
        raise typer.BadParameter("one of lead, account, contact, opportunity.", param_hint="TABLE")

    def listed(uow: UnitOfWork, actor: Actor) -> tuple[list[TimelineEntry], Described, str | None]:
        page = record_timeline(
            regarding,
            record_id,
            uow=uow,
            actor=actor,
            kinds=tuple(kind or ()),
            states=tuple(state or ()),
            include_related=include_related,
            limit=limit,
            cursor=cursor,
        )
        activities = [entry.item for entry in page.items if isinstance(entry.item, Activity)]
        return page.items, describe(activities, uow=uow, actor=actor), page.next_cursor

    entries, described, next_cursor = read(ctx, listed)

    def render() -> None:
        zone = described.zone
        grid = Table(title=f"Timeline of {_SINGULAR[regarding]} {record_id}")
        grid.add_column(f"when ({zone_name(zone)})", no_wrap=True)
        grid.add_column("kind")
        grid.add_column("subject")
        grid.add_column("state/status")
        grid.add_column("due / start")
        grid.add_column("id", no_wrap=True, min_width=36)
        for entry in entries:
            item = entry.item
            is_activity = isinstance(item, Activity)
            grid.add_row(
                moment(entry.at, zone),
                kind_text(entry.kind),
                _entry_subject(entry),
                state_text(item) + (" [bold red]OVERDUE[/]" if is_overdue(item, described.now) else "")
                if is_activity
                else "",
                described.when(item) if is_activity else "",
                str(item.id),
            )
        console.print(grid)
        if next_cursor:
            console.print(f"Next page: --cursor {next_cursor}")

    documents = [entry_document(entry, described.parties) for entry in entries]
    emit(as_json, page_of(documents, next_cursor), render)


# ------------------------------------------------------------------------------------------ calendar feed


def feed_url(ctx: typer.Context, token: str) -> str:
    """The address of a calendar feed, as the web app serves it."""
    return f"{public_url(settings_of(ctx))}/calendar/{token}.ics"


@calendar_feed_app.command("issue")
def feed_issue(ctx: typer.Context) -> None:
    """Make your calendar feed's secret address and print it once (an earlier address stops working)."""
    token = run(ctx, lambda uow, actor: issue_feed(uow=uow, actor=actor))
    typer.echo(feed_url(ctx, token))
    errors.print("Subscribe to it in your calendar; it is shown only now. Issuing again replaces it.")


@calendar_feed_app.command("status")
def feed_status(ctx: typer.Context) -> None:
    """Whether you have a calendar feed (its address is not kept; issue a new one if you lost it)."""
    if read(ctx, lambda uow, actor: has_feed(uow=uow, actor=actor)):
        console.print("You have a calendar feed. Its address was shown when it was issued; `issue` makes a new one.")
    else:
        console.print("You have no calendar feed; `leadflow activities calendar-feed issue` makes one.")


@calendar_feed_app.command("revoke")
def feed_revoke(ctx: typer.Context) -> None:
    """End your calendar feed: its address stops working."""
    if run(ctx, lambda uow, actor: revoke_feed(uow=uow, actor=actor)):
        console.print("Revoked your calendar feed; its address no longer works.")
    else:
        console.print("You had no calendar feed.")


def register(app: typer.Typer) -> None:
    """Add `leadflow activities ...` to the root command."""
    app.add_typer(activities_app, name="activities")
