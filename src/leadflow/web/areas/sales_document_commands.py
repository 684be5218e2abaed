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
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.core.errors import LeadflowError
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.sales import service as sales
from leadflow.sales.schemas import CloseQuote, FulfilOrder, PayInvoice, WinQuote
from leadflow.security.actor import Actor
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


def _won(record_id: uuid.UUID, won: Any) -> Response:
    """To the order the won quote made, if it made one."""
    _quote, order, _opportunity = won
    if order is not None:
        return landing(ORDERS, order.id, "won_with_order")
    return landing(QUOTES, record_id, "won")


# A command's service call: the document's id, what its form posted, the unit of work, the actor and
# the version the form was shown at.
Run = Callable[[uuid.UUID, dict[str, str], UnitOfWork, Actor, int | None], Any]


def _plain(service: Callable[..., Any]) -> Run:
    """A command without a form of its own, checked against the version the page was shown at."""
    return lambda parsed, _posted, uow, actor, version: service(parsed, uow=uow, actor=actor, expected_version=version)


def _unversioned(service: Callable[..., Any]) -> Run:
    """A command that makes a new document and does not change the one it is made from."""
    return lambda parsed, _posted, uow, actor, _version: service(parsed, uow=uow, actor=actor)


def _with_form(service: Callable[..., Any], schema: type[Any], *names: str) -> Run:
    """A command whose form's filled-in fields are parsed as ``schema``."""
    return lambda parsed, posted, uow, actor, version: service(
        parsed, parse(schema, _filled(posted, *names)), uow=uow, actor=actor, expected_version=version
    )


def _pricing(*, locked: bool) -> Run:
    return lambda parsed, _posted, uow, actor, version: sales.set_prices_locked(
        ORDERS.kind, parsed, locked=locked, uow=uow, actor=actor, expected_version=version
    )


def _win(parsed: uuid.UUID, posted: dict[str, str], uow: UnitOfWork, actor: Actor, version: int | None) -> Any:
    data = parse(
        WinQuote,
        _filled(posted, "date_won")
        | {"create_order": "create_order" in posted, "close_opportunity": "close_opportunity" in posted},
    )
    return sales.win_quote(parsed, data, uow=uow, actor=actor, expected_version=version)


@dataclass(frozen=True)
class Command:
    """A form of a document's page posted to ``/{pages.path}/{id}/{segment}``."""

    pages: DocumentPages
    segment: str
    name: str  # the route's name
    action: str  # the form shown open again when refused
    run: Run
    then: Callable[[uuid.UUID, Any], Response]


COMMANDS = (
    # A draft quote with lines becomes active and read-only.
    Command(
        QUOTES, "activate", "quotes_activate", "activate", _plain(sales.activate_quote), _here(QUOTES, "activated")
    ),
    # Close an active quote as revised and open its next revision as a draft.
    Command(QUOTES, "revise", "quotes_revise", "revise", _plain(sales.revise_quote), _to(QUOTES, "revised")),
    # Win an active quote; optionally create its order and close its opportunity as won.
    Command(QUOTES, "win", "quotes_win", "win", _win, _won),
    # Close an active quote as lost or canceled.
    Command(
        QUOTES,
        "close",
        "quotes_close",
        "close",
        _with_form(sales.close_quote, CloseQuote, "status_reason", "closed_on", "description"),
        _here(QUOTES, "closed"),
    ),
    # Create the order of a won quote.
    Command(
        QUOTES, "order", "quotes_create_order", "order", _unversioned(sales.order_from_quote), _to(ORDERS, "order")
    ),
    # Submit an active order for fulfilment.
    Command(ORDERS, "submit", "orders_submit", "submit", _plain(sales.submit_order), _here(ORDERS, "submitted")),
    # Fulfil an active or submitted order, completely or partly.
    Command(
        ORDERS,
        "fulfil",
        "orders_fulfil",
        "fulfil",
        _with_form(sales.fulfil_order, FulfilOrder, "status_reason", "date_fulfilled"),
        _here(ORDERS, "fulfilled"),
    ),
    # Cancel an active or submitted order.
    Command(ORDERS, "cancel", "orders_cancel", "cancel", _plain(sales.cancel_order), _here(ORDERS, "canceled")),
    # Create an invoice from the order, with its lines and prices.
    Command(
        ORDERS,
        "invoice",
        "orders_create_invoice",
        "invoice",
        _unversioned(sales.invoice_from_order),
        _to(INVOICES, "invoice"),
    ),
    # The order's lines keep their prices whatever the price list says later.
    Command(
        ORDERS, "lock-pricing", "orders_lock_pricing", "lock_pricing", _pricing(locked=True), _here(ORDERS, "locked")
    ),
    # Price the order's lines again with the price list's prices of today.
    Command(
        ORDERS,
        "current-pricing",
        "orders_current_pricing",
        "current_pricing",
        _pricing(locked=False),
        _here(ORDERS, "current_pricing"),
    ),
    # Mark an active invoice paid, completely or partly.
    Command(
        INVOICES,
        "pay",
        "invoices_pay",
        "pay",
        _with_form(sales.pay_invoice, PayInvoice, "status_reason", "date_paid"),
        _here(INVOICES, "paid"),
    ),
    # Cancel an active invoice.
    Command(INVOICES, "cancel", "invoices_cancel", "cancel", _plain(sales.cancel_invoice), _here(INVOICES, "canceled")),
)


def _register(command: Command) -> None:
    """The route of one command: its page again when refused, else where ``command.then`` says."""

    @router.post(f"/{command.pages.path}/{{record_id}}/{command.segment}", name=command.name)
    @document_route(command.pages)
    def post_command(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
        return _command(
            request,
            session,
            command.pages,
            record_id,
            form,
            action=command.action,
            run=lambda parsed, posted, uow, version: command.run(parsed, posted, uow, session.actor, version),
            then=command.then,
        )


for _each in COMMANDS:
    _register(_each)
