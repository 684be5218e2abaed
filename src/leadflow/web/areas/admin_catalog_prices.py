"""Price lists, in the product catalogue's administration: the list with a new price list (its name, its
currency among the enabled ones, its validity), a price list's page with its items and the price each
gives today, the form that adds an item, and an item's page to change or remove it. Shared pieces are
in ``admin_catalog``."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from leadflow.catalog import service
from leadflow.catalog.models import DiscountList, PriceListItem, Product, RoundingPolicy, Unit
from leadflow.catalog.schemas import PriceListCreate, PriceListItemCreate, PriceListItemUpdate, PriceListUpdate
from leadflow.core.errors import LeadflowError
from leadflow.core.formatting import amount_input
from leadflow.core.records import not_found
from leadflow.core.uow import UnitOfWork
from leadflow.organisation import currencies
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin_catalog import (
    METHOD_LABELS,
    OPTION_LABELS,
    PAGE_SIZE,
    POLICY_LABELS,
    Deletable,
    choices,
    commit_on_page,
    confirm_record_delete,
    create_record,
    gate,
    may,
    notice_of,
    number_input,
    save_record,
    tabs,
    unit_choices,
)
from leadflow.web.forms import FormDep, Refusal, id_in_path, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import label
from leadflow.web.pages import WebSession, WebSessionDep, database_of, render

router = APIRouter()

PRICE_LISTS = "/admin/price-lists"
_LIST_FIELDS = ("name", "currency", "valid_from", "valid_to", "description")
_ITEM_CHANGES = ("pricing_method", "amount", "percentage", "rounding_policy", "rounding_option", "rounding_amount")
_ITEM_FIELDS = ("product_id", "unit_id", *_ITEM_CHANGES, "discount_list_id")
_ITEM_NUMBERS = ("amount", "percentage", "rounding_amount")

_NOTICES = {
    "created": N_("The price list was created; add its items below."),
    "saved": N_("Your changes were saved."),
    "deleted": N_("The price list was deleted."),
    "item_added": N_("The item was added."),
    "item_saved": N_("The item was saved."),
    "item_removed": N_("The item was removed."),
}


# ---------------------------------------------------------------------------------------------- the list


def _lists_page(
    request: Request,
    session: WebSession,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    params = request.query_params
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            page = service.list_price_lists(
                uow=uow, actor=session.actor, limit=PAGE_SIZE, cursor=params.get("cursor") or None
            )
        except LeadflowError as error:
            if error.code != "invalid_cursor":
                raise
            failure, status_code = refusal(session.language, error), 422
            page = service.list_price_lists(uow=uow, actor=session.actor, limit=PAGE_SIZE)
        rows = [
            {
                "id": price_list.id,
                "name": price_list.name,
                "currency": price_list.currency_code,
                "valid_from": price_list.valid_from,
                "valid_to": price_list.valid_to,
            }
            for price_list in page.items
        ]
        enabled = [currency.iso_code for currency in currencies.list_currencies(uow=uow, actor=session.actor)]
    return render(
        request,
        session,
        "catalog/price_lists.html",
        status_code=status_code,
        tabs=tabs(session),
        price_lists=rows,
        currencies=[(code, code) for code in enabled],
        values=values or {**dict.fromkeys(_LIST_FIELDS, ""), "currency": enabled[0] if enabled else ""},
        refusal=failure,
        field_errors=failure.fields if failure else {},
        notice=notice_of(request, _NOTICES, session.language),
        can_create=may(session, Privilege.CREATE),
        next_link=f"{PRICE_LISTS}?cursor={page.next_cursor}" if page.next_cursor else None,
        first_link=PRICE_LISTS if params.get("cursor") else None,
    )


@router.get(PRICE_LISTS, name="catalog_price_lists")
@gate(Privilege.READ)
def price_lists_page(request: Request, session: WebSessionDep) -> Response:
    """The price lists by name, with their currency and validity; a new price list."""
    return _lists_page(request, session)


@router.post(PRICE_LISTS, name="catalog_price_list_create")
@gate(Privilege.CREATE)
def create_price_list(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Add a price list; the list again, with the refusal, when refused."""
    return create_record(
        request,
        session,
        form,
        fields=_LIST_FIELDS,
        schema=PriceListCreate,
        create=service.create_price_list,
        again=lambda values, failure, status_code: _lists_page(
            request, session, values=values, failure=failure, status_code=status_code
        ),
        done=lambda price_list: f"{PRICE_LISTS}/{price_list.id}?notice=created",
    )


# ---------------------------------------------------------------------------------------------- one price list


def _item_choices(uow: UnitOfWork, language: str) -> dict[str, Any]:
    """The pick-lists of the item form: products, units by group, methods, rounding, discount lists."""
    products = uow.session.scalars(select(Product).order_by(Product.name, Product.number).limit(5000)).all()
    discounts = uow.session.scalars(select(DiscountList).order_by(DiscountList.name).limit(1000)).all()
    return {
        "products": [(str(product.id), f"{product.name} ({product.number})") for product in products],
        "units": unit_choices(uow),
        "methods": choices(language, METHOD_LABELS),
        "policies": choices(language, POLICY_LABELS),
        "options": choices(language, OPTION_LABELS),
        "discount_lists": [(str(discount.id), discount.name) for discount in discounts],
    }


def _item_row(uow: UnitOfWork, item: PriceListItem, language: str, currency: str) -> dict[str, Any]:
    product = uow.session.get(Product, item.product_id)
    unit = uow.session.get(Unit, item.unit_id)
    percentage = item.pricing_method.value != "currency_amount"
    rounding = ""
    if item.rounding_policy is not RoundingPolicy.NONE:
        rounding = label(language, POLICY_LABELS, item.rounding_policy)
        if item.rounding_option is not None and item.rounding_amount:
            rounding += f" · {label(language, OPTION_LABELS, item.rounding_option)} {number_input(item.rounding_amount, language)}"
    return {
        "id": item.id,
        "product_id": item.product_id,
        "product": product.name if product else "",
        "number": product.number if product else "",
        "unit": unit.name if unit else "",
        "method": label(language, METHOD_LABELS, item.pricing_method),
        "amount": None if percentage else item.amount,
        "percentage": item.percentage if percentage else None,
        "rounding": rounding,
        "discount_list": item.discount_list.name if item.discount_list else "",
        "price": service.item_price_today(uow.session, item),
        "currency": currency,
    }


def _price_list_page(
    request: Request,
    session: WebSession,
    price_list_id: uuid.UUID,
    *,
    values: dict[str, str] | None = None,
    item_values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    item_failure: Refusal | None = None,
    status_code: int = 200,
    version: int | None = None,
) -> Response:
    """A price list's page: its fields, its items with the price each gives today, and a new item."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        price_list = service.read_price_list(price_list_id, uow=uow, actor=session.actor)
        currency = price_list.currency_code
        items = [
            _item_row(uow, item, language, currency)
            for item in service.list_price_list_items(price_list_id, uow=uow, actor=session.actor)
        ]
        picks = _item_choices(uow, language) if may(session, Privilege.CREATE) else {}
    stored = {
        "name": price_list.name,
        "valid_from": price_list.valid_from.isoformat() if price_list.valid_from else "",
        "valid_to": price_list.valid_to.isoformat() if price_list.valid_to else "",
        "description": price_list.description or "",
    }
    return render(
        request,
        session,
        "catalog/price_list.html",
        status_code=status_code,
        tabs=tabs(session),
        price_list=price_list,
        currency=currency,
        items=items,
        values={**stored, **(values or {})},
        item_values={**dict.fromkeys(_ITEM_FIELDS, ""), "pricing_method": "currency_amount", **(item_values or {})},
        picks=picks,
        refusal=failure,
        field_errors=failure.fields if failure else {},
        item_refusal=item_failure,
        item_errors=item_failure.fields if item_failure else {},
        notice=notice_of(request, _NOTICES, language),
        row_version=version if version is not None and version >= 0 else price_list.row_version,
        can_write=may(session, Privilege.WRITE),
        can_create=may(session, Privilege.CREATE),
        can_delete=may(session, Privilege.DELETE),
    )


def _price_list_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="price_list")


_PRICE_LIST = Deletable(
    path=PRICE_LISTS,
    record="price_list",
    read=service.read_price_list,
    delete=service.delete_price_list,
    page=_price_list_page,
    warning=N_("Delete this price list and its items? Records that name it keep their prices and name no price list."),
)
_PRICE_LIST.add_routes(router)


@router.get(PRICE_LISTS + "/{price_list_id}", name="catalog_price_list")
@gate(Privilege.READ)
def price_list_page(request: Request, price_list_id: str, session: WebSessionDep) -> Response:
    """One price list with its items."""
    return _price_list_page(request, session, _price_list_id(price_list_id))


@router.post(PRICE_LISTS + "/{price_list_id}", name="catalog_price_list_save")
@gate(Privilege.WRITE)
def save_price_list(request: Request, price_list_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Rename the price list or change its validity (its currency stays)."""
    parsed = _price_list_id(price_list_id)
    return save_record(
        request,
        session,
        form,
        fields=("name", "valid_from", "valid_to", "description"),
        schema=PriceListUpdate,
        update=functools.partial(service.update_price_list, parsed),
        page=functools.partial(_price_list_page, request, session, parsed),
        done=f"{PRICE_LISTS}/{parsed}?notice=saved",
    )


@router.post(PRICE_LISTS + "/{price_list_id}/items", name="catalog_price_list_item_add")
@gate(Privilege.CREATE)
def add_item(request: Request, price_list_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Price a product in a unit on the price list; the page again, with the refusal, when refused."""
    parsed = _price_list_id(price_list_id)
    return create_record(
        request,
        session,
        form,
        fields=_ITEM_FIELDS,
        schema=PriceListItemCreate,
        numbers=_ITEM_NUMBERS,
        create=functools.partial(service.add_price_list_item, parsed),
        again=lambda values, failure, status_code: _price_list_page(
            request, session, parsed, item_values=values, item_failure=failure, status_code=status_code
        ),
        done=lambda _item: f"{PRICE_LISTS}/{parsed}?notice=item_added#items",
    )


# ---------------------------------------------------------------------------------------------- one item


def _item_values(item: PriceListItem, language: str) -> dict[str, str]:
    return {
        "pricing_method": item.pricing_method.value,
        "amount": amount_input(item.amount, language),
        "percentage": number_input(item.percentage, language),
        "rounding_policy": item.rounding_policy.value,
        "rounding_option": item.rounding_option.value if item.rounding_option else "",
        "rounding_amount": amount_input(item.rounding_amount, language),
        "discount_list_id": str(item.discount_list_id or ""),
    }


def _item_of(uow: UnitOfWork, session: WebSession, price_list_id: uuid.UUID, item_id: uuid.UUID) -> PriceListItem:
    """The item of this price list (not found when it is another list's)."""
    service.read_price_list(price_list_id, uow=uow, actor=session.actor)
    item = uow.session.get(PriceListItem, item_id)
    if item is None or item.price_list_id != price_list_id:
        raise not_found(label="price_list_item", record_id=item_id)
    return item


def _item_page(
    request: Request,
    session: WebSession,
    price_list_id: uuid.UUID,
    item_id: uuid.UUID,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    version: int | None = None,
) -> Response:
    """An item's page: how it prices its product, the price it gives today, and its removal."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        price_list = service.read_price_list(price_list_id, uow=uow, actor=session.actor)
        item = _item_of(uow, session, price_list_id, item_id)
        row = _item_row(uow, item, language, price_list.currency_code)
        stored = _item_values(item, language)
        picks = _item_choices(uow, language)
        facts = {"price_list_id": price_list.id, "price_list": price_list.name}
    return render(
        request,
        session,
        "catalog/price_list_item.html",
        status_code=status_code,
        tabs=tabs(session),
        item=row,
        facts=facts,
        values={**stored, **(values or {})},
        picks=picks,
        refusal=failure,
        field_errors=failure.fields if failure else {},
        row_version=version if version is not None and version >= 0 else item.row_version,
        can_write=may(session, Privilege.WRITE),
        can_delete=may(session, Privilege.DELETE),
    )


def _item_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="price_list_item")


@router.get(PRICE_LISTS + "/{price_list_id}/items/{item_id}", name="catalog_price_list_item")
@gate(Privilege.READ)
def item_page(request: Request, price_list_id: str, item_id: str, session: WebSessionDep) -> Response:
    """One item of a price list."""
    return _item_page(request, session, _price_list_id(price_list_id), _item_id(item_id))


@router.post(PRICE_LISTS + "/{price_list_id}/items/{item_id}", name="catalog_price_list_item_save")
@gate(Privilege.WRITE)
def save_item(request: Request, price_list_id: str, item_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Change how the item prices its product; refused when it changed since the form was loaded."""
    parsed_list, parsed = _price_list_id(price_list_id), _item_id(item_id)
    return save_record(
        request,
        session,
        form,
        fields=(*_ITEM_CHANGES, "discount_list_id"),
        schema=PriceListItemUpdate,
        numbers=_ITEM_NUMBERS,
        update=functools.partial(service.update_price_list_item, parsed_list, parsed),
        page=functools.partial(_item_page, request, session, parsed_list, parsed),
        done=f"{PRICE_LISTS}/{parsed_list}?notice=item_saved#items",
    )


@router.get(PRICE_LISTS + "/{price_list_id}/items/{item_id}/delete", name="catalog_price_list_item_confirm_delete")
@gate(Privilege.DELETE)
def confirm_item_delete(request: Request, price_list_id: str, item_id: str, session: WebSessionDep) -> Response:
    """The removal's confirmation (the page's dialog does the same with JavaScript)."""
    parsed_list, parsed = _price_list_id(price_list_id), _item_id(item_id)

    def heading(uow: UnitOfWork) -> str:
        price_list = service.read_price_list(parsed_list, uow=uow, actor=session.actor)
        row = _item_row(uow, _item_of(uow, session, parsed_list, parsed), session.language, price_list.currency_code)
        return f"{row['product']} · {row['unit']}"

    return confirm_record_delete(
        request,
        session,
        heading=heading,
        warning=gettext(
            session.language, "Remove this item from the price list? Lines priced before keep their prices."
        ),
        path=f"{PRICE_LISTS}/{parsed_list}/items/{parsed}",
    )


@router.post(PRICE_LISTS + "/{price_list_id}/items/{item_id}/delete", name="catalog_price_list_item_delete")
@gate(Privilege.DELETE)
def delete_item(request: Request, price_list_id: str, item_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Remove the item from the price list."""
    parsed_list, parsed = _price_list_id(price_list_id), _item_id(item_id)
    return commit_on_page(
        request,
        session,
        form,
        run=functools.partial(service.delete_price_list_item, parsed_list, parsed),
        page=functools.partial(_item_page, request, session, parsed_list, parsed),
        done=f"{PRICE_LISTS}/{parsed_list}?notice=item_removed#items",
    )
