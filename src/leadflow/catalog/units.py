"""Units of measure: unit groups, each with its base unit, and the units defined as a quantity of
another unit of their group (a Box of 12 Units, a Pallet of 40 Boxes). The catalogue refuses to delete
a unit or a group that products, prices or lines still use; the line tables of the domains above it
register in ``LINE_MODELS`` so that it can ask them without importing them."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from leadflow.catalog.common import TABLE, _apply, _audit, _get, _listed, _save, _search, _unique
from leadflow.catalog.models import PriceListItem, Product, Unit, UnitGroup
from leadflow.catalog.schemas import UnitCreate, UnitGroupCreate, UnitGroupUpdate, UnitUpdate
from leadflow.core.errors import Conflict, field_refusal
from leadflow.core.paging import Page
from leadflow.core.records import check_version
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege


def create_unit_group(data: UnitGroupCreate, *, uow: UnitOfWork, actor: Actor) -> UnitGroup:
    """A unit group with its base unit."""
    require_admin(actor, TABLE, Privilege.CREATE)
    session = uow.session
    _unique(session, UnitGroup.name, data.name, field="name", code="unit_group_name_taken")
    group = UnitGroup(id=uuid.uuid4(), name=data.name, description=data.description)
    session.add(group)
    session.add(Unit(id=uuid.uuid4(), group=group, name=data.base_unit, quantity=Decimal(1), base_unit_id=None))
    _audit(session, actor, "create", group, group.name)
    _save(uow, field="name", code="unit_group_name_taken", message=f"A unit group is already called {data.name!r}.")
    session.refresh(group, ["units"])
    return group


def read_unit_group(group_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> UnitGroup:
    """One unit group with its units."""
    require_admin(actor, TABLE, Privilege.READ)
    return _get(uow.session, UnitGroup, group_id, label="unit_group", for_update=False)


def list_unit_groups(
    *, uow: UnitOfWork, actor: Actor, limit: int, cursor: str | None = None, search: str | None = None
) -> Page[UnitGroup]:
    """Unit groups by name."""
    statement = _search(select(UnitGroup).options(selectinload(UnitGroup.units)), [UnitGroup.name], search)
    return _listed(uow, actor, statement, UnitGroup.name, UnitGroup.id, limit=limit, cursor=cursor)


def update_unit_group(
    group_id: uuid.UUID, changes: UnitGroupUpdate, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> UnitGroup:
    """Rename a unit group or change its description."""
    require_admin(actor, TABLE, Privilege.WRITE)
    group = _get(uow.session, UnitGroup, group_id, label="unit_group", for_update=True)
    check_version(group, expected_version)
    values = changes.model_dump(exclude_unset=True)
    if values.get("name"):
        _unique(
            uow.session, UnitGroup.name, values["name"], field="name", code="unit_group_name_taken", exclude=group.id
        )
    _apply(group, values, actor)
    _audit(uow.session, actor, "update", group, group.name)
    _save(uow, field="name", code="unit_group_name_taken", message="Another unit group has this name.")
    return group


def delete_unit_group(
    group_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete a unit group no product uses."""
    require_admin(actor, TABLE, Privilege.DELETE)
    session = uow.session
    group = _get(session, UnitGroup, group_id, label="unit_group", for_update=True)
    check_version(group, expected_version)
    if session.scalar(select(exists().where(Product.unit_group_id == group.id))):
        raise Conflict(
            f"Products are sold in the units of {group.name}; delete or move them first.", code="unit_group_in_use"
        )
    # A unit goes before the unit it is a quantity of (Pallet of Boxes of Units), one at a time:
    # the database checks each unit's reference to the other as soon as the unit is deleted.
    by_id = {unit.id: unit for unit in group.units}

    def steps_from_base(unit: Unit) -> int:
        steps = 0
        while unit.base_unit_id is not None and unit.base_unit_id in by_id and steps <= len(by_id):
            unit, steps = by_id[unit.base_unit_id], steps + 1
        return steps

    for unit in sorted(group.units, key=steps_from_base, reverse=True):
        session.delete(unit)
        session.flush()
    _audit(session, actor, "delete", group, group.name)
    session.delete(group)
    uow.flush()


def add_unit(group_id: uuid.UUID, data: UnitCreate, *, uow: UnitOfWork, actor: Actor) -> Unit:
    """A unit defined as a quantity of another unit of the group (by default its base unit)."""
    require_admin(actor, TABLE, Privilege.CREATE)
    session = uow.session
    group = _get(session, UnitGroup, group_id, label="unit_group", for_update=True)
    base_id = data.base_unit_id or group.base_unit.id
    if base_id not in {unit.id for unit in group.units}:
        raise field_refusal("base_unit_id", "unit_not_in_group", f"base_unit_id: the unit is not one of {group.name}.")
    if any(unit.name.lower() == data.name.lower() for unit in group.units):
        raise Conflict(
            f"{group.name} already has a unit called {data.name!r}.",
            code="unit_name_taken",
            details={"fields": [{"field": "name", "code": "unit_name_taken"}]},
        )
    unit = Unit(id=uuid.uuid4(), group_id=group.id, name=data.name, quantity=data.quantity, base_unit_id=base_id)
    session.add(unit)
    _audit(session, actor, "create", unit, f"{group.name}: {unit.name}")
    _save(uow, field="name", code="unit_name_taken", message=f"{group.name} already has a unit called {data.name!r}.")
    session.expire(group, ["units"])
    return unit


def list_units(
    *, uow: UnitOfWork, actor: Actor, group_id: uuid.UUID | None = None, limit: int, cursor: str | None = None
) -> Page[Unit]:
    """Units by name, of every group or of one."""
    statement = select(Unit)
    if group_id is not None:
        statement = statement.where(Unit.group_id == group_id)
    return _listed(uow, actor, statement, Unit.name, Unit.id, limit=limit, cursor=cursor)


def read_unit(unit_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Unit:
    """One unit."""
    require_admin(actor, TABLE, Privilege.READ)
    return _get(uow.session, Unit, unit_id, label="unit", for_update=False)


def update_unit(
    unit_id: uuid.UUID, changes: UnitUpdate, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Unit:
    """Rename a unit or change its quantity (a base unit's quantity stays 1)."""
    require_admin(actor, TABLE, Privilege.WRITE)
    session = uow.session
    unit = _get(session, Unit, unit_id, label="unit", for_update=True)
    check_version(unit, expected_version)
    values = changes.model_dump(exclude_unset=True)
    if "quantity" in values and unit.base_unit_id is None and values["quantity"] != 1:
        raise field_refusal("quantity", "base_unit_quantity", "quantity: a base unit is always a quantity of 1.")
    if values.get("name") and session.scalar(
        select(
            exists().where(
                Unit.group_id == unit.group_id, func.lower(Unit.name) == values["name"].lower(), Unit.id != unit.id
            )
        )
    ):
        raise Conflict(
            f"The group already has a unit called {values['name']!r}.",
            code="unit_name_taken",
            details={"fields": [{"field": "name", "code": "unit_name_taken"}]},
        )
    _apply(unit, values, actor)
    _audit(session, actor, "update", unit, unit.name)
    _save(uow, field="name", code="unit_name_taken", message="The group already has a unit with this name.")
    return unit


def delete_unit(unit_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None) -> None:
    """Delete a unit nothing is measured in: not a base unit, no unit defined on it, no product or price."""
    require_admin(actor, TABLE, Privilege.DELETE)
    session = uow.session
    unit = _get(session, Unit, unit_id, label="unit", for_update=True)
    check_version(unit, expected_version)
    if unit.base_unit_id is None:
        raise Conflict("A group's base unit goes only with the group.", code="base_unit")
    used = session.scalar(
        select(
            exists().where(Unit.base_unit_id == unit.id)
            | exists().where(Product.default_unit_id == unit.id)
            | exists().where(PriceListItem.unit_id == unit.id)
        )
    )
    if used or unit_in_use(session, unit.id):
        raise Conflict(f"The unit {unit.name} is in use; it cannot be deleted.", code="unit_in_use")
    _audit(session, actor, "delete", unit, unit.name)
    session.delete(unit)
    uow.flush()


# Line tables (sales) register here how to find a unit or product they use, so that the catalogue
# refuses to delete what a line names without importing the sales domain that sits above it.
LINE_MODELS: list[Any] = []


def unit_in_use(session: Session, unit_id: uuid.UUID) -> bool:
    return any(session.scalar(select(exists().where(model.unit_id == unit_id))) for model in LINE_MODELS)
