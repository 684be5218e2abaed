"""`leadflow discount-lists ...`: discount lists, by name, giving a percentage or an amount per unit off
a price by quantity tiers (10:99:5 gives 5 % from 10 to 99), which price list items name for volume
discounts.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from leadflow.catalog import service as catalog
from leadflow.catalog.models import DiscountKind, DiscountList
from leadflow.catalog.schemas import DiscountListCreate, DiscountListOut, DiscountListUpdate
from leadflow.cli.catalog_common import (
    Cursor,
    DiscountListReference,
    Limit,
    add_delete_command,
    change_record,
    discount_list_named,
    given,
    language_of,
    need_changes,
    quantity_text,
    read_action,
    run_action,
)
from leadflow.cli.common import JsonFlag, console, emit, page_of, text
from leadflow.core.errors import NotFound, ValidationFailed
from leadflow.core.formatting import format_money, format_number
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.security.actor import Actor


def _tier(text_value: str, position: int) -> dict[str, str]:
    parts = text_value.split(":")
    if len(parts) != 3 or not all(part.strip() for part in parts):
        message = (
            f"--tier {text_value!r}: give the first quantity, the last and the discount, separated by colons: 10:99:5."
        )
        raise ValidationFailed(
            message,
            code="tier_format",
            details={"fields": [{"field": f"tiers.{position}", "code": "tier_format", "message": message}]},
        )
    begin, end, value = (part.strip() for part in parts)
    return {"begin_quantity": begin, "end_quantity": end, "value": value}


def _tiers_text(item: DiscountListOut, currency: str | None, language: str) -> str:
    def value(amount: Any) -> str:
        if item.kind is DiscountKind.PERCENTAGE:
            return f"{format_number(amount, language)} %"
        return format_money(amount, currency, language)

    return ", ".join(
        f"{quantity_text(tier.begin_quantity, language)}–{quantity_text(tier.end_quantity, language)}: {value(tier.value)}"
        for tier in item.tiers
    )


def discount_list_commands() -> typer.Typer:
    """`leadflow discount-lists list|create|update|add-tier|remove-tier|delete`."""
    group = typer.Typer(help="Volume discounts by quantity tiers.", no_args_is_help=True)

    @group.command("list")
    def list_(ctx: typer.Context, limit: Limit = 50, cursor: Cursor = None, as_json: JsonFlag = False) -> None:
        """Discount lists by name, with their tiers."""

        def listed(uow: UnitOfWork, actor: Actor) -> tuple[list[DiscountListOut], str | None, dict[Any, str], str]:
            page = catalog.list_discount_lists(uow=uow, actor=actor, limit=limit, cursor=cursor)
            currencies = {item.currency_id: item.currency.iso_code for item in page.items if item.currency}
            return (
                [DiscountListOut.model_validate(item) for item in page.items],
                page.next_cursor,
                currencies,
                language_of(actor),
            )

        items, next_cursor, currencies, language = read_action(ctx, listed)

        def render() -> None:
            grid = Table(title="Discount lists")
            grid.add_column("id", no_wrap=True, min_width=36)
            for column in ("name", "kind", "currency", "tiers (quantity: discount)"):
                grid.add_column(column)
            for item in items:
                currency = currencies.get(item.currency_id)
                grid.add_row(
                    str(item.id), item.name, item.kind.value, text(currency), _tiers_text(item, currency, language)
                )
            console.print(grid)
            if next_cursor:
                console.print(f"Next page: --cursor {next_cursor}")

        emit(as_json, page_of(items, next_cursor), render)

    @group.command("create")
    def create(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The list's name.")],
        tier: Annotated[
            list[str],
            typer.Option(
                help="First quantity, last quantity (both included) and discount, separated by colons: 10:99:5 "
                "gives 5 % from 10 to 99; repeat for each tier."
            ),
        ],
        kind: Annotated[DiscountKind, typer.Option(help="A percentage, or an amount per unit.")] = (
            DiscountKind.PERCENTAGE
        ),
        currency: Annotated[str | None, typer.Option(help="The currency of an amount discount, e.g. EUR.")] = None,
        description: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Create a discount list with its quantity tiers."""

        def create_list(uow: UnitOfWork, actor: Actor) -> DiscountList:
            tiers = [_tier(value, position) for position, value in enumerate(tier)]
            data = given(name=name, kind=kind.value, currency=currency, description=description, tiers=tiers)
            return catalog.create_discount_list(parse(DiscountListCreate, data), uow=uow, actor=actor)

        discount = run_action(ctx, create_list)
        console.print(f"Created discount list [bold]{discount.name}[/] {discount.id} (tiers: {len(tier)})")

    def change(reference: str, values: Callable[[DiscountList], dict[str, Any]]) -> Callable[[typer.Context], None]:
        return lambda ctx: change_record(
            ctx,
            reference,
            finder=discount_list_named,
            update=catalog.update_discount_list,
            schema=DiscountListUpdate,
            label="discount list",
            values=values,
        )

    @group.command("update")
    def update(
        ctx: typer.Context,
        reference: DiscountListReference,
        name: Annotated[str | None, typer.Option(help="The list's new name.")] = None,
        description: Annotated[str | None, typer.Option()] = None,
        tier: Annotated[
            list[str] | None,
            typer.Option(help="The tiers replacing all of the list's, as for create: 10:99:5; repeat for each tier."),
        ] = None,
    ) -> None:
        """Rename a discount list or replace its tiers (lines priced before keep their discounts)."""
        data = need_changes(given(name=name, description=description, tiers=tier or None))
        change(
            reference,
            lambda record: (
                data | ({"tiers": [_tier(value, position) for position, value in enumerate(tier)]} if tier else {})
            ),
        )(ctx)

    @group.command("add-tier")
    def add_tier(
        ctx: typer.Context,
        reference: DiscountListReference,
        tier: Annotated[
            str, typer.Argument(metavar="TIER", help="First quantity, last quantity and discount: 100:199:10.")
        ],
    ) -> None:
        """Add a quantity tier to a discount list (its other tiers stay)."""
        change(reference, lambda record: {"tiers": [*_tiers_of(record), _tier(tier, len(record.tiers))]})(ctx)

    @group.command("remove-tier")
    def remove_tier(
        ctx: typer.Context,
        reference: DiscountListReference,
        first: Annotated[
            str, typer.Argument(metavar="FIRST_QUANTITY", help="The first quantity of the tier, e.g. 100.")
        ],
    ) -> None:
        """Remove the quantity tier starting at a quantity from a discount list (its other tiers stay)."""

        def without(record: DiscountList) -> dict[str, Any]:
            tiers = _tiers_of(record)
            kept = [item for item in tiers if Decimal(item["begin_quantity"]) != _quantity(first)]
            if len(kept) == len(tiers):
                raise NotFound(
                    f"No tier of {record.name} starts at {first}; `leadflow discount-lists list` lists them.",
                    code="discount_tier_not_found",
                )
            return {"tiers": kept}

        change(reference, without)(ctx)

    add_delete_command(
        group,
        "delete",
        finder=discount_list_named,
        delete=catalog.delete_discount_list,
        label="discount list",
        help_text="Delete a discount list; the price list items that used it give no volume discount any more.",
    )

    return group


def _tiers_of(record: DiscountList) -> list[dict[str, str]]:
    """A discount list's tiers as the API takes them."""
    return [
        {"begin_quantity": str(item.begin_quantity), "end_quantity": str(item.end_quantity), "value": str(item.value)}
        for item in record.tiers
    ]


def _quantity(value: str) -> Decimal | None:
    try:
        return Decimal(value.strip())
    except ArithmeticError:
        return None
