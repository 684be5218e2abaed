"""Lead to order: opportunity products, quotes, orders and invoices (Dynamics 365 Sales' rules).

* Opportunity products are the lines of an open opportunity; its totals follow them.
* A quote is made from an opportunity ("Get products" copies its lines, price list, currency and
  customer) or on its own. Draft → Activate (read-only) → Win, or Close (lost, canceled). Revise
  closes an active quote as Revised and opens a draft with the same number and the next revision.
* Winning a quote can close its opportunity as won (the quote's total as actual revenue) and create
  the order. An order is Active → Submitted → Fulfilled (complete, partial) or Canceled; an invoice
  is made from it and is Active → Paid (complete, partial) or Canceled.
* Only a draft quote, an active order and an active invoice change; the others answer 409
  ``document_closed``. Every document is numbered inside its creating transaction (numbering).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadflow.catalog.lines import price_line, price_list_for, recalculate
from leadflow.catalog.models import LineMixin
from leadflow.catalog.schemas import LineCreate, LineUpdate
from leadflow.catalog.service import LINE_MODELS, field_refusal
from leadflow.core.db import utcnow
from leadflow.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from leadflow.core.paging import Page, keyset_page
from leadflow.core.records import check_version
from leadflow.core.schemas import MAX_MONEY
from leadflow.core.uow import UnitOfWork
from leadflow.customers.models import Account, Contact, PaymentTerms
from leadflow.customers.service import linkable_customer
from leadflow.opportunities import closing
from leadflow.opportunities.models import Opportunity, OpportunityProduct, customer_kind_of
from leadflow.opportunities.schemas import WinOpportunity
from leadflow.opportunities.service import refresh_totals
from leadflow.organisation.models import Currency
from leadflow.organisation.service import currency_by_code, get_settings, time_zone_of
from leadflow.sales.models import (
    DOCUMENT_MODELS,
    DocumentKind,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    OrderStatusReason,
    Quote,
    QuoteLine,
    QuoteState,
    QuoteStatusReason,
    SalesDocument,
)
from leadflow.sales.numbering import take_number
from leadflow.sales.schemas import (
    CloseQuote,
    DocumentFields,
    FulfilOrder,
    PayInvoice,
    QuoteCreate,
    WinQuote,
)
from leadflow.security.access import access_condition, get_accessible, list_records
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.ownership import change_owned, create_owned, delete_owned, with_owner_unit
from leadflow.security.privileges import Privilege

DocumentT = TypeVar("DocumentT", bound=SalesDocument)
LINE_COLUMNS = tuple(column for column in LineMixin.__annotations__ if column != "line_number")

# The catalogue refuses to delete a unit a line is measured in.
LINE_MODELS.extend([OpportunityProduct, QuoteLine, OrderLine, InvoiceLine])


def _today(session: Session, actor: Actor) -> date:
    return datetime.now(time_zone_of(actor, session=session)).date()


def _precision(currency: Currency | None) -> int:
    return currency.precision if currency is not None else 2


# ------------------------------------------------------------------------------ opportunity products


def _opportunity(uow: UnitOfWork, actor: Actor, opportunity_id: uuid.UUID, privilege: Privilege) -> Opportunity:
    return get_accessible(
        uow.session,
        Opportunity,
        opportunity_id,
        label="opportunity",
        actor=actor,
        privilege=privilege,
        for_update=privilege is not Privilege.READ,
    )


def opportunity_products(opportunity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Sequence[OpportunityProduct]:
    """The products of an opportunity the actor may read, in line order."""
    _opportunity(uow, actor, opportunity_id, Privilege.READ)
    return _lines_of(uow.session, OpportunityProduct, OpportunityProduct.opportunity_id, opportunity_id)


def _lines_of(session: Session, model: Any, parent_column: Any, parent_id: uuid.UUID) -> Sequence[Any]:
    return session.scalars(select(model).where(parent_column == parent_id).order_by(model.line_number, model.id)).all()


def _next_line_number(lines: Sequence[LineMixin]) -> int:
    return max((line.line_number for line in lines), default=0) + 1


def _opportunity_line(session: Session, opportunity: Opportunity, line_id: uuid.UUID) -> OpportunityProduct:
    line = session.get(OpportunityProduct, line_id, with_for_update=True)
    if line is None or line.opportunity_id != opportunity.id:
        raise NotFound(f"The opportunity has no product line {line_id}.", code="line_not_found")
    return line


def _price_opportunity_line(
    uow: UnitOfWork, actor: Actor, opportunity: Opportunity, line: OpportunityProduct, values: dict[str, Any]
) -> None:
    session = uow.session
    if opportunity.currency is None:
        raise field_refusal("currency", "currency_required", "currency: give the opportunity a currency first.")
    price_list = price_list_for(session, opportunity.price_list_id, currency_id=opportunity.currency_id)
    price_line(
        session, actor, line, values, price_list=price_list, currency=opportunity.currency, today=_today(session, actor)
    )


def add_opportunity_product(
    opportunity_id: uuid.UUID,
    data: LineCreate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> OpportunityProduct:
    """Add a product line to an open opportunity the actor may write; its totals follow."""
    session = uow.session
    opportunity = _opportunity(uow, actor, opportunity_id, Privilege.WRITE)
    opportunity.ensure_editable()
    check_version(opportunity, expected_version)
    last = session.scalar(
        select(func.max(OpportunityProduct.line_number)).where(OpportunityProduct.opportunity_id == opportunity.id)
    )
    line = OpportunityProduct(id=uuid.uuid4(), opportunity_id=opportunity.id, line_number=(last or 0) + 1)
    _price_opportunity_line(uow, actor, opportunity, line, data.model_dump(exclude_unset=True))
    session.add(line)
    session.flush()
    _opportunity_changed(uow, actor, opportunity, f"+ {line.product_name}")
    return line


def _opportunity_changed(uow: UnitOfWork, actor: Actor, opportunity: Opportunity, summary: str) -> None:
    refresh_totals(uow.session, opportunity)
    opportunity.modified_by_id = actor.user_id
    opportunity.modified_at = utcnow()  # the opportunity's version moves: a client's copy of its totals is stale
    record_action(uow.session, actor, "update", table="opportunities", record_id=opportunity.id, summary=summary)
    uow.flush()


def update_opportunity_product(
    opportunity_id: uuid.UUID,
    line_id: uuid.UUID,
    changes: LineUpdate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> OpportunityProduct:
    """Change a line of an open opportunity (quantity, unit, discount, tax, price)."""
    opportunity = _opportunity(uow, actor, opportunity_id, Privilege.WRITE)
    opportunity.ensure_editable()
    line = _opportunity_line(uow.session, opportunity, line_id)
    check_version(line, expected_version)
    _price_opportunity_line(uow, actor, opportunity, line, changes.model_dump(exclude_unset=True))
    _opportunity_changed(uow, actor, opportunity, f"~ {line.product_name}")
    return line


def delete_opportunity_product(
    opportunity_id: uuid.UUID, line_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Remove a line from an open opportunity."""
    opportunity = _opportunity(uow, actor, opportunity_id, Privilege.WRITE)
    opportunity.ensure_editable()
    line = _opportunity_line(uow.session, opportunity, line_id)
    check_version(line, expected_version)
    uow.session.delete(line)
    uow.session.flush()
    _opportunity_changed(uow, actor, opportunity, f"- {line.product_name}")


# --------------------------------------------------------------------------------------- documents

# The model of each kind of document (one table, in the models module).
MODELS = DOCUMENT_MODELS


def document(
    kind: DocumentKind,
    document_id: uuid.UUID,
    *,
    uow: UnitOfWork,
    actor: Actor,
    privilege: Privilege = Privilege.READ,
) -> SalesDocument:
    """A quote, order or invoice the actor holds ``privilege`` on (not found when they may not read it)."""
    return get_accessible(
        uow.session,
        MODELS[kind],
        document_id,
        label=kind.value,
        actor=actor,
        privilege=privilege,
        for_update=privilege is not Privilege.READ,
    )


def list_documents(
    kind: DocumentKind,
    *,
    uow: UnitOfWork,
    actor: Actor,
    limit: int,
    cursor: str | None = None,
    opportunity_id: uuid.UUID | None = None,
) -> Page[SalesDocument]:
    """The documents of a kind the actor may read, oldest first (those of one opportunity the actor
    may read, if named)."""
    model = MODELS[kind]
    if opportunity_id is None:
        return list_records(uow.session, model, actor=actor, limit=limit, cursor=cursor)
    _opportunity(uow, actor, opportunity_id, Privilege.READ)
    statement = select(model).where(
        model.opportunity_id == opportunity_id,
        access_condition(actor, Privilege.READ, model.__tablename__, model),  # type: ignore[attr-defined]
    )
    return keyset_page(
        uow.session, statement, key=model.created_at, id_column=model.id, kind="datetime", limit=limit, cursor=cursor
    )


def payment_terms_of(session: Session, customer: Account | Contact | None) -> PaymentTerms | None:
    """The payment terms a customer's quote takes: the account's, or those of a contact's account."""
    if isinstance(customer, Contact) and customer.account_id is not None:
        customer = session.get(Account, customer.account_id)
    return customer.payment_terms if isinstance(customer, Account) else None


def address_of(customer: Account | Contact | None) -> str | None:
    """A customer's postal address as printed: one line each, blank parts left out."""
    if customer is None:
        return None
    city = " ".join(part for part in (customer.address_postal_code, customer.address_city) if part)
    parts = [
        customer.address_line1,
        customer.address_line2,
        customer.address_line3,
        city,
        customer.address_state_or_province,
        customer.address_country,
    ]
    text = "\n".join(part.strip() for part in parts if part and part.strip())
    return text or None


def customer_of(session: Session, record: Opportunity | SalesDocument) -> Account | Contact | None:
    """The account or contact a record is for."""
    if record.customer_id is None:
        return None
    if record.customer_kind is not None and record.customer_kind.value == "account":
        return session.get(Account, record.customer_id)
    return session.get(Contact, record.customer_id)


def _new_document(
    uow: UnitOfWork,
    actor: Actor,
    model: type[DocumentT],
    values: dict[str, Any],
    lines: Sequence[LineMixin] = (),
) -> DocumentT:
    """A numbered document with copies of ``lines``, owned by the actor (or the owner named)."""
    session = uow.session
    currency = session.get(Currency, values["currency_id"])
    assert currency is not None
    values.setdefault("number", take_number(session, model.kind))
    values["exchange_rate"] = currency.exchange_rate
    try:
        # create_owned inserts at once: a number taken twice (numbering moved back) fails right there.
        document = create_owned(model, with_owner_unit(session, values), summary_of="number", uow=uow, actor=actor)
        for position, line in enumerate(lines, start=1):
            session.add(
                model.line_model(
                    id=uuid.uuid4(),
                    document_id=document.id,
                    line_number=position,
                    **{name: getattr(line, name) for name in LINE_COLUMNS},
                )
            )
        session.flush()
    except IntegrityError as error:
        raise Conflict(
            f"The number {values['number']} is already used; an administrator should move the numbering on.",
            code="document_number_taken",
        ) from error
    session.refresh(document, ["lines", "currency"])
    _refresh_document(session, document)
    return document


def _refresh_document(session: Session, document: SalesDocument) -> None:
    recalculate(document, document.lines, precision=_precision(document.currency))  # type: ignore[attr-defined]
    base = (document.total_amount / document.exchange_rate).quantize(Decimal("0.0001"))
    if base > MAX_MONEY:  # a currency worth a tiny fraction of the base one: storage would overflow
        raise ValidationFailed(
            f"The total in the base currency would be over {MAX_MONEY:,}, the most an amount can be; "
            "check the currency's exchange rate.",
            code="amount_too_large",
        )
    document.total_amount_base = base


def _copied_header(source: Opportunity | SalesDocument) -> dict[str, Any]:
    """What a document takes from the record it is made from: customer, currency, price list, discount, freight."""
    names = ("price_list_id", "customer_kind", "customer_id", "currency_id")
    return {
        name: getattr(source, name) for name in (*names, "discount_percentage", "discount_amount", "freight_amount")
    }


def _document_values(
    session: Session, actor: Actor, data: DocumentFields, *, currency_id: uuid.UUID | None
) -> dict[str, Any]:
    values = data.model_dump(exclude_unset=True)
    if "price_list_id" in values:
        price_list_for(session, values["price_list_id"], currency_id=currency_id)
    return values


def create_quote(data: QuoteCreate, *, uow: UnitOfWork, actor: Actor) -> Quote:
    """A draft quote on its own, for a customer the actor may link to."""
    session = uow.session
    customer = linkable_customer(session, actor, data.customer_id, field="customer_id")
    currency_id = (
        currency_by_code(session, data.currency).id if data.currency else get_settings(session).base_currency_id
    )
    values = _document_values(session, actor, data, currency_id=currency_id)
    values.pop("currency", None)
    values.update(
        customer_kind=customer_kind_of(customer),
        customer_id=customer.id,
        currency_id=currency_id,
        billing_address=values.get("billing_address") or address_of(customer),
        shipping_address=values.get("shipping_address") or address_of(customer),
        payment_terms=values.get("payment_terms") or payment_terms_of(session, customer),
    )
    return _new_document(uow, actor, Quote, values)


def quote_from_opportunity(opportunity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Quote:
    """A draft quote for an open opportunity, with its products, price list, currency and customer."""
    session = uow.session
    opportunity = _opportunity(uow, actor, opportunity_id, Privilege.READ)
    opportunity.ensure_editable()
    if opportunity.currency_id is None:
        raise field_refusal("currency", "currency_required", "currency: give the opportunity a currency first.")
    customer = customer_of(session, opportunity)
    values = _copied_header(opportunity) | {
        "name": opportunity.name,
        "opportunity_id": opportunity.id,
        "billing_address": address_of(customer),
        "shipping_address": address_of(customer),
        "payment_terms": payment_terms_of(session, customer),
    }
    lines = _lines_of(session, OpportunityProduct, OpportunityProduct.opportunity_id, opportunity.id)
    return _new_document(uow, actor, Quote, values, lines)


def update_document(
    kind: DocumentKind,
    document_id: uuid.UUID,
    changes: DocumentFields,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> SalesDocument:
    """Change the given fields of a document that is still editable; its totals follow."""
    session = uow.session
    record = document(kind, document_id, uow=uow, actor=actor, privilege=Privilege.WRITE)
    record.ensure_editable()
    check_version(record, expected_version)
    values = _document_values(session, actor, changes, currency_id=record.currency_id)
    if kind is DocumentKind.QUOTE:
        start = values.get("effective_from", getattr(record, "effective_from", None))
        end = values.get("effective_to", getattr(record, "effective_to", None))
        if start and end and end < start:
            raise field_refusal(
                "effective_to", "effective_to_before_effective_from", "effective_to: the quote ends before it starts."
            )
    if "status_reason" in values:
        values["status_reason"] = OrderStatusReason(values["status_reason"])
    change_owned(record, with_owner_unit(session, values), uow=uow, actor=actor)
    _refresh_document(session, record)
    uow.flush()
    return record


def delete_document(
    kind: DocumentKind, document_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete a document still editable (a draft quote, an active order or invoice), with its lines."""
    record = document(kind, document_id, uow=uow, actor=actor, privilege=Privilege.DELETE)
    record.ensure_editable()
    check_version(record, expected_version)
    for line in list(record.lines):  # type: ignore[attr-defined]
        uow.session.delete(line)
    uow.session.flush()
    delete_owned(record, summary=record.number, uow=uow, actor=actor)


def _document_line(session: Session, record: SalesDocument, line_id: uuid.UUID) -> Any:
    line = session.get(record.line_model, line_id, with_for_update=True)
    if line is None or line.document_id != record.id:
        raise NotFound(f"{record.number} has no line {line_id}.", code="line_not_found")
    return line


def _price_document_line(
    uow: UnitOfWork, actor: Actor, record: SalesDocument, line: Any, values: dict[str, Any]
) -> None:
    session = uow.session
    price_list = price_list_for(session, record.price_list_id, currency_id=record.currency_id)
    price_line(
        session,
        actor,
        line,
        values,
        price_list=price_list,
        currency=record.currency,
        today=_today(session, actor),
        prices_locked=record.prices_locked,
    )


def _document_changed(uow: UnitOfWork, actor: Actor, record: SalesDocument, summary: str) -> None:
    uow.session.flush()
    uow.session.refresh(record, ["lines"])
    _refresh_document(uow.session, record)
    record.modified_by_id = actor.user_id
    record.modified_at = utcnow()
    record_action(uow.session, actor, "update", table=record.table_name, record_id=record.id, summary=summary)
    uow.flush()


def add_document_line(
    kind: DocumentKind,
    document_id: uuid.UUID,
    data: LineCreate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> Any:
    """Add a line to an editable document."""
    record = document(kind, document_id, uow=uow, actor=actor, privilege=Privilege.WRITE)
    record.ensure_editable()
    check_version(record, expected_version)
    line = record.line_model(id=uuid.uuid4(), document_id=record.id, line_number=_next_line_number(record.lines))  # type: ignore[attr-defined]
    _price_document_line(uow, actor, record, line, data.model_dump(exclude_unset=True))
    uow.session.add(line)
    _document_changed(uow, actor, record, f"+ {line.product_name}")
    return line


def update_document_line(
    kind: DocumentKind,
    document_id: uuid.UUID,
    line_id: uuid.UUID,
    changes: LineUpdate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> Any:
    """Change a line of an editable document."""
    record = document(kind, document_id, uow=uow, actor=actor, privilege=Privilege.WRITE)
    record.ensure_editable()
    line = _document_line(uow.session, record, line_id)
    check_version(line, expected_version)
    _price_document_line(uow, actor, record, line, changes.model_dump(exclude_unset=True))
    _document_changed(uow, actor, record, f"~ {line.product_name}")
    return line


def delete_document_line(
    kind: DocumentKind,
    document_id: uuid.UUID,
    line_id: uuid.UUID,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> None:
    """Remove a line from an editable document."""
    record = document(kind, document_id, uow=uow, actor=actor, privilege=Privilege.WRITE)
    record.ensure_editable()
    line = _document_line(uow.session, record, line_id)
    check_version(line, expected_version)
    uow.session.delete(line)
    _document_changed(uow, actor, record, f"- {line.product_name}")


def _state_change(uow: UnitOfWork, actor: Actor, record: SalesDocument, action: str, before: dict[str, str]) -> None:
    record.modified_by_id = actor.user_id
    record_action(
        uow.session,
        actor,
        action,
        table=record.table_name,
        record_id=record.id,
        changes={name: {"old": old, "new": getattr(record, name).value} for name, old in before.items()},
    )
    uow.flush()


def _states(record: SalesDocument) -> dict[str, str]:
    return {"state": record.state.value, "status_reason": record.status_reason.value}  # type: ignore[attr-defined]


def _for_transition(
    kind: DocumentKind, document_id: uuid.UUID, uow: UnitOfWork, actor: Actor, expected_version: int | None
) -> Any:
    record = document(kind, document_id, uow=uow, actor=actor, privilege=Privilege.WRITE)
    check_version(record, expected_version)
    return record


# ------------------------------------------------------------------------------------------ quotes


def activate_quote(quote_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None) -> Quote:
    """A draft quote with lines becomes active and read-only."""
    quote: Quote = _for_transition(DocumentKind.QUOTE, quote_id, uow, actor, expected_version)
    before = _states(quote)
    quote.activate()
    _state_change(uow, actor, quote, "activate", before)
    return quote


def revise_quote(quote_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None) -> Quote:
    """Close an active quote as Revised and open a draft copy with the same number, next revision."""
    session = uow.session
    quote: Quote = _for_transition(DocumentKind.QUOTE, quote_id, uow, actor, expected_version)
    before = _states(quote)
    quote.close(QuoteStatusReason.REVISED, _today(session, actor), utcnow())
    _state_change(uow, actor, quote, "revise", before)
    values = _copied_header(quote) | {
        name: getattr(quote, name)
        for name in (
            "number",
            "name",
            "description",
            "opportunity_id",
            "payment_terms",
            "billing_address",
            "shipping_address",
            "effective_from",
            "effective_to",
            "due_date",
            "owner_user_id",
        )
    }
    values["revision"] = quote.revision + 1
    return _new_document(uow, actor, Quote, values, quote.lines)


def _close_opportunity(
    uow: UnitOfWork, actor: Actor, quote: Quote, day: date, description: str | None
) -> Opportunity | None:
    if quote.opportunity_id is None:
        return None
    opportunity = uow.session.get(Opportunity, quote.opportunity_id)
    if opportunity is None or not opportunity.is_open:
        return opportunity
    data = WinOpportunity(actual_revenue=quote.total_amount, close_date=day, description=description)
    return closing.win_opportunity(opportunity.id, data, uow=uow, actor=actor)


def win_quote(
    quote_id: uuid.UUID, data: WinQuote, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> tuple[Quote, Order | None, Opportunity | None]:
    """Win an active quote; optionally close its opportunity as won (the quote's total as actual
    revenue) and create the order from it. One transaction: all of it happens, or none."""
    session = uow.session
    quote: Quote = _for_transition(DocumentKind.QUOTE, quote_id, uow, actor, expected_version)
    before = _states(quote)
    day = data.date_won or _today(session, actor)
    quote.win(day, utcnow())
    _state_change(uow, actor, quote, "win", before)
    opportunity = _close_opportunity(uow, actor, quote, day, data.description) if data.close_opportunity else None
    order = _order_from(uow, actor, quote) if data.create_order else None
    return quote, order, opportunity


def close_quote(
    quote_id: uuid.UUID, data: CloseQuote, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Quote:
    """Close an active quote as lost or canceled."""
    quote: Quote = _for_transition(DocumentKind.QUOTE, quote_id, uow, actor, expected_version)
    before = _states(quote)
    quote.close(data.status_reason, data.closed_on or _today(uow.session, actor), utcnow())
    if data.description:
        quote.description = data.description
    _state_change(uow, actor, quote, "close", before)
    return quote


def _order_from(uow: UnitOfWork, actor: Actor, quote: Quote) -> Order:
    if quote.state is not QuoteState.WON:
        raise InvalidState(
            f"Only a won quote becomes an order; {quote.number} is {quote.state.value}. Win it first.",
            code="quote_not_won",
        )
    if uow.session.scalar(select(func.count()).select_from(Order).where(Order.quote_id == quote.id)):
        raise Conflict(f"The quote {quote.number} already has its order.", code="quote_has_order")
    values = _copied_header(quote) | {
        "name": quote.name,
        "description": quote.description,
        "opportunity_id": quote.opportunity_id,
        "quote_id": quote.id,
        "payment_terms": quote.payment_terms,
        "billing_address": quote.billing_address,
        "shipping_address": quote.shipping_address,
        # The order keeps the prices the customer accepted (Dynamics locks an order made from a quote).
        "prices_locked": True,
    }
    return _new_document(uow, actor, Order, values, quote.lines)


def order_from_quote(quote_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Order:
    """Create the order of a won quote."""
    quote = document(DocumentKind.QUOTE, quote_id, uow=uow, actor=actor, privilege=Privilege.READ)
    # Locked until the order is made: two requests at once make one order, the other is refused.
    uow.session.refresh(quote, with_for_update=True)
    return _order_from(uow, actor, quote)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ orders


def submit_order(order_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None) -> Order:
    """An active order is submitted for fulfilment."""
    order: Order = _for_transition(DocumentKind.ORDER, order_id, uow, actor, expected_version)
    before = _states(order)
    order.submit()
    _state_change(uow, actor, order, "submit", before)
    return order


def fulfil_order(
    order_id: uuid.UUID, data: FulfilOrder, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Order:
    """Fulfil an active or submitted order, completely or partly."""
    order: Order = _for_transition(DocumentKind.ORDER, order_id, uow, actor, expected_version)
    before = _states(order)
    order.fulfil(data.status_reason, data.date_fulfilled or _today(uow.session, actor), utcnow())
    _state_change(uow, actor, order, "fulfil", before)
    return order


def cancel_order(order_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None) -> Order:
    """Cancel an active or submitted order."""
    order: Order = _for_transition(DocumentKind.ORDER, order_id, uow, actor, expected_version)
    before = _states(order)
    order.cancel(utcnow())
    _state_change(uow, actor, order, "cancel", before)
    return order


def set_prices_locked(
    kind: DocumentKind,
    document_id: uuid.UUID,
    *,
    locked: bool,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> SalesDocument:
    """Lock an order's or invoice's prices, or use current pricing: the lines take the price list's
    prices of today again (overridden and write-in prices stay)."""
    if kind is DocumentKind.QUOTE:
        raise InvalidState("Quotes have no price lock; revise a quote to price it again.", code="no_price_lock")
    record = _for_transition(kind, document_id, uow, actor, expected_version)
    record.ensure_editable()
    record.prices_locked = locked
    if not locked:
        for line in record.lines:
            _price_document_line(uow, actor, record, line, {"quantity": line.quantity})
    _document_changed(uow, actor, record, "prices locked" if locked else "current pricing")
    return record


def invoice_from_order(order_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Invoice:
    """Create an invoice from an order that is not canceled, with its lines and prices."""
    order: Order = document(DocumentKind.ORDER, order_id, uow=uow, actor=actor, privilege=Privilege.READ)  # type: ignore[assignment]
    if order.state.value == "canceled":
        raise InvalidState(f"The order {order.number} is canceled; it cannot be invoiced.", code="order_canceled")
    values = _copied_header(order) | {
        "name": order.name,
        "description": order.description,
        "opportunity_id": order.opportunity_id,
        "order_id": order.id,
        "payment_terms": order.payment_terms,
        "billing_address": order.billing_address,
        "shipping_address": order.shipping_address,
        "prices_locked": order.prices_locked,
    }
    return _new_document(uow, actor, Invoice, values, order.lines)


# ---------------------------------------------------------------------------------------- invoices


def pay_invoice(
    invoice_id: uuid.UUID, data: PayInvoice, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Invoice:
    """Mark an active invoice paid, completely or partly."""
    invoice: Invoice = _for_transition(DocumentKind.INVOICE, invoice_id, uow, actor, expected_version)
    before = _states(invoice)
    invoice.pay(data.status_reason, data.date_paid or _today(uow.session, actor), utcnow())
    _state_change(uow, actor, invoice, "pay", before)
    return invoice


def cancel_invoice(
    invoice_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Invoice:
    """Cancel an active invoice."""
    invoice: Invoice = _for_transition(DocumentKind.INVOICE, invoice_id, uow, actor, expected_version)
    before = _states(invoice)
    invoice.cancel(utcnow())
    _state_change(uow, actor, invoice, "cancel", before)
    return invoice
