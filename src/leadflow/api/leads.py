"""Lead endpoints: CRUD, views, qualify (one and many), disqualify, reactivate, process."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import BaseModel, Field

from leadflow.api.deps import (
    CurrentActor,
    DatabaseDep,
    ExpectedVersion,
    QueueDep,
    ReadUowDep,
    SettingsDep,
    SuppressDuplicates,
    UowDep,
)
from leadflow.api.errors import answer_language, error_body
from leadflow.api.jobs import JobOut, accepted
from leadflow.api.process import ProcessOut, process_out
from leadflow.api.transfer import FILE_RESPONSES, export_of_leads
from leadflow.core.errors import ValidationFailed, field_refusal
from leadflow.fields import saved_views
from leadflow.fields.filters import parse_condition
from leadflow.http.language import DEFAULT_LANGUAGE
from leadflow.leads import bulk, qualification, service, views
from leadflow.leads.bulk import BulkResult, OnDuplicate, QualifyOutcome
from leadflow.leads.models import Lead, LeadSource, LeadState, LeadStatusReason, Rating
from leadflow.leads.schemas import (
    CreatedRecords,
    DisqualifyRequest,
    LeadCreate,
    LeadOut,
    LeadUpdate,
    QualifyManyRequest,
    QualifyOptions,
    QualifyResponse,
)
from leadflow.process.flow import lead_process
from leadflow.tasks import qualify as qualify_task
from leadflow.tasks import submit

router = APIRouter(prefix="/leads", tags=["leads"])


class LeadPageOut(BaseModel):
    items: list[LeadOut]
    next_cursor: str | None


class QualifyManyBody(QualifyManyRequest):
    """Qualify several leads with the same options, and say what a duplicate does to the run."""

    on_duplicate: OnDuplicate = Field(
        default=OnDuplicate.SKIP,
        description="A lead whose qualification meets a duplicate is skipped (stays open, reported with its "
        "matches; the others go on), stops the run (the leads after it are not attempted), or is qualified "
        "anyway with duplicate detection suppressed (ignore), which needs what suppress_duplicate_detection needs.",
    )


class QualifyManyLine(BaseModel):
    lead_id: uuid.UUID
    status: str = Field(description='"qualified", or "failed" when the lead was not qualified, whatever the reason.')
    result: BulkResult = Field(description="qualified, skipped or stopped (at a duplicate: see error), or failed.")
    created: CreatedRecords | None = None
    error: dict[str, Any] | None = None


class QualifyManySummary(BaseModel):
    qualified: int = 0
    skipped: int = 0
    stopped: int = 0
    failed: int = 0
    not_attempted: int = 0


class QualifyManyOut(BaseModel):
    on_duplicate: OnDuplicate
    results: list[QualifyManyLine]
    not_attempted: list[uuid.UUID] = Field(description="The leads after the one that stopped the run, not attempted.")
    summary: QualifyManySummary
    qualified: int
    failed: int = Field(description="Leads not qualified, whatever the reason (summary tells the reasons apart).")


def qualify_many_line(outcome: QualifyOutcome, language: str = DEFAULT_LANGUAGE) -> QualifyManyLine:
    """One lead's line of a bulk qualification, as the API answers it (the command line's --json too),
    its refusal in ``language``."""
    if outcome.result is not None:
        return QualifyManyLine(
            lead_id=outcome.lead_id, status="qualified", result=outcome.status, created=_created(outcome.result)
        )
    assert outcome.error is not None
    error = error_body(outcome.error, language)["error"]
    assert isinstance(error, dict)
    return QualifyManyLine(lead_id=outcome.lead_id, status="failed", result=outcome.status, error=error)


def qualify_many_out(
    lines: list[QualifyManyLine], *, on_duplicate: OnDuplicate, not_attempted: list[uuid.UUID]
) -> QualifyManyOut:
    """The answer of a bulk qualification: a line per lead attempted, the leads not attempted, the counts."""
    counts = Counter(line.result for line in lines)
    summary = QualifyManySummary(
        **{result.value: counts[result] for result in BulkResult}, not_attempted=len(not_attempted)
    )
    return QualifyManyOut(
        on_duplicate=on_duplicate,
        results=lines,
        not_attempted=not_attempted,
        summary=summary,
        qualified=summary.qualified,
        failed=len(lines) - summary.qualified,
    )


def _lead_response(lead: Lead, response: Response) -> LeadOut:
    response.headers["ETag"] = lead.etag
    return LeadOut.model_validate(lead)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_lead(
    data: LeadCreate, uow: UowDep, actor: CurrentActor, response: Response, suppress: SuppressDuplicates = False
) -> LeadOut:
    """Create a lead; 409 `duplicate_detected` with the matches when a published rule finds duplicates."""
    lead = service.create_lead(data, uow=uow, actor=actor, suppress_duplicates=suppress)
    uow.commit()
    response.headers["Location"] = f"/api/v1/leads/{lead.id}"
    return _lead_response(lead, response)


@router.get("", responses=FILE_RESPONSES)
def list_leads(
    uow: ReadUowDep,
    actor: CurrentActor,
    http: Request,
    database: DatabaseDep,
    view: views.LeadView = views.LeadView.ALL,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str | None, Query(description="a field, `custom.<name>` too; `-` for descending")] = None,
    view_id: Annotated[uuid.UUID | None, Query(description="a saved view: its filters, sort and base view")] = None,
    limit: Annotated[int, Query(ge=1, le=views.MAX_PAGE)] = 50,
    cursor: str | None = None,
    state: LeadState | None = None,
    status_reason: LeadStatusReason | None = None,
    rating: Rating | None = None,
    lead_source: LeadSource | None = None,
    owner_user_id: uuid.UUID | None = None,
    grade: Annotated[Literal["A", "B", "C", "D"] | None, Query(description="the leads of one score grade")] = None,
    filter: Annotated[
        list[str],
        Query(
            max_length=50,
            description="`field:op:value`, repeatable, all must hold: any lead field or `custom.<name>`; "
            "op is eq, ne, lt, le, gt, ge, contains, in (values separated by `|`), blank or not_blank.",
        ),
    ] = [],  # noqa: B006 - FastAPI reads the default; it is never mutated
    format: Annotated[
        Literal["json", "csv", "xlsx"], Query(description="csv or xlsx: the whole view as a file")
    ] = "json",
) -> LeadPageOut:
    """List a view of leads (§10), searched with `q`, sorted with `sort` (`-` for descending), keyset-paged with `cursor`.

    With `format=csv` or `format=xlsx` the whole view (every page, in this order) is a download instead."""
    conditions = tuple(parse_condition(text) for text in filter)
    if view_id is not None:
        saved = saved_views.get_view(view_id, uow=uow, actor=actor)
        if saved.table_name != "leads":
            raise field_refusal("view_id", "wrong_table", f"This view lists {saved.table_name}, not leads.")
        view = views.LeadView(saved.system_key) if saved.system_key else views.LeadView.ALL
        conditions = saved_views.conditions_of(saved) + conditions
        sort = sort or saved.sort
    query = views.LeadQuery(
        view=view,
        q=q,
        sort=sort or "-created_at",
        limit=limit,
        cursor=cursor,
        state=state,
        status_reason=status_reason,
        rating=rating,
        lead_source=lead_source,
        owner_user_id=owner_user_id,
        grade=grade,
        conditions=conditions,
    )
    if format != "json":
        views.list_leads(replace(query, limit=1), uow=uow, actor=actor)  # a wrong sort or cursor is refused now
        return export_of_leads(http, actor, database, replace(query, cursor=None), format)  # type: ignore[return-value]
    page = views.list_leads(query, uow=uow, actor=actor)
    return LeadPageOut(items=[LeadOut.model_validate(lead) for lead in page.items], next_cursor=page.next_cursor)


@router.post("/qualify", responses={202: {"model": JobOut, "description": "Started as a job (Prefer: respond-async)."}})
def qualify_many(
    request: QualifyManyBody,
    database: DatabaseDep,
    queue: QueueDep,
    settings: SettingsDep,
    actor: CurrentActor,
    http: Request,
    response: Response,
    prefer: Annotated[str | None, Header(max_length=200)] = None,
) -> QualifyManyOut | JobOut:
    """Qualify several leads with the same options; each lead succeeds or fails on its own (§2.6).

    `on_duplicate` says what a lead whose qualification meets a duplicate does: `skip` (the default),
    `stop` or `ignore`. Each lead has a line in `results`; with `stop`, the leads after the one that
    stopped the run are listed in `not_attempted`.

    With the header `Prefer: respond-async` the qualification runs as a job (up to `max_job_leads`
    leads): the answer is 202 with the job, whose items (`GET /jobs/{id}/items`) are the lines.
    """
    options = QualifyOptions.model_validate(
        request.model_dump(exclude={"lead_ids", "on_duplicate"}, exclude_unset=True)
    )
    if prefer is not None and "respond-async" in prefer.lower():
        if len(request.lead_ids) > settings.max_job_leads:
            raise ValidationFailed(
                f"At most {settings.max_job_leads} leads can be qualified in one job; split the list.",
                code="too_many_leads",
            )
        job = qualify_task.start(
            request.lead_ids, options, on_duplicate=request.on_duplicate, database=database, actor=actor
        )
        response.headers["Preference-Applied"] = "respond-async"
        return accepted(submit(job.id, queue=queue, database=database), response)
    if len(request.lead_ids) > settings.max_bulk_leads:
        raise ValidationFailed(
            f"At most {settings.max_bulk_leads} leads can be qualified in one request; "
            "split the list, send `Prefer: respond-async` to qualify them as a job, "
            "or use `leadflow leads qualify --view`.",
            code="too_many_leads",
        )
    outcomes = bulk.qualify_leads(
        request.lead_ids, options, database=database, actor=actor, on_duplicate=request.on_duplicate
    )
    language = answer_language(http)
    lines = [qualify_many_line(outcome, language) for outcome in outcomes]
    return qualify_many_out(lines, on_duplicate=request.on_duplicate, not_attempted=request.lead_ids[len(lines) :])


@router.get("/{lead_id}")
def get_lead(lead_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> LeadOut:
    """Read one lead; the ETag header carries its row version."""
    return _lead_response(service.get_lead(lead_id, uow=uow, actor=actor), response)


@router.patch("/{lead_id}")
def update_lead(
    lead_id: uuid.UUID,
    changes: LeadUpdate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
    suppress: SuppressDuplicates = False,
) -> LeadOut:
    """Change some fields of an open lead; send `If-Match` with its ETag to refuse overwriting a newer version."""
    lead = service.update_lead(
        lead_id, changes, uow=uow, actor=actor, expected_version=version, suppress_duplicates=suppress
    )
    uow.commit()
    return _lead_response(lead, response)


@router.delete("/{lead_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_lead(lead_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
    """Delete a lead with its notes and attachments."""
    service.delete_lead(lead_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _created(result: qualification.QualifyResult) -> CreatedRecords:
    return CreatedRecords(
        account_id=result.account_id, contact_id=result.contact_id, opportunity_ids=result.opportunity_ids
    )


@router.post("/{lead_id}/qualify")
def qualify_lead(
    lead_id: uuid.UUID, uow: UowDep, actor: CurrentActor, response: Response, options: QualifyOptions | None = None
) -> QualifyResponse:
    """Qualify an open lead into account, contact and opportunity as the settings and options say (§2)."""
    result = service.qualify_lead(lead_id, options or QualifyOptions(), uow=uow, actor=actor)
    uow.commit()
    return QualifyResponse(lead=_lead_response(result.lead, response), created=_created(result))


class DisqualifyBody(DisqualifyRequest):
    """Disqualify with a reason; the lead's open activities stay open unless they are to be canceled."""

    cancel_open_activities: bool = Field(
        default=False, description="Cancel the lead's open activities that you may change."
    )


@router.post("/{lead_id}/disqualify")
def disqualify_lead(
    lead_id: uuid.UUID, request: DisqualifyBody, uow: UowDep, actor: CurrentActor, response: Response
) -> LeadOut:
    """Disqualify an open lead with a reason: lost, cannot_contact, no_longer_interested or canceled (§3);
    with `cancel_open_activities` its open activities are canceled too."""
    lead = service.disqualify_lead(
        lead_id,
        request.status_reason,
        uow=uow,
        actor=actor,
        cancel_open_activities=request.cancel_open_activities,
    )
    uow.commit()
    return _lead_response(lead, response)


@router.post("/{lead_id}/reactivate")
def reactivate_lead(lead_id: uuid.UUID, uow: UowDep, actor: CurrentActor, response: Response) -> LeadOut:
    """Reopen a qualified or disqualified lead as New (§4)."""
    lead = service.reactivate_lead(lead_id, uow=uow, actor=actor)
    uow.commit()
    return _lead_response(lead, response)


@router.get("/{lead_id}/process")
def get_lead_process(lead_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor) -> ProcessOut:
    """The Lead to Opportunity Sales Process as seen from this lead (§7)."""
    return process_out(lead_process(lead_id, uow=uow, actor=actor))
