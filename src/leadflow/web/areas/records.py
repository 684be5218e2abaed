"""Accounts, contacts and opportunities: lists, record forms, notes and attachments, the opportunity's process.

The routes translate forms into the calls the REST API makes (the services of leadflow.customers,
leadflow.opportunities, leadflow.activities and leadflow.process) and render the result. A refusal is
shown on the page with the user's input kept; a record the user may not read is a 404 or 403 page.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import and_, or_, select
from starlette.datastructures import FormData, UploadFile

from leadflow.http.downloads import attachment_response
from leadflow.http.uploads import read_upload
from leadflow.activities.models import Note, RegardingTable
from leadflow.activities.service import (
    AttachmentUpload,
    add_note,
    get_attachment,
    timeline,
)
from leadflow.http.errors import status_for
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact
from leadflow.core.errors import LeadflowError, NotFound
from leadflow.leads.models import Lead
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import CustomerKind, Opportunity
from leadflow.organisation.models import Campaign, Currency
from leadflow.organisation.service import get_settings
from leadflow.process.flow import move_stage, opportunity_process
from leadflow.security.access import get_accessible
from leadflow.core.schemas import parse
from leadflow.security.access import access_condition, can
from leadflow.security.models import User
from leadflow.security.privileges import Depth, Privilege
from leadflow.core.uow import UnitOfWork
from leadflow.web.areas.choice_labels import DECISION_LABELS, STAGE_LABELS
from leadflow.web.areas.records_forms import (
    ACCOUNTS,
    CHOICE_LABELS,
    CONTACTS,
    KINDS,
    OPPORTUNITIES,
    RECORD_PATHS,
    STEP_FIELDS,
    STEP_LABELS,
    RecordKind,
    Refusal,
    form_values,
    option_lists,
    posted_values,
    refusal,
    service_input,
)
from leadflow.web.areas.records_lists import (
    LISTS,
    list_page,
    owner_names,
    readable_names,
    rows_of,
)
from leadflow.web.i18n import N_, gettext
from leadflow.web.pages import (
    WebSession,
    WebSessionDep,
    database_of,
    redirect,
    render,
    verify_csrf,
)

router = APIRouter()

# Related records listed on a record's page (the rest are a search away in the lists).
RELATED_LIMIT = 50

SERVICES = {
    "accounts": (customers.create_account, customers.update_account, customers.delete_account),
    "contacts": (customers.create_contact, customers.update_contact, customers.delete_contact),
    "opportunities": (
        opportunities.create_opportunity,
        opportunities.update_opportunity,
        opportunities.delete_opportunity,
    ),
}
STAGE_STATUS_LABELS = {
    "completed": N_("Completed stage"),
    "active": N_("Active stage"),
    "pending": N_("Stage not started"),
}
# Where qualifying a lead lands (the opportunity, else the account or contact it created).
QUALIFIED_NOTICES = {
    "opportunities": N_("The lead was qualified and this opportunity was created from it. The lead's notes and "
                        "attachments are in the timeline."),
    "accounts": N_("The lead was qualified and this account was created from it. The lead's notes and "
                   "attachments are in the timeline."),
    "contacts": N_("The lead was qualified and this contact was created from it. The lead's notes and "
                   "attachments are in the timeline."),
}
NOTICES = {
    "created": N_("The record was created."),
    "saved": N_("Your changes were saved."),
    "note": N_("The note was added."),
    "stage": N_("The process moved to another stage."),
    "deleted": N_("The record was deleted."),
}


async def _posted_form(request: Request) -> AsyncIterator[FormData]:
    """The posted form (urlencoded or multipart); uploaded files are closed after the response."""
    form = await request.form()
    try:
        yield form
    finally:
        await form.close()


PostedForm = Annotated[FormData, Depends(_posted_form)]


def _record_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _not_found(kind: RecordKind, raw_id: str) -> NotFound:
    label = kind.singular.lower()
    return NotFound(f"No {label} has the id {raw_id}.", code=f"{label}_not_found")


def _refused_page(request: Request, session: WebSession, kind: RecordKind, error: LeadflowError) -> Response:
    """A record the user cannot open: 404 when it does not exist, 403 when they may not read it."""
    return render(
        request,
        session,
        "records/refused.html",
        status_code=status_for(error),
        kind=kind,
        refusal=refusal(error, language=session.language),
    )


def _version(form: FormData) -> int | None:
    raw = form.get("row_version")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def _can_create(session: WebSession, table: str) -> bool:
    return session.actor.depth(table, Privilege.CREATE) is not Depth.NONE


# ---------------------------------------------------------------------------------------------- lists


def _list(request: Request, session: WebSession, kind: RecordKind) -> Response:
    spec = LISTS[kind.path]
    params = request.query_params
    q = params.get("q", "")[:200]
    failure: Refusal | None = None
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            page = list_page(
                uow.session, spec, actor=session.actor, q=q, sort=params.get("sort"),
                after=params.get("after") or None, before=params.get("before") or None,
            )
        except LeadflowError as error:
            failure = refusal(error, language=session.language)
            page = list_page(uow.session, spec, actor=session.actor, q=q, sort=params.get("sort"))
        rows = rows_of(uow.session, spec, page.items, actor=session.actor)

    def link(**changes: str | None) -> str:
        query = {"q": q or None, "sort": page.sort, **changes}
        return f"/{kind.path}?" + urlencode({k: v for k, v in query.items() if v})

    def sort_link(key: str) -> str:
        return link(sort=f"-{key}" if page.sort == key else key)

    return render(
        request,
        session,
        "records/list.html",
        status_code=_list_status(failure),
        kind=kind,
        spec=spec,
        rows=rows,
        page=page,
        q=q,
        refusal=failure,
        notice=NOTICES.get(params.get("notice", "")),
        can_create=_can_create(session, kind.path),
        sort_link=sort_link,
        next_link=link(after=page.next_cursor) if page.next_cursor else None,
        previous_link=link(before=page.previous_cursor) if page.previous_cursor else None,
    )


def _list_status(failure: Refusal | None) -> int:
    return 200 if failure is None else 422


# ---------------------------------------------------------------------------------------------- record pages


@dataclass
class TimelineEntry:
    note: Note
    author: str
    from_lead: bool
    download: str | None


def _timeline(uow: UnitOfWork, session: WebSession, kind: RecordKind, record: Any) -> list[TimelineEntry]:
    notes = timeline(RegardingTable(kind.path), record.id, uow=uow, actor=session.actor)
    authors = {
        user_id: name
        for user_id, name in uow.session.execute(
            select(User.id, User.full_name).where(User.id.in_({n.created_by_id for n in notes if n.created_by_id}))
        )
    }
    return [
        TimelineEntry(
            note=note,
            author=authors.get(note.created_by_id, "") if note.created_by_id else "",
            from_lead=note.regarding_table is RegardingTable.LEADS,
            download=f"/{kind.path}/{record.id}/notes/{note.id}/attachment" if note.file_name else None,
        )
        for note in notes
    ]


def _readable(uow: UnitOfWork, session: WebSession, statement: Any, model: type) -> list[Any]:
    condition = access_condition(session.actor, Privilege.READ, model.__tablename__, model)
    return list(uow.session.scalars(statement.where(condition).limit(RELATED_LIMIT)))


def _opportunities_of(record_id: uuid.UUID, parent_column: Any, customer_kind: CustomerKind) -> Any:
    """The opportunities whose parent, or whose potential customer, is this account or contact, newest first."""
    return (
        select(Opportunity)
        .where(
            or_(
                parent_column == record_id,
                and_(Opportunity.customer_kind == customer_kind, Opportunity.customer_id == record_id),
            )
        )
        .order_by(Opportunity.created_at.desc(), Opportunity.id)
    )


def _related(uow: UnitOfWork, session: WebSession, kind: RecordKind, record: Any) -> dict[str, Any]:
    """The records shown beside this one: an account's contacts and opportunities, a contact's account..."""
    db = uow.session
    actor = session.actor
    related: dict[str, Any] = {}
    if kind is ACCOUNTS:
        related["contacts"] = _readable(
            uow, session, select(Contact).where(Contact.account_id == record.id).order_by(Contact.full_name, Contact.id), Contact
        )
        related["opportunities"] = _readable(
            uow, session, _opportunities_of(record.id, Opportunity.parent_account_id, CustomerKind.ACCOUNT), Opportunity
        )
        related["primary_contact"] = readable_names(db, actor, Contact, [record.primary_contact_id])
    elif kind is CONTACTS:
        related["account"] = readable_names(db, actor, Account, [record.account_id])
        related["opportunities"] = _readable(
            uow, session, _opportunities_of(record.id, Opportunity.parent_contact_id, CustomerKind.CONTACT), Opportunity
        )
    else:
        customer_model = Account if record.customer_kind is CustomerKind.ACCOUNT else Contact
        customer_name = readable_names(db, actor, customer_model, [record.customer_id]).get(record.customer_id)
        related["customer"] = (
            (customer_name, f"/{customer_model.__tablename__}/{record.customer_id}") if customer_name else None
        )
        account = readable_names(db, actor, Account, [record.parent_account_id]).get(record.parent_account_id)
        contact = readable_names(db, actor, Contact, [record.parent_contact_id]).get(record.parent_contact_id)
        related["parent_account"] = (account, f"/accounts/{record.parent_account_id}") if account else None
        related["parent_contact"] = (contact, f"/contacts/{record.parent_contact_id}") if contact else None
        campaign = db.get(Campaign, record.campaign_id) if record.campaign_id else None
        related["campaign"] = campaign.name if campaign else None
    related["lead"] = _originating_lead(uow, session, record)
    if "opportunities" in related:
        codes = dict(db.execute(select(Currency.id, Currency.iso_code)).all())
        related["currency_codes"] = codes
    return related


def _originating_lead(uow: UnitOfWork, session: WebSession, record: Any) -> dict[str, Any] | None:
    """The lead a record came from: a link when the user may read it, a plain mention otherwise."""
    if not record.originating_lead_id:
        return None
    lead = uow.session.get(Lead, record.originating_lead_id)
    if lead is None:
        return None
    if not can(uow.session, session.actor, Privilege.READ, "leads", lead):
        return {"name": None, "href": None}
    return {"name": f"{lead.full_name} · {lead.topic}", "href": f"/leads/{lead.id}"}


def _record_page(
    request: Request,
    session: WebSession,
    kind: RecordKind,
    record_id: uuid.UUID,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    note_failure: Refusal | None = None,
    note_values: dict[str, str] | None = None,
    notice: str | None = None,
    form_version: int | None = None,
) -> Response:
    """The record's page: its form (with the given input and refusal), related records, process and timeline.

    A refused form keeps the row version its input was based on (``form_version``), so saving it
    again stays refused until the user reloads the record: a stale form never overwrites a newer one.
    """
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            record = get_accessible(
                uow.session, kind.model, record_id, label=kind.singular.lower(), actor=session.actor,
                privilege=Privilege.READ,
            )
        except LeadflowError as error:
            return _refused_page(request, session, kind, error)
        actor = session.actor
        stored = form_values(kind, record, session=uow.session, language=session.language)
        shown = {**stored, **(values or {})}
        context: dict[str, Any] = {
            "kind": kind,
            "record": record,
            "title": kind.display_name(record),
            "form_version": form_version or record.row_version,
            "values": shown,
            "options": option_lists(
                kind, session=uow.session, actor=actor, record=record, values=shown, language=session.language
            ),
            "refusal": failure,
            "field_errors": failure.fields if failure else {},
            "note_refusal": note_failure,
            "note_values": note_values or {"title": "", "body": ""},
            "notice": notice,
            "creating": False,
            "can_write": can(uow.session, actor, Privilege.WRITE, kind.path, record),
            "can_delete": can(uow.session, actor, Privilege.DELETE, kind.path, record),
            "can_append": can(uow.session, actor, Privilege.APPEND_TO, kind.path, record),
            "related": _related(uow, session, kind, record),
            "timeline": _timeline(uow, session, kind, record),
            "owner": owner_names(uow.session, [record]).get(record.owner_user_id or record.owner_team_id, ""),
            "max_attachment_bytes": request.app.state.settings.max_attachment_bytes,
            "process": opportunity_process(record.id, uow=uow, actor=actor) if kind is OPPORTUNITIES else None,
        }
    return render(request, session, "records/record.html", status_code=status_code, **context, **_labels())


def _labels() -> dict[str, Any]:
    return {
        "stage_labels": STAGE_LABELS,
        "step_labels": STEP_LABELS,
        "step_fields": STEP_FIELDS,
        "choice_labels": CHOICE_LABELS,
        "decision_maker_labels": DECISION_LABELS,
        "record_paths": RECORD_PATHS,
        "stage_status_labels": STAGE_STATUS_LABELS,
    }


def _new_page(
    request: Request,
    session: WebSession,
    kind: RecordKind,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    with database_of(request).unit_of_work(read_only=True) as uow:
        defaults = {item.name: "" for item in kind.fields(creating=True)}
        defaults["owner_user_id"] = str(session.actor.user_id)
        if kind is OPPORTUNITIES:
            settings = get_settings(uow.session)
            base = uow.session.get(Currency, settings.base_currency_id) if settings.base_currency_id else None
            defaults["currency"] = base.iso_code if base else ""
        shown = values if values is not None else defaults
        options = option_lists(
            kind, session=uow.session, actor=session.actor, record=None, values=shown, language=session.language
        )
    return render(
        request,
        session,
        "records/record.html",
        status_code=status_code,
        kind=kind,
        record=None,
        title=gettext(session.language, kind.new_title),
        values=shown,
        options=options,
        refusal=failure,
        field_errors=failure.fields if failure else {},
        notice=None,
        creating=True,
        can_write=_can_create(session, kind.path),
        can_delete=False,
        can_append=False,
        related={},
        timeline=[],
        process=None,
        note_refusal=None,
        note_values={"title": "", "body": ""},
        owner="",
        max_attachment_bytes=request.app.state.settings.max_attachment_bytes,
        **_labels(),
    )


# ---------------------------------------------------------------------------------------------- uploads




# ---------------------------------------------------------------------------------------------- routes


def _register(kind: RecordKind) -> None:
    """The list, new, record, delete, note and attachment routes of one table."""
    path = kind.path
    create, update, delete = SERVICES[path]
    table = RegardingTable(path)

    @router.get(f"/{path}", name=f"{path}_list")
    def list_records(request: Request, session: WebSessionDep) -> Response:
        """The readable records of the table, searched, sorted and paged."""
        return _list(request, session, kind)

    @router.get(f"/{path}/new", name=f"{path}_new")
    def new_record(request: Request, session: WebSessionDep) -> Response:
        """An empty form for a new record."""
        return _new_page(request, session, kind)

    @router.post(f"/{path}/new", name=f"{path}_create")
    def create_record(request: Request, session: WebSessionDep, form: PostedForm) -> Response:
        """Create the record from the form; the form again, with the refusal, when refused."""
        verify_csrf(session, form.get("csrf_token"))  # type: ignore[arg-type]
        posted = posted_values(kind, form, creating=True)
        suppress = form.get("suppress_duplicates") == "1"
        try:
            data = parse(kind.create_schema, service_input(kind, posted, creating=True, language=session.language))
            with database_of(request).unit_of_work() as uow:
                record = create(data, uow=uow, actor=session.actor, suppress_duplicates=suppress)
                uow.commit()
        except LeadflowError as error:
            return _new_page(
                request, session, kind, values=posted, failure=refusal(error, language=session.language),
                status_code=status_for(error),
            )
        return redirect(f"/{path}/{record.id}?notice=created")

    @router.get(f"/{path}/{{record_id}}", name=f"{path}_record")
    def show_record(request: Request, record_id: str, session: WebSessionDep) -> Response:
        """The record's page."""
        parsed = _record_id(record_id)
        if parsed is None:
            return _refused_page(request, session, kind, _not_found(kind, record_id))
        notice = NOTICES.get(request.query_params.get("notice", ""))
        if request.query_params.get("qualified") == "1":
            notice = QUALIFIED_NOTICES[path]
        return _record_page(request, session, kind, parsed, notice=notice)

    @router.post(f"/{path}/{{record_id}}", name=f"{path}_save")
    def save_record(request: Request, record_id: str, session: WebSessionDep, form: PostedForm) -> Response:
        """Save the changed fields, refused when the record changed since the form was loaded."""
        verify_csrf(session, form.get("csrf_token"))  # type: ignore[arg-type]
        parsed = _record_id(record_id)
        if parsed is None:
            return _refused_page(request, session, kind, _not_found(kind, record_id))
        posted = posted_values(kind, form, creating=False)
        suppress = form.get("suppress_duplicates") == "1"
        try:
            with database_of(request).unit_of_work() as uow:
                current = uow.session.get(kind.model, parsed)
                initial = form_values(kind, current, session=uow.session, language=session.language) if current else {}
                changes = parse(
                    kind.update_schema,
                    service_input(kind, posted, creating=False, language=session.language, initial=initial),
                )
                update(
                    parsed, changes, uow=uow, actor=session.actor, expected_version=_version(form),
                    suppress_duplicates=suppress,
                )
                uow.commit()
        except LeadflowError as error:
            return _record_page(
                request, session, kind, parsed, status_code=status_for(error), values=posted,
                failure=refusal(error, language=session.language), form_version=_version(form),
            )
        return redirect(f"/{path}/{parsed}?notice=saved")

    @router.get(f"/{path}/{{record_id}}/delete", name=f"{path}_confirm_delete")
    def confirm_delete(request: Request, record_id: str, session: WebSessionDep) -> Response:
        """The delete confirmation (the page's dialog does the same with JavaScript)."""
        return _delete_page(request, session, kind, record_id, version=request.query_params.get("row_version"))

    @router.post(f"/{path}/{{record_id}}/delete", name=f"{path}_delete")
    def delete_record(request: Request, record_id: str, session: WebSessionDep, form: PostedForm) -> Response:
        """Delete the record (and its notes); refused when it changed since the page was loaded."""
        verify_csrf(session, form.get("csrf_token"))  # type: ignore[arg-type]
        parsed = _record_id(record_id)
        if parsed is None:
            return _refused_page(request, session, kind, _not_found(kind, record_id))
        try:
            with database_of(request).unit_of_work() as uow:
                delete(parsed, uow=uow, actor=session.actor, expected_version=_version(form))
                uow.commit()
        except LeadflowError as error:
            return _delete_page(
                request, session, kind, record_id, failure=refusal(error, language=session.language),
                status_code=status_for(error), version=str(_version(form) or ""),
            )
        return redirect(f"/{path}?notice=deleted")

    @router.post(f"/{path}/{{record_id}}/notes", name=f"{path}_add_note")
    def add_record_note(request: Request, record_id: str, session: WebSessionDep, form: PostedForm) -> Response:
        """Add a note, with an optional attached file, to the record."""
        verify_csrf(session, form.get("csrf_token"))  # type: ignore[arg-type]
        parsed = _record_id(record_id)
        if parsed is None:
            return _refused_page(request, session, kind, _not_found(kind, record_id))
        title = str(form.get("title") or "").strip()[:500]
        body = str(form.get("body") or "").strip()
        upload = form.get("file")
        limit = request.app.state.settings.max_attachment_bytes
        try:
            attachment = None
            if isinstance(upload, UploadFile) and upload.filename:
                attachment = AttachmentUpload(
                    file_name=upload.filename,
                    mime_type=upload.content_type or "application/octet-stream",
                    content=read_upload(upload, limit),
                )
            with database_of(request).unit_of_work() as uow:
                add_note(
                    table, parsed, title=title or None, body=body or None, attachment=attachment,
                    max_attachment_bytes=limit, uow=uow, actor=session.actor,
                )
                uow.commit()
        except LeadflowError as error:
            return _record_page(
                request, session, kind, parsed, status_code=status_for(error),
                note_failure=refusal(error, language=session.language), note_values={"title": title, "body": body},
            )
        return redirect(f"/{path}/{parsed}?notice=note#timeline")

    @router.get(f"/{path}/{{record_id}}/notes/{{note_id}}/attachment", name=f"{path}_attachment")
    def download_attachment(request: Request, record_id: str, note_id: str, session: WebSessionDep) -> Response:
        """Download an attachment of the record's timeline (its own notes or its originating lead's)."""
        parsed, note = _record_id(record_id), _record_id(note_id)
        if parsed is None or note is None:
            return _refused_page(request, session, kind, _not_found(kind, record_id))
        with database_of(request).unit_of_work(read_only=True) as uow:
            try:
                # A note is downloadable from a page when it is on that page's timeline.
                shown = {n.id: n for n in timeline(table, parsed, uow=uow, actor=session.actor)}
                if note not in shown:
                    raise NotFound(f"No note has the id {note} on this record.", code="note_not_found")
                found, content = get_attachment(
                    shown[note].regarding_table, shown[note].regarding_id, note, uow=uow, actor=session.actor
                )
            except LeadflowError as error:
                return _refused_page(request, session, kind, error)
        return attachment_response(found, content, {"Cache-Control": "no-store"})


def _delete_page(
    request: Request,
    session: WebSession,
    kind: RecordKind,
    record_id: str,
    *,
    failure: Refusal | None = None,
    status_code: int = 200,
    version: str | None = None,
) -> Response:
    """The delete confirmation; it deletes the version the user saw on the record's page, when known."""
    parsed = _record_id(record_id)
    if parsed is None:
        return _refused_page(request, session, kind, _not_found(kind, record_id))
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            record = get_accessible(
                uow.session, kind.model, parsed, label=kind.singular.lower(), actor=session.actor, privilege=Privilege.READ
            )
        except LeadflowError as error:
            return _refused_page(request, session, kind, error)
    return render(
        request,
        session,
        "records/delete.html",
        status_code=status_code,
        kind=kind,
        record=record,
        title=kind.display_name(record),
        refusal=failure,
        row_version=version if version and version.isdigit() else str(record.row_version),
    )


for _kind in KINDS.values():
    _register(_kind)


@router.post("/opportunities/{record_id}/process/{direction}", name="opportunities_move_stage")
def move_opportunity_stage(
    request: Request, record_id: str, direction: str, session: WebSessionDep, form: PostedForm
) -> Response:
    """Move the opportunity's sales process to the next or the previous stage (§7)."""
    verify_csrf(session, form.get("csrf_token"))  # type: ignore[arg-type]
    parsed = _record_id(record_id)
    if parsed is None or direction not in ("next-stage", "previous-stage"):
        return _refused_page(request, session, OPPORTUNITIES, _not_found(OPPORTUNITIES, record_id))
    try:
        with database_of(request).unit_of_work() as uow:
            move_stage(parsed, forward=direction == "next-stage", uow=uow, actor=session.actor)
            uow.commit()
    except LeadflowError as error:
        return _record_page(
            request, session, OPPORTUNITIES, parsed, status_code=status_for(error),
            failure=refusal(error, language=session.language),
        )
    return redirect(f"/opportunities/{parsed}?notice=stage#process")
