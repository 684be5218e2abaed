"""`leadflow activities timeline|calendar-feed ...`: a record's timeline (its activities, notes and
closings, newest first) and the acting user's private calendar feed, added to the `activities`
command group when this module is imported.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.table import Table

from leadflow.activities.activity import is_overdue
from leadflow.activities.calendar import has_feed, issue_feed, revoke_feed
from leadflow.activities.models import Activity, ActivityState
from leadflow.activities.timeline import ENTRY_KINDS, TimelineEntry, record_timeline
from leadflow.cli.activities_common import (
    _SINGULAR,
    REGARDING_NAMES,
    Described,
    activities_app,
    calendar_feed_app,
    describe,
    entry_document,
    kind_text,
    state_text,
)
from leadflow.cli.catalog_common import Cursor, Limit
from leadflow.cli.common import JsonFlag, console, emit, errors, moment, page_of, read, run, settings_of, zone_name
from leadflow.core.config import public_url
from leadflow.core.uow import UnitOfWork
from leadflow.security.actor import Actor

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
