"""The product catalogue: unit groups and units, product families, products, price lists with their
items, and discount lists. Every role reads it; the roles with the products area change it."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from leadflow.api.deps import CurrentActor, ExpectedVersion, ReadUowDep, UowDep
from leadflow.api.paging import Cursor, Limit, PageOut, page_out
from leadflow.catalog import service as catalog
from leadflow.catalog.models import PriceListItem, ProductState
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
    UnitOut,
    UnitUpdate,
)
from leadflow.core.uow import UnitOfWork

router = APIRouter(tags=["catalog"])

OutT = TypeVar("OutT", bound=BaseModel)
FOUR_DECIMALS = Decimal("0.0001")
Search = Annotated[str | None, Query(max_length=100, description="Part of the name.")]


def _answer(shape: type[OutT], record: Any, response: Response) -> OutT:
    """A record in its output shape, with its ETag."""
    response.headers["ETag"] = record.etag
    return shape.model_validate(record)


def _stored(shape: type[OutT], record: Any, uow: UnitOfWork, response: Response) -> OutT:
    """A record just committed, read back as stored: the answer is exactly what a GET answers next
    (quantities with the five decimals they are kept with, amounts with four)."""
    uow.session.expire_all()
    return _answer(shape, record, response)


def _created(shape: type[OutT], record: Any, uow: UnitOfWork, response: Response, path: str) -> OutT:
    response.headers["Location"] = f"/api/v1/{path}/{record.id}"
    return _stored(shape, record, uow, response)


def _no_content() -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ----------------------------------------------------------------------------------- unit groups


@router.get("/unit-groups")
def list_unit_groups(
    uow: ReadUowDep, actor: CurrentActor, limit: Limit = 50, cursor: Cursor = None, search: Search = None
) -> PageOut[UnitGroupOut]:
    """Unit groups by name, each with its units."""
    page = catalog.list_unit_groups(uow=uow, actor=actor, limit=limit, cursor=cursor, search=search)
    return PageOut[UnitGroupOut].model_validate(page_out(page, UnitGroupOut.model_validate))


@router.post("/unit-groups", status_code=status.HTTP_201_CREATED)
def create_unit_group(data: UnitGroupCreate, uow: UowDep, actor: CurrentActor, response: Response) -> UnitGroupOut:
    """Add a unit group with its base unit (409 when the name is taken)."""
    group = catalog.create_unit_group(data, uow=uow, actor=actor)
    uow.commit()
    return _created(UnitGroupOut, group, uow, response, "unit-groups")


@router.get("/unit-groups/{group_id}")
def read_unit_group(group_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> UnitGroupOut:
    """One unit group with its units, the base unit first."""
    return _answer(UnitGroupOut, catalog.read_unit_group(group_id, uow=uow, actor=actor), response)


@router.patch("/unit-groups/{group_id}")
def change_unit_group(
    group_id: uuid.UUID,
    changes: UnitGroupUpdate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> UnitGroupOut:
    """Rename a unit group or change its description."""
    group = catalog.update_unit_group(group_id, changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _stored(UnitGroupOut, group, uow, response)


@router.delete("/unit-groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_unit_group(group_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
    """Delete a unit group with its units, while no product is sold in them (409 after)."""
    catalog.delete_unit_group(group_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _no_content()


@router.post("/unit-groups/{group_id}/units", status_code=status.HTTP_201_CREATED)
def add_unit(group_id: uuid.UUID, data: UnitCreate, uow: UowDep, actor: CurrentActor, response: Response) -> UnitOut:
    """Add a unit to a group: a quantity of another of its units (its base unit when none is named)."""
    unit = catalog.add_unit(group_id, data, uow=uow, actor=actor)
    uow.commit()
    return _created(UnitOut, unit, uow, response, "units")


# ----------------------------------------------------------------------------------------- units


@router.get("/units")
def list_units(
    uow: ReadUowDep,
    actor: CurrentActor,
    limit: Limit = 50,
    cursor: Cursor = None,
    group_id: Annotated[uuid.UUID | None, Query(description="Only the units of this group.")] = None,
) -> PageOut[UnitOut]:
    """Units by name, of every group or of one."""
    page = catalog.list_units(uow=uow, actor=actor, group_id=group_id, limit=limit, cursor=cursor)
    return PageOut[UnitOut].model_validate(page_out(page, UnitOut.model_validate))


@router.get("/units/{unit_id}")
def read_unit(unit_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> UnitOut:
    """One unit."""
    return _answer(UnitOut, catalog.read_unit(unit_id, uow=uow, actor=actor), response)


@router.patch("/units/{unit_id}")
def change_unit(
    unit_id: uuid.UUID,
    changes: UnitUpdate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> UnitOut:
    """Rename a unit or change its quantity (a base unit is always 1)."""
    unit = catalog.update_unit(unit_id, changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _stored(UnitOut, unit, uow, response)


@router.delete("/units/{unit_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_unit(unit_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
    """Delete a unit nothing is measured in (409 for a base unit or a unit in use)."""
    catalog.delete_unit(unit_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _no_content()


# -------------------------------------------------------------------------------------- families


@router.get("/product-families")
def list_families(uow: ReadUowDep, actor: CurrentActor, limit: Limit = 50, cursor: Cursor = None) -> PageOut[FamilyOut]:
    """Product families by name."""
    page = catalog.list_families(uow=uow, actor=actor, limit=limit, cursor=cursor)
    return PageOut[FamilyOut].model_validate(page_out(page, FamilyOut.model_validate))


@router.post("/product-families", status_code=status.HTTP_201_CREATED)
def create_family(data: FamilyCreate, uow: UowDep, actor: CurrentActor, response: Response) -> FamilyOut:
    """Add a product family (409 when the name is taken)."""
    family = catalog.create_family(data, uow=uow, actor=actor)
    uow.commit()
    return _created(FamilyOut, family, uow, response, "product-families")


@router.get("/product-families/{family_id}")
def read_family(family_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> FamilyOut:
    """One product family."""
    return _answer(FamilyOut, catalog.read_family(family_id, uow=uow, actor=actor), response)


@router.patch("/product-families/{family_id}")
def change_family(
    family_id: uuid.UUID,
    changes: FamilyUpdate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> FamilyOut:
    """Rename a product family or change its description."""
    family = catalog.update_family(family_id, changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _stored(FamilyOut, family, uow, response)


@router.delete("/product-families/{family_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_family(family_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
    """Delete a product family; its products stay, in no family."""
    catalog.delete_family(family_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _no_content()


# -------------------------------------------------------------------------------------- products


@router.get("/products")
def list_products(
    uow: ReadUowDep,
    actor: CurrentActor,
    limit: Limit = 50,
    cursor: Cursor = None,
    search: Annotated[str | None, Query(max_length=100, description="Part of the name or the number.")] = None,
    state: Annotated[ProductState | None, Query(description="Only the products in this state.")] = None,
    family_id: Annotated[uuid.UUID | None, Query(description="Only the products of this family.")] = None,
) -> PageOut[ProductOut]:
    """Products by name."""
    page = catalog.list_products(
        uow=uow, actor=actor, limit=limit, cursor=cursor, search=search, state=state, family_id=family_id
    )
    return PageOut[ProductOut].model_validate(page_out(page, ProductOut.model_validate))


@router.post("/products", status_code=status.HTTP_201_CREATED)
def create_product(data: ProductCreate, uow: UowDep, actor: CurrentActor, response: Response) -> ProductOut:
    """Add a product, in Draft: publish it before it can be sold (409 when the number is taken)."""
    product = catalog.create_product(data, uow=uow, actor=actor)
    uow.commit()
    return _created(ProductOut, product, uow, response, "products")


@router.get("/products/{product_id}")
def read_product(product_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> ProductOut:
    """One product."""
    return _answer(ProductOut, catalog.read_product(product_id, uow=uow, actor=actor), response)


@router.patch("/products/{product_id}")
def change_product(
    product_id: uuid.UUID,
    changes: ProductUpdate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> ProductOut:
    """Change the given fields of a product; lines already priced keep their prices."""
    product = catalog.update_product(product_id, changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _stored(ProductOut, product, uow, response)


@router.delete("/products/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_product(product_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
    """Delete a draft product with its prices (409 for one published: retire it instead)."""
    catalog.delete_product(product_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _no_content()


@router.post("/products/{product_id}/publish")
def publish_product(
    product_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> ProductOut:
    """Make a draft or retired product active: it can be sold."""
    product = catalog.change_product_state(product_id, publish=True, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _stored(ProductOut, product, uow, response)


@router.post("/products/{product_id}/retire")
def retire_product(
    product_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> ProductOut:
    """Retire a product: it can no longer be sold; the lines that have it keep it."""
    product = catalog.change_product_state(product_id, publish=False, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _stored(ProductOut, product, uow, response)


# ----------------------------------------------------------------------------------- price lists


@router.get("/price-lists")
def list_price_lists(
    uow: ReadUowDep,
    actor: CurrentActor,
    limit: Limit = 50,
    cursor: Cursor = None,
    currency: Annotated[str | None, Query(max_length=3, description="Only the lists in this currency (EUR).")] = None,
) -> PageOut[PriceListOut]:
    """Price lists by name."""
    page = catalog.list_price_lists(uow=uow, actor=actor, limit=limit, cursor=cursor, currency=currency)
    return PageOut[PriceListOut].model_validate(page_out(page, PriceListOut.model_validate))


@router.post("/price-lists", status_code=status.HTTP_201_CREATED)
def create_price_list(data: PriceListCreate, uow: UowDep, actor: CurrentActor, response: Response) -> PriceListOut:
    """Add a price list in one enabled currency, valid between two optional dates."""
    price_list = catalog.create_price_list(data, uow=uow, actor=actor)
    uow.commit()
    return _created(PriceListOut, price_list, uow, response, "price-lists")


@router.get("/price-lists/{price_list_id}")
def read_price_list(price_list_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> PriceListOut:
    """One price list (its items are at /price-lists/{id}/items)."""
    return _answer(PriceListOut, catalog.read_price_list(price_list_id, uow=uow, actor=actor), response)


@router.patch("/price-lists/{price_list_id}")
def change_price_list(
    price_list_id: uuid.UUID,
    changes: PriceListUpdate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> PriceListOut:
    """Rename a price list or change its validity; its currency stays."""
    price_list = catalog.update_price_list(price_list_id, changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _stored(PriceListOut, price_list, uow, response)


@router.delete("/price-lists/{price_list_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_price_list(price_list_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
    """Delete a price list and its items; records that named it keep their prices and name none."""
    catalog.delete_price_list(price_list_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _no_content()


def _item_out(uow: UnitOfWork, item: PriceListItem, response: Response | None = None) -> PriceListItemOut:
    """An item with the price per unit it gives today (null when it cannot price); after a change,
    read back as stored."""
    if response is not None:
        uow.session.expire_all()
        response.headers["ETag"] = item.etag
    price = catalog.item_price_today(uow.session, item)
    if price is not None:
        price = price.quantize(FOUR_DECIMALS)  # every amount the API answers has the four it is stored with
    return PriceListItemOut.model_validate(item).model_copy(update={"price_per_unit": price})


@router.get("/price-lists/{price_list_id}/items")
def list_price_list_items(price_list_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor) -> list[PriceListItemOut]:
    """The items of a price list by product name, each with the price per unit it gives today."""
    return [_item_out(uow, item) for item in catalog.list_price_list_items(price_list_id, uow=uow, actor=actor)]


@router.post("/price-lists/{price_list_id}/items", status_code=status.HTTP_201_CREATED)
def add_price_list_item(
    price_list_id: uuid.UUID, data: PriceListItemCreate, uow: UowDep, actor: CurrentActor, response: Response
) -> PriceListItemOut:
    """Price a product in one of its units: a currency amount, a percent of its list price, or a
    markup or margin over a cost; rounded by a policy; with an optional discount list (409 when the
    list prices that product in that unit already)."""
    item = catalog.add_price_list_item(price_list_id, data, uow=uow, actor=actor)
    uow.commit()
    response.headers["Location"] = f"/api/v1/price-lists/{price_list_id}/items/{item.id}"
    return _item_out(uow, item, response)


@router.patch("/price-lists/{price_list_id}/items/{item_id}")
def change_price_list_item(
    price_list_id: uuid.UUID,
    item_id: uuid.UUID,
    changes: PriceListItemUpdate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> PriceListItemOut:
    """Change how an item prices its product; lines already priced keep their prices."""
    item = catalog.update_price_list_item(
        price_list_id, item_id, changes, uow=uow, actor=actor, expected_version=version
    )
    uow.commit()
    return _item_out(uow, item, response)


@router.delete("/price-lists/{price_list_id}/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_price_list_item(
    price_list_id: uuid.UUID, item_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion
) -> Response:
    """Remove an item from a price list."""
    catalog.delete_price_list_item(price_list_id, item_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _no_content()


# -------------------------------------------------------------------------------- discount lists


@router.get("/discount-lists")
def list_discount_lists(
    uow: ReadUowDep, actor: CurrentActor, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[DiscountListOut]:
    """Discount lists by name, each with its quantity tiers."""
    page = catalog.list_discount_lists(uow=uow, actor=actor, limit=limit, cursor=cursor)
    return PageOut[DiscountListOut].model_validate(page_out(page, DiscountListOut.model_validate))


@router.post("/discount-lists", status_code=status.HTTP_201_CREATED)
def create_discount_list(
    data: DiscountListCreate, uow: UowDep, actor: CurrentActor, response: Response
) -> DiscountListOut:
    """Add a discount list: a percentage, or an amount per unit in one currency, by quantity tiers
    (both ends included; tiers may not overlap)."""
    discount = catalog.create_discount_list(data, uow=uow, actor=actor)
    uow.commit()
    return _created(DiscountListOut, discount, uow, response, "discount-lists")


@router.get("/discount-lists/{discount_list_id}")
def read_discount_list(
    discount_list_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response
) -> DiscountListOut:
    """One discount list with its tiers."""
    return _answer(DiscountListOut, catalog.read_discount_list(discount_list_id, uow=uow, actor=actor), response)


@router.patch("/discount-lists/{discount_list_id}")
def change_discount_list(
    discount_list_id: uuid.UUID,
    changes: DiscountListUpdate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> DiscountListOut:
    """Rename a discount list or replace its tiers; lines priced before keep their discounts."""
    discount = catalog.update_discount_list(discount_list_id, changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _stored(DiscountListOut, discount, uow, response)


@router.delete("/discount-lists/{discount_list_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_discount_list(
    discount_list_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion
) -> Response:
    """Delete a discount list; the items that used it give no volume discount any more."""
    catalog.delete_discount_list(discount_list_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _no_content()
