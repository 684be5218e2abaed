"""Sharing a lead, an account, a contact or an opportunity (§8): the Share dialog of a record's page
(a page of its own without JavaScript), which grants a user or a team rights on the record, lists its
current shares and takes them back.

Who may share, which rights, and with whom is decided by ``leadflow.security.service`` (Share on the
record; only rights one holds on it oneself); a page only translates the form and shows refusals.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.core.errors import Forbidden, LeadflowError, ValidationFailed
from leadflow.core.records import get_record, not_found, record_label
from leadflow.core.uow import UnitOfWork
from leadflow.customers.models import Account, Contact
from leadflow.http.errors import status_for
from leadflow.leads.models import Lead
from leadflow.opportunities.models import Opportunity
from leadflow.security import service as security_service
from leadflow.security.access import can
from leadflow.security.privileges import Privilege
from leadflow.web.forms import FormDep, parse_uuid, refusal_text
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import PRIVILEGE_LABELS, RECORD_LABELS, TABLE_LABELS, label
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter()

# The tables whose records have a Share button, with their models.
SHARED_TABLES: dict[str, type[Any]] = {
    "leads": Lead,
    "accounts": Account,
    "contacts": Contact,
    "opportunities": Opportunity,
}

_NOTICES = {
    "shared": N_("The record was shared."),
    "revoked": N_("The share was removed: they no longer have those rights on this record."),
}


def _title(record: Any) -> str:
    """How a record is named on its page: a lead or a contact by its person, the others by their name."""
    return str(getattr(record, "full_name", None) or getattr(record, "name", None) or getattr(record, "topic", ""))


def share_panel(uow: UnitOfWork, session: WebSession, table: str, record: Any) -> dict[str, Any] | None:
    """What the Share dialog of a record's page shows; None when the user may not share the record
    (then the page shows no Share button)."""
    if not can(uow.session, session.actor, Privilege.SHARE, table, record):
        return None
    sharing = security_service.sharing_of(table, record, uow=uow, actor=session.actor)
    language = session.language
    return {
        "action": f"/{table}/{record.id}/share",
        "record_url": f"/{table}/{record.id}",
        "title": _title(record),
        "kind": label(language, RECORD_LABELS, table),
        "shares": [
            {
                "id": entry.share.id,
                "grantee": entry.grantee,
                "is_team": entry.is_team,
                "rights": [label(language, PRIVILEGE_LABELS, right) for right in entry.rights],
            }
            for entry in sharing.shares
        ],
        "users": [(f"user:{user.id}", f"{user.full_name} ({user.email})") for user in sharing.users],
        "teams": [(f"team:{team.id}", team.name) for team in sharing.teams],
        "rights": [(right, label(language, PRIVILEGE_LABELS, right)) for right in sharing.grantable],
    }


def _record(uow: UnitOfWork, table: str, record_id: str) -> Any:
    """The record a share page names; an id that is none names no record (404)."""
    parsed = parse_uuid(record_id)
    if parsed is None:
        raise not_found(label=record_label(table), record_id=record_id)
    return get_record(uow.session, SHARED_TABLES[table], parsed, label=record_label(table))


def _share_page(
    request: Request,
    session: WebSession,
    table: str,
    record_id: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
    chosen: dict[str, Any] | None = None,
) -> Response:
    with database_of(request).unit_of_work(read_only=True) as uow:
        record = _record(uow, table, record_id)
        panel = share_panel(uow, session, table, record)
        if panel is None:  # the service names the missing privilege
            security_service.sharing_of(table, record, uow=uow, actor=session.actor)
    return render(
        request,
        session,
        "share.html",
        status_code=status_code,
        share=panel,
        error=error,
        notice=notice,
        chosen=chosen or {},
        list_label=label(session.language, TABLE_LABELS, table),
        list_url=f"/{table}",
    )


def _grantee(value: str) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The user or team a share form names as ``user:<id>`` or ``team:<id>``."""
    kind, _, raw = value.partition(":")
    found = parse_uuid(raw)
    if kind not in ("user", "team") or found is None:
        raise ValidationFailed(
            "Choose a user or a team to share with.",
            code="required",
            details={"fields": [{"field": "grantee", "code": "required"}]},
        )
    return (found, None) if kind == "user" else (None, found)


def _routes(table: str) -> None:
    """The share page of one table's records, and its grant and revoke forms."""

    @router.get(f"/{table}/{{record_id}}/share", name=f"{table}_share")
    def share_page(request: Request, session: WebSessionDep, record_id: str) -> Response:
        """Who the record is shared with, and the form that shares it with a user or a team (Share on it)."""
        notice = next(
            (gettext(session.language, text) for key, text in _NOTICES.items() if request.query_params.get(key)), None
        )
        return _share_page(request, session, table, record_id, notice=notice)

    @router.post(f"/{table}/{{record_id}}/share", name=f"{table}_share_with")
    def share(request: Request, session: WebSessionDep, record_id: str, form: FormDep) -> Response:
        """Grant a user or a team rights on the record (Read at least); sharing again with the same
        user or team replaces their rights."""
        grantee = str(form.get("grantee", ""))[:100]
        rights = [str(right)[:20] for right in form.getlist("rights")]
        chosen = {"grantee": grantee, "rights": rights}
        try:
            user_id, team_id = _grantee(grantee)

            def change(uow: UnitOfWork) -> None:
                record = _record(uow, table, record_id)
                security_service.share_record(
                    table, record, user_id=user_id, team_id=team_id, rights=set(rights), uow=uow, actor=session.actor
                )

            committed(request, change)
        except LeadflowError as error:
            if (isinstance(error, Forbidden) and error.code != "share_beyond_own") or (
                error.code == f"{record_label(table)}_not_found"
            ):
                raise
            return _share_page(
                request,
                session,
                table,
                record_id,
                status_code=status_for(error),
                chosen=chosen,
                error=refusal_text(session.language, error),
            )
        return redirect(f"/{table}/{record_id}/share?shared=true")

    @router.post(f"/{table}/{{record_id}}/share/{{share_id}}/revoke", name=f"{table}_unshare")
    def unshare(request: Request, session: WebSessionDep, record_id: str, share_id: str) -> Response:
        """Take back every right one share gave on the record."""
        parsed = parse_uuid(share_id)

        def change(uow: UnitOfWork) -> None:
            record = _record(uow, table, record_id)
            if parsed is None:
                raise not_found(label="share", record_id=share_id)
            security_service.unshare_record(table, record, parsed, uow=uow, actor=session.actor)

        try:
            committed(request, change)
        except LeadflowError as error:
            if isinstance(error, Forbidden) or error.code == f"{record_label(table)}_not_found":
                raise
            return _share_page(
                request,
                session,
                table,
                record_id,
                status_code=status_for(error),
                error=refusal_text(session.language, error),
            )
        return redirect(f"/{table}/{record_id}/share?revoked=true")


for _table in SHARED_TABLES:
    _routes(_table)
