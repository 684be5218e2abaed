"""`leadflow products|product-families ...`: products, by number (created as drafts, published to be
sold, retired), with their prices in the base currency; and the named families that group them.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from leadflow.catalog import service as catalog
from leadflow.catalog.models import Product, ProductState
from leadflow.catalog.schemas import FamilyCreate, FamilyOut, FamilyUpdate, ProductCreate, ProductOut, ProductUpdate
from leadflow.cli.catalog_common import (
    Cursor,
    Limit,
    ProductReference,
    add_delete_command,
    change_record,
    family_named,
    given,
    language_of,
    need_changes,
    product_numbered,
    read_action,
    run_action,
    unit_group_named,
    unit_named,
)
from leadflow.cli.common import JsonFlag, console, emit, page_of, text
from leadflow.core.formatting import format_money
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.organisation.models import Currency
from leadflow.organisation.service import get_settings
from leadflow.security.actor import Actor


def _base_currency(uow: UnitOfWork) -> str:
    base_id = get_settings(uow.session).base_currency_id
    currency = uow.session.get(Currency, base_id) if base_id else None
    return currency.iso_code if currency is not None else "EUR"


def product_commands() -> typer.Typer:
    """`leadflow products list|show|create|update|publish|retire|delete`."""
    group = typer.Typer(help="Products: created as drafts, published to be sold, retired.", no_args_is_help=True)

    @group.command("list")
    def list_(
        ctx: typer.Context,
        search: Annotated[str | None, typer.Option(help="Part of the name or the number.")] = None,
        state: Annotated[ProductState | None, typer.Option(help="Only products in this state.")] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Products by name."""

        def listed(uow: UnitOfWork, actor: Actor) -> tuple[list[ProductOut], str | None, dict[Any, str], str, str]:
            page = catalog.list_products(uow=uow, actor=actor, limit=limit, cursor=cursor, search=search, state=state)
            units = {item.default_unit_id: item.default_unit.name for item in page.items}
            items = [ProductOut.model_validate(item) for item in page.items]
            return items, page.next_cursor, units, _base_currency(uow), language_of(actor)

        items, next_cursor, units, currency, language = read_action(ctx, listed)

        def render() -> None:
            grid = Table(title="Products")
            grid.add_column("id", no_wrap=True, min_width=36)
            for column in ("number", "name", "state", "unit"):
                grid.add_column(column)
            grid.add_column("list price", justify="right")
            for item in items:
                grid.add_row(
                    str(item.id),
                    item.number,
                    item.name,
                    item.state.value,
                    units.get(item.default_unit_id, ""),
                    format_money(item.list_price, currency, language),
                )
            console.print(grid)
            if next_cursor:
                console.print(f"Next page: --cursor {next_cursor}")

        emit(as_json, page_of(items, next_cursor), render)

    @group.command("show")
    def show(ctx: typer.Context, reference: ProductReference, as_json: JsonFlag = False) -> None:
        """Every field of one product."""

        def one(uow: UnitOfWork, actor: Actor) -> tuple[ProductOut, list[tuple[str, str]]]:
            product = product_numbered(reference, uow=uow, actor=actor)
            currency, language = _base_currency(uow), language_of(actor)
            rows = [
                ("id", str(product.id)),
                ("number", product.number),
                ("name", product.name),
                ("state", product.state.value),
                ("unit group", product.unit_group.name),
                ("default unit", product.default_unit.name),
                ("decimals supported", str(product.decimals_supported)),
                ("list price", format_money(product.list_price, currency, language)),
                ("standard cost", format_money(product.standard_cost, currency, language)),
                ("current cost", format_money(product.current_cost, currency, language)),
                ("description", text(product.description)),
            ]
            return ProductOut.model_validate(product), rows

        item, rows = read_action(ctx, one)

        def render() -> None:
            grid = Table(title=f"Product {item.number}", show_header=False)
            for name, value in rows:
                grid.add_row(name, value)
            console.print(grid)

        emit(as_json, item, render)

    @group.command("create")
    def create(
        ctx: typer.Context,
        number: Annotated[str, typer.Argument(help="The product's number, e.g. LIC-STD.")],
        name: Annotated[str, typer.Argument(help="The product's name.")],
        unit_group: Annotated[str, typer.Option("--unit-group", help="The unit group's name or id.")],
        default_unit: Annotated[
            str | None, typer.Option("--default-unit", help="A unit of the group (its base unit by default).")
        ] = None,
        decimals: Annotated[int | None, typer.Option(help="Decimals a quantity may have, 0 to 5.")] = None,
        list_price: Annotated[str | None, typer.Option(help="In the base currency, e.g. 100.00.")] = None,
        standard_cost: Annotated[str | None, typer.Option(help="In the base currency.")] = None,
        current_cost: Annotated[str | None, typer.Option(help="In the base currency.")] = None,
        description: Annotated[str | None, typer.Option()] = None,
        family: Annotated[str | None, typer.Option(help="The product family's name or id.")] = None,
    ) -> None:
        """Create a product as a draft (publish it to sell it)."""

        def create_product(uow: UnitOfWork, actor: Actor) -> Product:
            group_record = unit_group_named(unit_group, uow=uow, actor=actor)
            family_id = str(family_named(family, uow=uow, actor=actor).id) if family else None
            unit = unit_named(group_record, default_unit) if default_unit else group_record.base_unit
            data = given(
                number=number,
                name=name,
                unit_group_id=str(group_record.id),
                default_unit_id=str(unit.id),
                decimals_supported=decimals,
                list_price=list_price,
                standard_cost=standard_cost,
                current_cost=current_cost,
                description=description,
                family_id=family_id,
            )
            return catalog.create_product(parse(ProductCreate, data), uow=uow, actor=actor)

        product = run_action(ctx, create_product)
        console.print(f"Created product [bold]{product.number}[/] {product.id} (draft)")

    @group.command("update")
    def update(
        ctx: typer.Context,
        reference: ProductReference,
        name: Annotated[str | None, typer.Option(help="The product's new name.")] = None,
        description: Annotated[str | None, typer.Option()] = None,
        list_price: Annotated[str | None, typer.Option(help="In the base currency, e.g. 100.00.")] = None,
        standard_cost: Annotated[str | None, typer.Option(help="In the base currency.")] = None,
        current_cost: Annotated[str | None, typer.Option(help="In the base currency.")] = None,
        decimals: Annotated[int | None, typer.Option(help="Decimals a quantity may have, 0 to 5.")] = None,
        number: Annotated[str | None, typer.Option("--number", help="The product's new number.")] = None,
    ) -> None:
        """Change the given fields of a product (lines already priced keep their prices)."""
        data = given(
            name=name,
            description=description,
            list_price=list_price,
            standard_cost=standard_cost,
            current_cost=current_cost,
            decimals_supported=decimals,
            number=number,
        )
        if not data:
            raise typer.BadParameter("give at least one field to change, e.g. --list-price 110.00.")
        product = run_action(
            ctx,
            lambda uow, actor: catalog.update_product(
                product_numbered(reference, uow=uow, actor=actor).id, parse(ProductUpdate, data), uow=uow, actor=actor
            ),
        )
        console.print(f"Changed product [bold]{product.number}[/] {product.id}")

    @group.command("delete")
    def delete(ctx: typer.Context, reference: ProductReference) -> None:
        """Delete a draft product with its prices (a product once published is retired instead)."""

        def delete_product(uow: UnitOfWork, actor: Actor) -> str:
            product = product_numbered(reference, uow=uow, actor=actor)
            number = product.number
            catalog.delete_product(product.id, uow=uow, actor=actor)
            return number

        console.print(f"Deleted product [bold]{run_action(ctx, delete_product)}[/]")

    def change_state(ctx: typer.Context, reference: str, *, publish: bool) -> None:
        product = run_action(
            ctx,
            lambda uow, actor: catalog.change_product_state(
                product_numbered(reference, uow=uow, actor=actor).id, publish=publish, uow=uow, actor=actor
            ),
        )
        console.print(
            f"{'Published' if publish else 'Retired'} product [bold]{product.number}[/]: {product.state.value}"
        )

    @group.command("publish")
    def publish(ctx: typer.Context, reference: ProductReference) -> None:
        """Make a draft or retired product active: it can be sold."""
        change_state(ctx, reference, publish=True)

    @group.command("retire")
    def retire(ctx: typer.Context, reference: ProductReference) -> None:
        """Retire a product: it can no longer be sold; lines that have it keep it."""
        change_state(ctx, reference, publish=False)

    return group


def family_commands() -> typer.Typer:
    """`leadflow product-families list|create|update|delete`."""
    group = typer.Typer(help="Product families: named groups of products.", no_args_is_help=True)

    @group.command("list")
    def list_(ctx: typer.Context, limit: Limit = 50, cursor: Cursor = None, as_json: JsonFlag = False) -> None:
        """Product families by name."""

        def listed(uow: UnitOfWork, actor: Actor) -> tuple[list[FamilyOut], str | None]:
            page = catalog.list_families(uow=uow, actor=actor, limit=limit, cursor=cursor)
            return [FamilyOut.model_validate(item) for item in page.items], page.next_cursor

        items, next_cursor = read_action(ctx, listed)

        def render() -> None:
            grid = Table(title="Product families")
            grid.add_column("id", no_wrap=True, min_width=36)
            grid.add_column("name")
            grid.add_column("description")
            for item in items:
                grid.add_row(str(item.id), item.name, text(item.description))
            console.print(grid)
            if next_cursor:
                console.print(f"Next page: --cursor {next_cursor}")

        emit(as_json, page_of(items, next_cursor), render)

    @group.command("create")
    def create(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The family's name.")],
        description: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Create a product family."""
        data = given(name=name, description=description)
        family = run_action(
            ctx, lambda uow, actor: catalog.create_family(parse(FamilyCreate, data), uow=uow, actor=actor)
        )
        console.print(f"Created product family [bold]{family.name}[/] {family.id}")

    @group.command("update")
    def update(
        ctx: typer.Context,
        reference: Annotated[str, typer.Argument(metavar="NAME", help="The family's name or id.")],
        name: Annotated[str | None, typer.Option(help="The family's new name.")] = None,
        description: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Rename a product family or change its description."""
        data = need_changes(given(name=name, description=description))
        change_record(
            ctx,
            reference,
            finder=family_named,
            update=catalog.update_family,
            schema=FamilyUpdate,
            label="product family",
            values=lambda record: data,
        )

    add_delete_command(
        group,
        "delete",
        finder=family_named,
        delete=catalog.delete_family,
        label="product family",
        help_text="Delete a product family; its products stay, in no family.",
    )

    return group
