"""Prices, discounts and totals: pure arithmetic on Decimal, the same for opportunities, quotes,
orders and invoices.

The rules (Dynamics 365 Sales' system pricing, with leadflow's decisions where Dynamics is unclear):

* Price per unit by the price list item's method: currency amount → the amount; percent of list →
  list price × % ÷ 100; markup over a cost → cost × (100 + %) ÷ 100; margin over a cost →
  cost + cost × % ÷ (100 − %). Then the item's rounding policy (up, down, to nearest; to a multiple
  of the rounding amount, or so that the price ends in it); then the currency's precision.
* Every amount is rounded to the currency's precision, half away from zero (``ROUND_HALF_UP``), as
  soon as it is computed: price per unit, amount, volume discount, extended amount, each total.
* Line: amount = price per unit × quantity; volume discount = the discount list's tier for the
  quantity (a percentage of the amount, or an amount per unit × quantity); extended amount =
  amount − volume discount − manual discount + tax. Tax is typed per line (leadflow keeps no tax
  tables) and is counted once.
* Document: detail amount = Σ (extended amount − tax), the lines before tax; total discount =
  detail amount × discount % ÷ 100 + discount amount; pre-freight amount = detail − total discount;
  total tax = Σ line tax; total amount = pre-freight amount + freight + total tax. The document's
  discount therefore never reduces the tax the lines carry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from leadflow.catalog.models import DiscountKind, PricingMethod, RoundingOption, RoundingPolicy

HUNDRED = Decimal(100)
ZERO = Decimal("0.0000")


STORED = Decimal("0.0001")  # every amount is kept with four decimals (``core.db.Money``)


def to_precision(amount: Decimal, precision: int) -> Decimal:
    """An amount to the currency's number of decimals, half away from zero, written with the four
    decimals it is stored with (so that what a change answers is what a later read gives)."""
    return amount.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP).quantize(STORED)


@dataclass(frozen=True)
class ItemPricing:
    """What a price list item says about a price, with the product's figures in the list's currency."""

    method: PricingMethod
    amount: Decimal | None = None
    percentage: Decimal | None = None
    list_price: Decimal | None = None
    current_cost: Decimal | None = None
    standard_cost: Decimal | None = None
    rounding_policy: RoundingPolicy = RoundingPolicy.NONE
    rounding_option: RoundingOption | None = None
    rounding_amount: Decimal | None = None


class PricingError(ValueError):
    """The item cannot price: a figure it prices by is missing (``code`` says which)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


_BASIS = {
    PricingMethod.PERCENT_OF_LIST: "list_price",
    PricingMethod.MARKUP_CURRENT_COST: "current_cost",
    PricingMethod.MARKUP_STANDARD_COST: "standard_cost",
    PricingMethod.MARGIN_CURRENT_COST: "current_cost",
    PricingMethod.MARGIN_STANDARD_COST: "standard_cost",
}


def unit_price(item: ItemPricing, *, precision: int) -> Decimal:
    """The price per unit a price list item gives, rounded by its policy and to the precision."""
    if item.method is PricingMethod.CURRENCY_AMOUNT:
        if item.amount is None:
            raise PricingError("price_list_item_amount_missing")
        return to_precision(_rounded(item.amount, item, precision), precision)
    basis_name = _BASIS[item.method]
    basis = getattr(item, basis_name)
    if basis is None:
        raise PricingError(f"product_{basis_name}_missing")
    percentage = item.percentage if item.percentage is not None else ZERO
    if item.method is PricingMethod.PERCENT_OF_LIST:
        price = basis * percentage / HUNDRED
    elif item.method in (PricingMethod.MARKUP_CURRENT_COST, PricingMethod.MARKUP_STANDARD_COST):
        price = basis * (HUNDRED + percentage) / HUNDRED
    else:
        if percentage >= HUNDRED:
            raise PricingError("margin_percentage_too_high")
        price = basis + basis * percentage / (HUNDRED - percentage)
    return to_precision(_rounded(price, item, precision), precision)


def _rounded(price: Decimal, item: ItemPricing, precision: int) -> Decimal:
    policy, step = item.rounding_policy, item.rounding_amount
    if policy is RoundingPolicy.NONE:
        return price
    mode = {RoundingPolicy.UP: ROUND_CEILING, RoundingPolicy.DOWN: ROUND_FLOOR}.get(policy, ROUND_HALF_UP)
    if not step:
        return price.quantize(Decimal(1), rounding=mode)
    if item.rounding_option is RoundingOption.ENDS_IN:
        # 12.30 ending in 0.99: up → 12.99, down → 11.99, nearest → 12.99 (the closer of the two).
        ending = step % 1
        whole = (price - ending).quantize(Decimal(1), rounding=mode)
        return max(whole + ending, ZERO)
    return (price / step).quantize(Decimal(1), rounding=mode) * step


@dataclass(frozen=True)
class Tier:
    begin_quantity: Decimal
    end_quantity: Decimal
    value: Decimal


def volume_discount(
    *, kind: DiscountKind, tiers: Iterable[Tier], quantity: Decimal, amount: Decimal, precision: int
) -> Decimal:
    """The discount of the tier the quantity falls in (ends included): a percentage of the line's
    amount, or an amount per unit; zero when no tier covers the quantity."""
    for tier in tiers:
        if tier.begin_quantity <= quantity <= tier.end_quantity:
            if kind is DiscountKind.PERCENTAGE:
                return to_precision(amount * tier.value / HUNDRED, precision)
            return min(to_precision(tier.value * quantity, precision), amount)
    return ZERO


@dataclass(frozen=True)
class LineAmounts:
    amount: Decimal
    volume_discount: Decimal
    extended_amount: Decimal


def line_amounts(
    *,
    price_per_unit: Decimal,
    quantity: Decimal,
    volume_discount: Decimal,
    manual_discount: Decimal,
    tax: Decimal,
    precision: int,
) -> LineAmounts:
    """A line's amount and extended amount (amount − volume discount − manual discount + tax)."""
    amount = to_precision(price_per_unit * quantity, precision)
    extended = to_precision(amount - volume_discount - manual_discount + tax, precision)
    return LineAmounts(amount=amount, volume_discount=volume_discount, extended_amount=extended)


@dataclass(frozen=True)
class Totals:
    detail_amount: Decimal
    total_line_discount: Decimal
    total_discount_amount: Decimal
    pre_freight_amount: Decimal
    total_tax: Decimal
    total_amount: Decimal


@dataclass(frozen=True)
class LineFigures:
    """What the totals need of each line."""

    extended_amount: Decimal
    manual_discount: Decimal
    volume_discount: Decimal
    tax: Decimal


def document_totals(
    lines: Sequence[LineFigures],
    *,
    discount_percentage: Decimal,
    discount_amount: Decimal,
    freight_amount: Decimal,
    precision: int,
) -> Totals:
    """The totals of a document (or an opportunity) from its lines and its own discount and freight."""
    detail = sum((line.extended_amount - line.tax for line in lines), ZERO)
    tax = sum((line.tax for line in lines), ZERO)
    line_discounts = sum((line.manual_discount + line.volume_discount for line in lines), ZERO)
    discount = to_precision(detail * discount_percentage / HUNDRED + discount_amount, precision)
    pre_freight = to_precision(detail - discount, precision)
    return Totals(
        detail_amount=to_precision(detail, precision),
        total_line_discount=to_precision(line_discounts, precision),
        total_discount_amount=discount,
        pre_freight_amount=pre_freight,
        total_tax=to_precision(tax, precision),
        total_amount=to_precision(pre_freight + freight_amount + tax, precision),
    )
