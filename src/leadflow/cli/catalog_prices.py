"""`leadflow price-lists ...`: price lists, by name, each in one currency and valid between two dates,
and their items, each pricing a product in one unit (an amount, or a percentage of its list price or
cost, rounded as the item says, with a discount list for volume discounts).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from leadflow.catalog import service as catalog
from leadflow.catalog.models import PriceList, PriceListItem, PricingMethod, RoundingOption, RoundingPolicy
from leadflow.catalog.schemas import (
    PriceListCreate,
    PriceListItemCreate,
    PriceListItemOut,
    PriceListItemUpdate,
    PriceListOut,
    PriceListUpdate,
)
from leadflow.cli.catalog_common import (
    Cursor,
    Limit,
    ListReference,
    add_delete_command,
    change_record,
    discount_list_named,
    given,
    language_of,
    need_changes,
    price_list_named,
    product_numbered,
    read_action,
    run_action,
    unit_named,
)
from leadflow.cli.common import JsonFlag, console, emit, page_of, text
from leadflow.core.errors import NotFound
from leadflow.core.formatting import format_money, format_number
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.security.actor import Actor

FOUR_DECIMALS = Decimal("0.0001")


def _rounding(item: PriceListItemOut, currency: str, language: str) -> str:
    if item.rounding_policy is RoundingPolicy.NONE:
        return ""
    if not item.rounding_amount:
        return item.rounding_policy.value
    option = item.rounding_option.value if item.rounding_option else ""
    return f"{item.rounding_policy.value}, {option} {format_money(item.rounding_amount, currency, language)}"


def price_list_commands() -> typer.Typer:
    """`leadflow price-lists list|create|update|delete|items|add-item|update-item|remove-item`."""
    group = typer.Typer(help="Price lists: prices in one currency, valid between two dates.", no_args_is_help=True)

    @group.command("list")
    def list_(
        ctx: typer.Context,
        currency: Annotated[str | None, typer.Option(help="Only the lists in this currency, e.g. EUR.")] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Price lists by name."""

        def listed(uow: UnitOfWork, actor: Actor) -> tuple[list[PriceListOut], str | None]:
            page = catalog.list_price_lists(uow=uow, actor=actor, limit=limit, cursor=cursor, currency=currency)
            return [PriceListOut.model_validate(item) for item in page.items], page.next_cursor

        items, next_cursor = read_action(ctx, listed)

        def render() -> None:
            grid = Table(title="Price lists")
            grid.add_column("id", no_wrap=True, min_width=36)
            for column in ("name", "currency", "valid from", "valid to"):
                grid.add_column(column)
            for item in items:
                grid.add_row(str(item.id), item.name, item.currency, text(item.valid_from), text(item.valid_to))
            console.print(grid)
            if next_cursor:
                console.print(f"Next page: --cursor {next_cursor}")

        emit(as_json, page_of(items, next_cursor), render)

    @group.command("create")
    def create(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The list's name, e.g. 'Tarifa EUR'.")],
        currency: Annotated[str, typer.Option(help="ISO code of one of the currencies, e.g. EUR.")],
        valid_from: Annotated[str | None, typer.Option("--from", help="First valid day, YYYY-MM-DD.")] = None,
        valid_to: Annotated[str | None, typer.Option("--to", help="Last valid day, YYYY-MM-DD.")] = None,
        description: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Create a price list in one currency."""
        data = given(name=name, currency=currency, valid_from=valid_from, valid_to=valid_to, description=description)
        price_list = run_action(
            ctx, lambda uow, actor: catalog.create_price_list(parse(PriceListCreate, data), uow=uow, actor=actor)
        )
        console.print(f"Created price list [bold]{price_list.name}[/] {price_list.id} ({currency.upper()})")

    @group.command("items")
    def items(ctx: typer.Context, reference: ListReference, as_json: JsonFlag = False) -> None:
        """The items of a price list, with the price each gives today."""

        def listed(uow: UnitOfWork, actor: Actor) -> tuple[str, str, list[PriceListItemOut], list[list[str]]]:
            price_list = price_list_named(reference, uow=uow, actor=actor)
            currency, language = price_list.currency_code, language_of(actor)
            found, rows = [], []
            for record in catalog.list_price_list_items(price_list.id, uow=uow, actor=actor):
                price = catalog.item_price_today(uow.session, record)
                # The four decimals the API answers every amount with (the price is computed to the currency's).
                stored = None if price is None else price.quantize(FOUR_DECIMALS)
                item = PriceListItemOut.model_validate(record).model_copy(update={"price_per_unit": stored})
                product = catalog.read_product(record.product_id, uow=uow, actor=actor)
                unit = catalog.read_unit(record.unit_id, uow=uow, actor=actor)
                percentage = "" if item.percentage is None else f"{format_number(item.percentage, language)} %"
                found.append(item)
                rows.append(
                    [
                        f"{product.number} {product.name}",
                        unit.name,
                        item.pricing_method.value,
                        format_money(item.amount, currency, language) or percentage,
                        _rounding(item, currency, language),
                        record.discount_list.name if record.discount_list else "",
                        format_money(item.price_per_unit, currency, language) or "cannot price",
                    ]
                )
            return price_list.name, currency, found, rows

        name, currency, found, rows = read_action(ctx, listed)

        def render() -> None:
            grid = Table(title=f"Price list {name} ({currency})")
            for column in ("product", "unit", "method", "amount or %", "rounding", "discount list"):
                grid.add_column(column)
            grid.add_column("price today", justify="right")
            for row in rows:
                grid.add_row(*row)
            console.print(grid)

        emit(as_json, found, render)

    @group.command("add-item")
    def add_item(
        ctx: typer.Context,
        reference: ListReference,
        product_reference: Annotated[str, typer.Argument(metavar="PRODUCT", help="The product's number or id.")],
        unit: Annotated[str, typer.Option(help="A unit of the product's unit group.")],
        method: Annotated[PricingMethod, typer.Option(help="How the item prices the product.")],
        amount: Annotated[str | None, typer.Option(help="The price, for currency_amount.")] = None,
        percentage: Annotated[str | None, typer.Option(help="The percentage, for the other methods.")] = None,
        rounding: Annotated[RoundingPolicy | None, typer.Option(help="How the price is rounded.")] = None,
        rounding_option: Annotated[
            RoundingOption | None, typer.Option(help="Whether the price ends in the amount or is a multiple of it.")
        ] = None,
        rounding_amount: Annotated[str | None, typer.Option(help="The amount rounded to, e.g. 0.99.")] = None,
        discount_list: Annotated[
            str | None, typer.Option("--discount-list", help="A discount list's name, for volume discounts.")
        ] = None,
    ) -> None:
        """Price a product in one unit on a price list."""

        def add(uow: UnitOfWork, actor: Actor) -> tuple[str, str, str]:
            price_list = price_list_named(reference, uow=uow, actor=actor)
            product = product_numbered(product_reference, uow=uow, actor=actor)
            unit_record = unit_named(catalog.read_unit_group(product.unit_group_id, uow=uow, actor=actor), unit)
            discount = discount_list_named(discount_list, uow=uow, actor=actor) if discount_list else None
            data = given(
                product_id=str(product.id),
                unit_id=str(unit_record.id),
                pricing_method=method.value,
                amount=amount,
                percentage=percentage,
                rounding_policy=rounding and rounding.value,
                rounding_option=rounding_option and rounding_option.value,
                rounding_amount=rounding_amount,
                discount_list_id=discount and str(discount.id),
            )
            item = catalog.add_price_list_item(price_list.id, parse(PriceListItemCreate, data), uow=uow, actor=actor)
            price = catalog.item_price_today(uow.session, item)
            shown = format_money(price, price_list.currency_code, language_of(actor)) or "no price yet"
            return price_list.name, f"{product.number} per {unit_record.name}", shown

        name, what, price = run_action(ctx, add)
        console.print(f"Priced {what} on [bold]{name}[/]: {price}")

    @group.command("update")
    def update(
        ctx: typer.Context,
        reference: ListReference,
        name: Annotated[str | None, typer.Option(help="The list's new name.")] = None,
        valid_from: Annotated[str | None, typer.Option("--from", help="First valid day, YYYY-MM-DD.")] = None,
        valid_to: Annotated[str | None, typer.Option("--to", help="Last valid day, YYYY-MM-DD.")] = None,
        description: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Rename a price list or change its validity (its currency stays)."""
        data = need_changes(given(name=name, valid_from=valid_from, valid_to=valid_to, description=description))
        change_record(
            ctx,
            reference,
            finder=price_list_named,
            update=catalog.update_price_list,
            schema=PriceListUpdate,
            label="price list",
            values=lambda record: data,
        )

    add_delete_command(
        group,
        "delete",
        finder=price_list_named,
        delete=catalog.delete_price_list,
        label="price list",
        help_text="Delete a price list and its items; records that named it keep their prices and name none.",
    )

    @group.command("update-item")
    def update_item(
        ctx: typer.Context,
        reference: ListReference,
        product_reference: Annotated[str, typer.Argument(metavar="PRODUCT", help="The product's number or id.")],
        unit: Annotated[str, typer.Option(help="The unit the item prices the product in.")],
        method: Annotated[PricingMethod | None, typer.Option(help="How the item prices the product.")] = None,
        amount: Annotated[str | None, typer.Option(help="The price, for currency_amount.")] = None,
        percentage: Annotated[str | None, typer.Option(help="The percentage, for the other methods.")] = None,
        rounding: Annotated[RoundingPolicy | None, typer.Option(help="How the price is rounded.")] = None,
        rounding_option: Annotated[
            RoundingOption | None, typer.Option(help="Whether the price ends in the amount or is a multiple of it.")
        ] = None,
        rounding_amount: Annotated[str | None, typer.Option(help="The amount rounded to, e.g. 0.99.")] = None,
        discount_list: Annotated[
            str | None, typer.Option("--discount-list", help="A discount list's name, for volume discounts.")
        ] = None,
    ) -> None:
        """Change how a price list prices a product in one unit (lines already priced keep their prices)."""
        need_changes(
            given(
                method=method,
                amount=amount,
                percentage=percentage,
                rounding=rounding,
                rounding_option=rounding_option,
                rounding_amount=rounding_amount,
                discount_list=discount_list,
            ),
            "--amount 95.00",
        )

        def change(uow: UnitOfWork, actor: Actor) -> tuple[str, str, str]:
            price_list, item, what = _priced_item(reference, product_reference, unit, uow=uow, actor=actor)
            discount = discount_list_named(discount_list, uow=uow, actor=actor) if discount_list else None
            data = given(
                pricing_method=method and method.value,
                amount=amount,
                percentage=percentage,
                rounding_policy=rounding and rounding.value,
                rounding_option=rounding_option and rounding_option.value,
                rounding_amount=rounding_amount,
                discount_list_id=discount and str(discount.id),
            )
            item = catalog.update_price_list_item(
                price_list.id, item.id, parse(PriceListItemUpdate, data), uow=uow, actor=actor
            )
            price = catalog.item_price_today(uow.session, item)
            shown = format_money(price, price_list.currency_code, language_of(actor)) or "no price yet"
            return price_list.name, what, shown

        name, what, price = run_action(ctx, change)
        console.print(f"Priced {what} on [bold]{name}[/]: {price}")

    @group.command("remove-item")
    def remove_item(
        ctx: typer.Context,
        reference: ListReference,
        product_reference: Annotated[str, typer.Argument(metavar="PRODUCT", help="The product's number or id.")],
        unit: Annotated[str, typer.Option(help="The unit the item prices the product in.")],
    ) -> None:
        """Stop pricing a product in one unit on a price list (lines already priced keep their prices)."""

        def remove(uow: UnitOfWork, actor: Actor) -> tuple[str, str]:
            price_list, item, what = _priced_item(reference, product_reference, unit, uow=uow, actor=actor)
            catalog.delete_price_list_item(price_list.id, item.id, uow=uow, actor=actor)
            return price_list.name, what

        name, what = run_action(ctx, remove)
        console.print(f"Removed {what} from [bold]{name}[/]")

    return group


def _priced_item(
    reference: str, product_reference: str, unit: str, *, uow: UnitOfWork, actor: Actor
) -> tuple[PriceList, PriceListItem, str]:
    """The price list ``reference`` names, its item pricing a product in a unit, and that item in words."""
    price_list = price_list_named(reference, uow=uow, actor=actor)
    product = product_numbered(product_reference, uow=uow, actor=actor)
    unit_record = unit_named(catalog.read_unit_group(product.unit_group_id, uow=uow, actor=actor), unit)
    item = next(
        (
            item
            for item in catalog.list_price_list_items(price_list.id, uow=uow, actor=actor)
            if item.product_id == product.id and item.unit_id == unit_record.id
        ),
        None,
    )
    what = f"{product.number} per {unit_record.name}"
    if item is None:
        raise NotFound(
            f"The price list {price_list.name} does not price {what}; "
            f"`leadflow price-lists items {price_list.name!r}` lists what it prices.",
            code="price_list_item_not_found",
        )
    return price_list, item, what
