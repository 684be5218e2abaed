"""Accounts, contacts and opportunities: lists, record forms, notes and attachments, the opportunity's process.

The routes translate forms into the calls the REST API makes (the services of leadflow.customers,
leadflow.opportunities, leadflow.activities and leadflow.process) and render the result; the record's
page itself is drawn by ``records_page``. A refusal is shown on the page with the user's input kept; a
record the user may not read is a 404 or 403 page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import get_attachment, timeline
from leadflow.core.errors import LeadflowError, NotFound, ValidationFailed
from leadflow.core.paging import encode_cursor
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.customers import service as customers
from leadflow.fields import saved_views
from leadflow.fields.filters import Condition, condition_sql
from leadflow.fields.storage import SORTABLE_KINDS
from leadflow.fields.values import as_text
from leadflow.http.downloads import attachment_response
from leadflow.http.errors import status_for
from leadflow.opportunities import service as opportunities
from leadflow.process.flow import move_stage
from leadflow.web import custom_values
from leadflow.web.areas import saved_views as saved_view_pages
from leadflow.web.areas.records_forms import KINDS, OPPORTUNITIES, RecordKind, form_values, posted_values, service_input
from leadflow.web.areas.records_lists import LISTS, PAGE_SIZE, Cell, Column, ListSpec, Page, list_page, rows_of
from leadflow.web.areas.records_page import can_create, new_page, readable_record, record_page, refused_page
from leadflow.web.forms import FormDep, Refusal, id_in_path, parse_version, refusal, refusal_text
from leadflow.web.i18n import N_
from leadflow.web.notes import PostedNote, note_refusal_text, save_note
from leadflow.web.pages import (
    Endpoint,
    WebSession,
    WebSessionDep,
    committed,
    database_of,
    redirect,
    refusals_shown_by,
    render,
)
from leadflow.web.timeline import NOTICES as TIMELINE_NOTICES
from leadflow.web.timeline import QuickForm, TimelineQuery, register_routes

router = APIRouter()

# Create, update and delete of each table; the functions differ in their record's type only.
SERVICES: dict[str, tuple[Any, Any, Any]] = {
    "accounts": (customers.create_account, customers.update_account, customers.delete_account),
    "contacts": (customers.create_contact, customers.update_contact, customers.delete_contact),
    "opportunities": (
        opportunities.create_opportunity,
        opportunities.update_opportunity,
        opportunities.delete_opportunity,
    ),
}
# Where qualifying a lead lands (the opportunity, else the account or contact it created).
QUALIFIED_NOTICES = {
    "opportunities": N_(
        "The lead was qualified and this opportunity was created from it. The lead's notes and "
        "attachments are in the timeline."
    ),
    "accounts": N_(
        "The lead was qualified and this account was created from it. The lead's notes and "
        "attachments are in the timeline."
    ),
    "contacts": N_(
        "The lead was qualified and this contact was created from it. The lead's notes and "
        "attachments are in the timeline."
    ),
}
NOTICES = {
    "created": N_("The record was created."),
    "saved": N_("Your changes were saved."),
    "note": N_("The note was added."),
    "stage": N_("The process moved to another stage."),
    "deleted": N_("The record was deleted."),
    "won": N_("The opportunity was closed as won."),
    "lost": N_("The opportunity was closed as lost."),
    "reopened": N_("The opportunity was reopened: it is open and in progress again."),
    "competitor_added": N_("The competitor was added to the opportunity."),
    "competitor_removed": N_("The competitor was removed from the opportunity."),
    "products": N_("The opportunity's products and totals were updated."),
    **TIMELINE_NOTICES,
}


def _record_route(kind: RecordKind) -> Callable[[Endpoint], Endpoint]:
    """A page of one record: a refusal the endpoint leaves unhandled (a malformed or unknown id, no
    privilege to read) is the record's 404 or 403 page."""
    return refusals_shown_by(lambda request, session, error: refused_page(request, session, kind, error))


def _record_id(kind: RecordKind, raw: str) -> uuid.UUID:
    return id_in_path(raw, record=kind.singular.lower())


# ---------------------------------------------------------------------------------------------- lists


# The list's sort keys (leadflow.web.areas.records_lists.LISTS) and columns as a saved view names them:
# the table's fields. A view's sort or columns naming another field are applied as named.
SORT_FIELDS = {
    "accounts": {"name": "name", "city": "address_city", "created_at": "created_at"},
    "contacts": {"name": "full_name", "email": "email", "created_at": "created_at"},
    "opportunities": {
        "name": "name",
        "estimated_revenue": "estimated_revenue",
        "estimated_close_date": "estimated_close_date",
        "created_at": "created_at",
    },
}
COLUMN_FIELDS = {
    "accounts": {
        "name": "name",
        "telephone": "telephone",
        "email": "email",
        "city": "address_city",
        "owner": "owner_user_id",
        "created_at": "created_at",
    },
    "contacts": {
        "name": "full_name",
        "email": "email",
        "business_phone": "business_phone",
        "account": "account_id",
        "city": "address_city",
        "owner": "owner_user_id",
        "created_at": "created_at",
    },
    "opportunities": {
        "name": "name",
        "customer": "customer_id",
        "estimated_revenue": "estimated_revenue",
        "estimated_close_date": "estimated_close_date",
        "stage": "process_stage",
        "state": "state",
        "owner": "owner_user_id",
        "created_at": "created_at",
    },
}
# The field a search looks in when a saved view lists the records (a view's filters all hold at once).
SEARCH_FIELDS = {"accounts": "name", "contacts": "full_name", "opportunities": "name"}


def _field_sort(table: str, sort: str) -> str:
    """A list's sort as the saved views' service names it (a field of the table, or ``custom.<name>``)."""
    key = sort.lstrip("-+ ")
    return ("-" if sort.startswith("-") else "") + SORT_FIELDS[table].get(key, key)


def _list_sort(table: str, sort: str) -> str:
    """A saved view's sort as the list's sort links name it."""
    key = sort.lstrip("-+ ")
    keys = {name: key for key, name in SORT_FIELDS[table].items()}
    return ("-" if sort.startswith("-") else "") + keys.get(key, key)


def _shown_columns(spec: ListSpec, chosen: list[str]) -> list[Column]:
    """The list's built-in columns a view shows: all when it names none of them; the name always (it links
    to the record)."""
    fields = COLUMN_FIELDS[spec.table]
    wanted = set(chosen)
    if not wanted & set(fields.values()):
        return list(spec.columns)
    return [column for column in spec.columns if column.key == "name" or fields.get(column.key) in wanted]


def _cursor_at(uow: UnitOfWork, table: str, sort: str, record: Any) -> str:
    """The keyset cursor just at this record in a list sorted by ``sort``."""
    return encode_cursor(saved_views.sort_value(uow.session, table, sort.lstrip("-+ "))(record), record.id)


def _view_page(
    uow: UnitOfWork,
    session: WebSession,
    table: str,
    conditions: tuple[Condition, ...],
    sort: str,
    *,
    after: str | None,
    before: str | None,
) -> tuple[list[Any], str | None, str | None]:
    """One page of the records a saved view (or a sort on a custom field) lists, as the REST API pages
    them, and the cursors of the next and previous pages (None when there is none)."""

    def page_of(order: str, cursor: str | None) -> Any:
        return saved_views.list_page(
            table, uow=uow, actor=session.actor, conditions=conditions, sort=order, limit=PAGE_SIZE, cursor=cursor
        )

    if before and not after:
        back = page_of(sort[1:] if sort.startswith("-") else f"-{sort}", before)
        if back.next_cursor is None:  # back at the start: the first page, full
            first = page_of(sort, None)
            return first.items, first.next_cursor, None
        items = list(reversed(back.items))
        return items, _cursor_at(uow, table, sort, items[-1]), back.next_cursor
    page = page_of(sort, after)
    previous = _cursor_at(uow, table, sort, page.items[0]) if after and page.items else None
    return page.items, page.next_cursor, previous


def _conditions_hold(uow: UnitOfWork, table: str, conditions: tuple[Condition, ...]) -> bool:
    try:
        for condition in conditions:
            condition_sql(uow.session, table, condition)
    except ValidationFailed:
        return False
    return True


def _list(request: Request, session: WebSession, kind: RecordKind) -> Response:
    spec = LISTS[kind.path]
    table = kind.path
    language = session.language
    params = request.query_params
    q = params.get("q", "")[:200]
    asked_view = params.get("view_id", "")[:100]
    # A saved view (picked, else the user's default) filters, sorts and chooses the columns.
    picked = saved_view_pages.picked_view(request, session, table, view_id=asked_view, asked=False)
    problems = list(picked.problems)
    sort = params.get("sort") or (_list_sort(table, picked.sort) if picked.id and picked.sort else "")
    after, before = params.get("after") or None, params.get("before") or None
    failure: Refusal | None = None
    page: Page | None = None
    with database_of(request).unit_of_work(read_only=True) as uow:
        if picked.id or sort.lstrip("-+ ").startswith("custom."):
            conditions = picked.conditions
            search = (Condition(SEARCH_FIELDS[table], "contains", q.strip()),) if q.strip() else ()
            sort = sort or spec.default_sort
            for _attempt in range(4):
                try:
                    items, next_cursor, previous_cursor = _view_page(
                        uow,
                        session,
                        table,
                        (*conditions, *search),
                        _field_sort(table, sort),
                        after=after,
                        before=before,
                    )
                except ValidationFailed as refused:
                    text = refusal_text(language, refused)
                    if text not in problems:
                        problems.append(text)
                    if refused.code != "invalid_cursor":
                        if conditions and not _conditions_hold(uow, table, conditions):
                            conditions = ()  # a saved view's filter that no longer holds (a field hidden since)
                        else:
                            sort = spec.default_sort
                    after = before = None
                    continue
                page = Page(items, next_cursor, previous_cursor, sort)
                break
        if page is None:
            try:
                page = list_page(
                    uow.session, spec, actor=session.actor, q=q, sort=sort or None, after=after, before=before
                )
            except LeadflowError as error:
                failure = refusal(language, error)
                page = list_page(uow.session, spec, actor=session.actor, q=q, sort=sort or None)
        rows = rows_of(uow.session, spec, page.items, actor=session.actor)
        custom_fields = saved_view_pages.list_custom_fields(uow.session, table, picked)
        for row, record in zip(rows, page.items, strict=True):
            stored = record.custom or {}
            for item in custom_fields:
                row[f"custom.{item.name}"] = Cell("text", as_text(item, stored.get(item.name), language))
    columns = [
        *_shown_columns(spec, picked.columns),
        *(
            Column(
                f"custom.{item.name}",
                item.label(language),
                sort=f"custom.{item.name}" if item.kind in SORTABLE_KINDS else None,
                optional=True,
            )
            for item in custom_fields
        ),
    ]
    # The links keep the picked view; "none" keeps the list without the user's default view.
    link_view = picked.id or ("none" if asked_view else "")
    shown_sort = page.sort

    def link(**changes: str | None) -> str:
        query = {"view_id": link_view or None, "q": q or None, "sort": shown_sort, **changes}
        return f"/{kind.path}?" + urlencode({k: v for k, v in query.items() if v})

    def sort_link(key: str) -> str:
        return link(sort=f"-{key}" if shown_sort == key else key)

    return render(
        request,
        session,
        "records/list.html",
        status_code=200 if failure is None else 422,
        kind=kind,
        spec=spec,
        columns=columns,
        rows=rows,
        page=page,
        q=q,
        refusal=failure,
        problems=problems,
        notice=NOTICES.get(params.get("notice", "")),
        can_create=can_create(session, kind.path),
        sort_link=sort_link,
        clear_link=link(q=None),
        next_link=link(after=page.next_cursor) if page.next_cursor else None,
        previous_link=link(before=page.previous_cursor) if page.previous_cursor else None,
        saved_views=picked.choices,
        saved_view_id=picked.id,
        view_name=picked.name,
        groups=picked.groups,
        link_view=link_view,
        views_url=f"{saved_view_pages.VIEWS_PAGE}?{urlencode({'table': table})}",
    )


def _delete_page(
    request: Request,
    session: WebSession,
    kind: RecordKind,
    record_id: uuid.UUID,
    *,
    failure: Refusal | None = None,
    status_code: int = 200,
    version: int | None = None,
) -> Response:
    """The delete confirmation; it deletes the version the user saw on the record's page, when known."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        record = readable_record(uow, session, kind, record_id)
    return render(
        request,
        session,
        "records/delete.html",
        status_code=status_code,
        kind=kind,
        record=record,
        title=kind.display_name(record),
        refusal=failure,
        row_version=version if version is not None and version >= 0 else record.row_version,
    )


# ---------------------------------------------------------------------------------------------- routes


def _register(kind: RecordKind) -> None:
    """The list, new, record, delete, note and attachment routes of one table."""
    path = kind.path
    create, update, delete = SERVICES[path]
    table = RegardingTable(path)
    record_route = _record_route(kind)

    @router.get(f"/{path}", name=f"{path}_list")
    def list_records(request: Request, session: WebSessionDep) -> Response:
        """The readable records of the table, searched, sorted and paged."""
        return _list(request, session, kind)

    @router.get(f"/{path}/new", name=f"{path}_new")
    def new_record(request: Request, session: WebSessionDep) -> Response:
        """An empty form for a new record."""
        return new_page(request, session, kind)

    @router.post(f"/{path}/new", name=f"{path}_create")
    def create_record(request: Request, session: WebSessionDep, form: FormDep) -> Response:
        """Create the record from the form; the form again, with the refusal, when refused."""
        posted: dict[str, Any] = dict(posted_values(kind, form, creating=True))
        suppress = form.get("suppress_duplicates") == "1"
        try:
            with database_of(request).unit_of_work() as uow:
                posted_custom = custom_values.posted_values(uow.session, path, form)
                posted.update(posted_custom)
                data = service_input(kind, posted, creating=True, language=session.language)
                custom = custom_values.service_custom(
                    uow.session, path, posted_custom, language=session.language, zone=session.time_zone
                )
                if custom:
                    data["custom"] = custom
                record = create(
                    parse(kind.create_schema, data), uow=uow, actor=session.actor, suppress_duplicates=suppress
                )
                uow.commit()
        except LeadflowError as error:
            return new_page(
                request,
                session,
                kind,
                values=posted,
                failure=refusal(session.language, error),
                status_code=status_for(error),
            )
        return redirect(f"/{path}/{record.id}?notice=created")

    @router.get(f"/{path}/{{record_id}}", name=f"{path}_record")
    @record_route
    def show_record(request: Request, record_id: str, session: WebSessionDep) -> Response:
        """The record's page."""
        notice = NOTICES.get(request.query_params.get("notice", ""))
        if request.query_params.get("qualified") == "1":
            notice = QUALIFIED_NOTICES[path]
        return record_page(
            request,
            session,
            kind,
            _record_id(kind, record_id),
            notice=notice,
            timeline_query=TimelineQuery.of(request.query_params),
        )

    @router.post(f"/{path}/{{record_id}}", name=f"{path}_save")
    @record_route
    def save_record(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
        """Save the changed fields, refused when the record changed since the form was loaded."""
        parsed = _record_id(kind, record_id)
        posted: dict[str, Any] = dict(posted_values(kind, form, creating=False))
        suppress = form.get("suppress_duplicates") == "1"
        version = parse_version(form.get("row_version"))
        try:
            with database_of(request).unit_of_work() as uow:
                current = uow.session.get(kind.model, parsed)
                initial = form_values(kind, current, session=uow.session, language=session.language) if current else {}
                data = service_input(kind, posted, creating=False, language=session.language, initial=initial)
                posted_custom = custom_values.posted_values(uow.session, path, form)
                posted.update(posted_custom)
                custom = custom_values.service_custom(
                    uow.session,
                    path,
                    posted_custom,
                    language=session.language,
                    zone=session.time_zone,
                    initial=custom_values.form_values(
                        uow.session,
                        path,
                        current.custom if current is not None else {},
                        language=session.language,
                        zone=session.time_zone,
                    ),
                )
                if custom:
                    data["custom"] = custom
                changes = parse(kind.update_schema, data)
                update(
                    parsed,
                    changes,
                    uow=uow,
                    actor=session.actor,
                    expected_version=version,
                    suppress_duplicates=suppress,
                )
                uow.commit()
        except LeadflowError as error:
            return record_page(
                request,
                session,
                kind,
                parsed,
                status_code=status_for(error),
                values=posted,
                failure=refusal(session.language, error),
                form_version=version,
            )
        return redirect(f"/{path}/{parsed}?notice=saved")

    @router.get(f"/{path}/{{record_id}}/delete", name=f"{path}_confirm_delete")
    @record_route
    def confirm_delete(request: Request, record_id: str, session: WebSessionDep) -> Response:
        """The delete confirmation (the page's dialog does the same with JavaScript)."""
        parsed = _record_id(kind, record_id)
        return _delete_page(
            request, session, kind, parsed, version=parse_version(request.query_params.get("row_version"))
        )

    @router.post(f"/{path}/{{record_id}}/delete", name=f"{path}_delete")
    @record_route
    def delete_record(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
        """Delete the record (and its notes); refused when it changed since the page was loaded."""
        version = parse_version(form.get("row_version"))
        parsed = _record_id(kind, record_id)
        try:
            committed(request, lambda uow: delete(parsed, uow=uow, actor=session.actor, expected_version=version))
        except LeadflowError as error:
            return _delete_page(
                request,
                session,
                kind,
                parsed,
                failure=refusal(session.language, error),
                status_code=status_for(error),
                version=version,
            )
        return redirect(f"/{path}?notice=deleted")

    @router.post(f"/{path}/{{record_id}}/notes", name=f"{path}_add_note")
    @record_route
    def add_record_note(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
        """Add a note, with an optional attached file, to the record."""
        parsed = _record_id(kind, record_id)
        note = PostedNote.of(form)
        try:
            save_note(request, session, table, parsed, note, form.get("file"))
        except LeadflowError as error:
            message = note_refusal_text(request, session.language, error)
            return record_page(
                request,
                session,
                kind,
                parsed,
                status_code=status_for(error),
                note_failure=Refusal(message, error.code),
                note_values=note,
            )
        return redirect(f"/{path}/{parsed}?notice=note#timeline")

    @router.get(f"/{path}/{{record_id}}/notes/{{note_id}}/attachment", name=f"{path}_attachment")
    @record_route
    def download_attachment(request: Request, record_id: str, note_id: str, session: WebSessionDep) -> Response:
        """Download an attachment of the record's timeline (its own notes or its originating lead's)."""
        parsed, note = _record_id(kind, record_id), id_in_path(note_id, record="note")
        with database_of(request).unit_of_work(read_only=True) as uow:
            # A note is downloadable from a page when it is on that page's timeline.
            shown = {n.id: n for n in timeline(table, parsed, uow=uow, actor=session.actor).items}
            if note not in shown:
                raise NotFound(f"No note has the id {note} on this record.", code="note_not_found")
            found, content = get_attachment(
                shown[note].regarding_table, shown[note].regarding_id, note, uow=uow, actor=session.actor
            )
        return attachment_response(found, content, {"Cache-Control": "no-store"})


def _register_timeline(kind: RecordKind) -> None:
    """The quick-create and activity state routes of one table's timeline."""

    def show_page(
        request: Request,
        session: WebSession,
        record_id: uuid.UUID,
        *,
        status_code: int,
        quick: QuickForm | None = None,
        error: LeadflowError | None = None,
    ) -> Response:
        return record_page(
            request,
            session,
            kind,
            record_id,
            status_code=status_code,
            quick=quick,
            failure=refusal(session.language, error) if error is not None else None,
        )

    register_routes(
        router,
        table=RegardingTable(kind.path),
        record_id_of=lambda raw: _record_id(kind, raw),
        show_page=show_page,
        read_record=lambda uow, session, record_id: readable_record(uow, session, kind, record_id),
        guard=_record_route(kind),
        done_parameter="notice",
    )


for _kind in KINDS.values():
    _register(_kind)
    _register_timeline(_kind)


@router.post("/opportunities/{record_id}/process/{direction}", name="opportunities_move_stage")
@_record_route(OPPORTUNITIES)
def move_opportunity_stage(
    request: Request, record_id: str, direction: str, session: WebSessionDep, form: FormDep
) -> Response:
    """Move the opportunity's sales process to the next or the previous stage (§7)."""
    parsed = _record_id(OPPORTUNITIES, record_id)
    if direction not in ("next-stage", "previous-stage"):  # no page of the opportunity has this address
        raise NotFound(f"No opportunity has the id {record_id}.", code="opportunity_not_found")
    try:
        committed(
            request, lambda uow: move_stage(parsed, forward=direction == "next-stage", uow=uow, actor=session.actor)
        )
    except LeadflowError as error:
        return record_page(
            request,
            session,
            OPPORTUNITIES,
            parsed,
            status_code=status_for(error),
            failure=refusal(session.language, error),
        )
    return redirect(f"/opportunities/{parsed}?notice=stage#process")
