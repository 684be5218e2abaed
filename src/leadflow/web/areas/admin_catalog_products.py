"""Products, in the product catalogue's administration: the list, searched by name or number and
filtered by state or family; a new product (a draft); a product's page with its fields, its Publish
and Retire commands and its prices on every price list. Shared pieces are in ``admin_catalog``."""

from __future__ import annotations

import functools
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from leadflow.catalog import service
from leadflow.catalog.models import PriceList, PriceListItem, Product, ProductFamily, ProductState, Unit, UnitGroup
from leadflow.catalog.schemas import ProductCreate, ProductUpdate
from leadflow.core.errors import LeadflowError
from leadflow.core.formatting import amount_input
from leadflow.core.uow import UnitOfWork
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin_catalog import (
    METHOD_LABELS,
    PAGE_SIZE,
    STATE_BADGES,
    STATE_LABELS,
    Deletable,
    base_currency,
    choices,
    commit_on_page,
    create_record,
    gate,
    may,
    notice_of,
    save_record,
    tabs,
    unit_choices,
)
from leadflow.web.forms import FormDep, Refusal, id_in_path, refusal
from leadflow.web.i18n import N_
from leadflow.web.labels import label
from leadflow.web.pages import WebSession, WebSessionDep, database_of, render

router = APIRouter()

PRODUCTS = "/admin/products"

# ---------------------------------------------------------------------------------------------- the product list

_NOTICES = {
    "created": N_("The product was created as a draft; publish it to sell it."),
    "saved": N_("Your changes were saved."),
    "published": N_("The product was published: it can be sold."),
    "retired": N_("The product was retired: it can no longer be sold."),
    "deleted": N_("The product was deleted."),
}


@router.get(PRODUCTS, name="catalog_products")
@gate(Privilege.READ)
def products_page(request: Request, session: WebSessionDep) -> Response:
    """The products by name, searched by name or number, filtered by state or family, and paged."""
    language = session.language
    params = request.query_params
    q = params.get("q", "")[:100]
    state_value = params.get("state", "")
    state = ProductState(state_value) if state_value in STATE_LABELS else None
    failure: Refusal | None = None
    with database_of(request).unit_of_work(read_only=True) as uow:
        families = uow.session.scalars(select(ProductFamily).order_by(ProductFamily.name).limit(1000)).all()
        family = next((found for found in families if str(found.id) == params.get("family", "")), None)
        filters: dict[str, Any] = {"search": q or None, "state": state, "family_id": family.id if family else None}
        try:
            page = service.list_products(
                uow=uow, actor=session.actor, limit=PAGE_SIZE, cursor=params.get("cursor") or None, **filters
            )
        except LeadflowError as error:
            if error.code != "invalid_cursor":
                raise
            failure = refusal(language, error)
            page = service.list_products(uow=uow, actor=session.actor, limit=PAGE_SIZE, **filters)
        rows = [
            {
                "id": product.id,
                "number": product.number,
                "name": product.name,
                "unit_group": product.unit_group.name,
                "default_unit": product.default_unit.name,
                "list_price": product.list_price,
                "state": product.state.value,
                "state_label": label(language, STATE_LABELS, product.state),
                "badge": STATE_BADGES[product.state.value],
            }
            for product in page.items
        ]
        currency = base_currency(uow)
    query = {"q": q, "state": state.value if state else "", "family": str(family.id) if family else ""}
    next_link = (
        f"{PRODUCTS}?" + urlencode({k: v for k, v in {**query, "cursor": page.next_cursor}.items() if v})
        if page.next_cursor
        else None
    )
    return render(
        request,
        session,
        "catalog/products.html",
        status_code=200 if failure is None else 422,
        tabs=tabs(session),
        products=rows,
        q=q,
        state=state.value if state else "",
        states=choices(language, STATE_LABELS),
        family=str(family.id) if family else "",
        families=[(str(found.id), found.name) for found in families],
        base_currency=currency,
        refusal=failure,
        notice=notice_of(request, _NOTICES, language),
        can_create=may(session, Privilege.CREATE),
        next_link=next_link,
        first_link=f"{PRODUCTS}?" + urlencode({k: v for k, v in query.items() if v}) if params.get("cursor") else None,
    )


# ---------------------------------------------------------------------------------------------- one product

PRODUCT_FIELDS = (
    "number",
    "name",
    "family_id",
    "unit_group_id",
    "default_unit_id",
    "decimals_supported",
    "list_price",
    "standard_cost",
    "current_cost",
    "description",
)
_MONEY_FIELDS = ("list_price", "standard_cost", "current_cost")


def _product_values(product: Product | None, language: str) -> dict[str, str]:
    if product is None:
        return {**dict.fromkeys(PRODUCT_FIELDS, ""), "decimals_supported": "0"}
    return {
        "number": product.number,
        "name": product.name,
        "family_id": str(product.family_id or ""),
        "unit_group_id": str(product.unit_group_id),
        "default_unit_id": str(product.default_unit_id),
        "decimals_supported": str(product.decimals_supported),
        **{name: amount_input(getattr(product, name), language) for name in _MONEY_FIELDS},
        "description": product.description or "",
    }


def _product_prices(uow: UnitOfWork, product_id: uuid.UUID, language: str) -> list[dict[str, Any]]:
    """The product's items on every price list, by price list and unit, with the price each gives today."""
    items = uow.session.execute(
        select(PriceListItem, PriceList, Unit)
        .join(PriceList, PriceList.id == PriceListItem.price_list_id)
        .join(Unit, Unit.id == PriceListItem.unit_id)
        .where(PriceListItem.product_id == product_id)
        .order_by(PriceList.name, Unit.quantity, Unit.name)
        .limit(1000)
    ).all()
    return [
        {
            "price_list_id": price_list.id,
            "item_id": item.id,
            "price_list": price_list.name,
            "currency": price_list.currency_code,
            "unit": unit.name,
            "method": label(language, METHOD_LABELS, item.pricing_method),
            "price": service.item_price_today(uow.session, item),
            "valid_from": price_list.valid_from,
            "valid_to": price_list.valid_to,
        }
        for item, price_list, unit in items
    ]


def _product_page(
    request: Request,
    session: WebSession,
    product_id: uuid.UUID | None,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    version: int | None = None,
    notice: str | None = None,
) -> Response:
    """A product's page (or the empty form of a new one) with the user's input and any refusal."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        product = service.read_product(product_id, uow=uow, actor=session.actor) if product_id else None
        families = uow.session.scalars(select(ProductFamily).order_by(ProductFamily.name).limit(1000)).all()
        groups = uow.session.scalars(select(UnitGroup).order_by(UnitGroup.name).limit(1000)).all()
        facts = None
        if product is not None:
            family = next((family.name for family in families if family.id == product.family_id), "")
            facts = {
                "family": family,
                "unit_group": product.unit_group.name,
                "default_unit": product.default_unit.name,
                "state": product.state.value,
                "state_label": label(language, STATE_LABELS, product.state),
                "badge": STATE_BADGES[product.state.value],
                "draft": product.state is ProductState.DRAFT,
                "list_price": product.list_price,
                "standard_cost": product.standard_cost,
                "current_cost": product.current_cost,
                "decimals_supported": product.decimals_supported,
                "description": product.description or "",
            }
        prices = _product_prices(uow, product.id, language) if product is not None else []
        currency = base_currency(uow)
        group_choices = [(str(group.id), group.name) for group in groups]
        units = unit_choices(uow)
    creating = product is None
    return render(
        request,
        session,
        "catalog/product.html",
        status_code=status_code,
        tabs=tabs(session),
        product=product,
        facts=facts,
        prices=prices,
        values={**_product_values(product, language), **(values or {})},
        families=[(str(family.id), family.name) for family in families],
        unit_groups=group_choices,
        units=units,
        decimals=[(str(number), str(number)) for number in range(6)],
        base_currency=currency,
        refusal=failure,
        field_errors=failure.fields if failure else {},
        notice=notice,
        row_version=version if version is not None and version >= 0 else (product.row_version if product else 0),
        can_write=may(session, Privilege.CREATE if creating else Privilege.WRITE),
        can_delete=not creating and may(session, Privilege.DELETE),
    )


def _product_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="product")


_PRODUCT = Deletable(
    path=PRODUCTS,
    record="product",
    read=service.read_product,
    delete=service.delete_product,
    page=_product_page,
    warning=N_("Delete this product? Only a draft product can be deleted."),
    heading=lambda product: f"{product.number} · {product.name}",
)
_PRODUCT.add_routes(router)


@router.get(PRODUCTS + "/new", name="catalog_product_new")
@gate(Privilege.CREATE)
def new_product(request: Request, session: WebSessionDep) -> Response:
    """An empty form for a new product."""
    return _product_page(request, session, None)


@router.post(PRODUCTS + "/new", name="catalog_product_create")
@gate(Privilege.CREATE)
def create_product(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Add a product as a draft; the form again, with the refusal, when refused."""
    return create_record(
        request,
        session,
        form,
        fields=PRODUCT_FIELDS,
        schema=ProductCreate,
        numbers=_MONEY_FIELDS,
        create=service.create_product,
        again=lambda values, failure, status_code: _product_page(
            request, session, None, values=values, failure=failure, status_code=status_code
        ),
        done=lambda product: f"{PRODUCTS}/{product.id}?notice=created",
    )


@router.get(PRODUCTS + "/{product_id}", name="catalog_product")
@gate(Privilege.READ)
def product_page(request: Request, product_id: str, session: WebSessionDep) -> Response:
    """One product: its fields, its state and its prices on every price list."""
    return _product_page(
        request, session, _product_id(product_id), notice=notice_of(request, _NOTICES, session.language)
    )


@router.post(PRODUCTS + "/{product_id}", name="catalog_product_save")
@gate(Privilege.WRITE)
def save_product(request: Request, product_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Save the product; refused when it changed since the form was loaded."""
    parsed = _product_id(product_id)
    return save_record(
        request,
        session,
        form,
        fields=PRODUCT_FIELDS,
        schema=ProductUpdate,
        numbers=_MONEY_FIELDS,
        update=functools.partial(service.update_product, parsed),
        page=functools.partial(_product_page, request, session, parsed),
        done=f"{PRODUCTS}/{parsed}?notice=saved",
    )


def _change_state(request: Request, session: WebSession, product_id: str, form: Any, *, publish: bool) -> Response:
    parsed = _product_id(product_id)
    return commit_on_page(
        request,
        session,
        form,
        run=functools.partial(service.change_product_state, parsed, publish=publish),
        page=functools.partial(_product_page, request, session, parsed),
        done=f"{PRODUCTS}/{parsed}?notice={'published' if publish else 'retired'}",
    )


@router.post(PRODUCTS + "/{product_id}/publish", name="catalog_product_publish")
@gate(Privilege.WRITE)
def publish_product(request: Request, product_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Publish the product: it becomes active and can be sold."""
    return _change_state(request, session, product_id, form, publish=True)


@router.post(PRODUCTS + "/{product_id}/retire", name="catalog_product_retire")
@gate(Privilege.WRITE)
def retire_product(request: Request, product_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Retire the product: it can no longer be sold; lines that name it keep it."""
    return _change_state(request, session, product_id, form, publish=False)
