"""What the catalogue's commands share: the paging options and the arguments naming a record,
finding a unit group, a product (by number), a price list, a family or a discount list by its name
or id, and the helpers that change or delete such a record and say so.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import typer

from leadflow.catalog import service as catalog
from leadflow.catalog.models import Unit, UnitGroup
from leadflow.cli import common
from leadflow.cli.common import console
from leadflow.core.errors import NotFound
from leadflow.core.formatting import format_number
from leadflow.core.paging import MAX_LIMIT, Page
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.security.actor import Actor

ResultT = TypeVar("ResultT")
RecordT = TypeVar("RecordT")

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
