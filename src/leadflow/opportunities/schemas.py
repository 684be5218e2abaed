"""Input and output shapes of opportunities."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from leadflow.catalog.schemas import PricingFields
from leadflow.core.schemas import Amount, CustomIn, CustomOut, InputModel, NotCleared, RecordOut
from leadflow.opportunities.models import (
    CloseState,
    CustomerKind,
    Need,
    OpportunityState,
    OpportunityStatusReason,
    ProcessStatus,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
    RevenueCalculation,
)

OpportunityName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
CurrencyCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=3)]


# A step of the process is done or not: it may be left out of a change, never set to null.
Step = Annotated[bool | None, NotCleared]
Probability = Annotated[int, Field(ge=0, le=100)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
# While open, an opportunity is in progress or on hold; the other reasons come with closing it.
OpenStatusReason = Literal[OpportunityStatusReason.IN_PROGRESS, OpportunityStatusReason.ON_HOLD]


class OpportunityFields(PricingFields):
    custom: CustomIn = None
    description: str | None = None
    customer_id: uuid.UUID | None = None
    parent_account_id: uuid.UUID | None = None
    parent_contact_id: uuid.UUID | None = None
    estimated_revenue: Amount | None = None
    estimated_close_date: date | None = None
    currency: CurrencyCode | None = None
    campaign_id: uuid.UUID | None = None
    owner_user_id: uuid.UUID | None = None
    purchase_timeframe: PurchaseTimeframe | None = None
    purchase_process: PurchaseProcess | None = None
    decision_maker: bool | None = None
    need: Need | None = None
    probability: Probability | None = None
    rating: Rating | None = None
    status_reason: Annotated[OpenStatusReason | None, NotCleared] = None
    # Steps of the Develop, Propose and Close stages (§7).
    customer_need: str | None = None
    proposed_solution: str | None = None
    stakeholders_identified: Step = None
    competitors_identified: Step = None
    sales_team_identified: Step = None
    proposal_developed: Step = None
    internal_review_completed: Step = None
    proposal_presented: Step = None
    final_proposal_completed: Step = None
    final_proposal_presented: Step = None
    decision_date: date | None = None
    thank_you_note_sent: Step = None
    debrief_filed: Step = None
    revenue_calculation: Annotated[RevenueCalculation | None, NotCleared] = None


class OpportunityCreate(OpportunityFields):
    name: OpportunityName


class OpportunityUpdate(OpportunityFields):
    name: Annotated[OpportunityName | None, NotCleared] = None


class OpportunityOut(RecordOut):
    custom: CustomOut
    name: str
    description: str | None
    customer_kind: CustomerKind | None
    customer_id: uuid.UUID | None
    parent_account_id: uuid.UUID | None
    parent_contact_id: uuid.UUID | None
    estimated_revenue: Decimal | None
    estimated_close_date: date | None
    currency_id: uuid.UUID | None
    currency: str | None = Field(validation_alias="currency_code")
    exchange_rate: Decimal | None
    estimated_revenue_base: Decimal | None
    actual_revenue_base: Decimal | None
    campaign_id: uuid.UUID | None
    originating_lead_id: uuid.UUID | None
    owner_user_id: uuid.UUID | None
    purchase_timeframe: PurchaseTimeframe | None
    purchase_process: PurchaseProcess | None
    decision_maker: bool | None
    need: Need | None
    qualification_comments: str | None
    state: OpportunityState
    status_reason: OpportunityStatusReason
    closed_at: datetime | None
    probability: int | None
    rating: Rating | None
    actual_revenue: Decimal | None
    actual_close_date: date | None
    process_stage: str
    process_status: ProcessStatus
    customer_need: str | None
    proposed_solution: str | None
    stakeholders_identified: bool
    competitors_identified: bool
    sales_team_identified: bool
    proposal_developed: bool
    internal_review_completed: bool
    proposal_presented: bool
    final_proposal_completed: bool
    final_proposal_presented: bool
    decision_date: date | None
    thank_you_note_sent: bool
    debrief_filed: bool
    revenue_calculation: RevenueCalculation
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


class WinOpportunity(InputModel):
    """Close as won: the actual revenue defaults to the estimated revenue, the close date to today."""

    status_reason: Literal[OpportunityStatusReason.WON] = OpportunityStatusReason.WON
    actual_revenue: Amount | None = None
    close_date: date | None = None
    description: Description | None = None


class LoseOpportunity(InputModel):
    """Close as lost: canceled, or out-sold by the competitor named."""

    status_reason: Literal[OpportunityStatusReason.CANCELED, OpportunityStatusReason.OUT_SOLD] = (
        OpportunityStatusReason.CANCELED
    )
    competitor_id: uuid.UUID | None = None
    actual_revenue: Amount | None = None
    close_date: date | None = None
    description: Description | None = None


class OpportunityCloseOut(RecordOut):
    opportunity_id: uuid.UUID
    state: CloseState
    opportunity_state: OpportunityState
    status_reason: OpportunityStatusReason
    actual_revenue: Decimal | None
    currency_id: uuid.UUID | None
    close_date: date
    competitor_id: uuid.UUID | None
    description: str | None
    closed_by_id: uuid.UUID | None
    canceled_at: datetime | None


CompetitorName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Website = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class CompetitorFields(InputModel):
    website: Website | None = None
    strengths: str | None = None
    weaknesses: str | None = None
    reported_revenue: Amount | None = None


class CompetitorCreate(CompetitorFields):
    name: CompetitorName


class CompetitorUpdate(CompetitorFields):
    name: Annotated[CompetitorName | None, NotCleared] = None


class CompetitorOut(RecordOut):
    name: str
    website: str | None
    strengths: str | None
    weaknesses: str | None
    reported_revenue: Decimal | None
