"""`leadflow activities list|show|add-task|add-call|add-appointment|add-email|update|complete|cancel|
reopen|delete|send`: listing, creating, changing and sending activities, added to the `activities`
command group when this module is imported.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Any

import typer

from leadflow.activities.activity import (
    ActivityFilter,
    cancel_activity,
    complete_activity,
    delete_activity,
    get_activity,
    list_activities,
    reopen_activity,
    send_email,
    update_activity,
)
from leadflow.activities.models import Activity, ActivityState, ActivityStatus, ActivityType, Direction
from leadflow.cli.activities_common import (
    MOMENT_HELP,
    ActivityId,
    Described,
    Description,
    Due,
    PriorityOption,
    Regarding,
    Subject,
    View,
    _change,
    _create,
    _mail_configured,
    _send_job,
    activities_app,
    activities_table,
    addresses,
    as_day,
    attendee_fields,
    describe,
    given,
    kind_text,
    on_clock,
    owner_id,
    parse_moment,
    parse_regarding,
    print_activity,
    regarding_fields,
    said,
)
from leadflow.cli.catalog_common import Cursor, Limit
from leadflow.cli.common import JsonFlag, console, emit, fail, open_as_actor, page_of, read, run, zone_name
from leadflow.cli.jobs import WaitFlag
from leadflow.core.errors import LeadflowError
from leadflow.core.uow import UnitOfWork
from leadflow.organisation.service import time_zone_of
from leadflow.security.actor import Actor

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
