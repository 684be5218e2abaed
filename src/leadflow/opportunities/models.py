"""Opportunities: qualified sales deals, with their own state and process stage (§7)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadflow.catalog.models import LineMixin, PricedMixin
from leadflow.core.db import Base, Money, RecordMixin, ScaledDecimal, UTCDateTime, enum_column, polymorphic_lookup
from leadflow.core.errors import InvalidState
from leadflow.fields.models import CustomisableMixin
from leadflow.organisation.models import Currency
from leadflow.security.models import OwnedMixin

# The purchase a lead describes and its opportunity carries on (§2.2): both records use these.
PurchaseTimeframe = enum.StrEnum("PurchaseTimeframe", "IMMEDIATE THIS_QUARTER NEXT_QUARTER THIS_YEAR UNKNOWN")


PurchaseProcess = enum.StrEnum("PurchaseProcess", "INDIVIDUAL COMMITTEE UNKNOWN")


Need = enum.StrEnum("Need", "MUST_HAVE SHOULD_HAVE GOOD_TO_HAVE NO_NEED")


OpportunityState = enum.StrEnum("OpportunityState", "OPEN WON LOST")


# Status reasons (Dynamics' statuscode), each belonging to one state.
OpportunityStatusReason = enum.StrEnum("OpportunityStatusReason", "IN_PROGRESS ON_HOLD WON CANCELED OUT_SOLD")
STATUS_REASONS: dict[OpportunityState, tuple[OpportunityStatusReason, ...]] = {
    OpportunityState.OPEN: (OpportunityStatusReason.IN_PROGRESS, OpportunityStatusReason.ON_HOLD),
    OpportunityState.WON: (OpportunityStatusReason.WON,),
    OpportunityState.LOST: (OpportunityStatusReason.CANCELED, OpportunityStatusReason.OUT_SOLD),
}


Rating = enum.StrEnum("Rating", "HOT WARM COLD")


# Whether the opportunity's business process flow is running or ended with the opportunity's close.
ProcessStatus = enum.StrEnum("ProcessStatus", "ACTIVE FINISHED")


# Whether the estimated revenue is typed by the seller or computed from the opportunity's products.
RevenueCalculation = enum.StrEnum("RevenueCalculation", "USER SYSTEM")


# An opportunity close record is completed when written; reopening the opportunity cancels it.
CloseState = enum.StrEnum("CloseState", "COMPLETED CANCELED")


# Which table the potential customer lives in.
CustomerKind = enum.StrEnum("CustomerKind", "ACCOUNT CONTACT")


def customer_kind_of(customer: object) -> CustomerKind:
    """Which kind of customer a record is: an account or a contact."""
    return CustomerKind.ACCOUNT if getattr(customer, "__tablename__", "") == "accounts" else CustomerKind.CONTACT


class Opportunity(RecordMixin, OwnedMixin, PricedMixin, CustomisableMixin, Base):
    """A potential sale to an account or a contact."""

    __tablename__ = "opportunities"
    # The pipeline board's and the forecast's covering indexes (migration 0010).
    __table_args__ = (
        Index(
            "ix_opportunities_pipeline",
            "state",
            "process_stage",
            "estimated_close_date",
            "estimated_revenue_base",
            "probability",
            "owner_user_id",
            "owner_team_id",
            "owning_business_unit_id",
            "id",
        ),
        Index(
            "ix_opportunities_forecast_open",
            "state",
            "estimated_close_date",
            "owner_user_id",
            "owner_team_id",
            "owning_business_unit_id",
            "estimated_revenue_base",
            "probability",
            "rating",
            "id",
        ),
        Index(
            "ix_opportunities_forecast_closed",
            "state",
            "actual_close_date",
            "owner_user_id",
            "owner_team_id",
            "owning_business_unit_id",
            "actual_revenue_base",
            "estimated_revenue_base",
            "id",
        ),
    )

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
    currency: Mapped[Currency | None] = relationship()
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaigns.id"))
    originating_lead_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    purchase_timeframe: Mapped[PurchaseTimeframe | None] = mapped_column(enum_column(PurchaseTimeframe))
    purchase_process: Mapped[PurchaseProcess | None] = mapped_column(enum_column(PurchaseProcess))
    decision_maker: Mapped[bool | None] = mapped_column()
    need: Mapped[Need | None] = mapped_column(enum_column(Need))
    qualification_comments: Mapped[str | None] = mapped_column(String(2000))
    state: Mapped[OpportunityState] = mapped_column(enum_column(OpportunityState), default=OpportunityState.OPEN)
    status_reason: Mapped[OpportunityStatusReason] = mapped_column(
        enum_column(OpportunityStatusReason), default=OpportunityStatusReason.IN_PROGRESS
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    probability: Mapped[int | None] = mapped_column()
    rating: Mapped[Rating | None] = mapped_column(enum_column(Rating))
    actual_revenue: Mapped[Decimal | None] = mapped_column(Money())
    actual_close_date: Mapped[date | None] = mapped_column()
    process_status: Mapped[ProcessStatus] = mapped_column(enum_column(ProcessStatus), default=ProcessStatus.ACTIVE)
    # The currency's rate when an amount or the currency was last saved, and the amounts in base currency.
    exchange_rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(10))
    estimated_revenue_base: Mapped[Decimal | None] = mapped_column(Money())
    actual_revenue_base: Mapped[Decimal | None] = mapped_column(Money())

    revenue_calculation: Mapped[RevenueCalculation] = mapped_column(
        enum_column(RevenueCalculation), default=RevenueCalculation.USER
    )

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

    @property
    def currency_code(self) -> str | None:
        """The ISO code of the opportunity's currency."""
        return self.currency.iso_code if self.currency is not None else None

    @property
    def is_open(self) -> bool:
        return self.state is OpportunityState.OPEN

    def ensure_editable(self) -> None:
        """Won and lost opportunities are read-only until they are reopened."""
        if not self.is_open:
            raise InvalidState(
                f"The opportunity is closed as {self.state.value}; reopen it before changing it.",
                code="opportunity_closed",
            )

    def close(
        self,
        state: OpportunityState,
        reason: OpportunityStatusReason,
        *,
        actual_revenue: Decimal | None,
        close_date: date,
        closed_at: datetime,
    ) -> None:
        """Close as won or lost with a status reason of that state; only an open opportunity closes."""
        self.ensure_editable()
        if state is OpportunityState.OPEN or reason not in STATUS_REASONS[state]:
            raise InvalidState(
                f"The status reason {reason.value} does not close an opportunity as {state.value}.",
                code="status_reason_not_of_state",
            )
        self.state, self.status_reason = state, reason
        self.actual_revenue, self.actual_close_date, self.closed_at = actual_revenue, close_date, closed_at
        self.process_status = ProcessStatus.FINISHED

    def reopen(self) -> None:
        """Back to Open / In Progress; the actual revenue and close date are cleared."""
        if self.is_open:
            raise InvalidState("The opportunity is already open.", code="opportunity_open")
        self.state, self.status_reason = OpportunityState.OPEN, OpportunityStatusReason.IN_PROGRESS
        self.actual_revenue = self.actual_close_date = self.closed_at = None
        self.process_status = ProcessStatus.ACTIVE


class Competitor(RecordMixin, Base):
    """A company that competes for the organisation's deals (organisation-wide reference data)."""

    __tablename__ = "competitors"

    name: Mapped[str] = mapped_column(String(100), index=True)
    website: Mapped[str | None] = mapped_column(String(200))
    strengths: Mapped[str | None] = mapped_column(Text)
    weaknesses: Mapped[str | None] = mapped_column(Text)
    reported_revenue: Mapped[Decimal | None] = mapped_column(Money())
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    modified_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class OpportunityCompetitor(Base):
    """A competitor known to be in an opportunity's deal."""

    __tablename__ = "opportunity_competitors"

    opportunity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), primary_key=True
    )
    competitor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("competitors.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class OpportunityClose(RecordMixin, Base):
    """What closing an opportunity recorded: kept in its history, canceled when it is reopened."""

    __tablename__ = "opportunity_closes"

    opportunity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"), index=True)
    state: Mapped[CloseState] = mapped_column(enum_column(CloseState), default=CloseState.COMPLETED)
    opportunity_state: Mapped[OpportunityState] = mapped_column(enum_column(OpportunityState))
    status_reason: Mapped[OpportunityStatusReason] = mapped_column(enum_column(OpportunityStatusReason))
    actual_revenue: Mapped[Decimal | None] = mapped_column(Money())
    currency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("currencies.id"))
    close_date: Mapped[date] = mapped_column()
    competitor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("competitors.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str | None] = mapped_column(String(2000))
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OpportunityProduct(RecordMixin, LineMixin, Base):
    """A product the opportunity is about to sell."""

    __tablename__ = "opportunity_products"

    opportunity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"), index=True)
