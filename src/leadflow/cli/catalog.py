"""`leadflow units|products|price-lists|discount-lists ...`: the product catalogue.

Records are named the way people name them: a unit group, a price list or a discount list by its
name, a product by its number (an id works everywhere too). Each command runs one catalogue use case;
the privileges ("products" for the catalogue) are checked there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

import typer
from rich.table import Table

from leadflow.catalog import service as catalog
from leadflow.catalog.models import (
    DiscountKind,
    DiscountList,
    PriceList,
    PriceListItem,
    PricingMethod,
    Product,
    ProductState,
    RoundingOption,
    RoundingPolicy,
    Unit,
    UnitGroup,
)
from leadflow.catalog.schemas import (
    DiscountListCreate,
    DiscountListOut,
    DiscountListUpdate,
    FamilyCreate,
    FamilyOut,
    FamilyUpdate,
    PriceListCreate,
    PriceListItemCreate,
    PriceListItemOut,
    PriceListItemUpdate,
    PriceListOut,
    PriceListUpdate,
    ProductCreate,
    ProductOut,
    ProductUpdate,
    UnitCreate,
    UnitGroupCreate,
    UnitGroupOut,
    UnitGroupUpdate,
    UnitUpdate,
)
from leadflow.cli import common
from leadflow.cli.common import JsonFlag, console, emit, page_of, text
from leadflow.core.errors import NotFound, ValidationFailed
from leadflow.core.formatting import format_money, format_number
from leadflow.core.paging import MAX_LIMIT, Page
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.organisation.models import Currency
from leadflow.organisation.service import get_settings
from leadflow.security.actor import Actor

ResultT = TypeVar("ResultT")
RecordT = TypeVar("RecordT")

FOUR_DECIMALS = Decimal("0.0001")
Limit = Annotated[int, typer.Option(min=1, max=MAX_LIMIT)]
Cursor = Annotated[str | None, typer.Option(help="The cursor printed under the previous page.")]
ProductReference = Annotated[str, typer.Argument(metavar="NUMBER", help="The product's number (or id).")]
ListReference = Annotated[str, typer.Argument(metavar="LIST", help="The price list's name or id.")]
GroupReference = Annotated[str, typer.Argument(metavar="GROUP", help="The unit group's name or id.")]
UnitReference = Annotated[str, typer.Argument(metavar="UNIT", help="The unit's name or id.")]
NameReference = Annotated[str, typer.Argument(metavar="NAME", help="Its name or id.")]
DiscountListReference = Annotated[str, typer.Argument(metavar="LIST", help="The discount list's name or id.")]


# ------------------------------------------------------------------------------------ shared helpers


def run_action(ctx: typer.Context, action: Callable[[UnitOfWork, Actor], ResultT]) -> ResultT:
    """``common.run``: one use case in a unit of work as the acting user, refusals in one message."""
    return common.run(ctx, action)


def read_action(ctx: typer.Context, action: Callable[[UnitOfWork, Actor], ResultT]) -> ResultT:
    """``common.read``: a reading use case in a read-only unit of work, refusals in one message."""
    return common.read(ctx, action)


def given(**values: Any) -> dict[str, Any]:
    """The options given, as the API's body (left-out options stay out, so the defaults apply)."""
    return {name: value for name, value in values.items() if value is not None}


def language_of(actor: Actor) -> str:
    """The language money and numbers are written in for the acting user."""
    return actor.language or "en"


def as_id(reference: str) -> uuid.UUID | None:
    """The id ``reference`` is, or None when it is a name or a number."""
    try:
        return uuid.UUID(reference.strip())
    except ValueError:
        return None


def _every(list_page: Callable[[str | None], Page[RecordT]]) -> Iterator[RecordT]:
    """Every record of a paged list, page after page."""
    cursor: str | None = None
    while True:
        page = list_page(cursor)
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def _named(
    reference: str,
    *,
    by_id: Callable[[uuid.UUID], RecordT],
    candidates: Callable[[], Iterable[RecordT]],
    key: Callable[[RecordT], str],
    label: str,
    what: str,
    where: str,
) -> RecordT:
    """The record an id or a name (case aside) points at, or NotFound saying where to look."""
    record_id = as_id(reference)
    if record_id is not None:
        return by_id(record_id)
    wanted = reference.strip().casefold()
    for record in candidates():
        if key(record).casefold() == wanted:
            return record
    raise NotFound(f"No {what} {reference.strip()!r}; `leadflow {where}` lists them.", code=f"{label}_not_found")


@dataclass(frozen=True)
class Finder(Generic[RecordT]):
    """Finds a catalogue record by id, or by the name (number) in its ``key`` attribute among those
    ``list_page`` lists (narrowed by a search for the reference when the list searches)."""

    read: Callable[..., RecordT]
    list_page: Callable[..., Page[RecordT]]
    key: str
    label: str
    where: str
    search: bool = False

    def __call__(self, reference: str, *, uow: UnitOfWork, actor: Actor) -> RecordT:
        narrowed = {"search": reference.strip()} if self.search else {}
        return _named(
            reference,
            by_id=lambda record_id: self.read(record_id, uow=uow, actor=actor),
            candidates=lambda: _every(
                lambda cursor: self.list_page(uow=uow, actor=actor, limit=MAX_LIMIT, cursor=cursor, **narrowed)
            ),
            key=lambda record: str(getattr(record, self.key)),
            label=self.label,
            what=f"{self.label.replace('_', ' ')} {'has the number' if self.key == 'number' else 'is called'}",
            where=self.where,
        )


# A unit group, a product (by number), a price list or a discount list by id or name.
unit_group_named = Finder(catalog.read_unit_group, catalog.list_unit_groups, "name", "unit_group", "units groups", True)
product_numbered = Finder(catalog.read_product, catalog.list_products, "number", "product", "products list", True)
price_list_named = Finder(catalog.read_price_list, catalog.list_price_lists, "name", "price_list", "price-lists list")
family_named = Finder(catalog.read_family, catalog.list_families, "name", "family", "product-families list")
discount_list_named = Finder(
    catalog.read_discount_list, catalog.list_discount_lists, "name", "discount_list", "discount-lists list"
)


def unit_named(group: UnitGroup, reference: str) -> Unit:
    """A unit of ``group`` by id or name."""
    return _named(
        reference,
        by_id=lambda record_id: _unit_by_id(group, record_id),
        candidates=lambda: group.units,
        key=lambda unit: unit.name,
        label="unit",
        what=f"unit of {group.name} is called",
        where="units groups",
    )


def _unit_by_id(group: UnitGroup, unit_id: uuid.UUID) -> Unit:
    found = next((unit for unit in group.units if unit.id == unit_id), None)
    if found is None:
        raise NotFound(f"{group.name} has no unit with the id {unit_id}.", code="unit_not_found")
    return found


def _base_currency(uow: UnitOfWork) -> str:
    base_id = get_settings(uow.session).base_currency_id
    currency = uow.session.get(Currency, base_id) if base_id else None
    return currency.iso_code if currency is not None else "EUR"


def quantity_text(value: Any, language: str) -> str:
    """A quantity as people write it: 12, not 12.00000; 1,5 in Spanish."""
    return format_number(value.normalize() if value == value.to_integral() else value, language)


def change_record(
    ctx: typer.Context,
    reference: str,
    *,
    finder: Callable[..., Any],
    update: Callable[..., Any],
    schema: type[Any],
    label: str,
    values: Callable[[Any], dict[str, Any]],
) -> None:
    """Change the record ``finder`` finds by ``reference``: ``update(its id, values(it) as schema)``,
    and say so."""

    def change(uow: UnitOfWork, actor: Actor) -> Any:
        record = finder(reference, uow=uow, actor=actor)
        return update(record.id, parse(schema, values(record)), uow=uow, actor=actor)

    record = run_action(ctx, change)
    console.print(f"Changed {label} [bold]{record.name}[/] {record.id}")


def need_changes(data: dict[str, Any], example: str = "--name") -> dict[str, Any]:
    """``data``, or a usage error when no option to change was given."""
    if not data:
        raise typer.BadParameter(f"give at least one field to change, e.g. {example}.")
    return data


def add_delete_command(
    group: typer.Typer,
    name: str,
    *,
    finder: Callable[..., Any],
    delete: Callable[..., None],
    label: str,
    help_text: str,
) -> None:
    """A command ``name`` deleting the record ``finder`` finds by its name or id."""

    @group.command(name, help=help_text)
    def delete_command(ctx: typer.Context, reference: NameReference) -> None:
        def remove(uow: UnitOfWork, actor: Actor) -> str:
            record = finder(reference, uow=uow, actor=actor)
            record_name = str(record.name)
            delete(record.id, uow=uow, actor=actor)
            return record_name

        console.print(f"Deleted {label} [bold]{run_action(ctx, remove)}[/]")


# --------------------------------------------------------------------------------------------- units


def unit_commands() -> typer.Typer:
    """`leadflow units groups|create-group|add|update-group|delete-group|update|remove`."""
    group = typer.Typer(help="Unit groups and their units (Licencias: Licencia, Pack 10).", no_args_is_help=True)

    @group.command("groups")
    def groups(
        ctx: typer.Context,
        search: Annotated[str | None, typer.Option(help="Part of the name.")] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Unit groups by name, with their units."""

        def listed(uow: UnitOfWork, actor: Actor) -> tuple[list[UnitGroupOut], str | None, str]:
            page = catalog.list_unit_groups(uow=uow, actor=actor, limit=limit, cursor=cursor, search=search)
            return [UnitGroupOut.model_validate(item) for item in page.items], page.next_cursor, language_of(actor)

        items, next_cursor, language = read_action(ctx, listed)

        def render() -> None:
            grid = Table(title="Unit groups")
            for column in ("id", "name", "base unit", "units"):
                grid.add_column(column)
            for item in items:
                names = {unit.id: unit.name for unit in item.units}
                base = next((unit.name for unit in item.units if unit.base_unit_id is None), "")
                units = ", ".join(
                    f"{unit.name} = {quantity_text(unit.quantity, language)} {names.get(unit.base_unit_id, '')}"
                    for unit in item.units
                    if unit.base_unit_id is not None
                )
                grid.add_row(str(item.id), item.name, base, units)
            console.print(grid)
            if next_cursor:
                console.print(f"Next page: --cursor {next_cursor}")

        emit(as_json, page_of(items, next_cursor), render)

    @group.command("create-group")
    def create_group(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The group's name, e.g. Licencias.")],
        base_unit: Annotated[str, typer.Option("--base-unit", help="The unit the others are counted in.")],
        description: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Create a unit group with its base unit."""
        data = given(name=name, base_unit=base_unit, description=description)
        created = run_action(
            ctx, lambda uow, actor: catalog.create_unit_group(parse(UnitGroupCreate, data), uow=uow, actor=actor)
        )
        console.print(f"Created unit group [bold]{created.name}[/] {created.id} (base unit {base_unit})")

    @group.command("add")
    def add(
        ctx: typer.Context,
        group_reference: Annotated[str, typer.Argument(metavar="GROUP", help="The unit group's name or id.")],
        name: Annotated[str, typer.Argument(metavar="UNIT", help="The new unit's name, e.g. 'Pack 10'.")],
        quantity: Annotated[str, typer.Option(help="How many of the other unit it holds, e.g. 10.")],
        of: Annotated[str | None, typer.Option("--of", help="The unit it counts (the base unit by default).")] = None,
    ) -> None:
        """Add a unit to a group, as a quantity of another of its units."""

        def add_unit(uow: UnitOfWork, actor: Actor) -> tuple[Unit, str]:
            unit_group = unit_group_named(group_reference, uow=uow, actor=actor)
            data = given(name=name, quantity=quantity, base_unit_id=of and str(unit_named(unit_group, of).id))
            unit = catalog.add_unit(unit_group.id, parse(UnitCreate, data), uow=uow, actor=actor)
            return unit, unit_group.name

        unit, group_name = run_action(ctx, add_unit)
        console.print(f"Added [bold]{unit.name}[/] to {group_name} {unit.id}")

    @group.command("update-group")
    def update_group(
        ctx: typer.Context,
        reference: GroupReference,
        name: Annotated[str | None, typer.Option(help="The group's new name.")] = None,
        description: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Rename a unit group or change its description."""
        data = need_changes(given(name=name, description=description))
        change_record(
            ctx,
            reference,
            finder=unit_group_named,
            update=catalog.update_unit_group,
            schema=UnitGroupUpdate,
            label="unit group",
            values=lambda record: data,
        )

    add_delete_command(
        group,
        "delete-group",
        finder=unit_group_named,
        delete=catalog.delete_unit_group,
        label="unit group",
        help_text="Delete a unit group with its units, while no product is sold in them.",
    )

    def unit_of(group_reference: str, reference: str, *, uow: UnitOfWork, actor: Actor) -> Unit:
        return unit_named(unit_group_named(group_reference, uow=uow, actor=actor), reference)

    @group.command("update")
    def update(
        ctx: typer.Context,
        group_reference: GroupReference,
        reference: UnitReference,
        name: Annotated[str | None, typer.Option(help="The unit's new name.")] = None,
        quantity: Annotated[str | None, typer.Option(help="How many of the unit it counts it holds.")] = None,
    ) -> None:
        """Rename a unit or change its quantity (a base unit is always 1)."""
        data = need_changes(given(name=name, quantity=quantity))
        change_record(
            ctx,
            reference,
            finder=lambda unit, uow, actor: unit_of(group_reference, unit, uow=uow, actor=actor),
            update=catalog.update_unit,
            schema=UnitUpdate,
            label="unit",
            values=lambda record: data,
        )

    @group.command("remove")
    def remove(ctx: typer.Context, group_reference: GroupReference, reference: UnitReference) -> None:
        """Delete a unit nothing is measured in (not a base unit, nor one a product or a price uses)."""

        def remove_unit(uow: UnitOfWork, actor: Actor) -> str:
            unit = unit_of(group_reference, reference, uow=uow, actor=actor)
            name = unit.name
            catalog.delete_unit(unit.id, uow=uow, actor=actor)
            return name

        console.print(f"Removed unit [bold]{run_action(ctx, remove_unit)}[/]")

    return group


# ------------------------------------------------------------------------------------------ products


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


# --------------------------------------------------------------------------------------- price lists


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


# ------------------------------------------------------------------------------------ discount lists


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


def register(app: typer.Typer) -> None:
    """Add the catalogue's command groups to the root command."""
    app.add_typer(unit_commands(), name="units")
    app.add_typer(product_commands(), name="products")
    app.add_typer(price_list_commands(), name="price-lists")
    app.add_typer(discount_list_commands(), name="discount-lists")
    app.add_typer(family_commands(), name="product-families")
