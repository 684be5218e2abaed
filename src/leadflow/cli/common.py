"""What every command shares: the consoles, opening the database as the acting user, running one
use case in a unit of work, printing a refusal with its exit code, printing a result as JSON, and
printing moments in the acting user's time zone (JSON keeps them in UTC, as the REST API does)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime, tzinfo
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from rich.console import Console

from leadflow.bootstrap import Prepared, prepare_database
from leadflow.core.config import Settings
from leadflow.core.errors import LeadflowError, NotFound, ValidationFailed
from leadflow.core.formatting import format_day, format_moment
from leadflow.core.uow import Database, UnitOfWork
from leadflow.organisation.service import time_zone_of
from leadflow.security.actor import Actor, actor_for_email, default_actor

console = Console()
errors = Console(stderr=True)

ResultT = TypeVar("ResultT")

# Exit codes per error family, so scripts can tell bad input or a missing record from a refusal.
EXIT_CODES: tuple[tuple[type[LeadflowError], int], ...] = ((NotFound, 3), (ValidationFailed, 2))


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root command read."""
    return ctx.find_root().obj["settings"]


def fail(error: LeadflowError) -> NoReturn:
    """Print the human message and exit non-zero."""
    fields = error.details.get("fields", []) if isinstance(error.details, dict) else []
    if fields:
        errors.print(f"[bold red]Error:[/] the input is not valid [dim]({error.code})[/]")
        for field in fields:
            errors.print(f"  • {field.get('message', error.message)} [dim]({field['field']}: {field['code']})[/]")
    else:
        errors.print(f"[bold red]Error:[/] {error.message} [dim]({error.code})[/]", soft_wrap=True)
    raise typer.Exit(code=next((code for kind, code in EXIT_CODES if isinstance(error, kind)), 1))


def prepared_database(ctx: typer.Context) -> Prepared:
    """The configured database, migrated and set up once per command; its connections close when the
    command ends (a process that runs several commands, such as a script or a test, does not keep them)."""
    root = ctx.find_root()
    prepared: Prepared | None = root.obj.get("prepared")
    if prepared is None:
        prepared = prepare_database(settings_of(ctx))
        root.obj["prepared"] = prepared
        root.call_on_close(prepared.database.dispose)
    return prepared


def open_database(ctx: typer.Context) -> Database:
    """The configured database, migrated and set up (see ``prepared_database``)."""
    return prepared_database(ctx).database


def open_as_actor(ctx: typer.Context, database: Database | None = None) -> tuple[Database, Actor]:
    """The database and the acting user (``--as``, else the first System Administrator)."""
    database = database or open_database(ctx)
    try:
        with database.unit_of_work(read_only=True) as uow:
            email = ctx.find_root().obj.get("as_user")
            actor = actor_for_email(uow.session, email) if email else default_actor(uow.session)
    except LeadflowError as error:
        fail(error)
    return database, actor


def run(ctx: typer.Context, action: Callable[[UnitOfWork, Actor], ResultT]) -> ResultT:
    """Run ``action(uow, actor)`` in one unit of work, committing on success, printing refusals."""
    database, actor = open_as_actor(ctx)
    try:
        with database.unit_of_work() as uow:
            result = action(uow, actor)
            uow.commit()
    except LeadflowError as error:
        fail(error)
    return result


def read(ctx: typer.Context, action: Callable[[UnitOfWork, Actor], ResultT]) -> ResultT:
    """Run a reading ``action(uow, actor)`` in a read-only unit of work, printing refusals."""
    database, actor = open_as_actor(ctx)
    try:
        with database.unit_of_work(read_only=True) as uow:
            return action(uow, actor)
    except LeadflowError as error:
        fail(error)


def in_time_zone(
    action: Callable[[UnitOfWork, Actor], ResultT],
) -> Callable[[UnitOfWork, Actor], tuple[ResultT, tzinfo]]:
    """``action`` that also gives the acting user's time zone (``time_zone_of``), for printing the
    moments of its result: ``result, zone = read(ctx, in_time_zone(action))``."""
    return lambda uow, actor: (action(uow, actor), time_zone_of(actor, session=uow.session))


def moment(value: datetime | None, zone: tzinfo, *, seconds: bool = False) -> str:
    """A moment as a table cell, on the clock of ``zone``: 2026-03-29 03:30 (blank for None)."""
    return format_moment(value, "en", format="yyyy-MM-dd HH:mm:ss" if seconds else "yyyy-MM-dd HH:mm", time_zone=zone)


def day(value: date | datetime | None, zone: tzinfo) -> str:
    """The day of a moment in ``zone`` (or a day as it is) as a table cell: 2026-03-29 (blank for None)."""
    return format_day(value, "en", format="yyyy-MM-dd", time_zone=zone)


def zone_name(zone: tzinfo) -> str:
    """A time zone as the command line names it: its IANA name."""
    return str(getattr(zone, "key", None) or zone)


def text(value: Any) -> str:
    """A value as a table cell: blank for None."""
    return "" if value is None else str(value)


# The ``--json`` flag of every list and show command.
JsonFlag = Annotated[
    bool,
    typer.Option(
        "--json", help="Print the result as one JSON document, with the REST API's fields, instead of a table."
    ),
]


def page_of(items: Iterable[Any], next_cursor: str | None = None) -> dict[str, Any]:
    """A list as the REST API answers it: ``{"items": [...], "next_cursor": ...}`` (null on the last page)."""
    return {"items": list(items), "next_cursor": next_cursor}


def jsonable(data: Any) -> Any:
    """``data`` as JSON values: Pydantic models as ``model_dump(mode="json")``, as the API writes them."""
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, dict):
        return {str(key): jsonable(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [jsonable(item) for item in data]
    return to_jsonable_python(data)


def emit(as_json: bool, data: Any, render: Callable[[], None]) -> None:
    """Print a result: ``data`` as one JSON document on stdout for ``--json``, else ``render()`` draws it
    for people (a Rich table, and the next page's cursor)."""
    if as_json:
        typer.echo(json.dumps(jsonable(data), ensure_ascii=False, indent=2))
    else:
        render()
