"""Input and output shapes of quotes, orders and invoices."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from leadflow.catalog.schemas import LineOut, PricingFields, TotalsOut
from leadflow.core.schemas import InputModel, NotCleared, OutputModel, RecordOut
from leadflow.opportunities.models import CustomerKind
from leadflow.opportunities.schemas import OpportunityOut
from leadflow.sales.models import (
    InvoiceState,
    InvoiceStatusReason,
    OrderState,
    OrderStatusReason,
    PaymentTerms,
    QuoteState,
    QuoteStatusReason,
)

DocumentName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
CurrencyCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=3)]


class DocumentFields(PricingFields):
    description: Description | None = None
    payment_terms: PaymentTerms | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    owner_user_id: Annotated[uuid.UUID | None, NotCleared] = None


class QuoteFields(DocumentFields):
    effective_from: date | None = None
    effective_to: date | None = None
    due_date: date | None = None


class QuoteCreate(QuoteFields):
    """A quote on its own (one from an opportunity is made by ``POST /opportunities/{id}/quotes``)."""

    name: DocumentName
    customer_id: uuid.UUID
    currency: CurrencyCode | None = None


class QuoteUpdate(QuoteFields):
    name: Annotated[DocumentName | None, NotCleared] = None


class OrderUpdate(DocumentFields):
    name: Annotated[DocumentName | None, NotCleared] = None
    requested_delivery: date | None = None
    # An active order is New or Pending (Dynamics' status reasons of the Active state).
    status_reason: Annotated[Literal["new", "pending"] | None, NotCleared] = None


class InvoiceUpdate(DocumentFields):
    name: Annotated[DocumentName | None, NotCleared] = None
    due_date: date | None = None


class DocumentOut(RecordOut, TotalsOut):
    number: str
    name: str
    description: str | None
    opportunity_id: uuid.UUID | None
    customer_kind: CustomerKind | None
    customer_id: uuid.UUID | None
    currency_id: uuid.UUID
    currency: str = Field(validation_alias="currency_code")
    exchange_rate: Decimal
    total_amount_base: Decimal
    payment_terms: PaymentTerms | None
    billing_address: str | None
    shipping_address: str | None
    prices_locked: bool
    closed_at: datetime | None
    owner_user_id: uuid.UUID | None
    lines: list[LineOut]


class QuoteOut(DocumentOut):
    revision: int
    state: QuoteState
    status_reason: QuoteStatusReason
    effective_from: date | None
    effective_to: date | None
    due_date: date | None
    date_won: date | None
    closed_on: date | None


class OrderOut(DocumentOut):
    quote_id: uuid.UUID | None
    state: OrderState
    status_reason: OrderStatusReason
    date_fulfilled: date | None
    requested_delivery: date | None


class InvoiceOut(DocumentOut):
    order_id: uuid.UUID | None
    state: InvoiceState
    status_reason: InvoiceStatusReason
    due_date: date | None
    date_paid: date | None


class WinQuote(InputModel):
    """Win an active quote: optionally close its opportunity as won and create the order."""

    date_won: date | None = None
    create_order: bool = True
    close_opportunity: bool = True
    description: Description | None = None


class CloseQuote(InputModel):
    status_reason: Literal[QuoteStatusReason.LOST, QuoteStatusReason.CANCELED] = QuoteStatusReason.LOST
    closed_on: date | None = None
    description: Description | None = None


class FulfilOrder(InputModel):
    status_reason: Literal[OrderStatusReason.COMPLETE, OrderStatusReason.PARTIAL] = OrderStatusReason.COMPLETE
    date_fulfilled: date | None = None


class PayInvoice(InputModel):
    status_reason: Literal[InvoiceStatusReason.COMPLETE, InvoiceStatusReason.PARTIAL] = InvoiceStatusReason.COMPLETE
    date_paid: date | None = None


class WonQuoteOut(OutputModel):
    quote: QuoteOut
    order: OrderOut | None
    opportunity: OpportunityOut | None


class NumberingOut(OutputModel):
    kind: str
    prefix: str
    next_number: int
    digits: int
    example: str


class NumberingUpdate(InputModel):
    prefix: Annotated[
        str | None,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_]+$"),
        NotCleared,
    ] = None
    next_number: Annotated[int | None, Field(ge=0, le=10**9), NotCleared] = None
