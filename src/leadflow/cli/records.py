"""`leadflow accounts|contacts|opportunities ...`: list, show, create and delete the customers and deals."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.table import Table
from sqlalchemy import select

from leadflow.cli.common import JsonFlag, console, emit, errors, page_of, read, run, text
from leadflow.cli.opportunities import add_closing_commands
from leadflow.core.formatting import format_money
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, AccountOut, ContactCreate, ContactOut
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityOut
from leadflow.organisation.models import Currency
from leadflow.security.access import get_accessible, list_records
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege


@dataclass(frozen=True)
class RecordCommands:
    """What the commands of one table call, the columns its list shows, and its JSON (the API's)."""

    name: str
    label: str
    model: type[Any]
    create_schema: type[BaseModel]
    out_schema: type[BaseModel]
    create: Callable[..., Any]
    delete: Callable[..., Any]
    columns: tuple[str, ...]


# Shown as money in the record's currency, written the acting user's way.
MONEY_COLUMNS = frozenset({"estimated_revenue"})

TABLES = (
    RecordCommands(
        "accounts",
        "account",
        Account,
        AccountCreate,
        AccountOut,
        customers.create_account,
        customers.delete_account,
        ("name", "email", "telephone", "address_city"),
    ),
    RecordCommands(
        "contacts",
        "contact",
        Contact,
        ContactCreate,
        ContactOut,
        customers.create_contact,
        customers.delete_contact,
        ("full_name", "email", "business_phone", "address_city"),
    ),
    RecordCommands(
        "opportunities",
        "opportunity",
        Opportunity,
        OpportunityCreate,
        OpportunityOut,
        opportunities.create_opportunity,
        opportunities.delete_opportunity,
        ("name", "estimated_revenue", "estimated_close_date", "state"),
    ),
)


def _commands(table: RecordCommands) -> typer.Typer:
    group = typer.Typer(help=f"List, show, create and delete {table.name}.", no_args_is_help=True)

    @group.command("list")
    def list_(
        ctx: typer.Context,
        limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
        cursor: Annotated[str | None, typer.Option(help="The cursor printed under the previous page.")] = None,
        as_json: JsonFlag = False,
    ) -> None:
        """The records you may read, oldest first."""

        def page(uow: UnitOfWork, actor: Actor) -> tuple[Any, dict[str, Any], dict[Any, str], str | None]:
            records = list_records(uow.session, table.model, actor=actor, limit=limit, cursor=cursor)
            document = page_of(map(table.out_schema.model_validate, records.items), records.next_cursor)
            currencies = dict(uow.session.execute(select(Currency.id, Currency.iso_code)).all())
            return records, document, currencies, actor.language

        found, document, currencies, language = read(ctx, page)

        def render() -> None:
            grid = Table(title=table.name.capitalize())
            grid.add_column("id", no_wrap=True, min_width=36)
            for column in table.columns:
                grid.add_column(column.replace("_", " "), justify="right" if column in MONEY_COLUMNS else "left")
            for record in found.items:
                cells = [
                    format_money(getattr(record, column), currencies.get(record.currency_id), language)
                    if column in MONEY_COLUMNS
                    else text(getattr(record, column))
                    for column in table.columns
                ]
                grid.add_row(str(record.id), *cells)
            console.print(grid)
            if found.next_cursor:
                console.print(f"Next page: --cursor {found.next_cursor}")

        emit(as_json, document, render)

    @group.command("show")
    def show(ctx: typer.Context, record_id: Annotated[uuid.UUID, typer.Argument()], as_json: JsonFlag = False) -> None:
        """Every field of one record."""

        def one(uow: UnitOfWork, actor: Actor) -> tuple[Any, BaseModel]:
            record = get_accessible(
                uow.session, table.model, record_id, label=table.label, actor=actor, privilege=Privilege.READ
            )
            return record, table.out_schema.model_validate(record)

        record, document = read(ctx, one)

        def render() -> None:
            grid = Table(title=f"{table.label.capitalize()} {record.id}", show_header=False)
            for column in table.model.__table__.columns:
                grid.add_row(column.name, text(getattr(record, column.key)))
            console.print(grid)

        emit(as_json, document, render)

    @group.command("create")
    def create(
        ctx: typer.Context,
        values: Annotated[
            str, typer.Argument(help='The fields as JSON, as the API takes them, e.g. {"name": "Acme"}.')
        ],
        suppress_duplicate_detection: Annotated[
            bool, typer.Option(help="Save even when duplicates are found.")
        ] = False,
    ) -> None:
        """Create a record from its fields."""
        try:
            data = json.loads(values)
        except json.JSONDecodeError as error:
            errors.print(f"[bold red]Error:[/] the fields are not JSON: {error}")
            raise typer.Exit(code=2) from None
        record = run(
            ctx,
            lambda uow, actor: table.create(
                parse(table.create_schema, data), uow=uow, actor=actor, suppress_duplicates=suppress_duplicate_detection
            ),
        )
        console.print(f"Created {table.label} [bold]{record.id}[/]")

    @group.command("delete")
    def delete(ctx: typer.Context, record_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
        """Delete a record and its notes."""
        run(ctx, lambda uow, actor: table.delete(record_id, uow=uow, actor=actor))
        console.print(f"Deleted {table.label} {record_id}")

    return group


def register(app: typer.Typer) -> None:
    """Add a command group per table to the root command; opportunities also win, lose and reopen."""
    for table in TABLES:
        group = _commands(table)
        if table.model is Opportunity:
            add_closing_commands(group)
        app.add_typer(group, name=table.name)
