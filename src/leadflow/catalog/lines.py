"""Product lines and totals, the same for opportunities, quotes, orders and invoices: a line is
priced from its parent's price list (or typed, for a write-in product or with the Override prices
privilege), and the parent's totals follow every change of a line or of its own discount and freight.
The arithmetic is ``leadflow.catalog.pricing``'s."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.catalog.models import DiscountList, LineMixin, PricedMixin, PriceList, Product, Unit
from leadflow.catalog.pricing import LineFigures, document_totals, line_amounts, to_precision
from leadflow.catalog.service import catalog_price, discount_for, field_refusal
from leadflow.core.errors import Forbidden, LeadflowError, ValidationFailed
from leadflow.core.schemas import MAX_MONEY
from leadflow.organisation.models import Currency
from leadflow.security.access import has_admin
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege

OVERRIDE_TABLE = "price_overrides"


def price_list_for(
    session: Session, price_list_id: uuid.UUID | None, *, currency_id: uuid.UUID | None
) -> PriceList | None:
    """The price list a record names, which must be in the record's currency."""
    if price_list_id is None:
        return None
    price_list = session.get(PriceList, price_list_id)
    if price_list is None:
        raise field_refusal("price_list_id", "price_list_not_found", "price_list_id: no price list has this id.")
    if currency_id is not None and price_list.currency_id != currency_id:
        raise field_refusal(
            "price_list_id",
            "price_list_currency",
            f"price_list_id: the price list {price_list.name} is in {price_list.currency_code}, not in the record's currency; "
            "choose a price list in the record's currency.",
        )
    return price_list


def _check_quantity(quantity: Decimal, decimals: int) -> None:
    if quantity != quantity.quantize(Decimal(1).scaleb(-decimals)):
        raise field_refusal(
            "quantity",
            "quantity_decimals",
            f"quantity: this product is sold in quantities with at most {decimals} decimals.",
        )


def price_line(
    session: Session,
    actor: Actor,
    line: LineMixin,
    values: dict[str, Any],
    *,
    price_list: PriceList | None,
    currency: Currency,
    today: date,
    prices_locked: bool = False,
) -> None:
    """Apply ``values`` (a new line's, or the changes to one) to ``line`` and price it.

    Refusals (422): a write-in without a name or a price, a product that is not active, a unit
    outside the product's group, more decimals than the product supports, no price list or no price
    on it, a manual discount over the line's amount; an override without the privilege is a 403.
    On a record whose prices are locked, an existing line keeps its price per unit (only its volume
    discount follows a new quantity, as Dynamics does); a new unit prices it again.
    """
    new = line.product_name is None
    for name in ("unit_id", "quantity", "manual_discount", "tax", "description"):
        if name in values:
            setattr(line, name, values[name])
    precision = currency.precision
    if new:
        product_id, write_in = values.get("product_id"), values.get("write_in_name")
        if (product_id is None) == (write_in is None):
            raise field_refusal(
                "product_id",
                "product_or_write_in",
                "product_id: name an existing product or a write-in product, not both.",
            )
        line.product_id = product_id
        line.is_write_in = write_in is not None
        if write_in is not None:
            line.product_name = write_in
    elif "write_in_name" in values:
        if not line.is_write_in:
            raise field_refusal(
                "write_in_name", "not_write_in", "write_in_name: only a write-in line has a typed name."
            )
        line.product_name = values["write_in_name"]
    discount_list = None
    if line.is_write_in:
        if values.get("unit_id"):
            raise field_refusal("unit_id", "write_in_has_no_unit", "unit_id: a write-in product has no unit.")
        price = values.get("price_per_unit", None if new else line.price_per_unit)
        if price is None:
            raise field_refusal(
                "price_per_unit", "price_required", "price_per_unit: a write-in product needs its price per unit."
            )
        line.price_per_unit, line.is_price_overridden = to_precision(price, precision), True
        _check_quantity(line.quantity, 5)
    else:
        product = session.get(Product, line.product_id)
        if product is None:
            raise field_refusal("product_id", "product_not_found", "product_id: no product has this id.")
        if new or "unit_id" in values:
            product.ensure_sellable()
        unit_id = line.unit_id or product.default_unit_id
        unit = session.get(Unit, unit_id)
        if unit is None or unit.group_id != product.unit_group_id:
            raise field_refusal(
                "unit_id", "unit_not_in_group", "unit_id: the unit is not one of the product's unit group."
            )
        line.unit_id, line.unit_name = unit.id, unit.name
        line.product_name = f"{product.name} ({product.number})"
        _check_quantity(line.quantity, product.decimals_supported)
        override = values.get("price_per_unit", line.price_per_unit if line.is_price_overridden and not new else None)
        if override is not None:
            if "price_per_unit" in values and not has_admin(actor, OVERRIDE_TABLE, Privilege.WRITE):
                raise Forbidden(
                    "You may not override catalogue prices; leave the price per unit out to take the price list's.",
                    code="price_override_forbidden",
                )
            line.price_per_unit, line.is_price_overridden = to_precision(override, precision), True
        elif prices_locked and not new and "unit_id" not in values:
            discount_list = _locked_discount_list(session, price_list, product, unit.id)
        else:
            if price_list is None:
                raise field_refusal(
                    "price_list_id",
                    "price_list_required",
                    "price_list_id: choose a price list on the record before adding catalogue products.",
                )
            if not price_list.valid_on(today):
                raise field_refusal(
                    "price_list_id",
                    "price_list_not_valid",
                    f"price_list_id: the price list {price_list.name} is not valid today; choose a current one.",
                )
            priced = catalog_price(session, price_list=price_list, product=product, unit_id=unit.id)
            line.price_per_unit, line.is_price_overridden = priced.price_per_unit, False
            discount_list = priced.discount_list
    amount = to_precision(line.price_per_unit * line.quantity, precision)
    # Amounts are kept up to MAX_MONEY, like every amount typed; beyond, storage would overflow.
    if line.price_per_unit > MAX_MONEY:
        raise field_refusal(
            "product_id",
            "price_too_large",
            f"product_id: the price per unit would be over {MAX_MONEY:,}, the most an amount can be; "
            "check the price list item.",
        )
    if amount > MAX_MONEY:
        raise field_refusal(
            "quantity",
            "amount_too_large",
            f"quantity: the line would amount to over {MAX_MONEY:,}, the most an amount can be; "
            "split it into several lines.",
        )
    volume = discount_for(discount_list, quantity=line.quantity, amount=amount, precision=precision)
    manual = line.manual_discount or Decimal(0)
    if manual > amount - volume:
        raise field_refusal(
            "manual_discount",
            "discount_over_amount",
            "manual_discount: the discount is more than the line's amount after its volume discount.",
        )
    figures = line_amounts(
        price_per_unit=line.price_per_unit,
        quantity=line.quantity,
        volume_discount=volume,
        manual_discount=manual,
        tax=line.tax or Decimal(0),
        precision=precision,
    )
    line.amount, line.volume_discount, line.extended_amount = (
        figures.amount,
        figures.volume_discount,
        figures.extended_amount,
    )
    line.manual_discount, line.tax = manual, line.tax or Decimal(0)


def _locked_discount_list(
    session: Session, price_list: PriceList | None, product: Product, unit_id: uuid.UUID
) -> DiscountList | None:
    """The discount list behind a locked line's volume discount, if its price list still prices it."""
    if price_list is None:
        return None
    try:
        return catalog_price(session, price_list=price_list, product=product, unit_id=unit_id).discount_list
    except LeadflowError:
        return None


def line_sums(session: Session, model: Any, parent_column: Any, parent_id: uuid.UUID) -> LineFigures:
    """The sums of a record's lines, added up by the database (money is stored as whole numbers of
    ten-thousandths, so the sums are exact): the totals are linear in the lines, and reading four
    sums costs a fraction of loading hundreds of lines."""
    session.flush()
    columns = (model.extended_amount, model.manual_discount, model.volume_discount, model.tax)
    sums = session.execute(
        select(*(func.coalesce(func.sum(column), 0) for column in columns)).where(parent_column == parent_id)
    ).one()
    return LineFigures(*(Decimal(value) for value in sums))


def recalculate(parent: PricedMixin, lines: Sequence[LineMixin | LineFigures], *, precision: int) -> None:
    """Set the parent's totals from its lines (or their sums); a discount on the whole larger than the
    lines is refused."""
    totals = document_totals(
        [
            line
            if isinstance(line, LineFigures)
            else LineFigures(line.extended_amount, line.manual_discount, line.volume_discount, line.tax)
            for line in lines
        ],
        discount_percentage=parent.discount_percentage or Decimal(0),
        discount_amount=parent.discount_amount or Decimal(0),
        freight_amount=parent.freight_amount or Decimal(0),
        precision=precision,
    )
    if totals.pre_freight_amount < 0:
        raise ValidationFailed(
            "The discount on the whole is more than the products' amount; lower it.",
            code="discount_over_amount",
            details={"fields": [{"field": "discount_amount", "code": "discount_over_amount"}]},
        )
    if max(totals.detail_amount, totals.total_amount) > MAX_MONEY:
        raise ValidationFailed(
            f"The total would be over {MAX_MONEY:,}, the most an amount can be; "
            "split the products over several records.",
            code="amount_too_large",
        )
    parent.detail_amount = totals.detail_amount
    parent.total_line_discount = totals.total_line_discount
    parent.total_discount_amount = totals.total_discount_amount
    parent.pre_freight_amount = totals.pre_freight_amount
    parent.total_tax = totals.total_tax
    parent.total_amount = totals.total_amount
