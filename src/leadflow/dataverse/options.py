"""Dataverse's option values of leadflow's choices, states and status reasons.

Choices travel as integers on the Web API (leadsourcecode 7 is "Trade show"); leadflow stores its
enums by name. One option set per enum, numbered as Dynamics numbers it, with the labels the web app
shows, translated where they are answered (FormattedValue, metadata).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from leadflow.activities.models import ActivityState, ActivityStatus, ActivityType, Priority
from leadflow.catalog.models import ProductState
from leadflow.customers.models import CustomerState
from leadflow.http.labels import CHOICE_LABELS, label
from leadflow.http.language import N_
from leadflow.leads.models import BudgetStatus, LeadSource, LeadState, LeadStatusReason, Rating
from leadflow.opportunities.models import (
    CloseState,
    Need,
    OpportunityState,
    OpportunityStatusReason,
    PurchaseProcess,
    PurchaseTimeframe,
)
from leadflow.opportunities.models import Rating as OpportunityRating
from leadflow.sales.models import (
    InvoiceState,
    InvoiceStatusReason,
    OrderState,
    OrderStatusReason,
    QuoteState,
    QuoteStatusReason,
)

# Dataverse's language codes (LCID) of the languages leadflow speaks.
LANGUAGE_CODES = {"en": 1033, "es": 3082}


@dataclass(frozen=True, eq=False)
class OptionSet:
    """An enum's members with their Dataverse values: ``first`` numbers them in order, unless ``values``
    names each one; ``labels`` (English message ids) default to the web app's."""

    name: str
    choices: type[enum.Enum]
    first: int = 1
    values: Mapping[enum.Enum, int] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def by_member(self) -> dict[enum.Enum, int]:
        if self.values is not None:
            return dict(self.values)
        return {member: self.first + index for index, member in enumerate(self.choices)}

    @cached_property
    def by_value(self) -> dict[int, enum.Enum]:
        return {value: member for member, value in self.by_member.items()}

    def value_of(self, member: enum.Enum | str | None) -> int | None:
        """The Dataverse value of a stored member (None stays None)."""
        if member is None:
            return None
        return self.by_member[self.choices(getattr(member, "value", member))]

    def member_of(self, value: int) -> enum.Enum | None:
        """The member a Dataverse value means; None when the value is not one of the set's."""
        return self.by_value.get(value)

    def label(self, member: enum.Enum, language: str) -> str:
        """The member's label in ``language``."""
        return label(language, {**CHOICE_LABELS.get(self.choices, {}), **self.labels}, member)

    def options(self, language: str) -> list[tuple[int, str]]:
        """Every value with its label, in order."""
        return [(value, self.label(member, language)) for member, value in self.by_member.items()]


LEAD_SOURCE = OptionSet("lead_leadsourcecode", LeadSource)
LEAD_QUALITY = OptionSet("lead_leadqualitycode", Rating)
OPPORTUNITY_RATING = OptionSet("opportunity_opportunityratingcode", OpportunityRating)
PURCHASE_TIMEFRAME = OptionSet("purchasetimeframe", PurchaseTimeframe, first=0)
BUDGET_STATUS = OptionSet("budgetstatus", BudgetStatus, first=0)
PURCHASE_PROCESS = OptionSet("purchaseprocess", PurchaseProcess, first=0)
NEED = OptionSet("need", Need, first=0)
PRIORITY = OptionSet("prioritycode", Priority, first=0)

LEAD_STATE = OptionSet("lead_statecode", LeadState, first=0)
LEAD_STATUS = OptionSet("lead_statuscode", LeadStatusReason)
OPPORTUNITY_STATE = OptionSet("opportunity_statecode", OpportunityState, first=0)
OPPORTUNITY_STATUS = OptionSet("opportunity_statuscode", OpportunityStatusReason)
_CUSTOMER_LABELS = {"active": N_("Active"), "inactive": N_("Inactive")}
CUSTOMER_STATE = OptionSet("customer_statecode", CustomerState, first=0, labels=_CUSTOMER_LABELS)
# Accounts and contacts have one status reason per state: Active 1, Inactive 2.
CUSTOMER_STATUS = OptionSet("customer_statuscode", CustomerState, first=1, labels=_CUSTOMER_LABELS)
CLOSE_STATE = OptionSet(
    "opportunityclose_statecode", CloseState, values={CloseState.COMPLETED: 1, CloseState.CANCELED: 2}
)
ACTIVITY_STATE = OptionSet("activity_statecode", ActivityState, first=0)

_A = ActivityStatus
# Each activity type numbers its status reasons its own way (Dynamics' task, phonecall, appointment, email).
ACTIVITY_STATUS = {
    ActivityType.TASK: OptionSet(
        "task_statuscode",
        ActivityStatus,
        values={_A.NOT_STARTED: 2, _A.IN_PROGRESS: 3, _A.WAITING: 4, _A.DEFERRED: 7, _A.COMPLETED: 5, _A.CANCELED: 6},
    ),
    ActivityType.PHONE_CALL: OptionSet(
        "phonecall_statuscode", ActivityStatus, values={_A.OPEN: 1, _A.MADE: 2, _A.RECEIVED: 4, _A.CANCELED: 3}
    ),
    ActivityType.APPOINTMENT: OptionSet(
        "appointment_statuscode",
        ActivityStatus,
        values={_A.FREE: 1, _A.TENTATIVE: 2, _A.COMPLETED: 3, _A.CANCELED: 4, _A.BUSY: 5, _A.OUT_OF_OFFICE: 6},
    ),
    ActivityType.EMAIL: OptionSet(
        "email_statuscode",
        ActivityStatus,
        values={
            _A.DRAFT: 1,
            _A.FAILED: 8,
            _A.COMPLETED: 2,
            _A.SENT: 3,
            _A.RECEIVED: 4,
            _A.PENDING_SEND: 6,
            _A.SENDING: 7,
            _A.CANCELED: 5,
        },
    ),
}

QUOTE_STATE = OptionSet("quote_statecode", QuoteState, first=0)
# leadflow has one In progress reason; Dynamics numbers it 1 on a draft quote (2 on an active one).
QUOTE_STATUS = OptionSet(
    "quote_statuscode",
    QuoteStatusReason,
    values={
        QuoteStatusReason.IN_PROGRESS: 1,
        QuoteStatusReason.OPEN: 3,
        QuoteStatusReason.WON: 4,
        QuoteStatusReason.LOST: 5,
        QuoteStatusReason.CANCELED: 6,
        QuoteStatusReason.REVISED: 7,
    },
)
ORDER_STATE = OptionSet("salesorder_statecode", OrderState, first=0)
ORDER_STATUS = OptionSet(
    "salesorder_statuscode",
    OrderStatusReason,
    values={
        OrderStatusReason.NEW: 1,
        OrderStatusReason.PENDING: 2,
        OrderStatusReason.IN_PROGRESS: 3,
        OrderStatusReason.NO_MONEY: 4,
        OrderStatusReason.COMPLETE: 100001,
        OrderStatusReason.PARTIAL: 100002,
    },
)
INVOICE_STATE = OptionSet(
    "invoice_statecode",
    InvoiceState,
    values={InvoiceState.ACTIVE: 0, InvoiceState.PAID: 2, InvoiceState.CANCELED: 3},
)
INVOICE_STATUS = OptionSet(
    "invoice_statuscode",
    InvoiceStatusReason,
    values={
        InvoiceStatusReason.NEW: 1,
        InvoiceStatusReason.COMPLETE: 100001,
        InvoiceStatusReason.PARTIAL: 100002,
        InvoiceStatusReason.CANCELED: 100003,
    },
)
PRODUCT_STATE = OptionSet(
    "product_statecode",
    ProductState,
    values={ProductState.ACTIVE: 0, ProductState.RETIRED: 1, ProductState.DRAFT: 2},
)
PRODUCT_STATUS = OptionSet(
    "product_statuscode",
    ProductState,
    values={ProductState.ACTIVE: 1, ProductState.RETIRED: 2, ProductState.DRAFT: 0},
)

YES_NO = {True: N_("Yes"), False: N_("No")}
