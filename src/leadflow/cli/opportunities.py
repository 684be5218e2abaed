"""`leadflow opportunities win|lose|reopen|closes` and `leadflow competitors ...`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from leadflow.cli.common import JsonFlag, console, emit, page_of, read, run, text
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.opportunities import closing, competitors
from leadflow.opportunities.schemas import (
    CompetitorCreate,
    CompetitorOut,
    CompetitorUpdate,
    LoseOpportunity,
    OpportunityCloseOut,
    WinOpportunity,
)
from leadflow.security.actor import Actor

OpportunityId = Annotated[uuid.UUID, typer.Argument(help="The opportunity's id.")]
Revenue = Annotated[str | None, typer.Option("--actual-revenue", help="Actual revenue, e.g. 12000.00.")]
CloseDate = Annotated[str | None, typer.Option("--close-date", help="YYYY-MM-DD; today where you are by default.")]
Description = Annotated[str | None, typer.Option(help="What happened.")]


def _given(**values: Any) -> dict[str, Any]:
    """The options given, as the API's body (left-out options stay out, so defaults apply)."""
    return {name: value for name, value in values.items() if value is not None}


def add_closing_commands(group: typer.Typer) -> None:
    """Win, lose, reopen and the close history, on the opportunities' command group."""

    @group.command("win")
    def win(
        ctx: typer.Context,
        opportunity_id: OpportunityId,
        actual_revenue: Revenue = None,
        close_date: CloseDate = None,
        description: Description = None,
    ) -> None:
        """Close an open opportunity as won (actual revenue defaults to the estimated revenue)."""
        data = _given(actual_revenue=actual_revenue, close_date=close_date, description=description)
        opportunity = run(
            ctx,
            lambda uow, actor: closing.win_opportunity(
                opportunity_id, parse(WinOpportunity, data), uow=uow, actor=actor
            ),
        )
        console.print(f"Won opportunity [bold]{opportunity.id}[/] ({opportunity.name})")

    @group.command("lose")
    def lose(
        ctx: typer.Context,
        opportunity_id: OpportunityId,
        status_reason: Annotated[str, typer.Option(help="canceled or out_sold.")] = "canceled",
        competitor: Annotated[
            uuid.UUID | None, typer.Option(help="The competitor's id (required for out_sold).")
        ] = None,
        actual_revenue: Revenue = None,
        close_date: CloseDate = None,
        description: Description = None,
    ) -> None:
        """Close an open opportunity as lost: canceled, or out-sold to a competitor."""
        data = _given(
            status_reason=status_reason,
            competitor_id=competitor and str(competitor),
            actual_revenue=actual_revenue,
            close_date=close_date,
            description=description,
        )
        opportunity = run(
            ctx,
            lambda uow, actor: closing.lose_opportunity(
                opportunity_id, parse(LoseOpportunity, data), uow=uow, actor=actor
            ),
        )
        console.print(f"Lost opportunity [bold]{opportunity.id}[/] ({opportunity.status_reason.value})")

    @group.command("reopen")
    def reopen(ctx: typer.Context, opportunity_id: OpportunityId) -> None:
        """Reopen a won or lost opportunity (its close records become canceled)."""
        opportunity = run(ctx, lambda uow, actor: closing.reopen_opportunity(opportunity_id, uow=uow, actor=actor))
        console.print(f"Reopened opportunity [bold]{opportunity.id}[/]")

    @group.command("closes")
    def closes(ctx: typer.Context, opportunity_id: OpportunityId, as_json: JsonFlag = False) -> None:
        """The opportunity's close records, newest first."""

        def history(uow: UnitOfWork, actor: Actor) -> list[OpportunityCloseOut]:
            return [
                OpportunityCloseOut.model_validate(record)
                for record in closing.opportunity_closes(opportunity_id, uow=uow, actor=actor)
            ]

        records = read(ctx, history)

        def render() -> None:
            grid = Table(title=f"Closes of {opportunity_id}")
            for column in ("closed on", "state", "outcome", "status reason", "actual revenue", "competitor"):
                grid.add_column(column)
            for record in records:
                grid.add_row(
                    text(record.close_date),
                    record.state.value,
                    record.opportunity_state.value,
                    record.status_reason.value,
                    text(record.actual_revenue),
                    text(record.competitor_id),
                )
            console.print(grid)

        emit(as_json, records, render)


def competitor_commands() -> typer.Typer:
    """`leadflow competitors list|show|create|change|delete`."""
    group = typer.Typer(help="List, show, create, change and delete competitors.", no_args_is_help=True)

    @group.command("list")
    def list_(
        ctx: typer.Context,
        search: Annotated[str | None, typer.Option(help="Part of the name.")] = None,
        limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
        cursor: Annotated[str | None, typer.Option(help="The cursor printed under the previous page.")] = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Competitors by name."""
        page = read(
            ctx,
            lambda uow, actor: competitors.list_competitors(
                uow=uow, actor=actor, limit=limit, cursor=cursor, search=search
            ),
        )
        items = [CompetitorOut.model_validate(item) for item in page.items]

        def render() -> None:
            grid = Table(title="Competitors")
            for column in ("id", "name", "website", "reported revenue"):
                grid.add_column(column)
            for item in items:
                grid.add_row(str(item.id), item.name, text(item.website), text(item.reported_revenue))
            console.print(grid)
            if page.next_cursor:
                console.print(f"Next page: --cursor {page.next_cursor}")

        emit(as_json, page_of(items, page.next_cursor), render)

    @group.command("show")
    def show(
        ctx: typer.Context, competitor_id: Annotated[uuid.UUID, typer.Argument()], as_json: JsonFlag = False
    ) -> None:
        """Every field of one competitor."""
        item = CompetitorOut.model_validate(
            read(ctx, lambda uow, actor: competitors.read_competitor(competitor_id, uow=uow, actor=actor))
        )

        def render() -> None:
            grid = Table(title=f"Competitor {item.id}", show_header=False)
            for name, value in item.model_dump().items():
                grid.add_row(name, text(value))
            console.print(grid)

        emit(as_json, item, render)

    @group.command("create")
    def create(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument()],
        website: Annotated[str | None, typer.Option()] = None,
        strengths: Annotated[str | None, typer.Option()] = None,
        weaknesses: Annotated[str | None, typer.Option()] = None,
        reported_revenue: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Add a competitor."""
        data = _given(
            name=name, website=website, strengths=strengths, weaknesses=weaknesses, reported_revenue=reported_revenue
        )
        competitor = run(
            ctx, lambda uow, actor: competitors.create_competitor(parse(CompetitorCreate, data), uow=uow, actor=actor)
        )
        console.print(f"Created competitor [bold]{competitor.id}[/] ({competitor.name})")

    @group.command("change")
    def change(
        ctx: typer.Context,
        competitor_id: Annotated[uuid.UUID, typer.Argument()],
        name: Annotated[str | None, typer.Option()] = None,
        website: Annotated[str | None, typer.Option()] = None,
        strengths: Annotated[str | None, typer.Option()] = None,
        weaknesses: Annotated[str | None, typer.Option()] = None,
        reported_revenue: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Change the given fields of a competitor."""
        data = _given(
            name=name, website=website, strengths=strengths, weaknesses=weaknesses, reported_revenue=reported_revenue
        )
        run(
            ctx,
            lambda uow, actor: competitors.update_competitor(
                competitor_id, parse(CompetitorUpdate, data), uow=uow, actor=actor
            ),
        )
        console.print(f"Changed competitor {competitor_id}")

    @group.command("delete")
    def delete(ctx: typer.Context, competitor_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
        """Delete a competitor no opportunity names."""
        run(ctx, lambda uow, actor: competitors.delete_competitor(competitor_id, uow=uow, actor=actor))
        console.print(f"Deleted competitor {competitor_id}")

    return group


def register(app: typer.Typer) -> None:
    """Add the competitors' command group to the root command."""
    app.add_typer(competitor_commands(), name="competitors")
