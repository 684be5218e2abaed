"""Sales documents: opportunity products, quotes, orders and invoices with their lines, and the
numbers they are known by (Dynamics 365 Sales' opportunityproduct, quote, salesorder, invoice)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from leadflow.catalog.models import LineMixin, PricedMixin
from leadflow.core.db import Base, Money, RecordMixin, ScaledDecimal, UTCDateTime, enum_column, polymorphic_lookup
from leadflow.core.errors import InvalidState
from leadflow.customers.models import PaymentTerms
from leadflow.opportunities.models import CustomerKind
from leadflow.organisation.models import Currency
from leadflow.security.models import OwnedMixin

QuoteState = enum.StrEnum("QuoteState", "DRAFT ACTIVE WON CLOSED")
QuoteStatusReason = enum.StrEnum("QuoteStatusReason", "IN_PROGRESS OPEN WON LOST CANCELED REVISED")
OrderState = enum.StrEnum("OrderState", "ACTIVE SUBMITTED CANCELED FULFILLED")
OrderStatusReason = enum.StrEnum("OrderStatusReason", "NEW PENDING IN_PROGRESS NO_MONEY COMPLETE PARTIAL")
InvoiceState = enum.StrEnum("InvoiceState", "ACTIVE PAID CANCELED")
InvoiceStatusReason = enum.StrEnum("InvoiceStatusReason", "NEW COMPLETE PARTIAL CANCELED")
DocumentKind = enum.StrEnum("DocumentKind", "QUOTE ORDER INVOICE")

# Each state's status reasons; the first is the one a transition into the state takes by default.
QUOTE_REASONS: dict[QuoteState, tuple[QuoteStatusReason, ...]] = {
    QuoteState.DRAFT: (QuoteStatusReason.IN_PROGRESS,),
    QuoteState.ACTIVE: (QuoteStatusReason.IN_PROGRESS, QuoteStatusReason.OPEN),
    QuoteState.WON: (QuoteStatusReason.WON,),
    QuoteState.CLOSED: (QuoteStatusReason.LOST, QuoteStatusReason.CANCELED, QuoteStatusReason.REVISED),
}
ORDER_REASONS: dict[OrderState, tuple[OrderStatusReason, ...]] = {
    OrderState.ACTIVE: (OrderStatusReason.NEW, OrderStatusReason.PENDING),
    OrderState.SUBMITTED: (OrderStatusReason.IN_PROGRESS,),
    OrderState.CANCELED: (OrderStatusReason.NO_MONEY,),
    OrderState.FULFILLED: (OrderStatusReason.COMPLETE, OrderStatusReason.PARTIAL),
}
INVOICE_REASONS: dict[InvoiceState, tuple[InvoiceStatusReason, ...]] = {
    InvoiceState.ACTIVE: (InvoiceStatusReason.NEW,),
    InvoiceState.PAID: (InvoiceStatusReason.COMPLETE, InvoiceStatusReason.PARTIAL),
    InvoiceState.CANCELED: (InvoiceStatusReason.CANCELED,),
}


class SalesDocument(RecordMixin, OwnedMixin, PricedMixin):
    """What quotes, orders and invoices share: number, customer, currency and rate, addresses, totals."""

    kind: ClassVar[DocumentKind]
    line_model: ClassVar[type[Any]]

    number: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    customer_kind: Mapped[CustomerKind | None] = mapped_column(enum_column(CustomerKind))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        index=True, info=polymorphic_lookup("accounts", "contacts", kind_column="customer_kind")
    )
    currency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("currencies.id"))
    exchange_rate: Mapped[Decimal] = mapped_column(ScaledDecimal(10))
    total_amount_base: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    payment_terms: Mapped[PaymentTerms | None] = mapped_column(enum_column(PaymentTerms))
    billing_address: Mapped[str | None] = mapped_column(Text)
    shipping_address: Mapped[str | None] = mapped_column(Text)
    prices_locked: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr
    def opportunity_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(ForeignKey("opportunities.id", ondelete="SET NULL"), index=True)

    @declared_attr
    def currency(cls) -> Mapped[Currency]:
        return relationship(Currency)

    @property
    def currency_code(self) -> str:
        return self.currency.iso_code

    @property
    def editable(self) -> bool:
        raise NotImplementedError

    @property
    def table_name(self) -> str:
        """``quotes``, ``orders`` or ``invoices``: the table privileges and the audit name."""
        return str(self.__tablename__)  # type: ignore[attr-defined]

    def ensure_editable(self) -> None:
        """Only a draft quote, an active order and an active invoice change; the others are read-only."""
        if not self.editable:
            state = self.state.value  # type: ignore[attr-defined]
            raise InvalidState(
                f"The {self.kind.value} {self.number} is {state} and read-only"
                + ("; revise it to change it." if self.kind is DocumentKind.QUOTE and state == "active" else "."),
                code="document_closed",
            )


class DocumentLine(RecordMixin, LineMixin):
    """A line of a quote, an order or an invoice."""

    document_id: Mapped[uuid.UUID]


class QuoteLine(DocumentLine, Base):
    __tablename__ = "quote_lines"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)


class OrderLine(DocumentLine, Base):
    __tablename__ = "order_lines"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)


class InvoiceLine(DocumentLine, Base):
    __tablename__ = "invoice_lines"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)


class Quote(SalesDocument, Base):
    """A proposal to a customer: Draft → Active (read-only) → Won, or Closed (lost, canceled, revised)."""

    __tablename__ = "quotes"
    __table_args__ = (UniqueConstraint("number", "revision"),)
    kind = DocumentKind.QUOTE
    line_model = QuoteLine

    revision: Mapped[int] = mapped_column(default=0)
    state: Mapped[QuoteState] = mapped_column(enum_column(QuoteState), default=QuoteState.DRAFT)
    status_reason: Mapped[QuoteStatusReason] = mapped_column(
        enum_column(QuoteStatusReason), default=QuoteStatusReason.IN_PROGRESS
    )
    effective_from: Mapped[date | None] = mapped_column()
    effective_to: Mapped[date | None] = mapped_column()
    due_date: Mapped[date | None] = mapped_column()
    date_won: Mapped[date | None] = mapped_column()
    closed_on: Mapped[date | None] = mapped_column()
    lines: Mapped[list[QuoteLine]] = relationship(order_by="QuoteLine.line_number", passive_deletes=True)

    @property
    def editable(self) -> bool:
        return self.state is QuoteState.DRAFT

    def activate(self) -> None:
        """A draft quote with lines becomes active and read-only: what the customer receives."""
        if self.state is not QuoteState.DRAFT:
            raise InvalidState(
                f"Only a draft quote can be activated; {self.number} is {self.state.value}.", code="quote_not_draft"
            )
        if not self.lines:
            raise InvalidState("Add at least one product to the quote before activating it.", code="quote_has_no_lines")
        self.state, self.status_reason = QuoteState.ACTIVE, QuoteStatusReason.IN_PROGRESS

    def _ensure_active(self, action: str) -> None:
        if self.state is not QuoteState.ACTIVE:
            raise InvalidState(
                f"Only an active quote can be {action}; {self.number} is {self.state.value}.", code="quote_not_active"
            )

    def win(self, day: date, moment: datetime) -> None:
        self._ensure_active("won")
        self.state, self.status_reason, self.date_won, self.closed_at = (
            QuoteState.WON,
            QuoteStatusReason.WON,
            day,
            moment,
        )

    def close(self, reason: QuoteStatusReason, day: date, moment: datetime) -> None:
        self._ensure_active("closed")
        if reason not in QUOTE_REASONS[QuoteState.CLOSED]:
            raise InvalidState(f"{reason.value} does not close a quote.", code="status_reason_not_of_state")
        self.state, self.status_reason, self.closed_on, self.closed_at = QuoteState.CLOSED, reason, day, moment


class Order(SalesDocument, Base):
    """An order: Active (new, pending) → Submitted → Fulfilled (complete, partial), or Canceled."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("number"),)
    kind = DocumentKind.ORDER
    line_model = OrderLine

    quote_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("quotes.id", ondelete="SET NULL"), index=True)
    state: Mapped[OrderState] = mapped_column(enum_column(OrderState), default=OrderState.ACTIVE)
    status_reason: Mapped[OrderStatusReason] = mapped_column(
        enum_column(OrderStatusReason), default=OrderStatusReason.NEW
    )
    date_fulfilled: Mapped[date | None] = mapped_column()
    requested_delivery: Mapped[date | None] = mapped_column()
    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.line_number", passive_deletes=True)

    @property
    def editable(self) -> bool:
        return self.state is OrderState.ACTIVE

    def submit(self) -> None:
        if self.state is not OrderState.ACTIVE:
            raise InvalidState(
                f"Only an active order can be submitted; {self.number} is {self.state.value}.", code="order_not_active"
            )
        self.state, self.status_reason = OrderState.SUBMITTED, OrderStatusReason.IN_PROGRESS

    def fulfil(self, reason: OrderStatusReason, day: date, moment: datetime) -> None:
        if self.state not in (OrderState.ACTIVE, OrderState.SUBMITTED):
            raise InvalidState(
                f"The order {self.number} is {self.state.value}; it cannot be fulfilled.", code="order_closed"
            )
        if reason not in ORDER_REASONS[OrderState.FULFILLED]:
            raise InvalidState(f"{reason.value} does not fulfil an order.", code="status_reason_not_of_state")
        self.state, self.status_reason, self.date_fulfilled, self.closed_at = OrderState.FULFILLED, reason, day, moment

    def cancel(self, moment: datetime) -> None:
        if self.state not in (OrderState.ACTIVE, OrderState.SUBMITTED):
            raise InvalidState(
                f"The order {self.number} is {self.state.value}; it cannot be canceled.", code="order_closed"
            )
        self.state, self.status_reason, self.closed_at = OrderState.CANCELED, OrderStatusReason.NO_MONEY, moment


class Invoice(SalesDocument, Base):
    """A bill: Active → Paid (complete, partial), or Canceled."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("number"),)
    kind = DocumentKind.INVOICE
    line_model = InvoiceLine

    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    state: Mapped[InvoiceState] = mapped_column(enum_column(InvoiceState), default=InvoiceState.ACTIVE)
    status_reason: Mapped[InvoiceStatusReason] = mapped_column(
        enum_column(InvoiceStatusReason), default=InvoiceStatusReason.NEW
    )
    due_date: Mapped[date | None] = mapped_column()
    date_paid: Mapped[date | None] = mapped_column()
    lines: Mapped[list[InvoiceLine]] = relationship(order_by="InvoiceLine.line_number", passive_deletes=True)

    @property
    def editable(self) -> bool:
        return self.state is InvoiceState.ACTIVE

    def pay(self, reason: InvoiceStatusReason, day: date, moment: datetime) -> None:
        if self.state is not InvoiceState.ACTIVE:
            raise InvalidState(
                f"The invoice {self.number} is {self.state.value}; only an active invoice is paid.",
                code="invoice_not_active",
            )
        if reason not in INVOICE_REASONS[InvoiceState.PAID]:
            raise InvalidState(f"{reason.value} does not pay an invoice.", code="status_reason_not_of_state")
        self.state, self.status_reason, self.date_paid, self.closed_at = InvoiceState.PAID, reason, day, moment

    def cancel(self, moment: datetime) -> None:
        if self.state is not InvoiceState.ACTIVE:
            raise InvalidState(
                f"The invoice {self.number} is {self.state.value}; only an active invoice is canceled.",
                code="invoice_not_active",
            )
        self.state, self.status_reason, self.closed_at = InvoiceState.CANCELED, InvoiceStatusReason.CANCELED, moment


class DocumentNumbering(Base):
    """The next number of each kind of document, and how it is written: QUO-01000, ORD-01000, INV-01000.

    A number is taken by incrementing this row inside the creating transaction: the row stays locked
    until that transaction ends, so concurrent creations queue, and a rolled-back creation gives its
    number back: numbers are unique and without gaps.
    """

    __tablename__ = "document_numbering"

    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(20))
    next_number: Mapped[int] = mapped_column()
    digits: Mapped[int] = mapped_column(default=5)


DOCUMENT_MODELS: dict[DocumentKind, type[SalesDocument]] = {
    DocumentKind.QUOTE: Quote,
    DocumentKind.ORDER: Order,
    DocumentKind.INVOICE: Invoice,
}
DEFAULT_PREFIXES = {DocumentKind.QUOTE: "QUO", DocumentKind.ORDER: "ORD", DocumentKind.INVOICE: "INV"}
FIRST_NUMBER = 1000
