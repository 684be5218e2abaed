"""Input and output shapes of the product catalogue."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from leadflow.catalog.models import DiscountKind, PricingMethod, ProductState, RoundingOption, RoundingPolicy
from leadflow.core.schemas import Amount, InputModel, NotCleared, OutputModel, RecordOut

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
UnitName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ProductNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
CurrencyCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=3)]
# A quantity of units: positive, with at most five decimals.
UnitQuantity = Annotated[Decimal, Field(gt=0, le=Decimal("1000000000"), max_digits=15, decimal_places=5)]
TierQuantity = Annotated[Decimal, Field(ge=0, le=Decimal("1000000000"), max_digits=15, decimal_places=5)]
Percentage = Annotated[Decimal, Field(ge=0, le=Decimal(100000), max_digits=12, decimal_places=4)]


class UnitGroupCreate(InputModel):
    name: Name
    base_unit: UnitName
    description: Description | None = None


class UnitGroupUpdate(InputModel):
    name: Annotated[Name | None, NotCleared] = None
    description: Description | None = None


class UnitCreate(InputModel):
    name: UnitName
    quantity: UnitQuantity
    # The unit it is a quantity of; the group's base unit when left out.
    base_unit_id: uuid.UUID | None = None


class UnitUpdate(InputModel):
    name: Annotated[UnitName | None, NotCleared] = None
    quantity: Annotated[UnitQuantity | None, NotCleared] = None


class UnitOut(RecordOut):
    group_id: uuid.UUID
    name: str
    quantity: Decimal
    base_unit_id: uuid.UUID | None


class UnitGroupOut(RecordOut):
    name: str
    description: str | None
    units: list[UnitOut]


class FamilyCreate(InputModel):
    name: Name
    description: Description | None = None


class FamilyUpdate(InputModel):
    name: Annotated[Name | None, NotCleared] = None
    description: Description | None = None


class FamilyOut(RecordOut):
    name: str
    description: str | None


class ProductFields(InputModel):
    description: Description | None = None
    family_id: uuid.UUID | None = None
    list_price: Amount | None = None
    standard_cost: Amount | None = None
    current_cost: Amount | None = None


class ProductCreate(ProductFields):
    number: ProductNumber
    name: Name
    unit_group_id: uuid.UUID
    default_unit_id: uuid.UUID
    decimals_supported: Annotated[int, Field(ge=0, le=5)] = 0


class ProductUpdate(ProductFields):
    number: Annotated[ProductNumber | None, NotCleared] = None
    name: Annotated[Name | None, NotCleared] = None
    unit_group_id: Annotated[uuid.UUID | None, NotCleared] = None
    default_unit_id: Annotated[uuid.UUID | None, NotCleared] = None
    decimals_supported: Annotated[int | None, Field(ge=0, le=5), NotCleared] = None


class ProductOut(RecordOut):
    number: str
    name: str
    description: str | None
    family_id: uuid.UUID | None
    unit_group_id: uuid.UUID
    default_unit_id: uuid.UUID
    decimals_supported: int
    list_price: Decimal | None
    standard_cost: Decimal | None
    current_cost: Decimal | None
    state: ProductState


class PriceListCreate(InputModel):
    name: Name
    currency: CurrencyCode
    valid_from: date | None = None
    valid_to: date | None = None
    description: Description | None = None


class PriceListUpdate(InputModel):
    name: Annotated[Name | None, NotCleared] = None
    valid_from: date | None = None
    valid_to: date | None = None
    description: Description | None = None


class PriceListOut(RecordOut):
    name: str
    description: str | None
    currency_id: uuid.UUID
    currency: str = Field(validation_alias="currency_code")
    valid_from: date | None
    valid_to: date | None


class PriceListItemFields(InputModel):
    amount: Amount | None = None
    percentage: Percentage | None = None
    rounding_option: RoundingOption | None = None
    rounding_amount: Amount | None = None
    discount_list_id: uuid.UUID | None = None


class PriceListItemCreate(PriceListItemFields):
    product_id: uuid.UUID
    unit_id: uuid.UUID
    pricing_method: PricingMethod = PricingMethod.CURRENCY_AMOUNT
    rounding_policy: RoundingPolicy = RoundingPolicy.NONE


class PriceListItemUpdate(PriceListItemFields):
    pricing_method: Annotated[PricingMethod | None, NotCleared] = None
    rounding_policy: Annotated[RoundingPolicy | None, NotCleared] = None


class PriceListItemOut(RecordOut):
    price_list_id: uuid.UUID
    product_id: uuid.UUID
    unit_id: uuid.UUID
    pricing_method: PricingMethod
    amount: Decimal | None
    percentage: Decimal | None
    rounding_policy: RoundingPolicy
    rounding_option: RoundingOption | None
    rounding_amount: Decimal | None
    discount_list_id: uuid.UUID | None
    # The price per unit the item gives today (in the list's currency), or null when it cannot price.
    price_per_unit: Decimal | None = None


class TierIn(InputModel):
    begin_quantity: TierQuantity
    end_quantity: TierQuantity
    value: Amount

    @model_validator(mode="after")
    def _ordered(self) -> TierIn:
        if self.end_quantity < self.begin_quantity:
            raise ValueError("end_quantity must not be below begin_quantity")
        return self


class DiscountListCreate(InputModel):
    name: Name
    kind: DiscountKind = DiscountKind.PERCENTAGE
    currency: CurrencyCode | None = None
    description: Description | None = None
    tiers: Annotated[list[TierIn], Field(max_length=100)] = []


class DiscountListUpdate(InputModel):
    name: Annotated[Name | None, NotCleared] = None
    description: Description | None = None
    # The whole set of tiers, replacing the old one.
    tiers: Annotated[list[TierIn] | None, Field(max_length=100), NotCleared] = None


class TierOut(OutputModel):
    begin_quantity: Decimal
    end_quantity: Decimal
    value: Decimal


class DiscountListOut(RecordOut):
    name: str
    description: str | None
    kind: DiscountKind
    currency_id: uuid.UUID | None
    tiers: list[TierOut]


LineQuantity = Annotated[Decimal, Field(gt=0, le=Decimal("1000000000"), max_digits=15, decimal_places=5)]
WriteInName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class LineCreate(InputModel):
    """A line: an existing product (``product_id``, optionally ``unit_id``), or a write-in product
    (``write_in_name`` and ``price_per_unit``). A price per unit given for an existing product
    overrides the price list's, which needs the Override prices privilege."""

    product_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    write_in_name: WriteInName | None = None
    quantity: LineQuantity
    price_per_unit: Amount | None = None
    manual_discount: Amount = Decimal(0)
    tax: Amount = Decimal(0)
    description: Description | None = None


class LineUpdate(InputModel):
    unit_id: Annotated[uuid.UUID | None, NotCleared] = None
    quantity: Annotated[LineQuantity | None, NotCleared] = None
    # null goes back to the price list's price (for an existing product).
    price_per_unit: Amount | None = None
    manual_discount: Annotated[Amount | None, NotCleared] = None
    tax: Annotated[Amount | None, NotCleared] = None
    description: Description | None = None
    write_in_name: Annotated[WriteInName | None, NotCleared] = None


class LineOut(RecordOut):
    line_number: int
    product_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    product_name: str
    unit_name: str | None
    is_write_in: bool
    is_price_overridden: bool
    description: str | None
    quantity: Decimal
    price_per_unit: Decimal
    amount: Decimal
    volume_discount: Decimal
    manual_discount: Decimal
    tax: Decimal
    extended_amount: Decimal


# A percentage of a whole (0-100), kept with four decimals like every stored figure.
Percent = Annotated[
    Decimal,
    Field(ge=0, le=100, max_digits=7, decimal_places=4),
    AfterValidator(lambda value: value.quantize(Decimal("0.0001"))),
]


class PricingFields(InputModel):
    """The pricing inputs of an opportunity or a document (its totals are computed)."""

    price_list_id: uuid.UUID | None = None
    discount_percentage: Annotated[Percent | None, NotCleared] = None
    discount_amount: Annotated[Amount | None, NotCleared] = None
    freight_amount: Annotated[Amount | None, NotCleared] = None


class TotalsOut(OutputModel):
    price_list_id: uuid.UUID | None
    detail_amount: Decimal
    discount_percentage: Decimal
    discount_amount: Decimal
    total_line_discount: Decimal
    total_discount_amount: Decimal
    pre_freight_amount: Decimal
    freight_amount: Decimal
    total_tax: Decimal
    total_amount: Decimal
