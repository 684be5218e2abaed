"""The commands of the lives of quotes, orders and invoices in the web app.

Quote: Activate, Revise, Win (optionally creating the order and closing the opportunity), Close (lost,
canceled), Create order. Order: Submit, Fulfil (complete, partial), Cancel, Create invoice, Lock
pricing, Use current pricing. Invoice: Mark paid (complete, partial), Cancel. Each is a form of the
document's page posted to a route of its own; a refusal shows the page again with the refusal in the
user's language and the form open with what was chosen. The services of ``leadflow.sales.service``
decide what may happen and when.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.core.errors import LeadflowError
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.sales import service as sales
from leadflow.sales.schemas import CloseQuote, FulfilOrder, PayInvoice, WinQuote
from leadflow.web.areas.sales_documents import document_id, document_route, landing, refused_form
from leadflow.web.areas.sales_documents_page import INVOICES, ORDERS, QUOTES, DocumentPages
from leadflow.web.forms import FormDep, parse_version
from leadflow.web.pages import WebSession, WebSessionDep, committed

router = APIRouter()

# The fields a command's form posts (its date, its status reason, its choices), kept when it is refused.
COMMAND_FIELDS = (
    "date_won",
    "create_order",
    "close_opportunity",
    "status_reason",
    "closed_on",
    "description",
    "date_fulfilled",
    "date_paid",
)


def _posted_command(form: FormDep) -> dict[str, str]:
    return {name: value for name in COMMAND_FIELDS if isinstance(value := form.get(name), str)}


def _filled(posted: dict[str, str], *names: str) -> dict[str, str]:
    """The fields of a command's form that were filled in (an empty date takes the service's today)."""
    return {name: posted[name].strip() for name in names if posted.get(name, "").strip()}


def _command(
    request: Request,
    session: WebSession,
    pages: DocumentPages,
    raw_id: str,
    form: FormDep,
    *,
    action: str,
    run: Callable[[uuid.UUID, dict[str, str], UnitOfWork, int | None], Any],
    then: Callable[[uuid.UUID, Any], Response],
) -> Response:
    """Run a command of a document's life in a unit of work of its own, then go where ``then`` says;
    its page again when refused."""
    parsed = document_id(pages, raw_id)
    posted = _posted_command(form)
    version = parse_version(form.get("row_version"))
    try:
        result = committed(request, lambda uow: run(parsed, posted, uow, version))
    except LeadflowError as error:
        return refused_form(request, session, pages, parsed, error, where=action, posted=posted)
    return then(parsed, result)


def _here(pages: DocumentPages, notice: str) -> Callable[[uuid.UUID, Any], Response]:
    return lambda record_id, _result: landing(pages, record_id, notice)


def _to(pages: DocumentPages, notice: str) -> Callable[[uuid.UUID, Any], Response]:
    """To the document the command made."""
    return lambda _record_id, made: landing(pages, made.id, notice)


_quote_route, _order_route, _invoice_route = document_route(QUOTES), document_route(ORDERS), document_route(INVOICES)


@router.post("/quotes/{record_id}/activate", name="quotes_activate")
@_quote_route
def activate_quote(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """A draft quote with lines becomes active and read-only."""
    return _command(
        request,
        session,
        QUOTES,
        record_id,
        form,
        action="activate",
        run=lambda parsed, _posted, uow, version: sales.activate_quote(
            parsed, uow=uow, actor=session.actor, expected_version=version
        ),
        then=_here(QUOTES, "activated"),
    )


@router.post("/quotes/{record_id}/revise", name="quotes_revise")
@_quote_route
def revise_quote(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Close an active quote as revised and open its next revision as a draft."""
    return _command(
        request,
        session,
        QUOTES,
        record_id,
        form,
        action="revise",
        run=lambda parsed, _posted, uow, version: sales.revise_quote(
            parsed, uow=uow, actor=session.actor, expected_version=version
        ),
        then=_to(QUOTES, "revised"),
    )


@router.post("/quotes/{record_id}/win", name="quotes_win")
@_quote_route
def win_quote(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Win an active quote; optionally create its order and close its opportunity as won."""

    def run(parsed: uuid.UUID, posted: dict[str, str], uow: UnitOfWork, version: int | None) -> Any:
        data = parse(
            WinQuote,
            _filled(posted, "date_won")
            | {"create_order": "create_order" in posted, "close_opportunity": "close_opportunity" in posted},
        )
        return sales.win_quote(parsed, data, uow=uow, actor=session.actor, expected_version=version)

    def to_the_order(record_id: uuid.UUID, won: Any) -> Response:
        _quote, order, _opportunity = won
        if order is not None:
            return landing(ORDERS, order.id, "won_with_order")
        return landing(QUOTES, record_id, "won")

    return _command(request, session, QUOTES, record_id, form, action="win", run=run, then=to_the_order)


@router.post("/quotes/{record_id}/close", name="quotes_close")
@_quote_route
def close_quote(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Close an active quote as lost or canceled."""

    def run(parsed: uuid.UUID, posted: dict[str, str], uow: UnitOfWork, version: int | None) -> Any:
        data = parse(CloseQuote, _filled(posted, "status_reason", "closed_on", "description"))
        return sales.close_quote(parsed, data, uow=uow, actor=session.actor, expected_version=version)

    return _command(request, session, QUOTES, record_id, form, action="close", run=run, then=_here(QUOTES, "closed"))


@router.post("/quotes/{record_id}/order", name="quotes_create_order")
@_quote_route
def create_order(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Create the order of a won quote."""
    return _command(
        request,
        session,
        QUOTES,
        record_id,
        form,
        action="order",
        run=lambda parsed, _posted, uow, _version: sales.order_from_quote(parsed, uow=uow, actor=session.actor),
        then=_to(ORDERS, "order"),
    )


@router.post("/orders/{record_id}/submit", name="orders_submit")
@_order_route
def submit_order(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Submit an active order for fulfilment."""
    return _command(
        request,
        session,
        ORDERS,
        record_id,
        form,
        action="submit",
        run=lambda parsed, _posted, uow, version: sales.submit_order(
            parsed, uow=uow, actor=session.actor, expected_version=version
        ),
        then=_here(ORDERS, "submitted"),
    )


@router.post("/orders/{record_id}/fulfil", name="orders_fulfil")
@_order_route
def fulfil_order(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Fulfil an active or submitted order, completely or partly."""

    def run(parsed: uuid.UUID, posted: dict[str, str], uow: UnitOfWork, version: int | None) -> Any:
        data = parse(FulfilOrder, _filled(posted, "status_reason", "date_fulfilled"))
        return sales.fulfil_order(parsed, data, uow=uow, actor=session.actor, expected_version=version)

    return _command(
        request, session, ORDERS, record_id, form, action="fulfil", run=run, then=_here(ORDERS, "fulfilled")
    )


@router.post("/orders/{record_id}/cancel", name="orders_cancel")
@_order_route
def cancel_order(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Cancel an active or submitted order."""
    return _command(
        request,
        session,
        ORDERS,
        record_id,
        form,
        action="cancel",
        run=lambda parsed, _posted, uow, version: sales.cancel_order(
            parsed, uow=uow, actor=session.actor, expected_version=version
        ),
        then=_here(ORDERS, "canceled"),
    )


@router.post("/orders/{record_id}/invoice", name="orders_create_invoice")
@_order_route
def create_invoice(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Create an invoice from the order, with its lines and prices."""
    return _command(
        request,
        session,
        ORDERS,
        record_id,
        form,
        action="invoice",
        run=lambda parsed, _posted, uow, _version: sales.invoice_from_order(parsed, uow=uow, actor=session.actor),
        then=_to(INVOICES, "invoice"),
    )


@router.post("/orders/{record_id}/lock-pricing", name="orders_lock_pricing")
@_order_route
def lock_pricing(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """The order's lines keep their prices whatever the price list says later."""
    return _command(
        request,
        session,
        ORDERS,
        record_id,
        form,
        action="lock_pricing",
        run=lambda parsed, _posted, uow, version: sales.set_prices_locked(
            ORDERS.kind, parsed, locked=True, uow=uow, actor=session.actor, expected_version=version
        ),
        then=_here(ORDERS, "locked"),
    )


@router.post("/orders/{record_id}/current-pricing", name="orders_current_pricing")
@_order_route
def use_current_pricing(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Price the order's lines again with the price list's prices of today."""
    return _command(
        request,
        session,
        ORDERS,
        record_id,
        form,
        action="current_pricing",
        run=lambda parsed, _posted, uow, version: sales.set_prices_locked(
            ORDERS.kind, parsed, locked=False, uow=uow, actor=session.actor, expected_version=version
        ),
        then=_here(ORDERS, "current_pricing"),
    )


@router.post("/invoices/{record_id}/pay", name="invoices_pay")
@_invoice_route
def pay_invoice(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Mark an active invoice paid, completely or partly."""

    def run(parsed: uuid.UUID, posted: dict[str, str], uow: UnitOfWork, version: int | None) -> Any:
        data = parse(PayInvoice, _filled(posted, "status_reason", "date_paid"))
        return sales.pay_invoice(parsed, data, uow=uow, actor=session.actor, expected_version=version)

    return _command(request, session, INVOICES, record_id, form, action="pay", run=run, then=_here(INVOICES, "paid"))


@router.post("/invoices/{record_id}/cancel", name="invoices_cancel")
@_invoice_route
def cancel_invoice(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Cancel an active invoice."""
    return _command(
        request,
        session,
        INVOICES,
        record_id,
        form,
        action="cancel",
        run=lambda parsed, _posted, uow, version: sales.cancel_invoice(
            parsed, uow=uow, actor=session.actor, expected_version=version
        ),
        then=_here(INVOICES, "canceled"),
    )
