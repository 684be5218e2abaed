"""The lead page of the Leads area: the lead form with the business process bar (§7), Save,
Qualify as the organisation's settings say (§6) with the duplicate warnings of §5, Disqualify,
Reactivate, Delete, and the timeline's notes and attachments.

Every route translates the form into the service call the REST API makes and renders the result;
a refusal is shown on the page in the user's language with the user's input kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from babel.units import format_unit
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from leadflow.http.downloads import attachment_response
from leadflow.http.uploads import read_upload
from leadflow.activities.models import RegardingTable
from leadflow.activities.service import (
    AttachmentUpload,
    add_note,
    get_attachment,
    timeline,
)
from leadflow.http.errors import status_for
from leadflow.core.errors import (
    DuplicateDetected,
    LeadflowError,
    NotFound,
    ValidationFailed,
)
from leadflow.leads import service
from leadflow.leads.models import Lead
from leadflow.leads.schemas import (
    DisqualifyRequest,
    LeadCreate,
    LeadUpdate,
    QualifyOptions,
)
from leadflow.organisation.models import (
    DuplicateExperience,
)
from leadflow.organisation.service import get_settings
from leadflow.process.flow import lead_process, process_state
from leadflow.core.schemas import parse
from leadflow.security.access import can
from leadflow.security.privileges import Privilege
from leadflow.core.uow import UnitOfWork
from leadflow.web.areas import leads_lookups as lookups
from leadflow.web.areas.choice_labels import STAGE_LABELS
from leadflow.web.areas.leads import (
    NOTICES,
    FormDep,
    error_page,
    given_answers,
    lead_id_from,
    match_rows,
    qualify_plan,
)
from leadflow.web.areas.leads_forms import (
    CHOICE_KEYS,
    CHOICE_LABELS,
    DECISION_LABELS,
    DISQUALIFY_OPTIONS,
    FIELD_NAMES,
    MAX_OPPORTUNITIES,
    QUALIFY_KEYS,
    QUALIFY_STEPS,
    RESOLUTION_KEYS,
    SECTIONS,
    STATE_BADGES,
    carried_fields,
    changed_values,
    choice_label,
    choice_options,
    field_errors,
    field_problems_error,
    lead_form_values,
    opportunity_row_keys,
    parse_uuid,
    posted_lead_values,
    qualify_options_input,
    read_lead_values,
    refusal_text,
)
from leadflow.web.i18n import FORMAT_LOCALES, gettext
from leadflow.web.pages import (
    WebSession,
    WebSessionDep,
    database_of,
    redirect,
    render,
    verify_csrf,
)

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------------------------------------- helpers


def _row_version(form: Any) -> int | None:
    raw = str(form.get("row_version") or "")
    return int(raw) if raw.isdigit() else None


def _file_size(language: str, size: int | None) -> str:
    """A file's size in the user's locale (512 B, 1,5 kB, 12 MB)."""
    if size is None:
        return ""
    locale = FORMAT_LOCALES.get(language, "en_GB")
    if size < 1024:
        return format_unit(size, "digital-byte", length="short", locale=locale)
    unit, value = ("digital-kilobyte", size / 1024) if size < 1024 * 1024 else ("digital-megabyte", size / (1024 * 1024))
    return format_unit(round(value, 1), unit, length="short", format="0.#", locale=locale)


def _max_attachment_bytes(request: Request) -> int:
    return request.app.state.settings.max_attachment_bytes


def _linked_answers(lead: Lead, posted: dict[str, str] | None = None) -> dict[str, str]:
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

    values: dict[str, str] | None = None
    error: LeadflowError | None = None
    notice: str | None = None
    save_matches: list[dict[str, Any]] = field(default_factory=list)
    blocked: dict[str, Any] | None = None
    note_input: dict[str, str] = field(default_factory=dict)
    note_error: str | None = None
    status_code: int = 200


def _options(uow: UnitOfWork, session: WebSession, values: dict[str, str]) -> dict[str, list[lookups.Option]]:
    session_db = uow.session
    return {
        "currency": lookups.currency_options(session_db),
        "campaign": lookups.campaign_options(session_db, parse_uuid(values.get("campaign_id"))),
        "owner": lookups.owner_options(session_db, parse_uuid(values.get("owner_user_id"))),
        "account": lookups.account_options(session_db, session.actor, current=parse_uuid(values.get("parent_account_id"))),
        "contact": lookups.contact_options(session_db, session.actor, current=parse_uuid(values.get("parent_contact_id"))),
    }


def _form_context(session: WebSession, values: dict[str, str], error: LeadflowError | None) -> dict[str, Any]:
    return {
        "values": values,
        "errors": field_errors(session.language, error) if isinstance(error, ValidationFailed) else {},
        "sections": SECTIONS,
        "qualify_steps": QUALIFY_STEPS,
        "choice_options": choice_options,
        "decision_labels": DECISION_LABELS,
        "stage_labels": STAGE_LABELS,
    }


def _record_page(request: Request, session: WebSession, lead_id: uuid.UUID, page: RecordPage) -> Response:
    """The lead form, process bar, command bar and timeline of one lead."""
    language = session.language
    actor = session.actor
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            lead = service.get_lead(lead_id, uow=uow, actor=actor)
            process = lead_process(lead_id, uow=uow, actor=actor)
            notes = list(timeline(RegardingTable.LEADS, lead_id, uow=uow, actor=actor))
        except LeadflowError as refused:
            return error_page(request, session, refused)
        stored = lead_form_values(lead, currency_code=lookups.currency_code(uow.session, lead.currency_id), language=language)
        values = {**stored, **(page.values or {})}
        can_write = can(uow.session, actor, Privilege.WRITE, "leads", lead)
        plan = qualify_plan(uow)
        names = lookups.owner_names(
            uow.session, user_ids=[lead.owner_user_id, *(note.created_by_id for note in notes)], team_ids=[lead.owner_team_id]
        )
        context = {
            **_form_context(session, values, page.error),
            "lead": lead,
            "is_new": False,
            "form_action": f"/leads/{lead.id}",
            "read_only": not lead.is_open or not can_write,
            "can_write": can_write,
            "can_delete": can(uow.session, actor, Privilege.DELETE, "leads", lead),
            "can_note": lead.is_open and can(uow.session, actor, Privilege.APPEND_TO, "leads", lead),
            "process": process,
            "step_done": {step.name: step.complete for step in process.stages[0].steps},
            "options": _options(uow, session, values),
            "plan": plan,
            "owner_name": names.get(lead.owner_user_id or lead.owner_team_id, ""),  # type: ignore[arg-type]
            "state_label": CHOICE_LABELS[type(lead.state)][lead.state.value],
            "status_label": choice_label(lead.status_reason),
            "state_badge": STATE_BADGES[lead.state],
            "notes": [
                {
                    "note": note,
                    "author": names.get(note.created_by_id, "") if note.created_by_id else "",
                    "size": _file_size(language, note.file_size),
                }
                for note in notes
            ],
            "max_attachment": _file_size(language, _max_attachment_bytes(request)),
            "max_attachment_bytes": _max_attachment_bytes(request),
        }
    return render(
        request, session, "leads/form.html", status_code=page.status_code,
        **context,
        error=refusal_text(language, page.error) if page.error else None,
        notice=page.notice,
        save_matches=page.save_matches,
        blocked=page.blocked,
        note_input=page.note_input,
        note_error=page.note_error,
        answers=_linked_answers(lead, page.values),
        answer_errors={},
        disqualify_options=DISQUALIFY_OPTIONS,
        max_opportunities=MAX_OPPORTUNITIES,
        opportunity_row_keys=opportunity_row_keys,
    )


def _new_page(request: Request, session: WebSession, *, values: dict[str, str] | None = None,
              error: LeadflowError | None = None, save_matches: list[dict[str, Any]] | None = None,
              status_code: int = 200) -> Response:
    language = session.language
    values = {"owner_user_id": str(session.actor.user_id), **(values or {})}
    with database_of(request).unit_of_work(read_only=True) as uow:
        context = {
            **_form_context(session, values, error),
            "options": _options(uow, session, values),
            "plan": qualify_plan(uow),
        }
    return render(
        request, session, "leads/form.html", status_code=status_code,
        **context,
        lead=None, is_new=True, form_action="/leads/new", read_only=False, can_write=True, can_delete=False, can_note=False,
        process=process_state(None, None), step_done={}, owner_name=session.full_name,
        error=refusal_text(language, error) if error else None, notice=None,
        save_matches=save_matches or [], blocked=None, notes=[], note_input={}, note_error=None,
        answers={}, answer_errors={}, disqualify_options=DISQUALIFY_OPTIONS,
        max_opportunities=MAX_OPPORTUNITIES, opportunity_row_keys=opportunity_row_keys,
        max_attachment="", max_attachment_bytes=0,
    )


def _save_matches(language: str, error: LeadflowError) -> list[dict[str, Any]]:
    """The matches of a save refused as a duplicate (§9), to show them with "Save anyway"."""
    if isinstance(error, DuplicateDetected) and error.code == "duplicate_detected" and isinstance(error.details, dict):
        return match_rows(language, error.details.get("matches", []))
    return []


def _schema_error(model: type, data: dict[str, Any]) -> ValidationFailed | None:
    try:
        parse(model, data)
    except ValidationFailed as refused:
        return refused
    return None


def _save_changes(
    uow: UnitOfWork, session: WebSession, lead: Lead, posted: dict[str, str], *, expected_version: int | None, suppress: bool
) -> None:
    """Save the fields the form changed (a partial update, checked against the version the form was loaded at)."""
    language = session.language
    values, problems = read_lead_values(posted, language=language)
    stored = lead_form_values(lead, currency_code=lookups.currency_code(uow.session, lead.currency_id), language=language)
    current, _ = read_lead_values({name: stored[name] for name in posted}, language=language)
    changed = changed_values(values, current)
    if problems:
        raise field_problems_error(problems, _schema_error(LeadUpdate, changed))
    if not changed:
        return
    service.update_lead(
        lead.id, parse(LeadUpdate, changed), uow=uow, actor=session.actor,
        expected_version=expected_version, suppress_duplicates=suppress,
    )


@router.get("/leads/new")
def new_lead(request: Request, session: WebSessionDep) -> Response:
    """An empty lead form."""
    return _new_page(request, session)


@router.post("/leads/new")
def create_lead(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Create the lead; a duplicate found on save is shown with "Save anyway"."""
    verify_csrf(session, form.get("csrf_token"))
    language = session.language
    posted = posted_lead_values(form)
    values, problems = read_lead_values(posted, language=language)
    data = {name: value for name, value in values.items() if value is not None}
    try:
        if problems:
            raise field_problems_error(problems, _schema_error(LeadCreate, data))
        with database_of(request).unit_of_work() as uow:
            lead = service.create_lead(
                parse(LeadCreate, data), uow=uow, actor=session.actor, suppress_duplicates=bool(form.get("suppress_duplicates"))
            )
            uow.commit()
            lead_id = lead.id
    except LeadflowError as refused:
        return _new_page(request, session, values=posted, error=refused, save_matches=_save_matches(language, refused),
                         status_code=status_for(refused))
    return redirect(f"/leads/{lead_id}?done=saved")


@router.get("/leads/lookup/{kind}")
def lookup(request: Request, session: WebSessionDep, kind: str, q: str = "") -> Response:
    """The user's readable active accounts or contacts whose name contains ``q`` (the lookups' search)."""
    finders = {"accounts": lookups.account_options, "contacts": lookups.contact_options}
    finder = finders.get(kind)
    if finder is None:
        return JSONResponse({"error": {"code": "not_found", "message": "No such lookup."}}, status_code=404)
    with database_of(request).unit_of_work(read_only=True) as uow:
        options = finder(uow.session, session.actor, q=q[:100])
    response = JSONResponse([{"value": option.value, "label": option.label} for option in options])
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/leads/{lead_id}")
def lead_page(request: Request, session: WebSessionDep, lead_id: str, done: str = "") -> Response:
    """The lead form: fields, the Qualify stage of the process bar, commands and timeline."""
    try:
        record_id = lead_id_from(lead_id)
    except LeadflowError as refused:
        return error_page(request, session, refused)
    return _record_page(request, session, record_id, RecordPage(notice=NOTICES.get(done)))


@router.post("/leads/{lead_id}")
def save_lead(request: Request, session: WebSessionDep, form: FormDep, lead_id: str) -> Response:
    """Save the changed fields of an open lead (refused when someone else changed it since the form was loaded)."""
    verify_csrf(session, form.get("csrf_token"))
    try:
        record_id = lead_id_from(lead_id)
    except LeadflowError as refused:
        return error_page(request, session, refused)
    posted = posted_lead_values(form)
    try:
        with database_of(request).unit_of_work() as uow:
            lead = service.get_lead(record_id, uow=uow, actor=session.actor)
            _save_changes(uow, session, lead, posted, expected_version=_row_version(form),
                          suppress=bool(form.get("suppress_duplicates")))
            uow.commit()
    except LeadflowError as refused:
        return _record_page(request, session, record_id, RecordPage(
            values=posted, error=refused, save_matches=_save_matches(session.language, refused), status_code=status_for(refused),
        ))
    return redirect(f"/leads/{record_id}?done=saved")


# ---------------------------------------------------------------------------------------------- qualify


def _landing(lead_id: uuid.UUID, result: service.QualifyResult) -> str:
    """Where the seller lands after qualifying: the new opportunity, else the new account or contact (§2)."""
    if result.opportunity_ids:
        return f"/opportunities/{result.opportunity_ids[0]}?qualified=1"
    if result.account_id:
        return f"/accounts/{result.account_id}?qualified=1"
    if result.contact_id:
        return f"/contacts/{result.contact_id}?qualified=1"
    return f"/leads/{lead_id}?done=qualified"


def _choices_page(
    request: Request, session: WebSession, lead_id: uuid.UUID, form: Any, *,
    error: LeadflowError | None = None, status_code: int = 200,
) -> Response:
    """The "Qualify lead" page: which records to create, as the settings let the seller choose (§6)."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            lead = service.get_lead(lead_id, uow=uow, actor=session.actor)
        except LeadflowError as refused:
            return error_page(request, session, refused)
        answers = given_answers(form)
        if not any(key in answers for key in CHOICE_KEYS):
            answers = {**_linked_answers(lead, posted_lead_values(form) if form is not None else None), **answers}
        context = {
            "lead": lead,
            "plan": qualify_plan(uow),
            "options": {
                "currency": lookups.currency_options(uow.session),
                "account": lookups.account_options(uow.session, session.actor, current=parse_uuid(answers.get("existing_account_id"))),
                "contact": lookups.contact_options(uow.session, session.actor, current=parse_uuid(answers.get("existing_contact_id"))),
            },
        }
    return render(
        request, session, "leads/qualify.html", status_code=status_code, **context,
        answers=answers, answer_errors=field_errors(language, error),
        error=refusal_text(language, error) if error else None,
        carried=carried_fields(form, drop=QUALIFY_KEYS) if form is not None else [],
        max_opportunities=MAX_OPPORTUNITIES, opportunity_row_keys=opportunity_row_keys,
    )


def _duplicates_page(request: Request, session: WebSession, lead_id: uuid.UUID, form: Any, error: DuplicateDetected) -> Response:
    """The duplicate warning of §5, classic or enhanced as the organisation's setting says."""
    language = session.language
    details = error.details if isinstance(error.details, dict) else {}
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            lead = service.get_lead(lead_id, uow=uow, actor=session.actor)
        except LeadflowError as refused:
            return error_page(request, session, refused)
        experience = get_settings(uow.session).duplicate_experience
    return render(
        request, session, "leads/duplicates.html", status_code=409,
        lead=lead,
        classic=experience is DuplicateExperience.CLASSIC,
        message=refusal_text(language, error),
        matching_accounts=match_rows(language, details.get("matching_accounts", [])),
        matching_contacts=match_rows(language, details.get("matching_contacts", [])),
        carried=carried_fields(form, drop=frozenset(RESOLUTION_KEYS)),
    )


def _blocked(language: str, error: DuplicateDetected, lead_id: uuid.UUID) -> dict[str, Any]:
    """A blocking duplicate (lead or opportunity, §5) with the documented ways out."""
    details = error.details if isinstance(error.details, dict) else {}
    matches = match_rows(language, details.get("matches", []))
    rules = {match["rule_id"]: match["rule_name"] for match in matches if match.get("rule_id")}
    return {
        "code": error.code,
        "message": refusal_text(language, error),
        "matches": matches,
        "ways_out": [refusal_text(language, LeadflowError(text)) for text in details.get("ways_out", [])],
        "rules": [{"url": f"/admin/duplicate-rules/{rule_id}", "name": name} for rule_id, name in rules.items()],
        "merge_urls": {
            match["id"]: "/admin/merge?" + urlencode({"table": "leads", "master": match["id"], "subordinate": str(lead_id)})
            for match in matches
            if match.get("table") == "leads"
        },
    }


def _qualify_refused(request: Request, session: WebSession, lead_id: uuid.UUID, form: Any, error: LeadflowError) -> Response:
    """Show why qualifying did not happen: ask for the missing choices, warn about duplicates, or explain the refusal."""
    language = session.language
    posted = posted_lead_values(form)
    if isinstance(error, ValidationFailed) and error.code == "qualification_choice_required":
        return _choices_page(request, session, lead_id, form)
    if isinstance(error, DuplicateDetected) and error.code == "duplicate_detected" and isinstance(error.details, dict) \
            and ("matching_accounts" in error.details or "matching_contacts" in error.details):
        return _duplicates_page(request, session, lead_id, form, error)
    if isinstance(error, DuplicateDetected) and error.code in ("lead_duplicate", "opportunity_duplicate"):
        return _record_page(request, session, lead_id, RecordPage(
            values=posted or None, blocked=_blocked(language, error, lead_id), status_code=409,
        ))
    answered = any(key in form for key in (*CHOICE_KEYS, "opportunity_currency"))
    bad_fields = {str(item.get("field", "")).split(".")[0] for item in ((error.details or {}).get("fields", []) if isinstance(error.details, dict) else [])}
    if isinstance(error, ValidationFailed) and answered and not (bad_fields & FIELD_NAMES):
        return _choices_page(request, session, lead_id, form, error=error, status_code=status_for(error))
    return _record_page(request, session, lead_id, RecordPage(
        values=posted or None, error=error, status_code=status_for(error),
    ))


@router.get("/leads/{lead_id}/qualify")
def qualify_page(request: Request, session: WebSessionDep, lead_id: str) -> Response:
    """The "Qualify lead" choices on a page of their own (the dialog's fallback without JavaScript)."""
    try:
        record_id = lead_id_from(lead_id)
    except LeadflowError as refused:
        return error_page(request, session, refused)
    return _choices_page(request, session, record_id, None)


@router.post("/leads/{lead_id}/qualify")
def qualify(request: Request, session: WebSessionDep, form: FormDep, lead_id: str) -> Response:
    """Save the form's changes and qualify the lead in one step; land on the new opportunity (§2, §6)."""
    verify_csrf(session, form.get("csrf_token"))
    try:
        record_id = lead_id_from(lead_id)
    except LeadflowError as refused:
        return error_page(request, session, refused)
    posted = posted_lead_values(form)
    try:
        options_input = qualify_options_input(form, language=session.language)
        with database_of(request).unit_of_work() as uow:
            lead = service.get_lead(record_id, uow=uow, actor=session.actor)
            if posted and lead.is_open:
                # Qualify runs its own duplicate detection below, where lead duplicates block.
                _save_changes(uow, session, lead, posted, expected_version=_row_version(form), suppress=True)
            result = service.qualify_lead(record_id, parse(QualifyOptions, options_input), uow=uow, actor=session.actor)
            uow.commit()
    except LeadflowError as refused:
        return _qualify_refused(request, session, record_id, form, refused)
    return redirect(_landing(record_id, result))


# ---------------------------------------------------------------------------------------------- disqualify, reactivate, delete


def _simple_lead_page(request: Request, session: WebSession, lead_id: str, template: str, *,
                      error: LeadflowError | None = None, status_code: int = 200, **context: Any) -> Response:
    try:
        record_id = lead_id_from(lead_id)
        with database_of(request).unit_of_work(read_only=True) as uow:
            lead = service.get_lead(record_id, uow=uow, actor=session.actor)
    except LeadflowError as refused:
        return error_page(request, session, refused)
    return render(request, session, template, status_code=status_code, lead=lead,
                  error=refusal_text(session.language, error) if error else None, **context)


@router.get("/leads/{lead_id}/disqualify")
def disqualify_page(request: Request, session: WebSessionDep, lead_id: str) -> Response:
    """The Disqualify dialog on a page of its own (without JavaScript)."""
    return _simple_lead_page(request, session, lead_id, "leads/disqualify.html", disqualify_options=DISQUALIFY_OPTIONS, chosen="")


@router.post("/leads/{lead_id}/disqualify")
def disqualify(request: Request, session: WebSessionDep, form: FormDep, lead_id: str) -> Response:
    """Close the lead as disqualified with the chosen status reason (§3)."""
    verify_csrf(session, form.get("csrf_token"))
    chosen = str(form.get("status_reason") or "")
    try:
        record_id = lead_id_from(lead_id)
        request_data = parse(DisqualifyRequest, {"status_reason": chosen})
        with database_of(request).unit_of_work() as uow:
            service.disqualify_lead(record_id, request_data.status_reason, uow=uow, actor=session.actor)
            uow.commit()
    except LeadflowError as refused:
        if isinstance(refused, ValidationFailed):
            return _simple_lead_page(request, session, lead_id, "leads/disqualify.html", error=refused, status_code=422,
                                     disqualify_options=DISQUALIFY_OPTIONS, chosen=chosen)
        if isinstance(refused, NotFound) or parse_uuid(lead_id) is None:
            return error_page(request, session, refused)
        return _record_page(request, session, record_id, RecordPage(error=refused, status_code=status_for(refused)))
    return redirect(f"/leads/{record_id}?done=disqualified")


@router.post("/leads/{lead_id}/reactivate")
def reactivate(request: Request, session: WebSessionDep, form: FormDep, lead_id: str) -> Response:
    """Reopen a qualified or disqualified lead as New, with its data, notes and attachments (§4)."""
    verify_csrf(session, form.get("csrf_token"))
    try:
        record_id = lead_id_from(lead_id)
    except LeadflowError as refused:
        return error_page(request, session, refused)
    try:
        with database_of(request).unit_of_work() as uow:
            service.reactivate_lead(record_id, uow=uow, actor=session.actor)
            uow.commit()
    except LeadflowError as refused:
        if isinstance(refused, NotFound):
            return error_page(request, session, refused)
        return _record_page(request, session, record_id, RecordPage(error=refused, status_code=status_for(refused)))
    return redirect(f"/leads/{record_id}?done=reactivated")


@router.get("/leads/{lead_id}/delete")
def delete_page(request: Request, session: WebSessionDep, lead_id: str) -> Response:
    """Confirm deleting the lead (its notes and attachments go with it)."""
    return _simple_lead_page(request, session, lead_id, "leads/delete.html")


@router.post("/leads/{lead_id}/delete")
def delete(request: Request, session: WebSessionDep, form: FormDep, lead_id: str) -> Response:
    """Delete the lead with its notes and attachments."""
    verify_csrf(session, form.get("csrf_token"))
    try:
        record_id = lead_id_from(lead_id)
        with database_of(request).unit_of_work() as uow:
            service.delete_lead(record_id, uow=uow, actor=session.actor, expected_version=_row_version(form))
            uow.commit()
    except LeadflowError as refused:
        if isinstance(refused, NotFound):
            return error_page(request, session, refused)
        return _simple_lead_page(request, session, lead_id, "leads/delete.html", error=refused, status_code=status_for(refused))
    return redirect("/leads?done=deleted")


# ---------------------------------------------------------------------------------------------- notes and attachments


@router.post("/leads/{lead_id}/notes")
def add_lead_note(request: Request, session: WebSessionDep, form: FormDep, lead_id: str) -> Response:
    """Add a note, with an optional attachment, to the lead's timeline."""
    verify_csrf(session, form.get("csrf_token"))
    try:
        record_id = lead_id_from(lead_id)
    except LeadflowError as refused:
        return error_page(request, session, refused)
    title = str(form.get("title") or "").strip()[:500] or None
    body = str(form.get("body") or "").strip() or None
    upload = form.get("file")
    limit = _max_attachment_bytes(request)
    try:
        attachment = None
        if isinstance(upload, UploadFile) and upload.filename:
            attachment = AttachmentUpload(
                file_name=upload.filename, mime_type=upload.content_type or "application/octet-stream",
                content=read_upload(upload, limit),
            )
        with database_of(request).unit_of_work() as uow:
            add_note(RegardingTable.LEADS, record_id, title=title, body=body, attachment=attachment,
                     max_attachment_bytes=limit, uow=uow, actor=session.actor)
            uow.commit()
    except LeadflowError as refused:
        if isinstance(refused, NotFound):
            return error_page(request, session, refused)
        message = refusal_text(session.language, refused)
        if refused.code == "attachment_too_large":
            message = gettext(session.language, "The file is larger than the limit of %(size)s; attach a smaller file.",
                              size=_file_size(session.language, limit))
        return _record_page(request, session, record_id, RecordPage(
            note_input={"title": title or "", "body": body or ""}, note_error=message, status_code=status_for(refused),
        ))
    return redirect(f"/leads/{record_id}?done=note#timeline")


@router.get("/leads/{lead_id}/notes/{note_id}/attachment")
def download(request: Request, session: WebSessionDep, lead_id: str, note_id: str) -> Response:
    """A note's attachment, always as a download (never shown inline)."""
    try:
        record_id = lead_id_from(lead_id)
        attachment_id = parse_uuid(note_id)
        if attachment_id is None:
            raise NotFound(f"No note has the id {note_id} on this record.", code="note_not_found")
        with database_of(request).unit_of_work(read_only=True) as uow:
            note, content = get_attachment(RegardingTable.LEADS, record_id, attachment_id, uow=uow, actor=session.actor)
    except LeadflowError as refused:
        return error_page(request, session, refused)
    return attachment_response(note, content, {"Cache-Control": "no-store"})

