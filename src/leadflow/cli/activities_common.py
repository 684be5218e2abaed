"""What the activities commands share: the `activities` and `calendar-feed` command groups, the
arguments and options of an activity, reading moments on the acting user's clock, what an activity
regards, its owner and its attendees, rendering activities as tables, and creating an activity
(handing an e-mail to send to the queue) or changing one and saying where it ended.
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

from leadflow.activities.activity import create_activity, get_activity, is_overdue, parties_of
from leadflow.activities.models import Activity, ActivityParty, ActivityType, Priority, RegardingTable
from leadflow.activities.timeline import TimelineEntry
from leadflow.cli.common import console, day, errors, fail, moment, open_as_actor, run, settings_of, text, zone_name
from leadflow.cli.jobs import start_and_follow
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
