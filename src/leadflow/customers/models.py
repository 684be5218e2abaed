"""Accounts and contacts: the customers a qualified lead turns into."""

from __future__ import annotations

import enum
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.core.db import Base, RecordMixin, enum_column
from leadflow.core.errors import InvalidState
from leadflow.customers.address import AddressMixin
from leadflow.fields.models import CustomisableMixin
from leadflow.security.models import OwnedMixin

CustomerState = enum.StrEnum("CustomerState", "ACTIVE INACTIVE")
# An account's usual payment terms, which its quotes take (Dynamics' paymenttermscode).
PaymentTerms = enum.StrEnum("PaymentTerms", "NET_30 TWO_PERCENT_10_NET_30 NET_45 NET_60")


class CustomerStateRules:
    """The state rules accounts and contacts share."""

    if TYPE_CHECKING:  # declared by the models; kept out of the mixin so declarative maps nothing twice
        __tablename__: str
        id: Mapped[uuid.UUID]
        state: Mapped[CustomerState]

    def ensure_mergeable(self, who: str) -> None:
        """Only active customers merge (§9); ``who`` names the record."""
        if self.state is not CustomerState.ACTIVE:
            raise InvalidState(
                f"{who} is inactive; only active {self.__tablename__} can be merged.",
                code="merge_inactive_record",
                details={"id": str(self.id), "state": self.state.value},
            )

    def close_as_merged(self) -> None:
        """Deactivate the subordinate of a merge."""
        self.state = CustomerState.INACTIVE


class Account(CustomerStateRules, RecordMixin, AddressMixin, OwnedMixin, CustomisableMixin, Base):
    """A company the organisation sells to."""

    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(160), index=True)
    website: Mapped[str | None] = mapped_column(String(200))
    telephone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(320))
    description: Mapped[str | None] = mapped_column(Text)
    payment_terms: Mapped[PaymentTerms | None] = mapped_column(enum_column(PaymentTerms))
    currency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("currencies.id"))
    primary_contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", use_alter=True, ondelete="SET NULL", deferrable=True, initially="DEFERRED"),
        index=True,
    )
    originating_lead_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    master_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    state: Mapped[CustomerState] = mapped_column(enum_column(CustomerState), default=CustomerState.ACTIVE)


class Contact(CustomerStateRules, RecordMixin, AddressMixin, OwnedMixin, CustomisableMixin, Base):
    """A person, usually working for an account."""

    __tablename__ = "contacts"

    first_name: Mapped[str | None] = mapped_column(String(50))
    last_name: Mapped[str] = mapped_column(String(50))
    full_name: Mapped[str] = mapped_column(String(160), default="", index=True)
    job_title: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    business_phone: Mapped[str | None] = mapped_column(String(50))
    mobile_phone: Mapped[str | None] = mapped_column(String(50))
    website: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    currency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("currencies.id"))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    originating_lead_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    master_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    state: Mapped[CustomerState] = mapped_column(enum_column(CustomerState), default=CustomerState.ACTIVE)
