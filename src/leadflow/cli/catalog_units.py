"""`leadflow units ...`: unit groups and their units, each unit a quantity of another of its group
(Licencias: Licencia, Pack 10 = 10 Licencia). A group is named by its name, a unit by its name within
its group (an id works too).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from leadflow.catalog import service as catalog
from leadflow.catalog.models import Unit
from leadflow.catalog.schemas import UnitCreate, UnitGroupCreate, UnitGroupOut, UnitGroupUpdate, UnitUpdate
from leadflow.cli.catalog_common import (
    Cursor,
    GroupReference,
    Limit,
    UnitReference,
    add_delete_command,
    change_record,
    given,
    language_of,
    need_changes,
    quantity_text,
    read_action,
    run_action,
    unit_group_named,
    unit_named,
)
from leadflow.cli.common import JsonFlag, console, emit, page_of
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.security.actor import Actor


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
