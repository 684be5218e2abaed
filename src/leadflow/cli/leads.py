"""`leadflow leads ...`: create, list, qualify (one or a whole view), disqualify and reactivate leads."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import func, select

from leadflow.cli.common import JsonFlag, console, day, emit, errors, fail, open_as_actor, page_of, run, text, zone_name
from leadflow.cli.jobs import WaitFlag, print_ending, start_and_follow
from leadflow.core.db import utcnow
from leadflow.core.errors import LeadflowError
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.fields.filters import parse_condition
from leadflow.leads import bulk, service
from leadflow.leads.models import Lead
from leadflow.leads.qualification import QualifyResult
from leadflow.leads.schemas import (
    CreatedRecords,
    DisqualifyRequest,
    LeadCreate,
    LeadOut,
    QualifyOptions,
    QualifyResponse,
)
from leadflow.leads.views import LeadQuery, LeadView, list_leads, view_condition
from leadflow.organisation.service import time_zone_of
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege
from leadflow.tasks import qualify as qualify_task

if TYPE_CHECKING:
    from leadflow.api.leads import QualifyManySummary

leads_app = typer.Typer(help="Create, list, qualify, disqualify and reactivate leads.", no_args_is_help=True)


@leads_app.command("list")
def leads_list(
    ctx: typer.Context,
    view: Annotated[LeadView, typer.Option(help="Which view (§10).")] = LeadView.MY_OPEN,
    q: Annotated[str | None, typer.Option(help="Search topic, name, company and email.")] = None,
    sort: Annotated[str, typer.Option(help="Sort column, '-' prefix for descending.")] = "-created_at",
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[str | None, typer.Option(help="Cursor printed under the previous page.")] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option("--filter", help="field:op:value (e.g. custom.region:eq:north); repeat for more."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List leads in a view."""
    database, actor = open_as_actor(ctx)
    conditions = tuple(parse_condition(item) for item in filter_ or [])
    try:
        with database.unit_of_work(read_only=True) as uow:
            query = LeadQuery(view=view, q=q, sort=sort, limit=limit, cursor=cursor, conditions=conditions)
            page = list_leads(query, uow=uow, actor=actor)
            document = page_of((LeadOut.model_validate(lead) for lead in page.items), page.next_cursor)
            zone = time_zone_of(actor, session=uow.session)
    except LeadflowError as error:
        fail(error)

    def render() -> None:
        table = Table(title=f"Leads: {view.value}")
        table.add_column("id", no_wrap=True, min_width=36)  # whole, so that it can be copied into a command
        for column in ("topic", "name", "company", "status", f"created ({zone_name(zone)})"):
            table.add_column(column)
        for lead in page.items:
            table.add_row(
                str(lead.id),
                lead.topic,
                lead.full_name,
                text(lead.company_name),
                f"{lead.state.value}/{lead.status_reason.value}",
                day(lead.created_at, zone),
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
    custom: Annotated[
        list[str] | None, typer.Option("--custom", help="A custom field's value as name=value; repeat for more.")
    ] = None,
) -> None:
    """Create a lead."""
    data = {
        "topic": topic,
        "last_name": last_name,
        "first_name": first_name,
        "company_name": company_name,
        "email": email,
        "business_phone": business_phone,
    }
    given: dict[str, Any] = {key: value for key, value in data.items() if value is not None}
    if custom:
        given["custom"] = dict(item.partition("=")[::2] for item in custom)
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
        return (
            uow.session.scalar(
                select(func.count()).select_from(Lead).where(view_condition(view, actor=actor, now=utcnow()))
            )
            or 0
        )


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
    customer: Annotated[
        uuid.UUID | None, typer.Option(help="Account or contact id of the opportunity's customer.")
    ] = None,
    campaign: Annotated[uuid.UUID | None, typer.Option(help="Source campaign id.")] = None,
    existing_account: Annotated[
        uuid.UUID | None, typer.Option(help="Link this account instead of creating one.")
    ] = None,
    existing_contact: Annotated[
        uuid.UUID | None, typer.Option(help="Link this contact instead of creating one.")
    ] = None,
    existing_opportunity: Annotated[
        uuid.UUID | None,
        typer.Option(
            help="Qualify into this open opportunity of the lead's account or contact instead of creating one "
            "(the lead's notes and attachments are copied to it)."
        ),
    ] = None,
    on_duplicate: Annotated[
        bulk.OnDuplicate,
        typer.Option(
            help="A lead whose qualification meets a duplicate: skip it (it stays open, listed with its matches), "
            "stop the run there (the leads before it stay qualified), or ignore duplicates and qualify it anyway "
            "(duplicate detection suppressed).",
        ),
    ] = bulk.OnDuplicate.SKIP,
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Leads per transaction in bulk mode.")] = 500,
    job: Annotated[
        bool,
        typer.Option(
            "--job", help="With --view: qualify as a job that a worker runs (it survives this command and a crash)."
        ),
    ] = False,
    wait: WaitFlag = True,
    as_json: JsonFlag = False,
) -> None:
    """Qualify one lead, or every lead of a view with --view VIEW --all (a line per lead and a summary;
    exit code 1 when any lead was not qualified); --job runs the view's qualification as a job."""
    options_data = {
        "create_account": create_account,
        "create_contact": create_contact,
        "create_opportunity": create_opportunity,
        "opportunity_currency": currency,
        "opportunity_customer_id": customer,
        "source_campaign_id": campaign,
        "existing_account_id": existing_account,
        "existing_contact_id": existing_contact,
        "existing_opportunity_id": existing_opportunity,
    }
    database, actor = open_as_actor(ctx)
    try:
        options = parse(QualifyOptions, {k: v for k, v in options_data.items() if v is not None})
        if lead_id is not None:
            with database.unit_of_work() as uow:
                result = service.qualify_lead(lead_id, bulk.options_for(options, on_duplicate), uow=uow, actor=actor)
                uow.commit()
            _print_qualified(result, as_json=as_json)
            return
        if view is None or not all_:
            errors.print("Name a lead id, or a view with --view VIEW --all to qualify every lead in it.")
            raise typer.Exit(code=2)
        if job:
            _qualify_view_as_job(ctx, database, actor, view, options, on_duplicate=on_duplicate, wait=wait)
            return
        _qualify_view(database, actor, view, options, batch_size=batch_size, on_duplicate=on_duplicate, as_json=as_json)
    except LeadflowError as error:
        fail(error)


def _print_qualified(result: QualifyResult, *, as_json: bool) -> None:
    """One qualified lead: the REST answer's fields with --json, else two lines."""
    created = CreatedRecords(
        account_id=result.account_id, contact_id=result.contact_id, opportunity_ids=result.opportunity_ids
    )

    def render() -> None:
        console.print(f"Qualified [bold]{result.lead.full_name}[/] ({result.lead.topic})")
        console.print(
            f"  account: {text(result.account_id) or '-'}  contact: {text(result.contact_id) or '-'}  "
            f"opportunities: {', '.join(map(str, result.opportunity_ids)) or '-'}"
        )
        if result.into_opportunity_id is not None:
            console.print(f"  qualified into the existing opportunity {result.into_opportunity_id}")

    emit(as_json, QualifyResponse(lead=LeadOut.model_validate(result.lead), created=created), render)


class _Attempts:
    """The ids handed to the bulk qualification, remembered until their outcome comes back, so that
    the leads a stopped run did not attempt can be named."""

    def __init__(self, ids: Iterator[uuid.UUID]) -> None:
        self._ids = ids
        self._waiting: deque[uuid.UUID] = deque()

    def __iter__(self) -> Iterator[uuid.UUID]:
        for lead_id in self._ids:
            self._waiting.append(lead_id)
            yield lead_id

    def answered(self) -> None:
        self._waiting.popleft()

    def not_attempted(self) -> list[uuid.UUID]:
        """The ids read but not attempted, and those never read."""
        return [*self._waiting, *self._ids]


_RECORD_WORDS = {"leads": "lead", "accounts": "account", "contacts": "contact", "opportunities": "opportunity"}
_RESULT_STYLES = {"qualified": "green", "skipped": "yellow", "stopped": "red", "failed": "red"}


def _reason(outcome: bulk.QualifyOutcome) -> str:
    """The duplicate a lead matched, or why it was refused; what a qualified lead created."""
    if outcome.result is not None:
        result = outcome.result
        made = [
            name for name, record_id in (("account", result.account_id), ("contact", result.contact_id)) if record_id
        ]
        if result.opportunity_ids:
            count = len(result.opportunity_ids)
            made.append(f"{count} opportunit{'y' if count == 1 else 'ies'}")
        return "created: " + (", ".join(made) or "nothing")
    assert outcome.error is not None
    if outcome.matches:
        return "duplicate of " + "; ".join(
            f"{_RECORD_WORDS.get(str(match.get('table')), 'record')} {match.get('name') or ''} ({match.get('id')})"
            for match in outcome.matches
        )
    return f"{outcome.error.message} ({outcome.error.code})"


def _qualify_view(
    database: Database,
    actor: Actor,
    view: LeadView,
    options: QualifyOptions,
    *,
    batch_size: int,
    on_duplicate: bulk.OnDuplicate,
    as_json: bool,
) -> None:
    from leadflow.api.leads import (  # the API's fields; imported here to keep the CLI quick to start
        qualify_many_line,
        qualify_many_out,
    )

    total = _count(database, actor, view)
    lines = []
    reasons: dict[uuid.UUID, str] = {}
    # Keyset paging stays correct while qualified leads leave the view: the cursor is a position.
    attempts = _Attempts(_stream_ids(database, actor, view))
    outcomes = bulk.qualify_leads(
        attempts, options, database=database, actor=actor, batch_size=batch_size, on_duplicate=on_duplicate
    )
    columns = (TextColumn("Qualifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=as_json) as progress:
        task = progress.add_task("qualify", total=total)
        for outcome in outcomes:
            attempts.answered()
            lines.append(qualify_many_line(outcome))
            reasons[outcome.lead_id] = _reason(outcome)
            progress.advance(task)
    document = qualify_many_out(lines, on_duplicate=on_duplicate, not_attempted=attempts.not_attempted())

    def render() -> None:
        names = _lead_names(database, actor, [line.lead_id for line in document.results])
        table = Table(title=f"Qualify: {view.value} (on duplicate: {on_duplicate.value})")
        table.add_column("lead", no_wrap=True, min_width=36)
        table.add_column("name")
        table.add_column("result")
        table.add_column("duplicate matched or reason")
        for line in document.results:
            style = _RESULT_STYLES[line.result.value]
            table.add_row(
                str(line.lead_id),
                names.get(line.lead_id, ""),
                f"[{style}]{line.result.value}[/]",
                reasons[line.lead_id],
            )
        console.print(table)
        console.print(
            _summary_line(document.summary, total=len(document.results) + len(document.not_attempted)), highlight=False
        )
        if document.summary.skipped or document.summary.stopped:
            console.print("Merge the duplicates, or run again with --on-duplicate ignore to qualify them anyway.")

    emit(as_json, document, render)
    if document.summary.qualified != len(document.results) + len(document.not_attempted):
        raise typer.Exit(code=1)


def _qualify_view_as_job(
    ctx: typer.Context,
    database: Database,
    actor: Actor,
    view: LeadView,
    options: QualifyOptions,
    *,
    on_duplicate: bulk.OnDuplicate,
    wait: bool,
) -> None:
    """The view's leads, as they are now, qualified by a job; followed to its end unless --no-wait."""
    lead_ids = list(_stream_ids(database, actor, view))
    if not lead_ids:
        console.print(f"No lead in the view {view.value}: nothing to qualify.")
        return
    started = qualify_task.start(lead_ids, options, on_duplicate=on_duplicate, database=database, actor=actor)
    ended = start_and_follow(ctx, database, actor, started, wait=wait)
    if not wait:
        return
    print_ending(ended)
    counts = dict((ended.summary or {}).get("items", {}))
    console.print(", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "no lead attempted")
    if counts.get("qualified", 0) != len(lead_ids):
        console.print(f"The lines of the leads not qualified: `leadflow jobs show {ended.id}`.")
        raise typer.Exit(code=1)


def _summary_line(summary: QualifyManySummary, *, total: int) -> str:
    """One line that counts each result."""
    counted = (
        ("qualified", summary.qualified),
        ("skipped", summary.skipped),
        ("stopped", summary.stopped),
        ("failed", summary.failed),
        ("not attempted", summary.not_attempted),
    )
    return f"{total} leads: " + ", ".join(f"{count} {label}" for label, count in counted) + "."


def _lead_names(database: Database, actor: Actor, lead_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The full names of the leads the actor may read, by id."""
    names: dict[uuid.UUID, str] = {}
    with database.unit_of_work(read_only=True) as uow:
        for start in range(0, len(lead_ids), 500):
            chunk = lead_ids[start : start + 500]
            readable = access_condition(actor, Privilege.READ, "leads", Lead)
            rows = uow.session.execute(select(Lead.id, Lead.full_name).where(Lead.id.in_(chunk), readable))
            names.update({lead_id: name for lead_id, name in rows})
    return names


@leads_app.command("disqualify")
def leads_disqualify(
    ctx: typer.Context,
    lead_id: Annotated[uuid.UUID, typer.Argument()],
    reason: Annotated[str, typer.Option(help="lost, cannot_contact, no_longer_interested or canceled.")],
    cancel_activities: Annotated[
        bool,
        typer.Option("--cancel-activities", help="Also cancel the lead's open activities that you may change."),
    ] = False,
) -> None:
    """Disqualify an open lead with a status reason (§3)."""

    def action(uow: Any, actor: Actor) -> Any:
        request = parse(DisqualifyRequest, {"status_reason": reason})
        return service.disqualify_lead(
            lead_id, request.status_reason, uow=uow, actor=actor, cancel_open_activities=cancel_activities
        )

    lead = run(ctx, action)
    canceled = "; its open activities you may change are canceled" if cancel_activities else ""
    console.print(f"Disqualified [bold]{lead.full_name}[/] ({lead.status_reason.value}){canceled}")


@leads_app.command("reactivate")
def leads_reactivate(ctx: typer.Context, lead_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """Reopen a qualified or disqualified lead (§4)."""
    lead = run(ctx, lambda uow, actor: service.reactivate_lead(lead_id, uow=uow, actor=actor))
    console.print(f"Reactivated [bold]{lead.full_name}[/]: open/new")
