"""An opportunity's life in the web app: close as won, close as lost, reopen, and the competitors named
in the deal.

The record page opens each close form in a dialog; without JavaScript (and after a refusal) the same
form is a page of its own, which keeps what the user typed and shows the refusal next to the fields.
The routes translate the forms into the calls the REST API makes (``leadflow.opportunities.closing``
and ``.competitors``) and render the result; the services decide who may do what and when.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.core.errors import LeadflowError, NotFound
from leadflow.http.errors import status_for
from leadflow.opportunities import closing
from leadflow.opportunities.competitors import link_competitor
from leadflow.security.access import can
from leadflow.security.privileges import Privilege
from leadflow.web.areas.opportunities_page import (
    CLOSE_KINDS,
    CloseKind,
    close_command,
    opportunity_panel,
    posted_close,
)
from leadflow.web.areas.records_forms import OPPORTUNITIES
from leadflow.web.areas.records_page import readable_record, record_page, refused_page
from leadflow.web.forms import FormDep, Refusal, id_in_path, parse_uuid, parse_version, refusal
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, refusals_shown_by, render

router = APIRouter()

# A refusal the endpoint leaves unhandled (an unknown id, no privilege to read) is the record's 404 or 403 page.
_opportunity_route = refusals_shown_by(
    lambda request, session, error: refused_page(request, session, OPPORTUNITIES, error)
)


def _opportunity_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="opportunity")


def _record(record_id: uuid.UUID) -> str:
    return f"/opportunities/{record_id}"


def _close_page(
    request: Request,
    session: WebSession,
    record_id: uuid.UUID,
    kind: CloseKind,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    version: int | None = None,
) -> Response:
    """The close form as a page: the dialog's fallback, and the form again after a refusal."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        record = readable_record(uow, session, OPPORTUNITIES, record_id)
        may_write = can(uow.session, session.actor, Privilege.WRITE, "opportunities", record)
        panel = opportunity_panel(uow, session, record, may_write=may_write)
        if not panel.can_close and failure is None:
            return redirect(_record(record_id))  # closed meanwhile, or not the user's to close: its page says why
        return render(
            request,
            session,
            "opportunities/close.html",
            status_code=status_code,
            record=record,
            opportunity=panel,
            kind=kind,
            values=values if values is not None else panel.close_values.get(kind.key, {}),
            refusal=failure,
            field_errors=failure.fields if failure else {},
            row_version=version if version is not None and version >= 0 else record.row_version,
        )


def _register_close(kind: CloseKind) -> None:
    """The page and the post of one way of closing."""

    @router.get(f"/opportunities/{{record_id}}/{kind.path}", name=f"opportunities_{kind.key}_form")
    @_opportunity_route
    def close_form(request: Request, record_id: str, session: WebSessionDep) -> Response:
        """The close form as a page (the record page's dialog does the same with JavaScript)."""
        version = parse_version(request.query_params.get("row_version"))
        return _close_page(request, session, _opportunity_id(record_id), kind, version=version)

    @router.post(f"/opportunities/{{record_id}}/{kind.action}", name=f"opportunities_{kind.action}")
    @_opportunity_route
    def close(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
        """Close the opportunity; refused when it changed since the page was loaded."""
        parsed = _opportunity_id(record_id)
        values = posted_close(kind, form)
        version = parse_version(form.get("row_version"))
        service = closing.win_opportunity if kind.key == "won" else closing.lose_opportunity
        try:
            command = close_command(kind, values, language=session.language)
            committed(
                request, lambda uow: service(parsed, command, uow=uow, actor=session.actor, expected_version=version)
            )
        except LeadflowError as error:
            return _close_page(
                request,
                session,
                parsed,
                kind,
                values=values,
                failure=refusal(session.language, error),
                status_code=status_for(error),
                version=version,
            )
        return redirect(f"{_record(parsed)}?notice={kind.key}#opportunity-status")


for _kind in CLOSE_KINDS.values():
    _register_close(_kind)


def _refused_on_the_record(
    request: Request, session: WebSession, record_id: uuid.UUID, error: LeadflowError
) -> Response:
    return record_page(
        request,
        session,
        OPPORTUNITIES,
        record_id,
        status_code=status_for(error),
        failure=refusal(session.language, error),
    )


@router.post("/opportunities/{record_id}/reopen", name="opportunities_reopen")
@_opportunity_route
def reopen(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Reopen a won or lost opportunity: Open / In Progress again, its close records canceled."""
    parsed = _opportunity_id(record_id)
    version = parse_version(form.get("row_version"))
    try:
        committed(
            request,
            lambda uow: closing.reopen_opportunity(parsed, uow=uow, actor=session.actor, expected_version=version),
        )
    except LeadflowError as error:
        return _refused_on_the_record(request, session, parsed, error)
    return redirect(f"{_record(parsed)}?notice=reopened")


def _chosen_competitor(raw: object) -> uuid.UUID:
    competitor_id = parse_uuid(raw)
    if competitor_id is None:
        raise NotFound(f"No competitor has the id {raw}.", code="competitor_not_found")
    return competitor_id


@router.post("/opportunities/{record_id}/competitors", name="opportunities_name_competitor")
@_opportunity_route
def name_competitor(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Name a competitor in the deal of an open opportunity."""
    parsed = _opportunity_id(record_id)
    try:
        competitor_id = _chosen_competitor(form.get("competitor_id"))
        committed(request, lambda uow: link_competitor(parsed, competitor_id, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _refused_on_the_record(request, session, parsed, error)
    return redirect(f"{_record(parsed)}?notice=competitor_added#competitors")


@router.post("/opportunities/{record_id}/competitors/{competitor_id}/remove", name="opportunities_unname_competitor")
@_opportunity_route
def unname_competitor(request: Request, record_id: str, competitor_id: str, session: WebSessionDep) -> Response:
    """Stop naming a competitor in the deal of an open opportunity."""
    parsed = _opportunity_id(record_id)
    try:
        chosen = _chosen_competitor(competitor_id)
        committed(request, lambda uow: link_competitor(parsed, chosen, uow=uow, actor=session.actor, linked=False))
    except LeadflowError as error:
        return _refused_on_the_record(request, session, parsed, error)
    return redirect(f"{_record(parsed)}?notice=competitor_removed#competitors")
