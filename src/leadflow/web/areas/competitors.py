"""Competitors, in the sales area: the list (searched, paged), a new competitor, a competitor's page to
change or delete it.

Every built-in role reads competitors and sellers and up change them (``leadflow.security.privileges``);
a page shows only the commands its user holds the privilege for, and the services of
``leadflow.opportunities.competitors`` decide. A competitor that opportunities name cannot be deleted:
the refusal is shown on its page.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from leadflow.core.errors import LeadflowError
from leadflow.core.formatting import amount_input
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.opportunities import competitors as service
from leadflow.opportunities.models import Competitor
from leadflow.opportunities.schemas import CompetitorCreate, CompetitorUpdate
from leadflow.organisation.models import Currency
from leadflow.security.privileges import Privilege
from leadflow.web.areas.opportunities_page import typed_number
from leadflow.web.forms import FormDep, Refusal, id_in_path, parse_version, refusal
from leadflow.web.i18n import N_
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, refusals_shown_by, render

router = APIRouter()

LIST = "/competitors"
PAGE_SIZE = 50
FIELDS = ("name", "website", "reported_revenue", "strengths", "weaknesses")

NOTICES = {
    "created": N_("The competitor was created."),
    "saved": N_("Your changes were saved."),
    "deleted": N_("The competitor was deleted."),
}


def _refused(request: Request, session: WebSession, error: LeadflowError) -> Response:
    """A competitor that does not exist (404), or a page the user may not open (403)."""
    return render(
        request,
        session,
        "admin/refused.html",
        status_code=status_for(error),
        title=N_("This can't be done"),
        message=refusal(session.language, error).message,
    )


_competitor_route = refusals_shown_by(_refused)


def _may(session: WebSession, privilege: Privilege) -> bool:
    return session.can_admin("competitors", privilege)


def _base_currency(uow: UnitOfWork) -> str | None:
    return uow.session.scalar(select(Currency.iso_code).where(Currency.is_base.is_(True)))


# ---------------------------------------------------------------------------------------------- the list


@router.get(LIST, name="competitors_list")
@_competitor_route
def competitors_page(request: Request, session: WebSessionDep) -> Response:
    """The competitors by name, searched by part of the name and paged."""
    params = request.query_params
    q = params.get("q", "")[:100]
    failure: Refusal | None = None
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            page = service.list_competitors(
                uow=uow, actor=session.actor, limit=PAGE_SIZE, cursor=params.get("cursor") or None, search=q or None
            )
        except LeadflowError as error:
            if error.code != "invalid_cursor":
                raise
            failure = refusal(session.language, error)
            page = service.list_competitors(uow=uow, actor=session.actor, limit=PAGE_SIZE, search=q or None)
        base = _base_currency(uow)
    next_link = (
        f"{LIST}?" + urlencode({k: v for k, v in {"q": q, "cursor": page.next_cursor}.items() if v})
        if (page.next_cursor)
        else None
    )
    return render(
        request,
        session,
        "opportunities/competitors.html",
        status_code=200 if failure is None else 422,
        competitors=page.items,
        q=q,
        base_currency=base,
        refusal=failure,
        notice=NOTICES.get(params.get("notice", "")),
        can_create=_may(session, Privilege.CREATE),
        next_link=next_link,
        first_link=f"{LIST}?" + urlencode({"q": q}) if params.get("cursor") else None,
    )


# ---------------------------------------------------------------------------------------------- one competitor


def _values(competitor: Competitor | None, language: str) -> dict[str, str]:
    if competitor is None:
        return dict.fromkeys(FIELDS, "")
    return {
        "name": competitor.name,
        "website": competitor.website or "",
        "reported_revenue": amount_input(competitor.reported_revenue, language),
        "strengths": competitor.strengths or "",
        "weaknesses": competitor.weaknesses or "",
    }


def _posted(form: Mapping[str, Any]) -> dict[str, str]:
    return {name: value if isinstance(value := form.get(name), str) else "" for name in FIELDS}


def _input(posted: Mapping[str, str], language: str, *, creating: bool) -> dict[str, Any]:
    """The service's input: typed amounts read in the user's language; an emptied field is cleared."""
    data: dict[str, Any] = {}
    for name in FIELDS:
        raw = posted.get(name, "").strip()
        if name == "reported_revenue" and raw:
            raw = typed_number(raw, language)
        if raw or not creating:
            data[name] = raw or None
    return data


def _competitor_page(
    request: Request,
    session: WebSession,
    competitor_id: uuid.UUID | None,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    version: int | None = None,
    notice: str | None = None,
    confirming_delete: bool = False,
) -> Response:
    """A competitor's page (or the empty form of a new one), with the user's input and any refusal; also
    the delete confirmation when ``confirming_delete`` (the dialog's fallback)."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        competitor = service.read_competitor(competitor_id, uow=uow, actor=session.actor) if competitor_id else None
        stored = _values(competitor, session.language)
        base = _base_currency(uow)
    creating = competitor is None
    return render(
        request,
        session,
        "opportunities/competitor.html",
        status_code=status_code,
        competitor=competitor,
        values={**stored, **(values or {})},
        refusal=failure,
        field_errors=failure.fields if failure else {},
        notice=notice,
        base_currency=base,
        row_version=version if version is not None and version >= 0 else (competitor.row_version if competitor else 0),
        can_write=_may(session, Privilege.CREATE if creating else Privilege.WRITE),
        can_delete=not creating and _may(session, Privilege.DELETE),
        confirming_delete=confirming_delete,
    )


@router.get(LIST + "/new", name="competitors_new")
@_competitor_route
def new_competitor(request: Request, session: WebSessionDep) -> Response:
    """An empty form for a new competitor (read-only for those who may not create one)."""
    return _competitor_page(request, session, None)


@router.post(LIST + "/new", name="competitors_create")
@_competitor_route
def create_competitor(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Add a competitor; the form again, with the refusal, when refused."""
    posted = _posted(form)
    try:
        data = parse(CompetitorCreate, _input(posted, session.language, creating=True))
        competitor = committed(request, lambda uow: service.create_competitor(data, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _competitor_page(
            request,
            session,
            None,
            values=posted,
            failure=refusal(session.language, error),
            status_code=status_for(error),
        )
    return redirect(f"{LIST}/{competitor.id}?notice=created")


@router.get(LIST + "/{competitor_id}", name="competitors_record")
@_competitor_route
def competitor_page(request: Request, competitor_id: str, session: WebSessionDep) -> Response:
    """One competitor: name, website, reported revenue, strengths and weaknesses."""
    parsed = id_in_path(competitor_id, record="competitor")
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return _competitor_page(request, session, parsed, notice=notice)


@router.post(LIST + "/{competitor_id}", name="competitors_save")
@_competitor_route
def save_competitor(request: Request, competitor_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Save the competitor; refused when it changed since the form was loaded."""
    parsed = id_in_path(competitor_id, record="competitor")
    posted = _posted(form)
    version = parse_version(form.get("row_version"))
    try:
        changes = parse(CompetitorUpdate, _input(posted, session.language, creating=False))
        committed(
            request,
            lambda uow: service.update_competitor(
                parsed, changes, uow=uow, actor=session.actor, expected_version=version
            ),
        )
    except LeadflowError as error:
        return _competitor_page(
            request,
            session,
            parsed,
            values=posted,
            failure=refusal(session.language, error),
            status_code=status_for(error),
            version=version,
        )
    return redirect(f"{LIST}/{parsed}?notice=saved")


@router.get(LIST + "/{competitor_id}/delete", name="competitors_confirm_delete")
@_competitor_route
def confirm_delete(request: Request, competitor_id: str, session: WebSessionDep) -> Response:
    """The delete confirmation (the page's dialog does the same with JavaScript)."""
    parsed = id_in_path(competitor_id, record="competitor")
    version = parse_version(request.query_params.get("row_version"))
    return _competitor_page(request, session, parsed, version=version, confirming_delete=True)


@router.post(LIST + "/{competitor_id}/delete", name="competitors_delete")
@_competitor_route
def delete_competitor(request: Request, competitor_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Delete a competitor no opportunity names; refused (on its page) while one does."""
    parsed = id_in_path(competitor_id, record="competitor")
    version = parse_version(form.get("row_version"))
    try:
        committed(
            request,
            lambda uow: service.delete_competitor(parsed, uow=uow, actor=session.actor, expected_version=version),
        )
    except LeadflowError as error:
        return _competitor_page(
            request,
            session,
            parsed,
            failure=refusal(session.language, error),
            status_code=status_for(error),
            version=version,
        )
    return redirect(f"{LIST}?notice=deleted")
