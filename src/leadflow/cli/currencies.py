"""`leadflow currencies list|show|create|change|delete|base|recalculate`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from leadflow.cli.common import JsonFlag, console, emit, fail, open_as_actor, read, run, text
from leadflow.cli.jobs import WaitFlag, print_ending, start_and_follow
from leadflow.core.errors import LeadflowError
from leadflow.core.schemas import parse
from leadflow.jobs.models import JobState
from leadflow.organisation import currencies
from leadflow.organisation.currencies import CurrencyCreate, CurrencyOut, CurrencyUpdate
from leadflow.tasks.admin import start_recalculation

CurrencyId = Annotated[uuid.UUID, typer.Argument(help="The currency's id (see `leadflow currencies list`).")]


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def currency_commands() -> typer.Typer:
    group = typer.Typer(help="The base currency and the others, with their exchange rates.", no_args_is_help=True)

    @group.command("list")
    def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
        """Every enabled currency, the base currency first."""
        items = [
            CurrencyOut.model_validate(item)
            for item in read(ctx, lambda uow, actor: currencies.list_currencies(uow=uow, actor=actor))
        ]

        def render() -> None:
            grid = Table(title="Currencies")
            for column in ("id", "code", "name", "symbol", "precision", "rate to base", "base"):
                grid.add_column(column)
            for item in items:
                grid.add_row(
                    str(item.id),
                    item.iso_code,
                    item.name,
                    item.symbol,
                    str(item.precision),
                    text(item.exchange_rate),
                    "yes" if item.is_base else "",
                )
            console.print(grid)

        emit(as_json, items, render)

    @group.command("show")
    def show(ctx: typer.Context, currency_id: CurrencyId, as_json: JsonFlag = False) -> None:
        """Every field of one currency."""
        item = CurrencyOut.model_validate(
            read(ctx, lambda uow, actor: currencies.read_currency(currency_id, uow=uow, actor=actor))
        )

        def render() -> None:
            grid = Table(title=f"Currency {item.iso_code}", show_header=False)
            for name, value in item.model_dump().items():
                grid.add_row(name, text(value))
            console.print(grid)

        emit(as_json, item, render)

    @group.command("create")
    def create(
        ctx: typer.Context,
        iso_code: Annotated[str, typer.Argument(help="ISO 4217 code, e.g. CHF.")],
        rate: Annotated[str, typer.Option("--rate", help="Units of it per unit of the base currency.")],
        precision: Annotated[int, typer.Option(help="Decimal places, 0 to 4.")] = 2,
        name: Annotated[str | None, typer.Option()] = None,
        symbol: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Enable a currency."""
        data = _given(iso_code=iso_code, exchange_rate=rate, precision=precision, name=name, symbol=symbol)
        currency = run(
            ctx, lambda uow, actor: currencies.create_currency(parse(CurrencyCreate, data), uow=uow, actor=actor)
        )
        console.print(f"Enabled {currency.iso_code} [bold]{currency.id}[/]")

    @group.command("change")
    def change(
        ctx: typer.Context,
        currency_id: CurrencyId,
        rate: Annotated[str | None, typer.Option("--rate")] = None,
        precision: Annotated[int | None, typer.Option()] = None,
        name: Annotated[str | None, typer.Option()] = None,
        symbol: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Change a currency (records keep their captured rate until saved or recalculated)."""
        data = _given(exchange_rate=rate, precision=precision, name=name, symbol=symbol)
        currency = run(
            ctx,
            lambda uow, actor: currencies.update_currency(
                currency_id, parse(CurrencyUpdate, data), uow=uow, actor=actor
            ),
        )
        console.print(f"Changed {currency.iso_code}")

    @group.command("delete")
    def delete(ctx: typer.Context, currency_id: CurrencyId) -> None:
        """Remove a currency no record uses."""
        run(ctx, lambda uow, actor: currencies.delete_currency(currency_id, uow=uow, actor=actor))
        console.print(f"Removed currency {currency_id}")

    @group.command("base")
    def base(ctx: typer.Context, currency_id: CurrencyId) -> None:
        """Make this currency the base currency (only while no record holds an amount or names a currency)."""
        currency = run(ctx, lambda uow, actor: currencies.change_base_currency(currency_id, uow=uow, actor=actor))
        console.print(f"{currency.iso_code} is the base currency; the other rates are now per {currency.iso_code}")

    @group.command("recalculate")
    def recalculate(ctx: typer.Context, wait: WaitFlag = True) -> None:
        """Apply the current rates to every open lead and opportunity, as a job."""
        database, actor = open_as_actor(ctx)
        try:
            job = start_and_follow(ctx, database, actor, start_recalculation(database=database, actor=actor), wait=wait)
        except LeadflowError as error:
            fail(error)
        if not wait:
            return
        if job.state is not JobState.SUCCEEDED:
            print_ending(job)
            raise typer.Exit(code=1)
        changed = (job.summary or {}).get("changed", {})
        console.print(", ".join(f"{table}: {count} recalculated" for table, count in changed.items()))

    return group


def register(app: typer.Typer) -> None:
    """Add the currencies' command group to the root command."""
    app.add_typer(currency_commands(), name="currencies")
