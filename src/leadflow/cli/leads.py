"""`leadflow leads ...`: create, list, qualify (one or a whole view), disqualify and reactivate leads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import func, select

from leadflow.cli.common import JsonFlag, console, emit, errors, fail, open_as_actor, page_of, run, text
from leadflow.core.db import utcnow
from leadflow.core.errors import LeadflowError
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.leads import service
from leadflow.leads import bulk
from leadflow.leads.models import Lead
from leadflow.leads.schemas import DisqualifyRequest, LeadCreate, LeadOut, QualifyOptions
from leadflow.leads.views import LeadQuery, LeadView, list_leads, view_condition
from leadflow.security.actor import Actor

leads_app = typer.Typer(help="Create, list, qualify, disqualify and reactivate leads.", no_args_is_help=True)


@leads_app.command("list")
def leads_list(
    ctx: typer.Context,
    view: Annotated[LeadView, typer.Option(help="Which view (§10).")] = LeadView.MY_OPEN,
    q: Annotated[str | None, typer.Option(help="Search topic, name, company and email.")] = None,
    sort: Annotated[str, typer.Option(help="Sort column, '-' prefix for descending.")] = "-created_at",
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[str | None, typer.Option(help="Cursor printed under the previous page.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List leads in a view."""
    database, actor = open_as_actor(ctx)
    try:
        with database.unit_of_work(read_only=True) as uow:
            page = list_leads(LeadQuery(view=view, q=q, sort=sort, limit=limit, cursor=cursor), uow=uow, actor=actor)
            document = page_of((LeadOut.model_validate(lead) for lead in page.items), page.next_cursor)
    except LeadflowError as error:
        fail(error)

    def render() -> None:
        table = Table(title=f"Leads: {view.value}")
        table.add_column("id", no_wrap=True, min_width=36)  # whole, so that it can be copied into a command
        for column in ("topic", "name", "company", "status", "created"):
            table.add_column(column)
        for lead in page.items:
            table.add_row(
                str(lead.id), lead.topic, lead.full_name, text(lead.company_name),
                f"{lead.state.value}/{lead.status_reason.value}", lead.created_at.strftime("%Y-%m-%d"),
            )
        console.print(table)
        if page.next_cursor:
            console.print(f"Next page: --cursor {page.next_cursor}")

    emit(as_json, document, render)


@leads_app.command("create")
def leads_create(
    ctx: typer.Context,
    topic: Annotated[str, typer.Option(help="What the lead is about.")],
    last_name: Annotated[str, typer.Option()],
    first_name: Annotated[str | None, typer.Option()] = None,
    company_name: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    business_phone: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a lead."""
    data = {"topic": topic, "last_name": last_name, "first_name": first_name,
            "company_name": company_name, "email": email, "business_phone": business_phone}
    given = {key: value for key, value in data.items() if value is not None}
    lead = run(ctx, lambda uow, actor: service.create_lead(parse(LeadCreate, given), uow=uow, actor=actor))
    console.print(f"Created lead [bold]{lead.id}[/] ({lead.full_name}: {lead.topic})")


def _stream_ids(database: Database, actor: Actor, view: LeadView) -> Iterator[uuid.UUID]:
    """Every lead id of a view, page by page, so that memory stays flat."""
    cursor = None
    while True:
        with database.unit_of_work(read_only=True) as uow:
            page = list_leads(LeadQuery(view=view, sort="created_at", limit=500, cursor=cursor), uow=uow, actor=actor)
            ids = [lead.id for lead in page.items]
        yield from ids
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _count(database: Database, actor: Actor, view: LeadView) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Lead).where(view_condition(view, actor=actor, now=utcnow()))) or 0


@leads_app.command("qualify")
def leads_qualify(
    ctx: typer.Context,
    lead_id: Annotated[uuid.UUID | None, typer.Argument(help="The lead to qualify.")] = None,
    view: Annotated[LeadView | None, typer.Option(help="Qualify the leads of a view instead (with --all).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Confirm qualifying every lead of --view.")] = False,
    create_account: Annotated[bool | None, typer.Option("--create-account/--no-create-account")] = None,
    create_contact: Annotated[bool | None, typer.Option("--create-contact/--no-create-contact")] = None,
    create_opportunity: Annotated[bool | None, typer.Option("--create-opportunity/--no-create-opportunity")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO code of the opportunity currency.")] = None,
    customer: Annotated[uuid.UUID | None, typer.Option(help="Account or contact id of the opportunity's customer.")] = None,
    campaign: Annotated[uuid.UUID | None, typer.Option(help="Source campaign id.")] = None,
    existing_account: Annotated[uuid.UUID | None, typer.Option(help="Link this account instead of creating one.")] = None,
    existing_contact: Annotated[uuid.UUID | None, typer.Option(help="Link this contact instead of creating one.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Leads per transaction in bulk mode.")] = 500,
) -> None:
    """Qualify one lead, or every lead of a view with --view VIEW --all."""
    options_data = {
        "create_account": create_account, "create_contact": create_contact,
        "create_opportunity": create_opportunity, "opportunity_currency": currency,
        "opportunity_customer_id": customer, "source_campaign_id": campaign,
        "existing_account_id": existing_account, "existing_contact_id": existing_contact,
    }
    database, actor = open_as_actor(ctx)
    try:
        options = parse(QualifyOptions, {k: v for k, v in options_data.items() if v is not None})
        if lead_id is not None:
            with database.unit_of_work() as uow:
                result = service.qualify_lead(lead_id, options, uow=uow, actor=actor)
                uow.commit()
            console.print(f"Qualified [bold]{result.lead.full_name}[/] ({result.lead.topic})")
            console.print(f"  account: {text(result.account_id) or '-'}  contact: {text(result.contact_id) or '-'}  "
                          f"opportunities: {', '.join(map(str, result.opportunity_ids)) or '-'}")
            return
        if view is None or not all_:
            errors.print("Name a lead id, or a view with --view VIEW --all to qualify every lead in it.")
            raise typer.Exit(code=2)
        _qualify_view(database, actor, view, options, batch_size)
    except LeadflowError as error:
        fail(error)


def _qualify_view(database: Database, actor: Actor, view: LeadView, options: QualifyOptions, batch_size: int) -> None:
    total = _count(database, actor, view)
    qualified, failures = 0, {}
    # Keyset paging stays correct while qualified leads leave the view: the cursor is a position.
    ids = _stream_ids(database, actor, view)
    with Progress(TextColumn("Qualifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("qualify", total=total)
        for outcome in bulk.qualify_leads(ids, options, database=database, actor=actor, batch_size=batch_size):
            if outcome.ok:
                qualified += 1
            else:
                failures.setdefault(outcome.error.code, []).append(outcome)
            progress.advance(task)
    summary = Table(title="Qualification summary")
    summary.add_column("result")
    summary.add_column("leads", justify="right")
    summary.add_column("example")
    summary.add_row("qualified", str(qualified), "")
    for code, outcomes in failures.items():
        summary.add_row(code, str(len(outcomes)), outcomes[0].error.message)
    console.print(summary)
    if failures:
        raise typer.Exit(code=1)


@leads_app.command("disqualify")
def leads_disqualify(
    ctx: typer.Context,
    lead_id: Annotated[uuid.UUID, typer.Argument()],
    reason: Annotated[str, typer.Option(help="lost, cannot_contact, no_longer_interested or canceled.")],
) -> None:
    """Disqualify an open lead with a status reason (§3)."""
    def action(uow: Any, actor: Actor) -> Any:
        request = parse(DisqualifyRequest, {"status_reason": reason})
        return service.disqualify_lead(lead_id, request.status_reason, uow=uow, actor=actor)

    lead = run(ctx, action)
    console.print(f"Disqualified [bold]{lead.full_name}[/] ({lead.status_reason.value})")


@leads_app.command("reactivate")
def leads_reactivate(ctx: typer.Context, lead_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """Reopen a qualified or disqualified lead (§4)."""
    lead = run(ctx, lambda uow, actor: service.reactivate_lead(lead_id, uow=uow, actor=actor))
    console.print(f"Reactivated [bold]{lead.full_name}[/]: open/new")
