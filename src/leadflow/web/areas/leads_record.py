"""The lead page of the Leads area: the lead form with the business process bar (§7), Save,
Disqualify (optionally canceling the lead's open activities), Reactivate, Delete, and the timeline (notes,
attachments and activities, with its quick-create dialogs: ``leadflow.web.timeline``). Qualify, which starts on
this page, has its own module (``leads_qualify``).

Every route translates the form into the service call the REST API makes and renders the result;
a refusal is shown on the page in the user's language with the user's input kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import get_attachment
from leadflow.core.errors import DuplicateDetected, LeadflowError, NotFound, ValidationFailed
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.http.downloads import attachment_response
from leadflow.http.errors import status_for
from leadflow.leads import service
from leadflow.leads.models import Lead
from leadflow.leads.schemas import DisqualifyRequest, LeadCreate, LeadUpdate
from leadflow.process.flow import lead_process, process_state
from leadflow.scoring import service as scoring
from leadflow.security.access import can
from leadflow.security.privileges import Privilege
from leadflow.web import custom_values
from leadflow.web.areas import leads_lookups as lookups
from leadflow.web.areas.leads import NOTICES, error_page, lead_id_from, lead_page_route, qualify_plan
from leadflow.web.areas.leads_forms import (
    DISQUALIFY_OPTIONS,
    MAX_OPPORTUNITIES,
    QUALIFY_STEPS,
    SECTIONS,
    STATE_BADGES,
    changed_values,
    choice_label,
    choice_options,
    field_problems_error,
    lead_form_values,
    opportunity_row_keys,
    posted_lead_values,
    read_lead_values,
)
from leadflow.web.areas.records_page import can_create
from leadflow.web.areas.sharing import share_panel
from leadflow.web.forms import FormDep, field_errors, id_in_path, match_rows, parse_uuid, parse_version, refusal_text
from leadflow.web.labels import CHOICE_LABELS, DECISION_LABELS, STAGE_LABELS
from leadflow.web.notes import EMPTY_NOTE, PostedNote, file_size, max_attachment_bytes, note_refusal_text, save_note
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render
from leadflow.web.scores import score_widget
from leadflow.web.timeline import NOTICES as TIMELINE_NOTICES
from leadflow.web.timeline import QuickForm, TimelineQuery, build_timeline, open_activity_count, register_routes

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------------------------------------- the lead form


def linked_answers(lead: Lead, posted: dict[str, str] | None = None) -> dict[str, str]:
    """The qualify choices' starting point: the existing account and contact the form or the lead names."""
    answers: dict[str, str] = {}
    for record, stored in (("account", lead.parent_account_id), ("contact", lead.parent_contact_id)):
        field_name = f"parent_{record}_id"
        linked = (posted or {}).get(field_name, str(stored) if stored else "").strip()
        if linked:
            answers[f"{record}_choice"] = "existing"
            answers[f"existing_{record}_id"] = linked
    return answers


@dataclass
class RecordPage:
    """What the lead form shows besides the lead: refusal, notices, matches, the user's input."""

    values: dict[str, Any] | None = None
    error: LeadflowError | None = None
    notice: str | None = None
    save_matches: list[dict[str, Any]] = field(default_factory=list)
    blocked: dict[str, Any] | None = None
    note_input: PostedNote = EMPTY_NOTE
    note_error: str | None = None
    status_code: int = 200
    timeline_query: TimelineQuery = field(default_factory=TimelineQuery)
    quick: QuickForm | None = None


def _options(uow: UnitOfWork, session: WebSession, values: dict[str, str]) -> dict[str, list[lookups.Option]]:
    session_db = uow.session
    return {
        "currency": lookups.currency_options(session_db),
        "campaign": lookups.campaign_options(session_db, parse_uuid(values.get("campaign_id"))),
        "owner": lookups.owner_options(session_db, parse_uuid(values.get("owner_user_id"))),
        "account": lookups.account_options(
            session_db, session.actor, current=parse_uuid(values.get("parent_account_id"))
        ),
        "contact": lookups.contact_options(
            session_db, session.actor, current=parse_uuid(values.get("parent_contact_id"))
        ),
    }


def _form_page(
    request: Request,
    session: WebSession,
    uow: UnitOfWork,
    *,
    values: dict[str, Any],
    error: LeadflowError | None,
    **context: Any,
) -> Response:
    """The lead form, new or stored, with what every lead form shows."""
    custom_inputs = custom_values.form_inputs(
        uow.session, "leads", actor=session.actor, language=session.language, values=values
    )
    return render(
        request,
        session,
        "leads/form.html",
        values=values,
        errors=field_errors(session.language, error) if isinstance(error, ValidationFailed) else {},
        error=refusal_text(session.language, error) if error else None,
        sections=SECTIONS,
        qualify_steps=QUALIFY_STEPS,
        choice_options=choice_options,
        decision_labels=DECISION_LABELS,
        stage_labels=STAGE_LABELS,
        options=_options(uow, session, values),
        plan=qualify_plan(uow),
        answer_errors={},
        disqualify_options=DISQUALIFY_OPTIONS,
        max_opportunities=MAX_OPPORTUNITIES,
        opportunity_row_keys=opportunity_row_keys,
        custom_inputs=custom_inputs,
        **context,
    )


def record_page(request: Request, session: WebSession, lead_id: uuid.UUID, page: RecordPage) -> Response:
    """The lead form, process bar, command bar and timeline of one lead."""
    language = session.language
    actor = session.actor
    limit = max_attachment_bytes(request)
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            lead = service.get_lead(lead_id, uow=uow, actor=actor)
            process = lead_process(lead_id, uow=uow, actor=actor)
            lead_timeline = build_timeline(
                request,
                uow,
                session,
                RegardingTable.LEADS,
                lead,
                query=page.timeline_query,
                editable=lead.is_open,
                quick=page.quick,
            )
        except LeadflowError as refused:
            return error_page(request, session, refused)
        stored: dict[str, Any] = {
            **lead_form_values(
                lead, currency_code=lookups.currency_code(uow.session, lead.currency_id), language=language
            ),
            **custom_values.form_values(uow.session, "leads", lead.custom, language=language, zone=session.time_zone),
        }
        can_write = can(uow.session, actor, Privilege.WRITE, "leads", lead)
        lead_score = score_widget(language, scoring.lead_score(lead_id, uow=uow, actor=actor))
        names = lookups.owner_names(
            uow.session,
            user_ids=[lead.owner_user_id],
            team_ids=[lead.owner_team_id],
        )
        return _form_page(
            request,
            session,
            uow,
            values={**stored, **(page.values or {})},
            error=page.error,
            status_code=page.status_code,
            lead=lead,
            is_new=False,
            form_action=f"/leads/{lead.id}",
            read_only=not lead.is_open or not can_write,
            can_write=can_write,
            can_delete=can(uow.session, actor, Privilege.DELETE, "leads", lead),
            share=share_panel(uow, session, "leads", lead),
            can_note=lead.is_open and can(uow.session, actor, Privilege.APPEND_TO, "leads", lead),
            process=process,
            step_done={step.name: step.complete for step in process.stages[0].steps},
            owner_name=names.get(lead.owner_user_id or lead.owner_team_id, ""),  # type: ignore[arg-type]
            state_label=CHOICE_LABELS[type(lead.state)][lead.state.value],
            status_label=choice_label(lead.status_reason),
            state_badge=STATE_BADGES[lead.state],
            timeline=lead_timeline,
            open_activities=open_activity_count(uow, session.actor, RegardingTable.LEADS, lead.id)
            if lead.is_open
            else 0,
            max_attachment=file_size(language, limit),
            max_attachment_bytes=limit,
            notice=page.notice,
            save_matches=page.save_matches,
            blocked=page.blocked,
            note_input=page.note_input,
            note_error=page.note_error,
            answers=linked_answers(lead, page.values),
            score=lead_score,
        )


def _new_page(
    request: Request,
    session: WebSession,
    *,
    values: dict[str, Any] | None = None,
    error: LeadflowError | None = None,
    save_matches: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Response:
    # Read-only for whom may not create leads, as the new account, contact and opportunity forms are.
    creates = can_create(session, "leads")
    with database_of(request).unit_of_work(read_only=True) as uow:
        defaults = custom_values.form_values(
            uow.session, "leads", None, language=session.language, zone=session.time_zone
        )
        values = {"owner_user_id": str(session.actor.user_id), **defaults, **(values or {})}
        return _form_page(
            request,
            session,
            uow,
            values=values,
            error=error,
            status_code=status_code,
            lead=None,
            is_new=True,
            form_action="/leads/new",
            read_only=not creates,
            can_write=creates,
            can_delete=False,
            can_note=False,
            process=process_state(None, None),
            step_done={},
            owner_name=session.full_name,
            notice=None,
            save_matches=save_matches or [],
            blocked=None,
            timeline=None,
            open_activities=0,
            note_input=EMPTY_NOTE,
            note_error=None,
            answers={},
            max_attachment="",
            max_attachment_bytes=0,
        )


def _save_matches(language: str, error: LeadflowError) -> list[dict[str, Any]]:
    """The matches of a save refused as a duplicate (§9), to show them with "Save anyway"."""
    if isinstance(error, DuplicateDetected) and error.code == "duplicate_detected" and isinstance(error.details, dict):
        return match_rows(language, error.details.get("matches", []))
    return []


def _schema_error(model: type[Any], data: dict[str, Any]) -> ValidationFailed | None:
    try:
        parse(model, data)
    except ValidationFailed as refused:
        return refused
    return None


def save_changes(
    uow: UnitOfWork,
    session: WebSession,
    lead: Lead,
    posted: dict[str, str],
    *,
    expected_version: int | None,
    suppress: bool,
    posted_custom: dict[str, Any] | None = None,
) -> None:
    """Save the fields the form changed (a partial update, checked against the version the form was loaded at)."""
    language = session.language
    values, problems = read_lead_values(posted, language=language)
    stored = lead_form_values(
        lead, currency_code=lookups.currency_code(uow.session, lead.currency_id), language=language
    )
    current, _ = read_lead_values({name: stored[name] for name in posted}, language=language)
    changed = changed_values(values, current)
    custom = custom_values.service_custom(
        uow.session,
        "leads",
        posted_custom or {},
        language=language,
        zone=session.time_zone,
        initial=custom_values.form_values(uow.session, "leads", lead.custom, language=language, zone=session.time_zone),
    )
    if custom:
        changed["custom"] = custom
    if problems:
        raise field_problems_error(problems, _schema_error(LeadUpdate, changed))
    if not changed:
        return
    service.update_lead(
        lead.id,
        parse(LeadUpdate, changed),
        uow=uow,
        actor=session.actor,
        expected_version=expected_version,
        suppress_duplicates=suppress,
    )


@router.get("/leads/new")
def new_lead(request: Request, session: WebSessionDep) -> Response:
    """An empty lead form."""
    return _new_page(request, session)


@router.post("/leads/new")
def create_lead(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Create the lead; a duplicate found on save is shown with "Save anyway"."""
    language = session.language
    posted: dict[str, Any] = dict(posted_lead_values(form))
    values, problems = read_lead_values(posted, language=language)
    data = {name: value for name, value in values.items() if value is not None}
    try:
        with database_of(request).unit_of_work() as uow:
            posted_custom = custom_values.posted_values(uow.session, "leads", form)
            posted.update(posted_custom)
            custom = custom_values.service_custom(
                uow.session, "leads", posted_custom, language=language, zone=session.time_zone
            )
            if custom:
                data["custom"] = custom
            if problems:
                raise field_problems_error(problems, _schema_error(LeadCreate, data))
            lead = service.create_lead(
                parse(LeadCreate, data),
                uow=uow,
                actor=session.actor,
                suppress_duplicates=bool(form.get("suppress_duplicates")),
            )
            uow.commit()
            lead_id = lead.id
    except LeadflowError as refused:
        return _new_page(
            request,
            session,
            values=posted,
            error=refused,
            save_matches=_save_matches(language, refused),
            status_code=status_for(refused),
        )
    return redirect(f"/leads/{lead_id}?done=saved")


@router.get("/leads/{lead_id}")
@lead_page_route
def lead_page(request: Request, session: WebSessionDep, lead_id: str, done: str = "") -> Response:
    """The lead form: fields, the Qualify stage of the process bar, commands and timeline."""
    return record_page(
        request,
        session,
        lead_id_from(lead_id),
        RecordPage(
            notice=NOTICES.get(done) or TIMELINE_NOTICES.get(done),
            timeline_query=TimelineQuery.of(request.query_params),
        ),
    )


@router.post("/leads/{lead_id}")
@lead_page_route
def save_lead(request: Request, session: WebSessionDep, form: FormDep, lead_id: str) -> Response:
    """Save the changed fields of an open lead (refused when someone else changed it since the form was loaded)."""
    posted = posted_lead_values(form)
    shown: dict[str, Any] = dict(posted)
    record_id = lead_id_from(lead_id)
    try:
        with database_of(request).unit_of_work() as uow:
            lead = service.get_lead(record_id, uow=uow, actor=session.actor)
            posted_custom = custom_values.posted_values(uow.session, "leads", form)
            shown.update(posted_custom)
            save_changes(
                uow,
                session,
                lead,
                posted,
                expected_version=parse_version(form.get("row_version")),
                suppress=bool(form.get("suppress_duplicates")),
                posted_custom=posted_custom,
            )
            uow.commit()
    except LeadflowError as refused:
        return record_page(
            request,
            session,
            record_id,
            RecordPage(
                values=shown,
                error=refused,
                save_matches=_save_matches(session.language, refused),
                status_code=status_for(refused),
            ),
        )
    return redirect(f"/leads/{record_id}?done=saved")


# ---------------------------------------------------------------------------------------------- disqualify, reactivate, delete


def _simple_lead_page(
    request: Request,
    session: WebSession,
    lead_id: str,
    template: str,
    *,
    error: LeadflowError | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    try:
        record_id = lead_id_from(lead_id)
        with database_of(request).unit_of_work(read_only=True) as uow:
            lead = service.get_lead(record_id, uow=uow, actor=session.actor)
    except LeadflowError as refused:
        return error_page(request, session, refused)
    return render(
        request,
        session,
        template,
        status_code=status_code,
        lead=lead,
        error=refusal_text(session.language, error) if error else None,
        **context,
    )


@router.get("/leads/{lead_id}/disqualify")
def disqualify_page(request: Request, session: WebSessionDep, lead_id: str) -> Response:
    """The Disqualify dialog on a page of its own (without JavaScript)."""
    return _simple_lead_page(
        request,
        session,
        lead_id,
        "leads/disqualify.html",
        disqualify_options=DISQUALIFY_OPTIONS,
        chosen="",
        open_activities=_open_activities(request, session, lead_id),
        cancel_chosen=False,
    )


def _open_activities(request: Request, session: WebSession, lead_id: str) -> int:
    """How many of the lead's open activities the reader could cancel (the disqualify form offers it)."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        return open_activity_count(uow, session.actor, RegardingTable.LEADS, lead_id_from(lead_id))


def _lead_command(
    request: Request,
    session: WebSession,
    lead_id: str,
    command: Callable[[uuid.UUID, UnitOfWork], object],
    *,
    done: str,
) -> Response:
    """Run a command on the lead and land on its page; a refusal shows the lead form with the reason."""
    record_id = lead_id_from(lead_id)
    try:
        committed(request, lambda uow: command(record_id, uow))
    except NotFound:
        raise
    except LeadflowError as refused:
        return record_page(request, session, record_id, RecordPage(error=refused, status_code=status_for(refused)))
    return redirect(f"/leads/{record_id}?done={done}")


@router.post("/leads/{lead_id}/disqualify")
@lead_page_route
def disqualify(request: Request, session: WebSessionDep, form: FormDep, lead_id: str) -> Response:
    """Close the lead as disqualified with the chosen status reason (§3), canceling its open activities
    when the form asks to."""
    chosen = str(form.get("status_reason") or "")
    cancel_open = form.get("cancel_open_activities") == "1"
    try:
        reason = parse(DisqualifyRequest, {"status_reason": chosen}).status_reason
    except ValidationFailed as refused:
        return _simple_lead_page(
            request,
            session,
            lead_id,
            "leads/disqualify.html",
            error=refused,
            status_code=422,
            disqualify_options=DISQUALIFY_OPTIONS,
            chosen=chosen,
            open_activities=_open_activities(request, session, lead_id),
            cancel_chosen=cancel_open,
        )
    return _lead_command(
        request,
        session,
        lead_id,
        lambda record_id, uow: service.disqualify_lead(
            record_id, reason, uow=uow, actor=session.actor, cancel_open_activities=cancel_open
        ),
        done="disqualified",
    )


@router.post("/leads/{lead_id}/reactivate")
@lead_page_route
def reactivate(request: Request, session: WebSessionDep, form: FormDep, lead_id: str) -> Response:
    """Reopen a qualified or disqualified lead as New, with its data, notes and attachments (§4)."""
    return _lead_command(
        request,
        session,
        lead_id,
        lambda record_id, uow: service.reactivate_lead(record_id, uow=uow, actor=session.actor),
        done="reactivated",
    )


@router.get("/leads/{lead_id}/delete")
def delete_page(request: Request, session: WebSessionDep, lead_id: str) -> Response:
    """Confirm deleting the lead (its notes and attachments go with it)."""
    return _simple_lead_page(request, session, lead_id, "leads/delete.html")


@router.post("/leads/{lead_id}/delete")
@lead_page_route
def delete(request: Request, session: WebSessionDep, form: FormDep, lead_id: str) -> Response:
    """Delete the lead with its notes and attachments."""
    record_id = lead_id_from(lead_id)
    version = parse_version(form.get("row_version"))
    try:
        committed(
            request, lambda uow: service.delete_lead(record_id, uow=uow, actor=session.actor, expected_version=version)
        )
    except NotFound:
        raise
    except LeadflowError as refused:
        return _simple_lead_page(
            request, session, lead_id, "leads/delete.html", error=refused, status_code=status_for(refused)
        )
    return redirect("/leads?done=deleted")


# ---------------------------------------------------------------------------------------------- notes and attachments


@router.post("/leads/{lead_id}/notes")
@lead_page_route
def add_lead_note(request: Request, session: WebSessionDep, form: FormDep, lead_id: str) -> Response:
    """Add a note, with an optional attachment, to the lead's timeline."""
    record_id = lead_id_from(lead_id)
    note = PostedNote.of(form)
    try:
        save_note(request, session, RegardingTable.LEADS, record_id, note, form.get("file"))
    except NotFound:
        raise
    except LeadflowError as refused:
        return record_page(
            request,
            session,
            record_id,
            RecordPage(
                note_input=note,
                note_error=note_refusal_text(request, session.language, refused),
                status_code=status_for(refused),
            ),
        )
    return redirect(f"/leads/{record_id}?done=note#timeline")


@router.get("/leads/{lead_id}/notes/{note_id}/attachment")
@lead_page_route
def download(request: Request, session: WebSessionDep, lead_id: str, note_id: str) -> Response:
    """A note's attachment, always as a download (never shown inline)."""
    record_id = lead_id_from(lead_id)
    attachment_id = id_in_path(note_id, record="note")
    with database_of(request).unit_of_work(read_only=True) as uow:
        note, content = get_attachment(RegardingTable.LEADS, record_id, attachment_id, uow=uow, actor=session.actor)
    return attachment_response(note, content, {"Cache-Control": "no-store"})


# ---------------------------------------------------------------------------------------------- activities


def _show_lead(
    request: Request,
    session: WebSession,
    record_id: uuid.UUID,
    *,
    status_code: int,
    quick: QuickForm | None = None,
    error: LeadflowError | None = None,
) -> Response:
    return record_page(request, session, record_id, RecordPage(error=error, quick=quick, status_code=status_code))


register_routes(
    router,
    table=RegardingTable.LEADS,
    record_id_of=lead_id_from,
    show_page=_show_lead,
    read_record=lambda uow, session, record_id: service.get_lead(record_id, uow=uow, actor=session.actor),
    guard=lead_page_route,
    done_parameter="done",
)
