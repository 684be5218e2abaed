"""Product catalogue use cases: units, families, products, price lists and their items, discount
lists; and the price a price list gives a product in a unit. One administrative area ("products")
guards them all: every role reads the catalogue, the roles that may change it change it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from leadflow.catalog.models import (
    DiscountKind,
    DiscountList,
    DiscountTier,
    PriceList,
    PriceListItem,
    PricingMethod,
    Product,
    ProductFamily,
    ProductState,
    RoundingPolicy,
    Unit,
    UnitGroup,
)
from leadflow.catalog.pricing import ItemPricing, PricingError, Tier, unit_price, volume_discount
from leadflow.catalog.schemas import (
    DiscountListCreate,
    DiscountListUpdate,
    FamilyCreate,
    FamilyUpdate,
    PriceListCreate,
    PriceListItemCreate,
    PriceListItemUpdate,
    PriceListUpdate,
    ProductCreate,
    ProductUpdate,
    TierIn,
    UnitCreate,
    UnitGroupCreate,
    UnitGroupUpdate,
    UnitUpdate,
)
from leadflow.core.errors import Conflict, InvalidState, ValidationFailed, field_refusal
from leadflow.core.paging import Page, contains, keyset_page
from leadflow.core.records import check_version, not_found
from leadflow.core.schemas import clean_search
from leadflow.core.uow import UnitOfWork
from leadflow.organisation.models import Currency
from leadflow.organisation.service import currency_by_code
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege

TABLE = "products"
RecordT = TypeVar("RecordT")


def _get(session: Session, model: type[RecordT], record_id: uuid.UUID, *, label: str, for_update: bool) -> RecordT:
    record = session.get(model, record_id, with_for_update=for_update)
    if record is None:
        raise not_found(label=label, record_id=record_id)
    return record


def _reference(session: Session, model: type[RecordT], record_id: uuid.UUID, *, field: str, label: str) -> RecordT:
    record = session.get(model, record_id)
    if record is None:
        raise field_refusal(field, f"{label}_not_found", f"{field}: no {label.replace('_', ' ')} has this id.")
    return record


def _save(uow: UnitOfWork, *, field: str, code: str, message: str) -> None:
    """Flush; a name or number another record took meanwhile is a 409 on that field, not a crash."""
    try:
        uow.flush()
    except IntegrityError as error:
        raise Conflict(message, code=code, details={"fields": [{"field": field, "code": code}]}) from error


def _taken(session: Session, column: Any, value: str, *, exclude: uuid.UUID | None = None) -> bool:
    statement = select(exists().where(func.lower(column) == value.lower()))
    if exclude is not None:
        statement = select(exists().where(func.lower(column) == value.lower(), column.class_.id != exclude))
    return bool(session.scalar(statement))


def _unique(
    session: Session, column: Any, value: str, *, field: str, code: str, exclude: uuid.UUID | None = None
) -> None:
    if _taken(session, column, value, exclude=exclude):
        raise Conflict(
            f"{field}: {value!r} is already used; choose another.",
            code=code,
            details={"fields": [{"field": field, "code": code}]},
        )


def _audit(session: Session, actor: Actor, action: str, record: Any, summary: str) -> None:
    record_action(session, actor, action, table=TABLE, record_id=record.id, summary=summary)


def _apply(record: Any, values: dict[str, Any], actor: Actor) -> None:
    for name, value in values.items():
        setattr(record, name, value)
    if hasattr(record, "modified_by_id"):
        record.modified_by_id = actor.user_id


def _listed(
    uow: UnitOfWork, actor: Actor, statement: Any, key: Any, id_column: Any, *, limit: int, cursor: str | None
) -> Page[Any]:
    require_admin(actor, TABLE, Privilege.READ)
    return keyset_page(uow.session, statement, key=key, id_column=id_column, kind="text", limit=limit, cursor=cursor)


def _search(statement: Any, columns: Sequence[Any], search: str | None) -> Any:
    # ``contains`` drops the characters no database can compare (a NUL failed on PostgreSQL).
    term = clean_search(search or "").strip()
    return statement.where(contains(columns, term)) if term else statement


def _delete(
    uow: UnitOfWork,
    actor: Actor,
    model: type[Any],
    record_id: uuid.UUID,
    *,
    label: str,
    expected_version: int | None,
) -> None:
    """Delete a named catalogue record the actor may delete, at the version the caller holds; audited."""
    require_admin(actor, TABLE, Privilege.DELETE)
    record = _get(uow.session, model, record_id, label=label, for_update=True)
    check_version(record, expected_version)
    _audit(uow.session, actor, "delete", record, record.name)
    uow.session.delete(record)
    uow.flush()


# -------------------------------------------------------------------------------------------- units


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


# ----------------------------------------------------------------------------------------- families


def create_family(data: FamilyCreate, *, uow: UnitOfWork, actor: Actor) -> ProductFamily:
    """A product family."""
    require_admin(actor, TABLE, Privilege.CREATE)
    _unique(uow.session, ProductFamily.name, data.name, field="name", code="family_name_taken")
    family = ProductFamily(id=uuid.uuid4(), **data.model_dump())
    uow.session.add(family)
    _audit(uow.session, actor, "create", family, family.name)
    _save(uow, field="name", code="family_name_taken", message="Another family has this name.")
    return family


def read_family(family_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> ProductFamily:
    """One product family."""
    require_admin(actor, TABLE, Privilege.READ)
    return _get(uow.session, ProductFamily, family_id, label="family", for_update=False)


def list_families(*, uow: UnitOfWork, actor: Actor, limit: int, cursor: str | None = None) -> Page[ProductFamily]:
    """Product families by name."""
    return _listed(uow, actor, select(ProductFamily), ProductFamily.name, ProductFamily.id, limit=limit, cursor=cursor)


def update_family(
    family_id: uuid.UUID, changes: FamilyUpdate, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> ProductFamily:
    """Rename a family or change its description."""
    require_admin(actor, TABLE, Privilege.WRITE)
    family = _get(uow.session, ProductFamily, family_id, label="family", for_update=True)
    check_version(family, expected_version)
    values = changes.model_dump(exclude_unset=True)
    if values.get("name"):
        _unique(
            uow.session, ProductFamily.name, values["name"], field="name", code="family_name_taken", exclude=family.id
        )
    _apply(family, values, actor)
    _save(uow, field="name", code="family_name_taken", message="Another family has this name.")
    return family


def delete_family(family_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None) -> None:
    """Delete a family; its products stay, in no family."""
    _delete(uow, actor, ProductFamily, family_id, label="family", expected_version=expected_version)


# ----------------------------------------------------------------------------------------- products


def _product_references(session: Session, values: dict[str, Any], product: Product | None = None) -> None:
    if values.get("family_id"):
        _reference(session, ProductFamily, values["family_id"], field="family_id", label="family")
    group_id = values.get("unit_group_id") or (product.unit_group_id if product else None)
    unit_id = values.get("default_unit_id") or (product.default_unit_id if product else None)
    if "unit_group_id" in values:
        _reference(session, UnitGroup, values["unit_group_id"], field="unit_group_id", label="unit_group")
    if "unit_group_id" in values or "default_unit_id" in values:
        unit = _reference(session, Unit, unit_id, field="default_unit_id", label="unit") if unit_id else None
        if unit is None or unit.group_id != group_id:
            raise field_refusal(
                "default_unit_id",
                "unit_not_in_group",
                "default_unit_id: the default unit must be one of the product's unit group.",
            )


def create_product(data: ProductCreate, *, uow: UnitOfWork, actor: Actor) -> Product:
    """A product in Draft: publish it before it can be sold."""
    require_admin(actor, TABLE, Privilege.CREATE)
    session = uow.session
    values = data.model_dump()
    _unique(session, Product.number, data.number, field="number", code="product_number_taken")
    _product_references(session, values)
    product = Product(id=uuid.uuid4(), state=ProductState.DRAFT, **values)
    session.add(product)
    _audit(session, actor, "create", product, f"{product.number} {product.name}")
    _save(
        uow, field="number", code="product_number_taken", message=f"A product already has the number {data.number!r}."
    )
    return product


def read_product(product_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Product:
    """One product."""
    require_admin(actor, TABLE, Privilege.READ)
    return _get(uow.session, Product, product_id, label="product", for_update=False)


def list_products(
    *,
    uow: UnitOfWork,
    actor: Actor,
    limit: int,
    cursor: str | None = None,
    search: str | None = None,
    state: ProductState | None = None,
    family_id: uuid.UUID | None = None,
) -> Page[Product]:
    """Products by name; a search matches the name or the number."""
    statement = _search(select(Product), [Product.name, Product.number], search)
    if state is not None:
        statement = statement.where(Product.state == state)
    if family_id is not None:
        statement = statement.where(Product.family_id == family_id)
    return _listed(uow, actor, statement, Product.name, Product.id, limit=limit, cursor=cursor)


def update_product(
    product_id: uuid.UUID, changes: ProductUpdate, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Product:
    """Change the given fields of a product (lines already priced keep their prices)."""
    require_admin(actor, TABLE, Privilege.WRITE)
    session = uow.session
    product = _get(session, Product, product_id, label="product", for_update=True)
    check_version(product, expected_version)
    values = changes.model_dump(exclude_unset=True)
    if values.get("number"):
        _unique(
            session, Product.number, values["number"], field="number", code="product_number_taken", exclude=product.id
        )
    if (
        "unit_group_id" in values
        and values["unit_group_id"] != product.unit_group_id
        and product.state is not ProductState.DRAFT
    ):
        raise field_refusal(
            "unit_group_id",
            "product_not_draft",
            "unit_group_id: only a draft product can change its unit group; its prices and lines use the old units.",
            error=InvalidState,
        )
    _product_references(session, values, product)
    if values.get("unit_group_id", product.unit_group_id) != product.unit_group_id and session.scalar(
        select(exists().where(PriceListItem.product_id == product.id))
    ):
        raise Conflict(
            f"Price lists price {product.number} in the units of its group; remove those prices before moving "
            "it to another unit group.",
            code="product_has_prices",
        )
    _apply(product, values, actor)
    _audit(session, actor, "update", product, f"{product.number} {product.name}")
    _save(uow, field="number", code="product_number_taken", message="Another product has this number.")
    return product


def change_product_state(
    product_id: uuid.UUID, *, publish: bool, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Product:
    """Publish (→ active) or retire (→ retired) a product."""
    require_admin(actor, TABLE, Privilege.WRITE)
    product = _get(uow.session, Product, product_id, label="product", for_update=True)
    check_version(product, expected_version)
    product.publish() if publish else product.retire()
    _audit(uow.session, actor, "publish" if publish else "retire", product, product.number)
    uow.flush()
    return product


def delete_product(
    product_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete a draft product (one that was ever sold is retired instead), with its price list items."""
    require_admin(actor, TABLE, Privilege.DELETE)
    product = _get(uow.session, Product, product_id, label="product", for_update=True)
    check_version(product, expected_version)
    if product.state is not ProductState.DRAFT:
        raise InvalidState(
            f"The product {product.number} is {product.state.value}; retire it instead of deleting it.",
            code="product_not_draft",
        )
    _audit(uow.session, actor, "delete", product, product.number)
    uow.session.delete(product)
    uow.flush()


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


# ----------------------------------------------------------------------------------- discount lists


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


# ------------------------------------------------------------------------------------------ pricing


@dataclass(frozen=True)
class CatalogPrice:
    """The price a price list gives a product in a unit, and the discount list behind its volume discount."""

    price_per_unit: Decimal
    discount_list: DiscountList | None


def _in_currency(amount: Decimal | None, currency: Currency) -> Decimal | None:
    """A product figure (base currency) in the price list's currency."""
    return None if amount is None else amount * currency.exchange_rate


def catalog_price(session: Session, *, price_list: PriceList, product: Product, unit_id: uuid.UUID) -> CatalogPrice:
    """The price per unit of ``product`` in ``unit_id`` on ``price_list``, or a 422 saying why none."""
    item = session.scalars(
        select(PriceListItem).where(
            PriceListItem.price_list_id == price_list.id,
            PriceListItem.product_id == product.id,
            PriceListItem.unit_id == unit_id,
        )
    ).first()
    if item is None:
        raise field_refusal(
            "product_id",
            "product_not_in_price_list",
            f"product_id: the price list {price_list.name} has no price for {product.number} in this unit; "
            "add one, choose another unit, or override the price.",
        )
    currency = price_list.currency
    pricing = ItemPricing(
        method=item.pricing_method,
        amount=item.amount,
        percentage=item.percentage,
        list_price=_in_currency(product.list_price, currency),
        current_cost=_in_currency(product.current_cost, currency),
        standard_cost=_in_currency(product.standard_cost, currency),
        rounding_policy=item.rounding_policy,
        rounding_option=item.rounding_option,
        rounding_amount=item.rounding_amount,
    )
    try:
        price = unit_price(pricing, precision=currency.precision)
    except PricingError as error:
        raise field_refusal(
            "product_id", error.code, f"product_id: the price list item cannot price {product.number} ({error.code})."
        ) from error
    return CatalogPrice(price_per_unit=price, discount_list=item.discount_list)


def discount_for(discount_list: DiscountList | None, *, quantity: Decimal, amount: Decimal, precision: int) -> Decimal:
    """The volume discount a discount list gives a line of ``quantity`` units worth ``amount``."""
    if discount_list is None:
        return Decimal(0)
    tiers = [Tier(tier.begin_quantity, tier.end_quantity, tier.value) for tier in discount_list.tiers]
    return volume_discount(kind=discount_list.kind, tiers=tiers, quantity=quantity, amount=amount, precision=precision)


def item_price_today(session: Session, item: PriceListItem) -> Decimal | None:
    """What an item gives per unit today, or None when it cannot price (a missing cost, say)."""
    price_list = session.get(PriceList, item.price_list_id)
    product = session.get(Product, item.product_id)
    if price_list is None or product is None:
        return None
    try:
        return catalog_price(session, price_list=price_list, product=product, unit_id=item.unit_id).price_per_unit
    except ValidationFailed:
        return None
