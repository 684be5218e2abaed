"""Price lists and their items: a price list is in one currency and may be valid for a time; each
item prices one product in one unit of its group, by a currency amount or a percentage of its list
price or costs, rounded as the item says, with an optional discount list for volume discounts. An
item is checked against its product, unit and discount list whenever it is added or changed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from leadflow.catalog.common import (
    TABLE,
    _apply,
    _audit,
    _delete,
    _get,
    _listed,
    _reference,
    _save,
    _unique,
)
from leadflow.catalog.models import (
    DiscountKind,
    DiscountList,
    PriceList,
    PriceListItem,
    PricingMethod,
    Product,
    RoundingPolicy,
    Unit,
)
from leadflow.catalog.schemas import PriceListCreate, PriceListItemCreate, PriceListItemUpdate, PriceListUpdate
from leadflow.core.errors import Conflict, field_refusal
from leadflow.core.paging import Page
from leadflow.core.records import check_version, not_found
from leadflow.core.schemas import clean_search
from leadflow.core.uow import UnitOfWork
from leadflow.organisation.models import Currency
from leadflow.organisation.service import currency_by_code
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege

# -------------------------------------------------------------------------------------- price lists


def _check_validity(valid_from: date | None, valid_to: date | None) -> None:
    if valid_from and valid_to and valid_to < valid_from:
        raise field_refusal(
            "valid_to", "valid_to_before_valid_from", "valid_to: the end date comes before the start date."
        )


def create_price_list(data: PriceListCreate, *, uow: UnitOfWork, actor: Actor) -> PriceList:
    """A price list in one currency."""
    require_admin(actor, TABLE, Privilege.CREATE)
    session = uow.session
    _unique(session, PriceList.name, data.name, field="name", code="price_list_name_taken")
    _check_validity(data.valid_from, data.valid_to)
    values = data.model_dump(exclude={"currency"})
    price_list = PriceList(id=uuid.uuid4(), currency_id=currency_by_code(session, data.currency).id, **values)
    session.add(price_list)
    _audit(session, actor, "create", price_list, price_list.name)
    _save(uow, field="name", code="price_list_name_taken", message="Another price list has this name.")
    return price_list


def read_price_list(price_list_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> PriceList:
    """One price list."""
    require_admin(actor, TABLE, Privilege.READ)
    return _get(uow.session, PriceList, price_list_id, label="price_list", for_update=False)


def list_price_lists(
    *, uow: UnitOfWork, actor: Actor, limit: int, cursor: str | None = None, currency: str | None = None
) -> Page[PriceList]:
    """Price lists by name, of every currency or of one."""
    statement = select(PriceList)
    code = clean_search(currency or "").strip().upper()
    if code:
        statement = statement.join(Currency, Currency.id == PriceList.currency_id).where(Currency.iso_code == code)
    return _listed(uow, actor, statement, PriceList.name, PriceList.id, limit=limit, cursor=cursor)


def update_price_list(
    price_list_id: uuid.UUID,
    changes: PriceListUpdate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> PriceList:
    """Rename a price list or change its validity (its currency stays: its prices are in it)."""
    require_admin(actor, TABLE, Privilege.WRITE)
    price_list = _get(uow.session, PriceList, price_list_id, label="price_list", for_update=True)
    check_version(price_list, expected_version)
    values = changes.model_dump(exclude_unset=True)
    if values.get("name"):
        _unique(
            uow.session,
            PriceList.name,
            values["name"],
            field="name",
            code="price_list_name_taken",
            exclude=price_list.id,
        )
    _check_validity(values.get("valid_from", price_list.valid_from), values.get("valid_to", price_list.valid_to))
    _apply(price_list, values, actor)
    _audit(uow.session, actor, "update", price_list, price_list.name)
    _save(uow, field="name", code="price_list_name_taken", message="Another price list has this name.")
    return price_list


def delete_price_list(
    price_list_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete a price list and its items; records that named it keep their prices and name none."""
    _delete(uow, actor, PriceList, price_list_id, label="price_list", expected_version=expected_version)


def _check_item(session: Session, price_list: PriceList, item: PriceListItem) -> None:
    """An item prices a product in a unit of its group, with the figures its method needs."""
    product = _reference(session, Product, item.product_id, field="product_id", label="product")
    unit = _reference(session, Unit, item.unit_id, field="unit_id", label="unit")
    if unit.group_id != product.unit_group_id:
        raise field_refusal("unit_id", "unit_not_in_group", "unit_id: the unit is not one of the product's unit group.")
    if item.pricing_method is PricingMethod.CURRENCY_AMOUNT and item.amount is None:
        raise field_refusal("amount", "amount_required", "amount: a currency amount item needs the amount.")
    if item.pricing_method is not PricingMethod.CURRENCY_AMOUNT and item.percentage is None:
        raise field_refusal("percentage", "percentage_required", "percentage: this pricing method needs a percentage.")
    if item.pricing_method.value.startswith("margin") and (item.percentage or 0) >= 100:
        raise field_refusal("percentage", "margin_percentage_too_high", "percentage: a margin must be below 100 %.")
    if item.rounding_policy is not RoundingPolicy.NONE and item.rounding_amount and item.rounding_option is None:
        raise field_refusal(
            "rounding_option",
            "rounding_option_required",
            "rounding_option: say whether the price ends in the rounding amount or is a multiple of it.",
        )
    if (
        item.rounding_option is not None
        and item.rounding_policy is not RoundingPolicy.NONE
        and not item.rounding_amount
    ):
        raise field_refusal(
            "rounding_amount", "rounding_amount_required", "rounding_amount: give the amount to round to."
        )
    if item.discount_list_id is not None:
        discount = _reference(
            session, DiscountList, item.discount_list_id, field="discount_list_id", label="discount_list"
        )
        if discount.kind is DiscountKind.AMOUNT and discount.currency_id != price_list.currency_id:
            raise field_refusal(
                "discount_list_id",
                "discount_list_currency",
                "discount_list_id: an amount discount list must be in the price list's currency.",
            )


def add_price_list_item(
    price_list_id: uuid.UUID, data: PriceListItemCreate, *, uow: UnitOfWork, actor: Actor
) -> PriceListItem:
    """Price a product in one unit on a price list."""
    require_admin(actor, TABLE, Privilege.CREATE)
    session = uow.session
    price_list = _get(session, PriceList, price_list_id, label="price_list", for_update=True)
    item = PriceListItem(id=uuid.uuid4(), price_list_id=price_list.id, **data.model_dump())
    _check_item(session, price_list, item)
    duplicate = session.scalar(
        select(
            exists().where(
                PriceListItem.price_list_id == price_list.id,
                PriceListItem.product_id == item.product_id,
                PriceListItem.unit_id == item.unit_id,
            )
        )
    )
    if duplicate:
        raise Conflict(
            "The price list already prices this product in this unit; change that item instead.",
            code="price_list_item_exists",
        )
    session.add(item)
    _audit(session, actor, "create", item, price_list.name)
    _save(
        uow,
        field="product_id",
        code="price_list_item_exists",
        message="The price list already prices this product in this unit.",
    )
    return item


def list_price_list_items(price_list_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Sequence[PriceListItem]:
    """The items of a price list, by product name."""
    require_admin(actor, TABLE, Privilege.READ)
    _get(uow.session, PriceList, price_list_id, label="price_list", for_update=False)
    return uow.session.scalars(
        select(PriceListItem)
        .join(Product, Product.id == PriceListItem.product_id)
        .where(PriceListItem.price_list_id == price_list_id)
        .order_by(Product.name, PriceListItem.id)
        .limit(10_000)
    ).all()


def _item_of(session: Session, price_list_id: uuid.UUID, item_id: uuid.UUID, *, for_update: bool) -> PriceListItem:
    item = session.get(PriceListItem, item_id, with_for_update=for_update)
    if item is None or item.price_list_id != price_list_id:
        raise not_found(label="price_list_item", record_id=item_id)
    return item


def update_price_list_item(
    price_list_id: uuid.UUID,
    item_id: uuid.UUID,
    changes: PriceListItemUpdate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> PriceListItem:
    """Change how an item prices its product."""
    require_admin(actor, TABLE, Privilege.WRITE)
    session = uow.session
    price_list = _get(session, PriceList, price_list_id, label="price_list", for_update=False)
    item = _item_of(session, price_list_id, item_id, for_update=True)
    check_version(item, expected_version)
    _apply(item, changes.model_dump(exclude_unset=True), actor)
    _check_item(session, price_list, item)
    _audit(session, actor, "update", item, price_list.name)
    uow.flush()
    return item


def delete_price_list_item(
    price_list_id: uuid.UUID, item_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Remove an item from a price list."""
    require_admin(actor, TABLE, Privilege.DELETE)
    item = _item_of(uow.session, price_list_id, item_id, for_update=True)
    check_version(item, expected_version)
    _audit(uow.session, actor, "delete", item, str(item.product_id))
    uow.session.delete(item)
    uow.flush()
