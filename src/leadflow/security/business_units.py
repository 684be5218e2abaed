"""Business units (§8): the tree the organisation is cut into, its root being the organisation itself.
A unit is found by its name, added under another, renamed, or moved with the units below it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import InvalidState, NotFound, ValidationFailed
from leadflow.core.records import check_version, get_record, get_reference
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor, unit_subtree
from leadflow.security.audit import record_action
from leadflow.security.common import _field, _unique_name
from leadflow.security.models import BusinessUnit
from leadflow.security.privileges import Privilege


def business_unit_by_name(session: Session, name: str | None) -> BusinessUnit:
    """A business unit by name; the root unit when no name is given."""
    if name is None:
        unit = session.scalars(select(BusinessUnit).where(BusinessUnit.parent_id.is_(None))).first()
    else:
        unit = session.scalars(select(BusinessUnit).where(BusinessUnit.name == name)).first()
    if unit is None:
        raise NotFound(f"No business unit is called {name!r}.", code="business_unit_not_found")
    return unit


def create_business_unit(name: str, *, parent_name: str | None, uow: UnitOfWork, actor: Actor | None) -> BusinessUnit:
    """Add a business unit under another (the root by default)."""
    if actor is not None:
        require_admin(actor, "business_units", Privilege.CREATE)
    session = uow.session
    parent = business_unit_by_name(session, parent_name)
    unit = BusinessUnit(id=uuid.uuid4(), name=_unique_name(session, BusinessUnit, name), parent_id=parent.id)
    session.add(unit)
    uow.flush()
    record_action(session, actor, "create", table="business_units", record_id=unit.id, summary=unit.name)
    return unit


def update_business_unit(
    unit_id: uuid.UUID,
    *,
    name: str,
    parent_id: uuid.UUID | None,
    expected_version: int | None,
    uow: UnitOfWork,
    actor: Actor,
) -> BusinessUnit:
    """Rename a business unit, or move it (with the units below it) under another unit.

    The root unit is the organisation and stays the root; no unit goes under itself or under a unit
    below it. Moving a unit changes what Parent: Child Business Units reaches, from the next request on.
    """
    require_admin(actor, "business_units", Privilege.WRITE)
    session = uow.session
    unit = get_record(session, BusinessUnit, unit_id, label="business_unit", noun="business unit", for_update=True)
    check_version(unit, expected_version)
    new_name = _unique_name(session, BusinessUnit, name, other_than=unit.id)
    if unit.parent_id is None and parent_id is not None:
        raise InvalidState(
            "The root business unit is the organisation itself; it cannot go under another unit.",
            code="root_business_unit",
        )
    if unit.parent_id is not None:
        if parent_id is None:
            raise ValidationFailed(
                "Choose the business unit this one belongs to.",
                code="required",
                details=_field("parent_id", "required"),
            )
        get_reference(session, BusinessUnit, parent_id, field="parent_id", label="business_unit")
        if parent_id in unit_subtree(session, unit.id):
            raise InvalidState(
                "A business unit cannot go under itself or under a unit below it.", code="business_unit_loop"
            )
    changes: dict[str, dict[str, str | None]] = {}
    if new_name != unit.name:
        changes["name"] = {"old": unit.name, "new": new_name}
        unit.name = new_name
    if parent_id != unit.parent_id:
        changes["parent_id"] = {"old": str(unit.parent_id), "new": str(parent_id)}
        unit.parent_id = parent_id
    if changes:
        uow.flush()
        record_action(
            session, actor, "update", table="business_units", record_id=unit.id, summary=unit.name, changes=changes
        )
    return unit
