"""Opportunities: qualified sales deals, with their own state and process stage (§7)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.core.db import Base, Money, RecordMixin, UTCDateTime, enum_column, polymorphic_lookup
from leadflow.security.models import OwnedMixin


# The purchase a lead describes and its opportunity carries on (§2.2): both records use these.
PurchaseTimeframe = enum.StrEnum("PurchaseTimeframe", "IMMEDIATE THIS_QUARTER NEXT_QUARTER THIS_YEAR UNKNOWN")


PurchaseProcess = enum.StrEnum("PurchaseProcess", "INDIVIDUAL COMMITTEE UNKNOWN")


Need = enum.StrEnum("Need", "MUST_HAVE SHOULD_HAVE GOOD_TO_HAVE NO_NEED")


OpportunityState = enum.StrEnum("OpportunityState", "OPEN WON LOST")


# Which table the potential customer lives in.
CustomerKind = enum.StrEnum("CustomerKind", "ACCOUNT CONTACT")


def customer_kind_of(customer: object) -> CustomerKind:
    """Which kind of customer a record is: an account or a contact."""
    return CustomerKind.ACCOUNT if getattr(customer, "__tablename__", "") == "accounts" else CustomerKind.CONTACT


class Opportunity(RecordMixin, OwnedMixin, Base):
    """A potential sale to an account or a contact."""

    __tablename__ = "opportunities"

    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    customer_kind: Mapped[CustomerKind | None] = mapped_column(enum_column(CustomerKind))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        index=True, info=polymorphic_lookup("accounts", "contacts", kind_column="customer_kind")
    )
    parent_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    parent_contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    estimated_revenue: Mapped[Decimal | None] = mapped_column(Money())
    estimated_close_date: Mapped[date | None] = mapped_column()
    currency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("currencies.id"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaigns.id"))
    originating_lead_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    purchase_timeframe: Mapped[PurchaseTimeframe | None] = mapped_column(
        enum_column(PurchaseTimeframe)
    )
    purchase_process: Mapped[PurchaseProcess | None] = mapped_column(enum_column(PurchaseProcess))
    decision_maker: Mapped[bool | None] = mapped_column()
    need: Mapped[Need | None] = mapped_column(enum_column(Need))
    qualification_comments: Mapped[str | None] = mapped_column(String(2000))
    state: Mapped[OpportunityState] = mapped_column(
        enum_column(OpportunityState), default=OpportunityState.OPEN
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Lead to Opportunity Sales Process (§7): the active stage and the steps of the later stages.
    process_stage: Mapped[str] = mapped_column(String(16), default="develop")
    customer_need: Mapped[str | None] = mapped_column(Text)
    proposed_solution: Mapped[str | None] = mapped_column(Text)
    stakeholders_identified: Mapped[bool] = mapped_column(default=False)
    competitors_identified: Mapped[bool] = mapped_column(default=False)
    sales_team_identified: Mapped[bool] = mapped_column(default=False)
    proposal_developed: Mapped[bool] = mapped_column(default=False)
    internal_review_completed: Mapped[bool] = mapped_column(default=False)
    proposal_presented: Mapped[bool] = mapped_column(default=False)
    final_proposal_completed: Mapped[bool] = mapped_column(default=False)
    final_proposal_presented: Mapped[bool] = mapped_column(default=False)
    decision_date: Mapped[date | None] = mapped_column()
    thank_you_note_sent: Mapped[bool] = mapped_column(default=False)
    debrief_filed: Mapped[bool] = mapped_column(default=False)
