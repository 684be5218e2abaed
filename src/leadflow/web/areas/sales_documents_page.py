"""What the pages of quotes, orders and invoices show: their lists, and a document's page with its header
(editable while the document is), its lines and totals, its status and the commands its state allows,
the records it came from and those made from it, and its print links.

The routes that show them and the commands' posts are in ``sales_documents``; the services of
``leadflow.sales.service`` decide what may change and when.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import func, select

from leadflow.catalog.models import PriceList
from leadflow.core.errors import LeadflowError
from leadflow.core.formatting import amount_input
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.customers.models import Account, Contact
from leadflow.http.errors import status_for
from leadflow.opportunities.models import CustomerKind, Opportunity
from leadflow.sales import service as sales
from leadflow.sales.models import DocumentKind, Invoice, Order, Quote, SalesDocument
from leadflow.sales.printing import status_text
from leadflow.sales.schemas import InvoiceUpdate, OrderUpdate, QuoteUpdate
from leadflow.security.access import access_condition, can
from leadflow.security.privileges import Depth, Privilege
from leadflow.web.areas.records_forms import PAYMENT_TERM_OPTIONS, FormField, Option
from leadflow.web.areas.records_lists import (
    Cell,
    Column,
    ListSpec,
    SortKey,
    currency_codes,
    owner_names,
    owner_of,
    readable_names,
)
from leadflow.web.areas.sales_lines import (
    LinesPanel,
    SectionFailure,
    contextual,
    lines_panel,
    percentage_input,
    price_list_options,
    product_choices,
    sales_refusal,
    typed,
)
from leadflow.web.i18n import N_, gettext
from leadflow.web.pages import WebSession, database_of, render

# ---------------------------------------------------------------------------------------------- the three kinds


def text_sort(column: Any) -> Any:
    """Text sorts without regard to letter case, blanks first (as the other lists sort)."""
    return func.lower(func.coalesce(column, ""))


def document_number(document: SalesDocument, language: str) -> str:
    """A document's number, with a quote's revision after the first: "QUO-01000 (revisión 1)"."""
    revision = getattr(document, "revision", 0)
    if not revision:
        return document.number
    return gettext(language, "%(number)s (revision %(revision)s)", number=document.number, revision=revision)


_NAME = FormField("name", N_("Name"), required=True, max_length=300)
_PAYMENT_TERMS = FormField("payment_terms", N_("Payment terms"), kind="select", options="payment_terms")
_FREIGHT = FormField("freight_amount", N_("Freight amount"), kind="money")
_PRICE_LIST = FormField("price_list_id", N_("Price list"), kind="select", options="price_lists")
_ADDRESSES = (
    FormField("billing_address", N_("Bill to address"), kind="textarea", max_length=1000),
    FormField("shipping_address", N_("Ship to address"), kind="textarea", max_length=1000),
)
_DESCRIPTION = FormField("description", N_("Description"), kind="textarea", wide=True)


@dataclass(frozen=True)
class DocumentPages:
    """What the pages of one kind of document need: names, the header's fields, the list."""

    kind: DocumentKind
    path: str  # URL segment and table name
    singular: str  # English message ids
    plural: str
    number_label: str
    discount_labels: tuple[str, str]  # the discount (%) and the discount amount of the whole document
    read_only: str  # why a document that is not editable is read-only
    update_schema: type[Any]
    dates: tuple[FormField, ...]
    model: type[SalesDocument]
    status: tuple[FormField, ...] = ()  # the status reason, where the state offers more than one to choose

    @property
    def pricing(self) -> tuple[FormField, ...]:
        percentage, amount = self.discount_labels
        return (
            FormField("discount_percentage", percentage, kind="money"),
            FormField("discount_amount", amount, kind="money"),
            _FREIGHT,
        )

    @property
    def fields(self) -> tuple[FormField, ...]:
        return (_NAME, *self.status, _PAYMENT_TERMS, *self.dates, _PRICE_LIST, *self.pricing, *_ADDRESSES, _DESCRIPTION)

    @property
    def list_spec(self) -> ListSpec:
        model: Any = self.model
        return ListSpec(
            model,
            self.path,
            (
                Column("number", self.number_label, sort="number"),
                Column("name", N_("Name"), sort="name"),
                Column("customer", N_("Customer")),
                Column("state", N_("Status")),
                Column("total_amount", N_("Total amount"), sort="total_amount"),
                Column("created_at", N_("Created on"), sort="created_at", optional=True),
            ),
            {
                "number": SortKey(text_sort(model.number), "text"),
                "name": SortKey(text_sort(model.name), "text"),
                "total_amount": SortKey(model.total_amount, "money"),
                "created_at": SortKey(model.created_at, "datetime"),
            },
            "-created_at",
            (model.number, model.name),
            N_("Search by number or name"),
        )


QUOTES = DocumentPages(
    DocumentKind.QUOTE,
    "quotes",
    N_("Quote"),
    N_("Quotes"),
    N_("Quote ID"),
    (N_("Quote discount (%%)"), N_("Quote discount amount")),
    N_("This quote is read-only: only a draft quote changes. Revise an active quote to change it."),
    QuoteUpdate,
    (
        FormField("effective_from", N_("Effective from"), kind="date"),
        FormField("effective_to", N_("Effective to"), kind="date"),
        FormField("due_date", N_("Due by"), kind="date"),
    ),
    Quote,
)
ORDERS = DocumentPages(
    DocumentKind.ORDER,
    "orders",
    N_("Order"),
    N_("Orders"),
    N_("Order ID"),
    (N_("Order discount (%%)"), N_("Order discount amount")),
    N_("This order is read-only: only an active order changes."),
    OrderUpdate,
    (FormField("requested_delivery", N_("Requested delivery by"), kind="date"),),
    Order,
    # An active order is New or Pending (Dynamics' status reasons of its Active state).
    (FormField("status_reason", N_("Status reason"), kind="select", options="order_reasons", blank=False),),
)
INVOICES = DocumentPages(
    DocumentKind.INVOICE,
    "invoices",
    N_("Invoice"),
    N_("Invoices"),
    N_("Invoice ID"),
    (N_("Invoice discount (%%)"), N_("Invoice discount amount")),
    N_("This invoice is read-only: only an active invoice changes."),
    InvoiceUpdate,
    (FormField("due_date", N_("Due date"), kind="date"),),
    Invoice,
)
PAGES = {pages.path: pages for pages in (QUOTES, ORDERS, INVOICES)}
PAGES_OF = {pages.kind: pages for pages in PAGES.values()}

OPTIONS = {
    "payment_terms": PAYMENT_TERM_OPTIONS,
    "order_reasons": [Option("new", N_("New"), translate=True), Option("pending", N_("Pending"), translate=True)],
}

# The status reasons a command's form offers (the context before "|" tells a quote's "Lost" from others').
CLOSE_REASONS = (("lost", N_("quote|Lost")), ("canceled", N_("quote|Canceled")))
FULFIL_REASONS = (("complete", N_("order|Complete")), ("partial", N_("order|Partial")))
PAY_REASONS = (("complete", N_("invoice|Complete")), ("partial", N_("invoice|Partial")))

NOTICES = {
    "created": N_("The quote was created with the opportunity's products."),
    "created_alone": N_("The quote was created as a draft: add its products, then activate it."),
    "saved": N_("Your changes were saved."),
    "lines": N_("The lines and the totals were updated."),
    "activated": N_("The quote is active: it is what the customer receives, and it is read-only."),
    "revised": N_("This is the quote's new revision: a draft you can change. The previous one is closed as revised."),
    "won": N_("The quote was won."),
    "won_with_order": N_("The quote was won and this order was created from it."),
    "closed": N_("The quote was closed."),
    "order": N_("This order was created from the won quote."),
    "submitted": N_("The order was submitted."),
    "fulfilled": N_("The order was fulfilled."),
    "canceled": N_("The document was canceled."),
    "invoice": N_("This invoice was created from the order."),
    "locked": N_("The prices are locked: the lines keep their prices."),
    "current_pricing": N_("The lines were priced again with the price list's current prices."),
    "paid": N_("The invoice was marked paid."),
}


# ---------------------------------------------------------------------------------------------- the header


def _text_of(item: FormField, value: Any, language: str) -> str:
    if value is None:
        return ""
    if item.name == "discount_percentage":
        return percentage_input(value, language)
    if isinstance(value, Decimal):
        return amount_input(value, language)
    if isinstance(value, date):
        return value.isoformat()
    return str(getattr(value, "value", value))


def header_values(pages: DocumentPages, record: SalesDocument, language: str) -> dict[str, str]:
    """The header form's inputs for a stored document."""
    return {item.name: _text_of(item, getattr(record, item.name), language) for item in pages.fields}


def posted_header(pages: DocumentPages, form: Mapping[str, Any]) -> dict[str, str]:
    return {item.name: value if isinstance(value := form.get(item.name), str) else "" for item in pages.fields}


def header_changes(pages: DocumentPages, posted: Mapping[str, str], stored: Mapping[str, str], *, language: str) -> Any:
    """The update of the header form: the inputs whose text changed (an amount emptied is zero)."""
    data: dict[str, Any] = {}
    for item in pages.fields:
        raw = posted.get(item.name, "")
        if raw.strip() == stored.get(item.name, "").strip():
            continue
        if item.kind == "money":
            data[item.name] = typed(raw, language) if raw.strip() else "0"
        else:
            data[item.name] = raw.strip() or None
    return parse(pages.update_schema, data)


# ---------------------------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Commands:
    """The commands the document's state allows and the user may use."""

    activate: bool = False
    revise: bool = False
    win: bool = False
    close: bool = False
    create_order: bool = False
    submit: bool = False
    fulfil: bool = False
    cancel: bool = False
    create_invoice: bool = False
    lock_pricing: bool = False
    current_pricing: bool = False
    pay: bool = False


def _commands(uow: UnitOfWork, session: WebSession, record: SalesDocument, *, may_write: bool) -> Commands:
    actor = session.actor
    state = record.state.value  # type: ignore[attr-defined]
    if isinstance(record, Quote):
        has_order = bool(uow.session.scalar(select(func.count()).select_from(Order).where(Order.quote_id == record.id)))
        may_order = actor.depth("orders", Privilege.CREATE) is not Depth.NONE
        return Commands(
            activate=may_write and state == "draft",
            revise=may_write and state == "active" and actor.depth("quotes", Privilege.CREATE) is not Depth.NONE,
            win=may_write and state == "active",
            close=may_write and state == "active",
            create_order=state == "won" and not has_order and may_order,
        )
    if isinstance(record, Order):
        return Commands(
            submit=may_write and state == "active",
            fulfil=may_write and state in ("active", "submitted"),
            cancel=may_write and state in ("active", "submitted"),
            create_invoice=state != "canceled" and actor.depth("invoices", Privilege.CREATE) is not Depth.NONE,
            lock_pricing=may_write and record.editable and not record.prices_locked,
            current_pricing=may_write and record.editable,
        )
    return Commands(pay=may_write and state == "active", cancel=may_write and state == "active")


@dataclass(frozen=True)
class Link:
    text: str
    href: str | None  # None: a record the user may not open
    note: str = ""


def _document_links(uow: UnitOfWork, session: WebSession, model: type[Any], condition: Any) -> list[Link]:
    """The documents of ``model`` matching ``condition`` the user may read, by number."""
    readable = access_condition(session.actor, Privilege.READ, model.__tablename__, model)
    found = uow.session.scalars(select(model).where(condition, readable).order_by(model.number, model.id).limit(50))
    path = model.__tablename__
    return [
        Link(
            document_number(document, session.language),
            f"/{path}/{document.id}",
            status_text(document, session.language),
        )
        for document in found
    ]


def _related(uow: UnitOfWork, session: WebSession, record: SalesDocument) -> dict[str, Any]:
    """The customer, the opportunity, the documents this one came from and those made from it."""
    db, actor = uow.session, session.actor
    related: dict[str, Any] = {"customer": None, "opportunity": None, "source": [], "made": [], "revisions": []}
    if record.customer_id is not None:
        model = Account if record.customer_kind is CustomerKind.ACCOUNT else Contact
        name = readable_names(db, actor, model, [record.customer_id]).get(record.customer_id)
        related["customer"] = Link(name or "", f"/{model.__tablename__}/{record.customer_id}" if name else None)
    if record.opportunity_id is not None:
        name = readable_names(db, actor, Opportunity, [record.opportunity_id]).get(record.opportunity_id)
        related["opportunity"] = Link(name or "", f"/opportunities/{record.opportunity_id}" if name else None)
    if isinstance(record, Quote):
        related["made"] = _document_links(uow, session, Order, Order.quote_id == record.id)
        related["revisions"] = _document_links(
            uow, session, Quote, (Quote.number == record.number) & (Quote.id != record.id)
        )
    elif isinstance(record, Order):
        related["source"] = _document_links(uow, session, Quote, Quote.id == record.quote_id) if record.quote_id else []
        related["made"] = _document_links(uow, session, Invoice, Invoice.order_id == record.id)
    elif isinstance(record, Invoice) and record.order_id:
        related["source"] = _document_links(uow, session, Order, Order.id == record.order_id)
    price_list = db.get(PriceList, record.price_list_id) if record.price_list_id else None
    related["price_list"] = price_list.name if price_list else None
    related["owner"] = owner_of(record, owner_names(db, [record]))
    return related


def _state_class(state: str) -> str:
    return {"won": "ok", "fulfilled": "ok", "paid": "ok", "active": "warn", "submitted": "warn"}.get(
        state, "bad" if state in ("closed", "canceled") else ""
    )


def refused_document(request: Request, session: WebSession, pages: DocumentPages, error: LeadflowError) -> Response:
    """A document the user cannot open: 404 when it does not exist, 403 when they may not read it."""
    return render(
        request,
        session,
        "records/refused.html",
        status_code=status_for(error),
        kind=pages,
        refusal=sales_refusal(session.language, error),
    )


def document_page(
    request: Request,
    session: WebSession,
    pages: DocumentPages,
    record_id: uuid.UUID,
    *,
    status_code: int = 200,
    failure: SectionFailure | None = None,
    notice: str | None = None,
) -> Response:
    """A document's page: its header, lines, totals, status, commands and related records; a refused form's
    input and refusal stay beside it."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            record = sales.document(pages.kind, record_id, uow=uow, actor=session.actor)
        except LeadflowError as error:
            return refused_document(request, session, pages, error)
        may_write = can(uow.session, session.actor, Privilege.WRITE, pages.path, record)
        editable = may_write and record.editable
        values = header_values(pages, record, language)
        if failure is not None and failure.where == "header":
            values = {**values, **failure.posted}
        lines: LinesPanel = lines_panel(
            record.lines,  # type: ignore[attr-defined]
            prefix="lines",
            action=f"/{pages.path}/{record.id}/lines",
            editable=editable,
            version=record.row_version,
            currency=record.currency_code,
            choices=product_choices(uow, session.actor, record.price_list_id, language=language) if editable else [],
            has_price_list=record.price_list_id is not None,
            actor=session.actor,
            language=language,
            failure=failure,
        )
        return render(
            request,
            session,
            "sales/document.html",
            status_code=status_code,
            pages=pages,
            record=record,
            title=record.name,
            status=status_text(record, language),
            state_class=_state_class(record.state.value),  # type: ignore[attr-defined]
            may_write=may_write,
            editable=editable,
            values=values,
            options=OPTIONS
            | {"price_lists": price_list_options(uow, session.actor, record.currency_id, record.price_list_id)},
            field_errors=failure.refusal.fields if failure is not None and failure.where == "header" else {},
            decision_maker_labels={},
            refusal=failure.refusal if failure is not None else None,
            failed=failure.where if failure is not None else None,
            posted=failure.posted if failure is not None else {},
            notice=notice,
            lines=lines,
            commands=_commands(uow, session, record, may_write=may_write),
            related=_related(uow, session, record),
            today=datetime.now(session.time_zone).date().isoformat(),
            close_reasons=[(value, contextual(language, label)) for value, label in CLOSE_REASONS],
            fulfil_reasons=[(value, contextual(language, label)) for value, label in FULFIL_REASONS],
            pay_reasons=[(value, contextual(language, label)) for value, label in PAY_REASONS],
        )


# ---------------------------------------------------------------------------------------------- the lists


def list_rows(uow: UnitOfWork, session: WebSession, pages: DocumentPages, items: list[Any]) -> list[dict[str, Cell]]:
    """The cells of each document of a list page, keyed by column."""
    db, actor = uow.session, session.actor
    accounts = readable_names(
        db, actor, Account, (d.customer_id for d in items if d.customer_kind is CustomerKind.ACCOUNT)
    )
    contacts = readable_names(
        db, actor, Contact, (d.customer_id for d in items if d.customer_kind is CustomerKind.CONTACT)
    )
    codes = currency_codes(db)
    rows = []
    for document in items:
        customer = Cell("text", "")
        if document.customer_id in accounts:
            customer = Cell("link", accounts[document.customer_id], href=f"/accounts/{document.customer_id}")
        elif document.customer_id in contacts:
            customer = Cell("link", contacts[document.customer_id], href=f"/contacts/{document.customer_id}")
        number = document_number(document, session.language)
        rows.append(
            {
                "number": Cell("link", number, href=f"/{pages.path}/{document.id}"),
                "name": Cell("text", document.name),
                "customer": customer,
                "state": Cell("text", status_text(document, session.language)),
                "total_amount": Cell("money", document.total_amount, currency=codes.get(document.currency_id, "EUR")),
                "created_at": Cell("datetime", document.created_at),
            }
        )
    return rows
