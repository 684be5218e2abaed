"""`leadflow orders|invoices ...`: orders (submitted, fulfilled or canceled, invoiced) and invoices
(paid or canceled), edited while active, their prices locked or taken from the price list again, and
printed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

import typer

from leadflow.cli.catalog_common import given, run_action
from leadflow.cli.common import console
from leadflow.cli.sales_common import (
    DayOption,
    DocumentReference,
    add_transition_commands,
    document_group,
    document_id,
    done,
    transition,
)
from leadflow.cli.sales_edits import add_edit_commands
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.sales import service as sales
from leadflow.sales.models import DocumentKind, InvoiceStatusReason, OrderStatusReason, SalesDocument
from leadflow.sales.schemas import FulfilOrder, PayInvoice
from leadflow.security.actor import Actor


def add_price_lock_commands(group: typer.Typer, kind: DocumentKind) -> None:
    """`lock-pricing` and `use-current-pricing` on the orders' or the invoices' command group."""

    def locking(locked: bool) -> Callable[[uuid.UUID, UnitOfWork, Actor], SalesDocument]:
        return lambda record_id, uow, actor: sales.set_prices_locked(
            kind, record_id, locked=locked, uow=uow, actor=actor
        )

    add_transition_commands(
        group,
        kind,
        (
            "lock-pricing",
            "Keep the lines' prices as they are, whatever the price list says later.",
            "Locked the prices of",
            locking(True),
        ),
        (
            "use-current-pricing",
            "Price the lines from the price list again, at today's prices (overridden and write-in prices stay).",
            "Unlocked the prices of",
            locking(False),
        ),
    )


def order_commands() -> typer.Typer:
    """`leadflow orders list|show|update|add-line|update-line|remove-line|delete|submit|fulfil|cancel|invoice|
    lock-pricing|use-current-pricing|print`."""
    group = document_group(DocumentKind.ORDER, "Orders: submit, fulfil or cancel, invoice, print.")
    order = DocumentKind.ORDER

    add_transition_commands(
        group,
        order,
        (
            "submit",
            "Submit an active order for fulfilment.",
            "Submitted",
            lambda record_id, uow, actor: sales.submit_order(record_id, uow=uow, actor=actor),
        ),
    )

    @group.command("fulfil")
    def fulfil(
        ctx: typer.Context,
        reference: DocumentReference,
        partial: Annotated[bool, typer.Option("--partial", help="Only part of it was delivered.")] = False,
        day: DayOption = None,
    ) -> None:
        """Fulfil an active or submitted order, completely or partly."""
        reason = OrderStatusReason.PARTIAL if partial else OrderStatusReason.COMPLETE
        data = given(status_reason=reason.value, date_fulfilled=day)
        transition(
            ctx,
            order,
            reference,
            "Fulfilled",
            lambda record_id, uow, actor: sales.fulfil_order(record_id, parse(FulfilOrder, data), uow=uow, actor=actor),
        )

    add_transition_commands(
        group,
        order,
        (
            "cancel",
            "Cancel an active or submitted order.",
            "Canceled",
            lambda record_id, uow, actor: sales.cancel_order(record_id, uow=uow, actor=actor),
        ),
    )

    @group.command("invoice")
    def invoice(ctx: typer.Context, reference: DocumentReference) -> None:
        """Create an invoice from an order that is not canceled."""

        def create(uow: UnitOfWork, actor: Actor) -> str:
            record = sales.invoice_from_order(document_id(order, reference, uow=uow, actor=actor), uow=uow, actor=actor)
            return done(record, "Created", actor) + f" {record.id}"

        console.print(run_action(ctx, create))

    add_edit_commands(group, order)
    add_price_lock_commands(group, order)
    return group


def invoice_commands() -> typer.Typer:
    """`leadflow invoices list|show|update|add-line|update-line|remove-line|delete|pay|cancel|lock-pricing|
    use-current-pricing|print`."""
    group = document_group(DocumentKind.INVOICE, "Invoices: pay or cancel, print.")
    invoice = DocumentKind.INVOICE

    @group.command("pay")
    def pay(
        ctx: typer.Context,
        reference: DocumentReference,
        partial: Annotated[bool, typer.Option("--partial", help="Only part of it was paid.")] = False,
        day: DayOption = None,
    ) -> None:
        """Mark an active invoice paid, completely or partly."""
        reason = InvoiceStatusReason.PARTIAL if partial else InvoiceStatusReason.COMPLETE
        data = given(status_reason=reason.value, date_paid=day)
        transition(
            ctx,
            invoice,
            reference,
            "Paid",
            lambda record_id, uow, actor: sales.pay_invoice(record_id, parse(PayInvoice, data), uow=uow, actor=actor),
        )

    add_transition_commands(
        group,
        invoice,
        (
            "cancel",
            "Cancel an active invoice.",
            "Canceled",
            lambda record_id, uow, actor: sales.cancel_invoice(record_id, uow=uow, actor=actor),
        ),
    )
    add_edit_commands(group, invoice)
    add_price_lock_commands(group, invoice)
    return group
