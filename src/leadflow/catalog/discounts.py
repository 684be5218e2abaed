"""Discount lists: the volume discounts a price list item may give, as quantity tiers of a percentage
or of an amount in one currency. Tiers may not overlap; replacing them changes the discounts of
lines priced from then on, not of those priced before."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from leadflow.catalog.common import TABLE, _apply, _audit, _delete, _get, _listed, _save, _unique
from leadflow.catalog.models import DiscountKind, DiscountList, DiscountTier
from leadflow.catalog.schemas import DiscountListCreate, DiscountListUpdate, TierIn
from leadflow.core.errors import field_refusal
from leadflow.core.paging import Page
from leadflow.core.records import check_version
from leadflow.core.uow import UnitOfWork
from leadflow.organisation.service import currency_by_code
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege


def _tiers(kind: DiscountKind, tiers: Sequence[TierIn]) -> list[DiscountTier]:
    """The tiers in quantity order; a refusal names a tier by its place in the input."""
    for index, tier in enumerate(tiers):
        if kind is DiscountKind.PERCENTAGE and tier.value > 100:
            raise field_refusal(
                f"tiers.{index}.value", "discount_over_100", "value: a percentage discount is at most 100."
            )
    ordered = sorted(enumerate(tiers), key=lambda pair: pair[1].begin_quantity)
    for (_, before), (index, tier) in zip(ordered, ordered[1:], strict=False):
        if tier.begin_quantity <= before.end_quantity:
            raise field_refusal(
                f"tiers.{index}.begin_quantity", "tiers_overlap", "tiers: two tiers cover the same quantity."
            )
    return [DiscountTier(id=uuid.uuid4(), **tier.model_dump()) for _, tier in ordered]


def create_discount_list(data: DiscountListCreate, *, uow: UnitOfWork, actor: Actor) -> DiscountList:
    """A discount list with its quantity tiers."""
    require_admin(actor, TABLE, Privilege.CREATE)
    session = uow.session
    _unique(session, DiscountList.name, data.name, field="name", code="discount_list_name_taken")
    currency_id = None
    if data.kind is DiscountKind.AMOUNT:
        if not data.currency:
            raise field_refusal(
                "currency", "currency_required", "currency: an amount discount list needs its currency."
            )
        currency_id = currency_by_code(session, data.currency).id
    discount = DiscountList(
        id=uuid.uuid4(), name=data.name, description=data.description, kind=data.kind, currency_id=currency_id
    )
    discount.tiers = _tiers(data.kind, data.tiers)
    session.add(discount)
    _audit(session, actor, "create", discount, discount.name)
    _save(uow, field="name", code="discount_list_name_taken", message="Another discount list has this name.")
    return discount


def read_discount_list(discount_list_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> DiscountList:
    """One discount list with its tiers."""
    require_admin(actor, TABLE, Privilege.READ)
    return _get(uow.session, DiscountList, discount_list_id, label="discount_list", for_update=False)


def list_discount_lists(*, uow: UnitOfWork, actor: Actor, limit: int, cursor: str | None = None) -> Page[DiscountList]:
    """Discount lists by name."""
    statement = select(DiscountList).options(selectinload(DiscountList.tiers))
    return _listed(uow, actor, statement, DiscountList.name, DiscountList.id, limit=limit, cursor=cursor)


def update_discount_list(
    discount_list_id: uuid.UUID,
    changes: DiscountListUpdate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> DiscountList:
    """Rename a discount list or replace its tiers (lines priced before keep their discounts)."""
    require_admin(actor, TABLE, Privilege.WRITE)
    session = uow.session
    discount = _get(session, DiscountList, discount_list_id, label="discount_list", for_update=True)
    check_version(discount, expected_version)
    values = changes.model_dump(exclude_unset=True, exclude={"tiers"})
    if values.get("name"):
        _unique(
            session,
            DiscountList.name,
            values["name"],
            field="name",
            code="discount_list_name_taken",
            exclude=discount.id,
        )
    if changes.tiers is not None:
        discount.tiers = _tiers(discount.kind, changes.tiers)
        session.flush()
    _apply(discount, values, actor)
    _audit(session, actor, "update", discount, discount.name)
    _save(uow, field="name", code="discount_list_name_taken", message="Another discount list has this name.")
    return discount


def delete_discount_list(
    discount_list_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete a discount list; the price list items that used it give no volume discount any more."""
    _delete(uow, actor, DiscountList, discount_list_id, label="discount_list", expected_version=expected_version)
