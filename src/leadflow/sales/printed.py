"""What a printed quote, order or invoice shows: a plain view of the document, built by the sales
service and drawn by ``leadflow.sales.pdf`` (PDF) and the web app's print page (HTML)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

DocumentKind = Literal["quote", "order", "invoice"]


@dataclass(frozen=True)
class PrintedLine:
    """One line as printed: amounts in the document's currency, already rounded."""

    number: int
    product: str  # the product's name (with its number), or the write-in name
    unit: str | None
    quantity: Decimal
    price_per_unit: Decimal
    volume_discount: Decimal
    manual_discount: Decimal
    tax: Decimal
    extended_amount: Decimal
    description: str | None = None


@dataclass(frozen=True)
class PrintedTotals:
    detail_amount: Decimal
    discount_percentage: Decimal
    total_discount_amount: Decimal
    pre_freight_amount: Decimal
    freight_amount: Decimal
    total_tax: Decimal
    total_amount: Decimal


@dataclass(frozen=True)
class PrintedDocument:
    """A document as its reader sees it on paper."""

    kind: DocumentKind
    number: str  # "QUO-01000"
    revision: int | None  # quotes only
    name: str
    status: str  # the state and status reason, already in the reader's language ("Activo · En curso")
    issued_on: date
    currency: str  # ISO code
    company_name: str
    company_address: str | None
    customer_name: str
    billing_address: str | None
    shipping_address: str | None
    lines: tuple[PrintedLine, ...]
    totals: PrintedTotals
    effective_from: date | None = None
    effective_to: date | None = None
    due_date: date | None = None
    payment_terms: str | None = None  # already in the reader's language
    description: str | None = None
    reference: str | None = None  # the quote an order came from, the order an invoice came from
    extra: dict[str, str] = field(default_factory=dict)
