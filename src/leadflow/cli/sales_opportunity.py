"""`leadflow opportunities products|add-product|update-product|remove-product|pricing`: an opportunity's
product lines, priced by its price list, and the price list it is priced by; the commands are added to
the opportunities' group.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from leadflow.catalog.schemas import LineCreate, LineOut, LineUpdate, TotalsOut
from leadflow.cli.catalog_common import given, language_of, price_list_named, read_action, run_action
from leadflow.cli.common import JsonFlag, console, emit
from leadflow.cli.sales_common import (
    DiscountOption,
    LineNumber,
    OpportunityId,
    PriceOption,
    ProductOption,
    Quantity,
    TaxOption,
    UnitOption,
    WriteInOption,
    line_data,
    line_numbered,
    line_said,
    lines_table,
    totals_table,
)
from leadflow.core.formatting import format_money
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.opportunities.models import Opportunity, OpportunityProduct
from leadflow.opportunities.schemas import OpportunityUpdate
from leadflow.opportunities.service import update_opportunity
from leadflow.sales import service as sales
from leadflow.security.access import get_accessible
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege

# ------------------------------------------------------------------------------ opportunity products


def _opportunity_of(opportunity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Opportunity:
    """An opportunity the actor may read (its totals, as its lines left them)."""
    return get_accessible(
        uow.session, Opportunity, opportunity_id, label="opportunity", actor=actor, privilege=Privilege.READ
    )


def _total_of(opportunity: Opportunity, actor: Actor) -> str:
    return format_money(opportunity.total_amount, opportunity.currency_code, language_of(actor))


def _opportunity_line(
    opportunity_id: uuid.UUID, line_number: int, *, uow: UnitOfWork, actor: Actor
) -> OpportunityProduct:
    return line_numbered(
        sales.opportunity_products(opportunity_id, uow=uow, actor=actor),
        line_number,
        of="The opportunity",
        listed_by=f"opportunities products {opportunity_id}",
    )


def add_opportunity_product_commands(group: typer.Typer) -> None:
    """`products`, `add-product`, `update-product`, `remove-product` and `pricing` on the opportunities' group."""

    @group.command("products")
    def products(ctx: typer.Context, opportunity_id: OpportunityId, as_json: JsonFlag = False) -> None:
        """The product lines of an opportunity and its totals (--json: the lines; the totals are on the opportunity)."""

        def listed(uow: UnitOfWork, actor: Actor) -> tuple[str, list[LineOut], TotalsOut, str | None, str]:
            lines = [
                LineOut.model_validate(line)
                for line in sales.opportunity_products(opportunity_id, uow=uow, actor=actor)
            ]
            opportunity = _opportunity_of(opportunity_id, uow=uow, actor=actor)
            totals = TotalsOut.model_validate(opportunity)
            return opportunity.name, lines, totals, opportunity.currency_code, language_of(actor)

        name, lines, totals, currency, language = read_action(ctx, listed)

        def render() -> None:
            console.print(lines_table(f"Products of {name}", lines, currency=currency, language=language))
            console.print(totals_table(totals, currency=currency, language=language))

        emit(as_json, lines, render)

    @group.command("add-product")
    def add_product(
        ctx: typer.Context,
        opportunity_id: OpportunityId,
        quantity: Quantity,
        product: ProductOption = None,
        unit: UnitOption = None,
        write_in: WriteInOption = None,
        price: PriceOption = None,
        discount: DiscountOption = None,
        tax: TaxOption = None,
        description: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Add a catalogue product (--product) or a write-in product (--write-in and --price)."""

        def add(uow: UnitOfWork, actor: Actor) -> str:
            data = line_data(
                product,
                unit,
                uow=uow,
                actor=actor,
                write_in_name=write_in,
                quantity=quantity,
                price_per_unit=price,
                manual_discount=discount,
                tax=tax,
                description=description,
            )
            line = sales.add_opportunity_product(opportunity_id, parse(LineCreate, data), uow=uow, actor=actor)
            opportunity = _opportunity_of(opportunity_id, uow=uow, actor=actor)
            said = line_said(line, currency=opportunity.currency_code, language=language_of(actor))
            return f"Added line {line.line_number}: {said}; opportunity total {_total_of(opportunity, actor)}"

        console.print(run_action(ctx, add))

    @group.command("update-product")
    def update_product(
        ctx: typer.Context,
        opportunity_id: OpportunityId,
        line_number: LineNumber,
        quantity: Annotated[str | None, typer.Option(help="How many, e.g. 12 or 1.5.")] = None,
        discount: DiscountOption = None,
        tax: TaxOption = None,
        price: PriceOption = None,
    ) -> None:
        """Change a product line of an open opportunity; it is priced again."""
        data = given(quantity=quantity, manual_discount=discount, tax=tax, price_per_unit=price)
        if not data:
            raise typer.BadParameter("give at least one of --quantity, --discount, --tax, --price.")

        def change(uow: UnitOfWork, actor: Actor) -> str:
            line = _opportunity_line(opportunity_id, line_number, uow=uow, actor=actor)
            line = sales.update_opportunity_product(
                opportunity_id, line.id, parse(LineUpdate, data), uow=uow, actor=actor
            )
            opportunity = _opportunity_of(opportunity_id, uow=uow, actor=actor)
            said = line_said(line, currency=opportunity.currency_code, language=language_of(actor))
            return f"Changed line {line.line_number}: {said}; opportunity total {_total_of(opportunity, actor)}"

        console.print(run_action(ctx, change))

    @group.command("remove-product")
    def remove_product(ctx: typer.Context, opportunity_id: OpportunityId, line_number: LineNumber) -> None:
        """Remove a product line from an open opportunity (the other lines keep their numbers)."""

        def remove(uow: UnitOfWork, actor: Actor) -> str:
            line = _opportunity_line(opportunity_id, line_number, uow=uow, actor=actor)
            name = line.product_name
            sales.delete_opportunity_product(opportunity_id, line.id, uow=uow, actor=actor)
            opportunity = _opportunity_of(opportunity_id, uow=uow, actor=actor)
            return f"Removed line {line_number} ({name}); opportunity total {_total_of(opportunity, actor)}"

        console.print(run_action(ctx, remove))

    @group.command("pricing")
    def pricing(
        ctx: typer.Context,
        opportunity_id: OpportunityId,
        price_list: Annotated[
            str | None,
            typer.Option("--price-list", help="The price list's name or id (in the opportunity's currency)."),
        ] = None,
        discount_percentage: Annotated[str | None, typer.Option(help="Discount on the whole, in %.")] = None,
        discount_amount: Annotated[str | None, typer.Option(help="Discount on the whole, an amount.")] = None,
        freight: Annotated[str | None, typer.Option(help="Freight amount.")] = None,
    ) -> None:
        """Set the price list an opportunity's products are priced from, and its discount and freight."""

        def change(uow: UnitOfWork, actor: Actor) -> str:
            data = given(
                price_list_id=price_list and str(price_list_named(price_list, uow=uow, actor=actor).id),
                discount_percentage=discount_percentage,
                discount_amount=discount_amount,
                freight_amount=freight,
            )
            opportunity = update_opportunity(opportunity_id, parse(OpportunityUpdate, data), uow=uow, actor=actor)
            total = format_money(opportunity.total_amount, opportunity.currency_code, language_of(actor))
            return f"Priced opportunity [bold]{opportunity.name}[/]: total {total}"

        console.print(run_action(ctx, change))
