"""The product catalogue: unit groups and units, product families, products, price lists with their
items, and discount lists. Every role reads it; the roles with the products area change it."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass
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


def _endpoint(
    name: str, doc: str, params: dict[str, Any], returns: Any, body: Callable[..., Any]
) -> Callable[..., Any]:
    """A route function named ``name`` with the docstring ``doc`` and the keyword parameters
    ``params`` (name: annotation, in order), which FastAPI reads from its signature."""

    def endpoint(**kwargs: Any) -> Any:
        return body(**kwargs)

    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__doc__ = doc
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, annotation=kind) for key, kind in params.items()],
        return_annotation=returns,
    )
    return endpoint


@dataclass(frozen=True)
class Resource:
    """The create/read/patch/delete routes of one catalogue resource at ``/{path}``: the schemas, the
    service functions, the route function names (``{verb}_{name}``) and their docstrings."""

    path: str
    id_name: str
    name: str
    out: type[BaseModel]
    update: type[BaseModel]
    read_record: Callable[..., Any]
    update_record: Callable[..., Any]
    delete_record: Callable[..., Any]
    docs: tuple[str, str, str]
    create: type[BaseModel] | None = None
    create_record: Callable[..., Any] | None = None
    create_doc: str = ""


def _register(resource: Resource) -> None:
    """Add the routes of ``resource`` to the router: POST (when it has a create schema), GET, PATCH
    (If-Match) and DELETE (If-Match), answering its output shape with an ETag."""
    out, id_name, one = resource.out, resource.id_name, f"/{resource.path}/{{{resource.id_name}}}"
    read_doc, change_doc, delete_doc = resource.docs
    params: dict[str, Any]
    if resource.create is not None and resource.create_record is not None:
        create_record = resource.create_record

        def create(data: Any, uow: UnitOfWork, actor: Any, response: Response) -> Any:
            record = create_record(data, uow=uow, actor=actor)
            uow.commit()
            return _created(out, record, uow, response, resource.path)

        params = {"data": resource.create, "uow": UowDep, "actor": CurrentActor, "response": Response}
        endpoint = _endpoint(f"create_{resource.name}", resource.create_doc, params, out, create)
        router.post(f"/{resource.path}", status_code=status.HTTP_201_CREATED)(endpoint)

    def read(uow: UnitOfWork, actor: Any, response: Response, **key: uuid.UUID) -> Any:
        return _answer(out, resource.read_record(key[id_name], uow=uow, actor=actor), response)

    params = {id_name: uuid.UUID, "uow": ReadUowDep, "actor": CurrentActor, "response": Response}
    router.get(one)(_endpoint(f"read_{resource.name}", read_doc, params, out, read))

    def change(changes: Any, uow: UnitOfWork, actor: Any, version: Any, response: Response, **key: uuid.UUID) -> Any:
        record = resource.update_record(key[id_name], changes, uow=uow, actor=actor, expected_version=version)
        uow.commit()
        return _stored(out, record, uow, response)

    params = {
        id_name: uuid.UUID,
        "changes": resource.update,
        "uow": UowDep,
        "actor": CurrentActor,
        "version": ExpectedVersion,
        "response": Response,
    }
    router.patch(one)(_endpoint(f"change_{resource.name}", change_doc, params, out, change))

    def delete(uow: UnitOfWork, actor: Any, version: Any, **key: uuid.UUID) -> Response:
        resource.delete_record(key[id_name], uow=uow, actor=actor, expected_version=version)
        uow.commit()
        return _no_content()

    params = {id_name: uuid.UUID, "uow": UowDep, "actor": CurrentActor, "version": ExpectedVersion}
    endpoint = _endpoint(f"delete_{resource.name}", delete_doc, params, Response, delete)
    router.delete(one, status_code=status.HTTP_204_NO_CONTENT)(endpoint)


# ----------------------------------------------------------------------------------- unit groups


@router.get("/unit-groups")
def list_unit_groups(
    uow: ReadUowDep, actor: CurrentActor, limit: Limit = 50, cursor: Cursor = None, search: Search = None
) -> PageOut[UnitGroupOut]:
    """Unit groups by name, each with its units."""
    page = catalog.list_unit_groups(uow=uow, actor=actor, limit=limit, cursor=cursor, search=search)
    return PageOut[UnitGroupOut].model_validate(page_out(page, UnitGroupOut.model_validate))


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


# -------------------------------------------------------------------------------------- families


@router.get("/product-families")
def list_families(uow: ReadUowDep, actor: CurrentActor, limit: Limit = 50, cursor: Cursor = None) -> PageOut[FamilyOut]:
    """Product families by name."""
    page = catalog.list_families(uow=uow, actor=actor, limit=limit, cursor=cursor)
    return PageOut[FamilyOut].model_validate(page_out(page, FamilyOut.model_validate))


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


def _add_product_state_route(step: str, publish: bool, doc: str) -> None:
    """POST /products/{product_id}/{step} (If-Match): publish or retire a product."""

    @router.post(f"/products/{{product_id}}/{step}", name=f"{step}_product", description=doc)
    def change_state(
        product_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
    ) -> ProductOut:
        product = catalog.change_product_state(
            product_id, publish=publish, uow=uow, actor=actor, expected_version=version
        )
        uow.commit()
        return _stored(ProductOut, product, uow, response)


_add_product_state_route("publish", True, "Make a draft or retired product active: it can be sold.")
_add_product_state_route("retire", False, "Retire a product: it can no longer be sold; the lines that have it keep it.")


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


# ------------------------------------------------------- create, read, change and delete, by resource

RESOURCES = (
    Resource(
        "unit-groups",
        "group_id",
        "unit_group",
        UnitGroupOut,
        UnitGroupUpdate,
        catalog.read_unit_group,
        catalog.update_unit_group,
        catalog.delete_unit_group,
        (
            "One unit group with its units, the base unit first.",
            "Rename a unit group or change its description.",
            "Delete a unit group with its units, while no product is sold in them (409 after).",
        ),
        UnitGroupCreate,
        catalog.create_unit_group,
        "Add a unit group with its base unit (409 when the name is taken).",
    ),
    Resource(
        "units",
        "unit_id",
        "unit",
        UnitOut,
        UnitUpdate,
        catalog.read_unit,
        catalog.update_unit,
        catalog.delete_unit,
        (
            "One unit.",
            "Rename a unit or change its quantity (a base unit is always 1).",
            "Delete a unit nothing is measured in (409 for a base unit or a unit in use).",
        ),
    ),
    Resource(
        "product-families",
        "family_id",
        "family",
        FamilyOut,
        FamilyUpdate,
        catalog.read_family,
        catalog.update_family,
        catalog.delete_family,
        (
            "One product family.",
            "Rename a product family or change its description.",
            "Delete a product family; its products stay, in no family.",
        ),
        FamilyCreate,
        catalog.create_family,
        "Add a product family (409 when the name is taken).",
    ),
    Resource(
        "products",
        "product_id",
        "product",
        ProductOut,
        ProductUpdate,
        catalog.read_product,
        catalog.update_product,
        catalog.delete_product,
        (
            "One product.",
            "Change the given fields of a product; lines already priced keep their prices.",
            "Delete a draft product with its prices (409 for one published: retire it instead).",
        ),
        ProductCreate,
        catalog.create_product,
        "Add a product, in Draft: publish it before it can be sold (409 when the number is taken).",
    ),
    Resource(
        "price-lists",
        "price_list_id",
        "price_list",
        PriceListOut,
        PriceListUpdate,
        catalog.read_price_list,
        catalog.update_price_list,
        catalog.delete_price_list,
        (
            "One price list (its items are at /price-lists/{id}/items).",
            "Rename a price list or change its validity; its currency stays.",
            "Delete a price list and its items; records that named it keep their prices and name none.",
        ),
        PriceListCreate,
        catalog.create_price_list,
        "Add a price list in one enabled currency, valid between two optional dates.",
    ),
    Resource(
        "discount-lists",
        "discount_list_id",
        "discount_list",
        DiscountListOut,
        DiscountListUpdate,
        catalog.read_discount_list,
        catalog.update_discount_list,
        catalog.delete_discount_list,
        (
            "One discount list with its tiers.",
            "Rename a discount list or replace its tiers; lines priced before keep their discounts.",
            "Delete a discount list; the items that used it give no volume discount any more.",
        ),
        DiscountListCreate,
        catalog.create_discount_list,
        "Add a discount list: a percentage, or an amount per unit in one currency, by quantity tiers\n"
        "(both ends included; tiers may not overlap).",
    ),
)
for _resource in RESOURCES:
    _register(_resource)
