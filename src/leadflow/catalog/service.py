"""Product catalogue use cases: units, families, products, price lists and their items, discount
lists; and the price a price list gives a product in a unit. One administrative area ("products")
guards them all: every role reads the catalogue, the roles that may change it change it.

This module is the catalogue's public face: the use cases live by subject in ``units``, ``products``,
``price_lists`` and ``discounts`` beside it (over the steps they share in ``common``) and are all
named here; the price a price list gives is computed here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.catalog.common import TABLE
from leadflow.catalog.discounts import (
    create_discount_list,
    delete_discount_list,
    list_discount_lists,
    read_discount_list,
    update_discount_list,
)
from leadflow.catalog.models import DiscountList, PriceList, PriceListItem, Product
from leadflow.catalog.price_lists import (
    add_price_list_item,
    create_price_list,
    delete_price_list,
    delete_price_list_item,
    list_price_list_items,
    list_price_lists,
    read_price_list,
    update_price_list,
    update_price_list_item,
)
from leadflow.catalog.pricing import ItemPricing, PricingError, Tier, unit_price, volume_discount
from leadflow.catalog.products import (
    change_product_state,
    create_family,
    create_product,
    delete_family,
    delete_product,
    list_families,
    list_products,
    read_family,
    read_product,
    update_family,
    update_product,
)
from leadflow.catalog.units import (
    LINE_MODELS,
    add_unit,
    create_unit_group,
    delete_unit,
    delete_unit_group,
    list_unit_groups,
    list_units,
    read_unit,
    read_unit_group,
    unit_in_use,
    update_unit,
    update_unit_group,
)
from leadflow.core.errors import ValidationFailed, field_refusal
from leadflow.organisation.models import Currency

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


__all__ = [
    "CatalogPrice",
    "LINE_MODELS",
    "TABLE",
    "add_price_list_item",
    "add_unit",
    "catalog_price",
    "change_product_state",
    "create_discount_list",
    "create_family",
    "create_price_list",
    "create_product",
    "create_unit_group",
    "delete_discount_list",
    "delete_family",
    "delete_price_list",
    "delete_price_list_item",
    "delete_product",
    "delete_unit",
    "delete_unit_group",
    "discount_for",
    "field_refusal",
    "item_price_today",
    "list_discount_lists",
    "list_families",
    "list_price_list_items",
    "list_price_lists",
    "list_products",
    "list_unit_groups",
    "list_units",
    "read_discount_list",
    "read_family",
    "read_price_list",
    "read_product",
    "read_unit",
    "read_unit_group",
    "unit_in_use",
    "update_discount_list",
    "update_family",
    "update_price_list",
    "update_price_list_item",
    "update_product",
    "update_unit",
    "update_unit_group",
]
