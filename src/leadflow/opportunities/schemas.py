"""Input and output shapes of opportunities."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import StringConstraints

from leadflow.opportunities.models import Need, PurchaseProcess, PurchaseTimeframe
from leadflow.opportunities.models import CustomerKind, OpportunityState
from leadflow.core.schemas import Amount, InputModel, NotCleared, RecordOut

OpportunityName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
CurrencyCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=3)]


# A step of the process is done or not: it may be left out of a change, never set to null.
Step = Annotated[bool | None, NotCleared]


class OpportunityFields(InputModel):
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


class OpportunityCreate(OpportunityFields):
    name: OpportunityName


class OpportunityUpdate(OpportunityFields):
    name: Annotated[OpportunityName | None, NotCleared] = None


class OpportunityOut(RecordOut):
    name: str
    description: str | None
    customer_kind: CustomerKind | None
    customer_id: uuid.UUID | None
    parent_account_id: uuid.UUID | None
    parent_contact_id: uuid.UUID | None
    estimated_revenue: Decimal | None
    estimated_close_date: date | None
    currency_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    originating_lead_id: uuid.UUID | None
    owner_user_id: uuid.UUID | None
    purchase_timeframe: PurchaseTimeframe | None
    purchase_process: PurchaseProcess | None
    decision_maker: bool | None
    need: Need | None
    qualification_comments: str | None
    state: OpportunityState
    closed_at: datetime | None
    process_stage: str
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
