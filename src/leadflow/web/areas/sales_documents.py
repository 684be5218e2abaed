"""Quotes, orders and invoices in the web app: their lists, a document's page (its header and its lines,
changed while the document is editable), and its printed forms (a PDF to download, and an HTML page to
print). The commands of their lives are in ``sales_document_commands``.

Every form posts to a route of its own; a refusal shows the document's page again with the refusal in
the user's language. The routes translate the forms into the calls the REST API makes
(``leadflow.sales.service``), which decide what may change and when; ``leadflow.sales.printing``
draws the printed forms.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote as quoted
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.catalog.schemas import LineUpdate
from leadflow.core.errors import LeadflowError
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.organisation.models import Currency
from leadflow.organisation.service import get_settings
from leadflow.sales import service as sales
from leadflow.sales.printing import document_pdf, printed_document
from leadflow.sales.schemas import QuoteCreate
from leadflow.web.areas.records_forms import PAYMENT_TERM_OPTIONS, FormField, currency_options, customer_options
from leadflow.web.areas.records_lists import list_page
from leadflow.web.areas.records_page import can_create
from leadflow.web.areas.sales_documents_page import (
    NOTICES,
    PAGES,
    QUOTES,
    DocumentPages,
    document_page,
    header_changes,
    header_values,
    list_rows,
    posted_header,
    refused_document,
)
from leadflow.web.areas.sales_lines import (
    SectionFailure,
    line_changes,
    new_line,
    posted_line,
    price_list_options,
    sales_refusal,
)
from leadflow.web.forms import FormDep, Refusal, id_in_path, parse_uuid, parse_version, refusal
from leadflow.web.i18n import N_
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
from leadflow.web.routes import _secure

router = APIRouter()


def document_route(pages: DocumentPages) -> Callable[[Endpoint], Endpoint]:
    """A page of one document: a refusal left unhandled (a malformed or unknown id, no privilege to
    read) is the document's 404 or 403 page."""
    return refusals_shown_by(lambda request, session, error: refused_document(request, session, pages, error))


def document_id(pages: DocumentPages, raw: str) -> uuid.UUID:
    """The id of a document in a URL; a malformed one names no document (404)."""
    return id_in_path(raw, record=pages.singular.lower())


def refused_form(
    request: Request,
    session: WebSession,
    pages: DocumentPages,
    record_id: uuid.UUID,
    error: LeadflowError,
    *,
    where: str,
    posted: dict[str, str] | None = None,
) -> Response:
    """The document's page again, with the refusal and what the user typed in the form refused."""
    failure = SectionFailure(where, sales_refusal(session.language, error), posted or {})
    return document_page(request, session, pages, record_id, status_code=status_for(error), failure=failure)


def landing(pages: DocumentPages, record_id: uuid.UUID, notice: str, anchor: str = "") -> Response:
    """After a form: the document's page with a word on what was done."""
    return redirect(f"/{pages.path}/{record_id}?notice={notice}{anchor}")


# ---------------------------------------------------------------------------------------------- lists


def _list(request: Request, session: WebSession, pages: DocumentPages) -> Response:
    params = request.query_params
    q = params.get("q", "")[:200]
    spec = pages.list_spec
    failure: Refusal | None = None
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            page = list_page(
                uow.session,
                spec,
                actor=session.actor,
                q=q,
                sort=params.get("sort"),
                after=params.get("after") or None,
                before=params.get("before") or None,
            )
        except LeadflowError as error:
            failure = sales_refusal(session.language, error)
            page = list_page(uow.session, spec, actor=session.actor, q=q, sort=params.get("sort"))
        rows = list_rows(uow, session, pages, page.items)

    def link(**changes: str | None) -> str:
        query = {"q": q or None, "sort": page.sort, **changes}
        return f"/{pages.path}?" + urlencode({k: v for k, v in query.items() if v})

    def sort_link(key: str) -> str:
        return link(sort=f"-{key}" if page.sort == key else key)

    return render(
        request,
        session,
        "sales/list.html",
        status_code=200 if failure is None else 422,
        pages=pages,
        spec=spec,
        rows=rows,
        page=page,
        q=q,
        refusal=failure,
        sort_link=sort_link,
        next_link=link(after=page.next_cursor) if page.next_cursor else None,
        previous_link=link(before=page.previous_cursor) if page.previous_cursor else None,
        can_create_quote=pages is QUOTES and can_create(session, QUOTES.path),
    )


# ---------------------------------------------------------------------------------------------- every kind


def _register(pages: DocumentPages) -> None:
    """The list, page, header, lines and printed forms of one kind of document."""
    path, kind = pages.path, pages.kind
    route = document_route(pages)

    @router.get(f"/{path}", name=f"{path}_list")
    def list_documents(request: Request, session: WebSessionDep) -> Response:
        """The documents of the kind the user may read, searched, sorted and paged."""
        return _list(request, session, pages)

    @router.get(f"/{path}/{{record_id}}", name=f"{path}_record")
    @route
    def show_document(request: Request, record_id: str, session: WebSessionDep) -> Response:
        """The document's page."""
        notice = NOTICES.get(request.query_params.get("notice", ""))
        return document_page(request, session, pages, document_id(pages, record_id), notice=notice)

    @router.post(f"/{path}/{{record_id}}", name=f"{path}_save")
    @route
    def save_header(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
        """Save the header's changed fields; refused when the document is read-only or changed meanwhile."""
        parsed = document_id(pages, record_id)
        posted = posted_header(pages, form)
        version = parse_version(form.get("row_version"))

        def change(uow: UnitOfWork) -> Any:
            stored = header_values(pages, sales.document(kind, parsed, uow=uow, actor=session.actor), session.language)
            changes = header_changes(pages, posted, stored, language=session.language)
            return sales.update_document(kind, parsed, changes, uow=uow, actor=session.actor, expected_version=version)

        try:
            committed(request, change)
        except LeadflowError as error:
            return refused_form(request, session, pages, parsed, error, where="header", posted=posted)
        return landing(pages, parsed, "saved")

    @router.post(f"/{path}/{{record_id}}/lines", name=f"{path}_add_line")
    @route
    def add_line(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
        """Add an existing product in a unit, or a write-in product, to an editable document."""
        parsed = document_id(pages, record_id)
        posted = posted_line(form)
        where = "write_in" if "write_in_name" in posted else "existing"
        version = parse_version(form.get("row_version"))
        try:
            data = new_line(posted, language=session.language)
            committed(
                request,
                lambda uow: sales.add_document_line(
                    kind, parsed, data, uow=uow, actor=session.actor, expected_version=version
                ),
            )
        except LeadflowError as error:
            return refused_form(request, session, pages, parsed, error, where=where, posted=posted)
        return landing(pages, parsed, "lines", "#lines")

    @router.post(f"/{path}/{{record_id}}/lines/{{line_id}}", name=f"{path}_change_line")
    @route
    def change_line(request: Request, record_id: str, line_id: str, session: WebSessionDep, form: FormDep) -> Response:
        """Change a line's quantity, discount, tax (or a write-in's name and price)."""
        parsed, line = document_id(pages, record_id), id_in_path(line_id, record="line")
        posted = posted_line(form)
        version = parse_version(form.get("row_version"))

        def change(uow: UnitOfWork) -> Any:
            stored = uow.session.get(pages.model.line_model, line)
            changes = line_changes(posted, stored, language=session.language) if stored is not None else LineUpdate()
            return sales.update_document_line(
                kind, parsed, line, changes, uow=uow, actor=session.actor, expected_version=version
            )

        try:
            committed(request, change)
        except LeadflowError as error:
            return refused_form(request, session, pages, parsed, error, where=str(line), posted=posted)
        return landing(pages, parsed, "lines", "#lines")

    @router.post(f"/{path}/{{record_id}}/lines/{{line_id}}/remove", name=f"{path}_remove_line")
    @route
    def remove_line(request: Request, record_id: str, line_id: str, session: WebSessionDep, form: FormDep) -> Response:
        """Remove a line from an editable document."""
        parsed, line = document_id(pages, record_id), id_in_path(line_id, record="line")
        version = parse_version(form.get("row_version"))
        try:
            committed(
                request,
                lambda uow: sales.delete_document_line(
                    kind, parsed, line, uow=uow, actor=session.actor, expected_version=version
                ),
            )
        except LeadflowError as error:
            return refused_form(request, session, pages, parsed, error, where=str(line))
        return landing(pages, parsed, "lines", "#lines")

    @router.get(f"/{path}/{{record_id}}/print", name=f"{path}_print")
    @route
    def print_view(request: Request, record_id: str, session: WebSessionDep) -> Response:
        """The document as printed, as a page of its own to print from the browser (no navigation)."""
        parsed = document_id(pages, record_id)
        with database_of(request).unit_of_work(read_only=True) as uow:
            view = printed_document(kind, parsed, uow=uow, actor=session.actor, language=session.language)
        return render(request, session, "sales/print.html", pages=pages, record_id=parsed, view=view)

    @router.get(f"/{path}/{{record_id}}/pdf", name=f"{path}_pdf")
    @route
    def pdf(request: Request, record_id: str, session: WebSessionDep) -> Response:
        """The document as a PDF in the user's language, to download."""
        parsed = document_id(pages, record_id)
        with database_of(request).unit_of_work(read_only=True) as uow:
            printed = document_pdf(kind, parsed, uow=uow, actor=session.actor, language=session.language)
        name = printed.filename
        ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
        response = Response(
            content=printed.content,
            media_type="application/pdf",
            headers={"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted(name)}"},
        )
        return _secure(response)


# ---------------------------------------------------------------------------------------------- a quote on its own

# A quote for a customer without an opportunity; its addresses (and, left empty, its payment terms) come
# from the customer, and it is a draft to which lines are then added as on any draft quote.
NEW_QUOTE_FIELDS = (
    FormField("name", N_("Name"), required=True, max_length=300),
    FormField("customer_id", N_("Customer"), kind="lookup", options="customers", required=True),
    FormField("currency", N_("Currency"), kind="select", options="currencies", blank=False),
    FormField("price_list_id", N_("Price list"), kind="select", options="price_lists"),
    FormField(
        "payment_terms",
        N_("Payment terms"),
        kind="select",
        options="payment_terms",
        hint=N_("Left empty, the quote takes the account's payment terms."),
    ),
    FormField("effective_from", N_("Effective from"), kind="date"),
    FormField("effective_to", N_("Effective to"), kind="date"),
    FormField("due_date", N_("Due by"), kind="date"),
    FormField("description", N_("Description"), kind="textarea", wide=True),
)


def _new_quote_page(
    request: Request,
    session: WebSession,
    *,
    values: dict[str, str],
    failure: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    with database_of(request).unit_of_work(read_only=True) as uow:
        chosen = parse_uuid(values.get("customer_id", ""))
        options = {
            "customers": customer_options(uow.session, session.actor, include={chosen} if chosen else set()),
            "currencies": currency_options(uow.session, session.language),
            "price_lists": price_list_options(uow, session.actor),
            "payment_terms": PAYMENT_TERM_OPTIONS,
        }
    return render(
        request,
        session,
        "sales/new_quote.html",
        status_code=status_code,
        pages=QUOTES,
        fields=NEW_QUOTE_FIELDS,
        values=values,
        options=options,
        refusal=failure,
        field_errors=failure.fields if failure else {},
        decision_maker_labels={},
        can_create=can_create(session, QUOTES.path),
    )


@router.get("/quotes/new", name="quotes_new")
def new_quote(request: Request, session: WebSessionDep) -> Response:
    """An empty quote form, in the base currency; ``?customer=<id>`` chooses the customer."""
    values = {item.name: "" for item in NEW_QUOTE_FIELDS}
    values["customer_id"] = request.query_params.get("customer", "")[:36]
    with database_of(request).unit_of_work(read_only=True) as uow:
        base = get_settings(uow.session).base_currency_id
        currency = uow.session.get(Currency, base) if base else None
        values["currency"] = currency.iso_code if currency else ""
    return _new_quote_page(request, session, values=values)


@router.post("/quotes/new", name="quotes_create")
def create_quote(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Create the draft quote; the form again, with the refusal, when refused."""
    posted = {item.name: value if isinstance(value := form.get(item.name), str) else "" for item in NEW_QUOTE_FIELDS}
    try:
        data = parse(QuoteCreate, {name: value.strip() or None for name, value in posted.items()})
        quote = committed(request, lambda uow: sales.create_quote(data, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _new_quote_page(
            request, session, values=posted, failure=refusal(session.language, error), status_code=status_for(error)
        )
    return landing(QUOTES, quote.id, "created_alone")


for _pages in PAGES.values():
    _register(_pages)
