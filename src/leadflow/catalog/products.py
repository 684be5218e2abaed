"""Product families and products: a product is numbered, sold in the units of one unit group, and
goes from Draft to Active when published and to Retired when no longer sold; only a draft product
may be deleted or moved to another unit group. A family groups products; deleting it leaves its
products in no family."""

from __future__ import annotations

import uuid
from typing import Any

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
    _search,
    _unique,
)
from leadflow.catalog.models import PriceListItem, Product, ProductFamily, ProductState, Unit, UnitGroup
from leadflow.catalog.schemas import FamilyCreate, FamilyUpdate, ProductCreate, ProductUpdate
from leadflow.core.errors import Conflict, InvalidState, field_refusal
from leadflow.core.paging import Page
from leadflow.core.records import check_version
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege

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
