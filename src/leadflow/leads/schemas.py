"""Input and output shapes of leads and of the qualify / disqualify requests."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AliasChoices, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from leadflow.core.schemas import (
    AddressFields,
    AddressOut,
    Amount,
    CustomIn,
    CustomOut,
    Email,
    InputModel,
    NotCleared,
    RecordOut,
    RequiredName,
    Text50,
    Text100,
    Text200,
)
from leadflow.leads.models import (
    DISQUALIFY_REASONS,
    BudgetStatus,
    LeadSource,
    LeadState,
    LeadStatusReason,
    Need,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)

Topic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Comments = Annotated[str, StringConstraints(max_length=2000)]
CurrencyCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=3)]


class LeadFields(AddressFields):
    """The editable columns of a lead (§1), optional ones defaulting to blank."""

    first_name: Text50 | None = None
    job_title: Text100 | None = None
    company_name: Text100 | None = None
    business_phone: Text50 | None = None
    mobile_phone: Text50 | None = None
    email: Email | None = None
    website: Text200 | None = None
    description: str | None = None
    lead_source: LeadSource | None = None
    rating: Rating | None = None
    currency: CurrencyCode | None = None
    campaign_id: uuid.UUID | None = None
    owner_user_id: uuid.UUID | None = None
    purchase_timeframe: PurchaseTimeframe | None = None
    budget_amount: Amount | None = None
    budget_status: BudgetStatus | None = None
    purchase_process: PurchaseProcess | None = None
    decision_maker: bool | None = None
    need: Need | None = None
    qualification_comments: Comments | None = None
    parent_account_id: uuid.UUID | None = None
    parent_contact_id: uuid.UUID | None = None
    custom: CustomIn = None

    @field_validator("email", mode="before")
    @classmethod
    def blank_email_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class LeadCreate(LeadFields, InputModel):
    """A new lead: topic and last name are required."""

    topic: Topic
    last_name: RequiredName


class LeadUpdate(LeadFields, InputModel):
    """A partial change: only the fields present are changed; topic and last name stay required."""

    topic: Annotated[Topic | None, NotCleared] = None
    last_name: Annotated[RequiredName | None, NotCleared] = None


class LeadOut(RecordOut, AddressOut):
    """A lead as the API returns it."""

    topic: str
    first_name: str | None
    last_name: str
    full_name: str
    job_title: str | None
    company_name: str | None
    business_phone: str | None
    mobile_phone: str | None
    email: str | None
    website: str | None
    description: str | None
    lead_source: LeadSource | None
    rating: Rating | None
    currency_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    owner_user_id: uuid.UUID | None
    owner_team_id: uuid.UUID | None
    purchase_timeframe: PurchaseTimeframe | None
    budget_amount: Decimal | None
    budget_status: BudgetStatus | None
    purchase_process: PurchaseProcess | None
    decision_maker: bool | None
    need: Need | None
    qualification_comments: str | None
    parent_account_id: uuid.UUID | None
    parent_contact_id: uuid.UUID | None
    qualifying_opportunity_id: uuid.UUID | None
    master_lead_id: uuid.UUID | None
    merged: bool
    state: LeadState
    status_reason: LeadStatusReason
    closed_at: datetime | None
    custom: CustomOut
    # The predictive score (0-100) and grade (A-D) of the published scoring model that covers the lead.
    score: int | None = None
    grade: Annotated[str | None, Field(validation_alias=AliasChoices("score_grade", "grade"))] = None


class OpportunityChoice(InputModel):
    """One opportunity the seller asks qualify to create (the Seller case of §6)."""

    name: Topic | None = None
    estimated_revenue: Amount | None = None
    estimated_close_date: date | None = None
    currency: CurrencyCode | None = None
    description: str | None = None


class DuplicateResolution(InputModel):
    """How the seller answered a duplicate warning (§5).

    Either the string ``"ignore"`` (create new records anyway) or an object linking the matches the
    seller picked: ``{"account_id": ..., "contact_id": ...}``, where a blank one is created new.
    """

    account_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    ignore: bool = False

    @model_validator(mode="before")
    @classmethod
    def _ignore_or_link(cls, value: Any) -> Any:
        if value == "ignore":
            return {"ignore": True}
        if not isinstance(value, dict):
            raise PydanticCustomError(
                "invalid_option",
                "Input should be {expected}",
                {"expected": "'ignore' or an object with account_id and/or contact_id"},
            )
        return value

    @property
    def links(self) -> bool:
        """Whether the seller picked existing records to link."""
        return not self.ignore and (self.account_id is not None or self.contact_id is not None)


class QualifyOptions(InputModel):
    """The parameters of §2.8; a boolean left out means "what the organisation setting says"."""

    create_account: bool | None = None
    create_contact: bool | None = None
    create_opportunity: bool | None = None
    status_reason: LeadStatusReason = LeadStatusReason.QUALIFIED
    opportunity_currency: CurrencyCode | None = None
    opportunity_customer_id: uuid.UUID | None = None
    source_campaign_id: uuid.UUID | None = None
    existing_account_id: uuid.UUID | None = None
    existing_contact_id: uuid.UUID | None = None
    # Qualify into an open opportunity of the lead's account or contact instead of creating one: the
    # lead's notes and attachments are copied there and the lead records it as its opportunity.
    existing_opportunity_id: uuid.UUID | None = None
    opportunities: list[OpportunityChoice] | None = Field(default=None, max_length=5)
    # How the seller answered a duplicate warning (§5): link matches, or "ignore" to create new ones.
    duplicate_resolution: DuplicateResolution | None = None
    # Skip duplicate detection altogether for this request (§9: it can be suppressed per request).
    suppress_duplicate_detection: bool = False

    @field_validator("status_reason")
    @classmethod
    def only_qualified(cls, value: LeadStatusReason) -> LeadStatusReason:
        if value is not LeadStatusReason.QUALIFIED:
            raise PydanticCustomError("invalid_option", "Input should be {expected}", {"expected": "'qualified'"})
        return value


class QualifyManyRequest(QualifyOptions):
    """Qualify several leads with the same options; each lead is qualified on its own."""

    lead_ids: list[uuid.UUID] = Field(min_length=1)


class DisqualifyRequest(InputModel):
    """Disqualify with one of the reasons of §3."""

    status_reason: LeadStatusReason

    @field_validator("status_reason")
    @classmethod
    def only_disqualify_reasons(cls, value: LeadStatusReason) -> LeadStatusReason:
        if value not in DISQUALIFY_REASONS:
            allowed = ", ".join(f"'{reason.value}'" for reason in DISQUALIFY_REASONS)
            raise PydanticCustomError("invalid_option", "Input should be {expected}", {"expected": allowed})
        return value


class CreatedRecords(InputModel):
    account_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    opportunity_ids: list[uuid.UUID] = Field(default_factory=list)


class QualifyResponse(InputModel):
    lead: LeadOut
    created: CreatedRecords
