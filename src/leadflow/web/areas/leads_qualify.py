"""Qualify from the lead page (§2, §6): the choices of the records to create, as the organisation's
settings let the seller choose, the duplicate warnings of §5, and the landing on the new records.

The lead form posts its changes with Qualify: they are saved and the lead qualified in one step. A
refusal is shown in the user's language with the user's input and earlier answers kept.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.core.errors import DuplicateDetected, LeadflowError, ValidationFailed
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.duplicates import merge
from leadflow.http.errors import status_for
from leadflow.leads import qualification, service
from leadflow.leads.schemas import QualifyOptions
from leadflow.organisation.models import DuplicateExperience
from leadflow.organisation.service import get_settings
from leadflow.security.privileges import Privilege
from leadflow.web import custom_values
from leadflow.web.areas import leads_lookups as lookups
from leadflow.web.areas.leads import error_page, given_answers, lead_id_from, lead_page_route, qualify_plan
from leadflow.web.areas.leads_forms import (
    CHOICE_KEYS,
    FIELD_NAMES,
    MAX_OPPORTUNITIES,
    QUALIFY_KEYS,
    RESOLUTION_KEYS,
    carried_fields,
    opportunity_row_keys,
    posted_lead_values,
    qualify_options_input,
)
from leadflow.web.areas.leads_record import RecordPage, linked_answers, record_page, save_changes
from leadflow.web.forms import FormDep, field_errors, match_rows, parse_uuid, parse_version, refusal_text
from leadflow.web.pages import WebSession, WebSessionDep, database_of, redirect, render

router = APIRouter(include_in_schema=False)


def _landing(lead_id: uuid.UUID, result: qualification.QualifyResult) -> str:
    """Where the seller lands after qualifying: the new opportunity, else the new account or contact (§2)."""
    if result.opportunity_id:
        return f"/opportunities/{result.opportunity_id}?qualified=1"
    if result.account_id:
        return f"/accounts/{result.account_id}?qualified=1"
    if result.contact_id:
        return f"/contacts/{result.contact_id}?qualified=1"
    return f"/leads/{lead_id}?done=qualified"


def _choices_page(
    request: Request,
    session: WebSession,
    lead_id: uuid.UUID,
    form: Any,
    *,
    error: LeadflowError | None = None,
    status_code: int = 200,
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
            answers = {**linked_answers(lead, posted_lead_values(form) if form is not None else None), **answers}
        context = {
            "lead": lead,
            "plan": qualify_plan(uow),
            "options": {
                "currency": lookups.currency_options(uow.session),
                "account": lookups.account_options(
                    uow.session, session.actor, current=parse_uuid(answers.get("existing_account_id"))
                ),
                "contact": lookups.contact_options(
                    uow.session, session.actor, current=parse_uuid(answers.get("existing_contact_id"))
                ),
                "opportunity": lookups.opportunity_options(
                    uow.session, session.actor, current=parse_uuid(answers.get("existing_opportunity_id"))
                ),
            },
        }
    return render(
        request,
        session,
        "leads/qualify.html",
        status_code=status_code,
        **context,
        answers=answers,
        answer_errors=field_errors(language, error),
        error=refusal_text(language, error) if error else None,
        carried=carried_fields(form, drop=QUALIFY_KEYS) if form is not None else [],
        max_opportunities=MAX_OPPORTUNITIES,
        opportunity_row_keys=opportunity_row_keys,
    )


def _duplicates_page(
    request: Request, session: WebSession, lead_id: uuid.UUID, form: Any, error: DuplicateDetected
) -> Response:
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
        request,
        session,
        "leads/duplicates.html",
        status_code=409,
        lead=lead,
        classic=experience is DuplicateExperience.CLASSIC,
        message=refusal_text(language, error),
        matching_accounts=match_rows(language, details.get("matching_accounts", [])),
        matching_contacts=match_rows(language, details.get("matching_contacts", [])),
        carried=carried_fields(form, drop=frozenset(RESOLUTION_KEYS)),
    )


def _blocked(request: Request, session: WebSession, error: DuplicateDetected, lead_id: uuid.UUID) -> dict[str, Any]:
    """A blocking duplicate (lead or opportunity, §5) with the documented ways out.

    Its links are offered only to whom they lead somewhere: the duplicate detection rules and the
    duplicate records page to those who may change the settings (the gate of those pages,
    ``admin_area("settings", Privilege.WRITE)``), a merge to those whom the merge service lets merge
    the two leads. (The matches themselves are the ones the user may read.)
    """
    language = session.language
    details = error.details if isinstance(error.details, dict) else {}
    matches = match_rows(language, details.get("matches", []))
    manages_detection = session.can_admin("settings", Privilege.WRITE)
    rules = (
        {match["rule_id"]: match["rule_name"] for match in matches if match.get("rule_id")} if manages_detection else {}
    )
    with database_of(request).unit_of_work(read_only=True) as uow:
        mergeable = [
            match
            for match in matches
            if match.get("table") == "leads"
            and (master_id := parse_uuid(match.get("id"))) is not None
            and merge.may_merge(uow.session, session.actor, "leads", master_id, lead_id)
        ]
    return {
        "code": error.code,
        "message": refusal_text(language, error),
        "matches": matches,
        "ways_out": [refusal_text(language, LeadflowError(text)) for text in details.get("ways_out", [])],
        "manages_detection": manages_detection,
        "rules": [{"url": f"/admin/duplicate-rules/{rule_id}", "name": name} for rule_id, name in rules.items()],
        "merge_urls": {
            match["id"]: "/admin/merge?"
            + urlencode({"table": "leads", "master": match["id"], "subordinate": str(lead_id)})
            for match in mergeable
        },
    }


def _qualify_refused(
    request: Request, session: WebSession, lead_id: uuid.UUID, form: Any, error: LeadflowError
) -> Response:
    """Show why qualifying did not happen: ask for the missing choices, warn about duplicates, or explain the refusal."""
    posted = posted_lead_values(form)
    if isinstance(error, ValidationFailed) and error.code == "qualification_choice_required":
        return _choices_page(request, session, lead_id, form)
    if (
        isinstance(error, DuplicateDetected)
        and error.code == "duplicate_detected"
        and isinstance(error.details, dict)
        and ("matching_accounts" in error.details or "matching_contacts" in error.details)
    ):
        return _duplicates_page(request, session, lead_id, form, error)
    if isinstance(error, DuplicateDetected) and error.code in ("lead_duplicate", "opportunity_duplicate"):
        return record_page(
            request,
            session,
            lead_id,
            RecordPage(
                values=posted or None,
                blocked=_blocked(request, session, error, lead_id),
                status_code=409,
            ),
        )
    answered = any(key in form for key in (*CHOICE_KEYS, "opportunity_currency", "existing_opportunity_id"))
    bad_fields = {
        str(item.get("field", "")).split(".")[0]
        for item in ((error.details or {}).get("fields", []) if isinstance(error.details, dict) else [])
    }
    if isinstance(error, ValidationFailed) and answered and not (bad_fields & FIELD_NAMES):
        return _choices_page(request, session, lead_id, form, error=error, status_code=status_for(error))
    return record_page(
        request,
        session,
        lead_id,
        RecordPage(
            values=posted or None,
            error=error,
            status_code=status_for(error),
        ),
    )


def _save_edits(uow: UnitOfWork, session: WebSession, lead_id: uuid.UUID, form: Any) -> None:
    """Save the lead form's edits posted with Qualify, in the unit of work that qualifies the lead."""
    posted = posted_lead_values(form)
    lead = service.get_lead(lead_id, uow=uow, actor=session.actor)
    posted_custom = custom_values.posted_values(uow.session, "leads", form)
    if (posted or posted_custom) and lead.is_open:
        # Qualify runs its own duplicate detection, where lead duplicates block: none is looked for here.
        save_changes(
            uow,
            session,
            lead,
            posted,
            expected_version=parse_version(form.get("row_version")),
            suppress=True,
            posted_custom=posted_custom,
        )


@router.get("/leads/{lead_id}/qualify")
@lead_page_route
def qualify_page(request: Request, session: WebSessionDep, lead_id: str) -> Response:
    """The "Qualify lead" choices on a page of their own (the dialog's fallback without JavaScript)."""
    return _choices_page(request, session, lead_id_from(lead_id), None)


@router.post("/leads/{lead_id}/qualify")
@lead_page_route
def qualify(request: Request, session: WebSessionDep, form: FormDep, lead_id: str) -> Response:
    """Save the form's changes and qualify the lead in one step; land on the new opportunity (§2, §6)."""
    record_id = lead_id_from(lead_id)
    try:
        options_input = qualify_options_input(form, language=session.language)
        with database_of(request).unit_of_work() as uow:
            _save_edits(uow, session, record_id, form)
            result = service.qualify_lead(record_id, parse(QualifyOptions, options_input), uow=uow, actor=session.actor)
            uow.commit()
    except LeadflowError as refused:
        return _qualify_refused(request, session, record_id, form, refused)
    return redirect(_landing(record_id, result))
