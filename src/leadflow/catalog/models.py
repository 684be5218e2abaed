"""The product catalogue: units and unit groups, product families, products, price lists with their
items, and discount lists with quantity tiers (Dynamics 365 Sales' product catalogue)."""

from __future__ import annotations

import enum
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadflow.core.db import Base, Money, RecordMixin, ScaledDecimal, enum_column
from leadflow.core.errors import InvalidState
from leadflow.organisation.models import Currency

# Quantities keep five decimals: a product's "decimals supported" reaches 0 to 5.
QUANTITY_SCALE = 5


def Quantity() -> ScaledDecimal:
    """A quantity of a unit, with five decimals."""
    return ScaledDecimal(QUANTITY_SCALE)


# Product life: new products are drafts; publishing makes them sellable; retired ones are not.
ProductState = enum.StrEnum("ProductState", "DRAFT ACTIVE RETIRED")


# How a price list item prices its product (Dynamics' pricing methods).
PricingMethod = enum.StrEnum(
    "PricingMethod",
    "CURRENCY_AMOUNT PERCENT_OF_LIST MARKUP_CURRENT_COST MARKUP_STANDARD_COST MARGIN_CURRENT_COST MARGIN_STANDARD_COST",
)
RoundingPolicy = enum.StrEnum("RoundingPolicy", "NONE UP DOWN NEAREST")
# With a rounding policy other than none: the price ends in the rounding amount, or is a multiple of it.
RoundingOption = enum.StrEnum("RoundingOption", "ENDS_IN MULTIPLE_OF")
DiscountKind = enum.StrEnum("DiscountKind", "PERCENTAGE AMOUNT")


class UnitGroup(RecordMixin, Base):
    """A family of units measured in one base unit (Licencias: Licencia, Pack 10 = 10 licencias)."""

    __tablename__ = "unit_groups"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    units: Mapped[list[Unit]] = relationship(
        back_populates="group", order_by="(Unit.base_unit_id.is_not(None), Unit.quantity, Unit.name)"
    )

    @property
    def base_unit(self) -> Unit:
        return next(unit for unit in self.units if unit.base_unit_id is None)


class Unit(RecordMixin, Base):
    """A unit of a group: the base unit, or a quantity of another unit of the same group."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("group_id", "name"),)

    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("unit_groups.id", ondelete="CASCADE"), index=True)
    group: Mapped[UnitGroup] = relationship(back_populates="units")
    name: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[Decimal] = mapped_column(Quantity(), default=Decimal(1))
    # None for the group's base unit.
    base_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"), index=True)


class ProductFamily(RecordMixin, Base):
    """A named group of products, for finding and reporting on them."""

    __tablename__ = "product_families"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)


class Product(RecordMixin, Base):
    """Something the organisation sells, in the units of one unit group.

    List price and costs are in the organisation's base currency; a price list in another currency
    converts them at that currency's exchange rate when it prices by them.
    """

    __tablename__ = "products"

    number: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    family_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("product_families.id", ondelete="SET NULL"), index=True
    )
    unit_group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("unit_groups.id"), index=True)
    unit_group: Mapped[UnitGroup] = relationship()
    default_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"))
    default_unit: Mapped[Unit] = relationship(foreign_keys=[default_unit_id])
    decimals_supported: Mapped[int] = mapped_column(default=0)
    list_price: Mapped[Decimal | None] = mapped_column(Money())
    standard_cost: Mapped[Decimal | None] = mapped_column(Money())
    current_cost: Mapped[Decimal | None] = mapped_column(Money())
    state: Mapped[ProductState] = mapped_column(enum_column(ProductState), default=ProductState.DRAFT)

    def publish(self) -> None:
        """A draft or retired product becomes active: it can be sold."""
        if self.state is ProductState.ACTIVE:
            raise InvalidState("The product is already active.", code="product_active")
        self.state = ProductState.ACTIVE

    def retire(self) -> None:
        """An active or draft product is retired: it can no longer be sold; existing lines keep it."""
        if self.state is ProductState.RETIRED:
            raise InvalidState("The product is already retired.", code="product_retired")
        self.state = ProductState.RETIRED

    def ensure_sellable(self) -> None:
        """Only active products go on opportunities, quotes, orders and invoices."""
        if self.state is not ProductState.ACTIVE:
            raise InvalidState(
                f"The product {self.number} is {self.state.value}; only active products can be sold.",
                code="product_not_active",
                details={"fields": [{"field": "product_id", "code": "product_not_active"}]},
            )


class DiscountList(RecordMixin, Base):
    """Volume discounts by quantity tiers, as a percentage or as an amount per unit."""

    __tablename__ = "discount_lists"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[DiscountKind] = mapped_column(enum_column(DiscountKind), default=DiscountKind.PERCENTAGE)
    # The currency of an amount discount; a percentage applies in any currency.
    currency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("currencies.id"))
    currency: Mapped[Currency | None] = relationship()
    tiers: Mapped[list[DiscountTier]] = relationship(
        order_by="DiscountTier.begin_quantity", cascade="all, delete-orphan", passive_deletes=True
    )


class DiscountTier(RecordMixin, Base):
    """From ``begin_quantity`` up to ``end_quantity`` (both included), this discount applies."""

    __tablename__ = "discount_tiers"

    discount_list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("discount_lists.id", ondelete="CASCADE"), index=True)
    begin_quantity: Mapped[Decimal] = mapped_column(Quantity())
    end_quantity: Mapped[Decimal] = mapped_column(Quantity())
    # A percentage (0-100) or an amount per unit, by the list's kind.
    value: Mapped[Decimal] = mapped_column(Money())


class PriceList(RecordMixin, Base):
    """Prices in one currency, valid between two optional dates."""

    __tablename__ = "price_lists"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    currency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("currencies.id"))
    currency: Mapped[Currency] = relationship()
    valid_from: Mapped[date | None] = mapped_column()
    valid_to: Mapped[date | None] = mapped_column()

    @property
    def currency_code(self) -> str:
        return self.currency.iso_code

    def valid_on(self, day: date) -> bool:
        """Whether the list's validity covers ``day`` (an open end covers every day on that side)."""
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


class PriceListItem(RecordMixin, Base):
    """How one price list prices one product in one unit."""

    __tablename__ = "price_list_items"
    __table_args__ = (
        UniqueConstraint("price_list_id", "product_id", "unit_id"),
        Index("ix_price_list_items_product_id", "product_id"),
    )

    price_list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("price_lists.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"))
    pricing_method: Mapped[PricingMethod] = mapped_column(
        enum_column(PricingMethod), default=PricingMethod.CURRENCY_AMOUNT
    )
    amount: Mapped[Decimal | None] = mapped_column(Money())
    percentage: Mapped[Decimal | None] = mapped_column(Money())
    rounding_policy: Mapped[RoundingPolicy] = mapped_column(enum_column(RoundingPolicy), default=RoundingPolicy.NONE)
    rounding_option: Mapped[RoundingOption | None] = mapped_column(enum_column(RoundingOption))
    rounding_amount: Mapped[Decimal | None] = mapped_column(Money())
    discount_list_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("discount_lists.id", ondelete="SET NULL"), index=True
    )
    discount_list: Mapped[DiscountList | None] = relationship()


class PricedMixin:
    """The pricing and totals of a record with product lines: an opportunity, a quote, an order, an
    invoice (Dynamics' totallineitemamount, discountpercentage, discountamount, totaldiscountamount,
    totalamountlessfreight, freightamount, totaltax, totalamount). The totals are computed by
    ``leadflow.catalog.pricing.document_totals`` whenever a line or one of the inputs changes."""

    price_list_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("price_lists.id", ondelete="SET NULL"))
    discount_percentage: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.0000"))
    discount_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.0000"))
    freight_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.0000"))
    detail_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.0000"))
    total_line_discount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.0000"))
    total_discount_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.0000"))
    pre_freight_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.0000"))
    total_tax: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.0000"))
    total_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.0000"))


PRICED_COLUMNS = (
    "discount_percentage",
    "discount_amount",
    "freight_amount",
    "detail_amount",
    "total_line_discount",
    "total_discount_amount",
    "pre_freight_amount",
    "total_tax",
    "total_amount",
)


class LineMixin:
    """A line of products: an existing product in one of its units, or a write-in product."""

    line_number: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("products.id"), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    # The product's name (or the write-in name) and the unit's, as they were when the line was priced.
    product_name: Mapped[str] = mapped_column(String(500))
    unit_name: Mapped[str | None] = mapped_column(String(100))
    is_write_in: Mapped[bool] = mapped_column(default=False)
    is_price_overridden: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Quantity())
    price_per_unit: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    volume_discount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.0000"))
    manual_discount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.0000"))
    tax: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.0000"))
    extended_amount: Mapped[Decimal] = mapped_column(Money())
