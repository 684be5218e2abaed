"""`leadflow quotes ...`: quotes, created on their own or from an opportunity, edited as drafts,
activated, revised, won (with their order) or closed, and printed.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from leadflow.cli.catalog_common import given, language_of, price_list_named, run_action
from leadflow.cli.common import console
from leadflow.cli.sales_common import (
    DayOption,
    DocumentReference,
    OpportunityId,
    add_transition_commands,
    document_group,
    document_id,
    done,
    transition,
)
from leadflow.cli.sales_edits import add_edit_commands
from leadflow.core.formatting import format_money
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.sales import service as sales
from leadflow.sales.models import DocumentKind, QuoteStatusReason
from leadflow.sales.schemas import CloseQuote, QuoteCreate, WinQuote
from leadflow.security.actor import Actor


def quote_commands() -> typer.Typer:
    """`leadflow quotes list|show|create|from-opportunity|update|add-line|update-line|remove-line|delete|activate|
    revise|close|win|order|print`."""
    group = document_group(DocumentKind.QUOTE, "Quotes: draft, activate, revise, win or close, print.")
    quote = DocumentKind.QUOTE

    @group.command("create")
    def create(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The quote's name.")],
        customer: Annotated[uuid.UUID, typer.Option(help="The account's or contact's id.")],
        currency: Annotated[
            str | None, typer.Option(help="ISO code of one of the currencies (the base currency by default).")
        ] = None,
        price_list: Annotated[
            str | None, typer.Option("--price-list", help="The price list's name or id (in the quote's currency).")
        ] = None,
    ) -> None:
        """Create a draft quote on its own, for an account or a contact (add its lines with add-line)."""

        def create_quote(uow: UnitOfWork, actor: Actor) -> str:
            data = given(
                name=name,
                customer_id=str(customer),
                currency=currency,
                price_list_id=price_list and str(price_list_named(price_list, uow=uow, actor=actor).id),
            )
            record = sales.create_quote(parse(QuoteCreate, data), uow=uow, actor=actor)
            return done(record, "Created", actor) + f" {record.id}"

        console.print(run_action(ctx, create_quote))

    @group.command("from-opportunity")
    def from_opportunity(ctx: typer.Context, opportunity_id: OpportunityId) -> None:
        """Create a draft quote with an open opportunity's products, price list, currency and customer."""

        def create(uow: UnitOfWork, actor: Actor) -> str:
            record = sales.quote_from_opportunity(opportunity_id, uow=uow, actor=actor)
            return (
                done(record, "Created", actor)
                + f" ({len(record.lines)} line{'' if len(record.lines) == 1 else 's'}) {record.id}"
            )

        console.print(run_action(ctx, create))

    add_edit_commands(group, quote)
    add_transition_commands(
        group,
        quote,
        (
            "activate",
            "Activate a draft quote: it becomes read-only, ready for the customer.",
            "Activated",
            lambda record_id, uow, actor: sales.activate_quote(record_id, uow=uow, actor=actor),
        ),
        (
            "revise",
            "Close an active quote as revised and open a draft of its next revision.",
            "Opened",
            lambda record_id, uow, actor: sales.revise_quote(record_id, uow=uow, actor=actor),
        ),
    )

    @group.command("close")
    def close(
        ctx: typer.Context,
        reference: DocumentReference,
        lost: Annotated[bool, typer.Option("--lost", help="The customer did not take it.")] = False,
        canceled: Annotated[bool, typer.Option("--canceled", help="The quote was withdrawn.")] = False,
        day: DayOption = None,
        description: Annotated[str | None, typer.Option(help="What happened.")] = None,
    ) -> None:
        """Close an active quote as lost or canceled."""
        if lost == canceled:
            raise typer.BadParameter("give either --lost or --canceled.", param_hint="--lost / --canceled")
        reason = QuoteStatusReason.LOST if lost else QuoteStatusReason.CANCELED
        data = given(status_reason=reason.value, closed_on=day, description=description)
        transition(
            ctx,
            quote,
            reference,
            "Closed",
            lambda record_id, uow, actor: sales.close_quote(record_id, parse(CloseQuote, data), uow=uow, actor=actor),
        )

    @group.command("win")
    def win(
        ctx: typer.Context,
        reference: DocumentReference,
        no_order: Annotated[bool, typer.Option("--no-order", help="Do not create the order now.")] = False,
        keep_opportunity_open: Annotated[
            bool, typer.Option("--keep-opportunity-open", help="Leave the quote's opportunity open.")
        ] = False,
        day: DayOption = None,
        description: Annotated[str | None, typer.Option(help="What was agreed.")] = None,
    ) -> None:
        """Win an active quote: close its opportunity as won and create the order (unless told not to)."""
        data = given(
            date_won=day,
            create_order=not no_order,
            close_opportunity=not keep_opportunity_open,
            description=description,
        )

        def won(uow: UnitOfWork, actor: Actor) -> list[str]:
            record_id = document_id(quote, reference, uow=uow, actor=actor)
            record, order, opportunity = sales.win_quote(record_id, parse(WinQuote, data), uow=uow, actor=actor)
            said = [done(record, "Won", actor)]
            if order is not None:
                said.append(done(order, "Created", actor) + f" {order.id}")
            if opportunity is not None:
                revenue = format_money(opportunity.actual_revenue, opportunity.currency_code, language_of(actor))
                said.append(f"Opportunity {opportunity.name}: {opportunity.state.value}, actual revenue {revenue}")
            return said

        for line in run_action(ctx, won):
            console.print(line)

    @group.command("order")
    def order(ctx: typer.Context, reference: DocumentReference) -> None:
        """Create the order of a won quote (when winning it did not)."""

        def create(uow: UnitOfWork, actor: Actor) -> str:
            record = sales.order_from_quote(document_id(quote, reference, uow=uow, actor=actor), uow=uow, actor=actor)
            return done(record, "Created", actor) + f" {record.id}"

        console.print(run_action(ctx, create))

    return group
