"""The lead record (§1) and its state rules: qualify, disqualify, reactivate (§2-§4)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    case,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.core.db import (
    MONEY_SCALE,
    Base,
    Money,
    RecordMixin,
    ScaledDecimal,
    UTCDateTime,
    enum_column,
    utcnow,
)
from leadflow.core.errors import InvalidState, ValidationFailed
from leadflow.customers.address import AddressMixin
from leadflow.fields.models import CustomisableMixin
from leadflow.opportunities.models import Need, PurchaseProcess, PurchaseTimeframe
from leadflow.security.models import OwnedMixin

# The verbatim messages of the reference (§2.5, §3); tests and the web app quote them.
LEAD_IS_CLOSED = "The lead is closed and you can't convert or qualify a lead that is already closed."
LEAD_HAS_OPPORTUNITY = "You can't disqualify this lead because an opportunity is associated with it."


class LeadState(enum.StrEnum):
    """statecode: Open 0, Qualified 1, Disqualified 2."""

    OPEN = "open"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"

    @property
    def code(self) -> int:
        return {"open": 0, "qualified": 1, "disqualified": 2}[self.value]


class LeadStatusReason(enum.StrEnum):
    """statuscode 1..7; each belongs to exactly one state."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    LOST = "lost"
    CANNOT_CONTACT = "cannot_contact"
    NO_LONGER_INTERESTED = "no_longer_interested"
    CANCELED = "canceled"

    @property
    def code(self) -> int:
        return list(LeadStatusReason).index(self) + 1

    @property
    def state(self) -> LeadState:
        return STATE_OF_STATUS[self]


STATE_OF_STATUS = {
    LeadStatusReason.NEW: LeadState.OPEN,
    LeadStatusReason.CONTACTED: LeadState.OPEN,
    LeadStatusReason.QUALIFIED: LeadState.QUALIFIED,
    LeadStatusReason.LOST: LeadState.DISQUALIFIED,
    LeadStatusReason.CANNOT_CONTACT: LeadState.DISQUALIFIED,
    LeadStatusReason.NO_LONGER_INTERESTED: LeadState.DISQUALIFIED,
    LeadStatusReason.CANCELED: LeadState.DISQUALIFIED,
}
DISQUALIFY_REASONS = tuple(s for s, state in STATE_OF_STATUS.items() if state is LeadState.DISQUALIFIED)


LeadSource = enum.StrEnum(
    "LeadSource",
    "ADVERTISEMENT EMPLOYEE_REFERRAL EXTERNAL_REFERRAL PARTNER PUBLIC_RELATIONS SEMINAR TRADE_SHOW WEB WORD_OF_MOUTH OTHER",
)


Rating = enum.StrEnum("Rating", "HOT WARM COLD")


BudgetStatus = enum.StrEnum("BudgetStatus", "NO_COMMITTED_BUDGET MAY_BUY CAN_BUY WILL_BUY")


class Lead(RecordMixin, AddressMixin, OwnedMixin, CustomisableMixin, Base):
    """A potential customer not yet qualified."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_state_created", "state", "created_at", "id"),
        Index("ix_leads_owner_state_created", "owner_user_id", "state", "created_at", "id"),
        Index("ix_leads_created", "created_at", "id"),
        # Integrations look leads up by e-mail (the Dataverse Web API's emailaddress1 eq '...').
        Index("ix_leads_email", "email"),
        # The dashboard counts open leads by grade.
        Index("ix_leads_state_grade", "state", "score_grade"),
        # Only the leads that name an account: SQLite's statistics count the many without one as one
        # value and would judge a full index useless for a lookup by account.
        Index(
            "ix_leads_parent_account_id",
            "parent_account_id",
            sqlite_where=text("parent_account_id IS NOT NULL"),
            postgresql_where=text("parent_account_id IS NOT NULL"),
        ),
    )

    topic: Mapped[str] = mapped_column(String(300))
    first_name: Mapped[str | None] = mapped_column(String(50))
    last_name: Mapped[str] = mapped_column(String(50))
    full_name: Mapped[str] = mapped_column(String(160), default="")
    job_title: Mapped[str | None] = mapped_column(String(100))
    company_name: Mapped[str | None] = mapped_column(String(100))
    business_phone: Mapped[str | None] = mapped_column(String(50))
    mobile_phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(320))
    website: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    lead_source: Mapped[LeadSource | None] = mapped_column(enum_column(LeadSource))
    rating: Mapped[Rating | None] = mapped_column(enum_column(Rating))
    currency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("currencies.id"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaigns.id"))

    # Qualification details (BANT), the Qualify stage of §7.
    purchase_timeframe: Mapped[PurchaseTimeframe | None] = mapped_column(enum_column(PurchaseTimeframe))
    budget_amount: Mapped[Decimal | None] = mapped_column(Money())
    # The currency's rate when the budget or the currency was last saved, and the budget in base currency.
    exchange_rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(10))
    budget_amount_base: Mapped[Decimal | None] = mapped_column(Money())
    budget_status: Mapped[BudgetStatus | None] = mapped_column(enum_column(BudgetStatus))
    purchase_process: Mapped[PurchaseProcess | None] = mapped_column(enum_column(PurchaseProcess))
    decision_maker: Mapped[bool | None] = mapped_column()
    need: Mapped[Need | None] = mapped_column(enum_column(Need))
    qualification_comments: Mapped[str | None] = mapped_column(String(2000))

    # Links. The account and contact links are "existing account/contact" while the lead is open
    # and the records the qualification used once it is qualified.
    parent_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", use_alter=True, ondelete="SET NULL", deferrable=True, initially="DEFERRED"),
    )
    parent_contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", use_alter=True, ondelete="SET NULL", deferrable=True, initially="DEFERRED"),
        index=True,
    )
    # Every foreign key column that points at a busy table is indexed: without the index the
    # database scans this table whenever a referenced row is inserted or deleted.
    qualifying_opportunity_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("opportunities.id", use_alter=True, ondelete="SET NULL", deferrable=True, initially="DEFERRED"),
        index=True,
    )
    master_lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    merged: Mapped[bool] = mapped_column(default=False)

    # The predictive score (0-100) and grade (A-D) the published scoring model gives this open lead,
    # written by leadflow.scoring (never by a form); the reasons behind them are in lead_scores.
    score: Mapped[int | None] = mapped_column(SmallInteger)
    score_grade: Mapped[str | None] = mapped_column(String(1))

    state: Mapped[LeadState] = mapped_column(enum_column(LeadState), default=LeadState.OPEN)
    status_reason: Mapped[LeadStatusReason] = mapped_column(enum_column(LeadStatusReason), default=LeadStatusReason.NEW)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # --- state rules -------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state is LeadState.OPEN

    def ensure_editable(self) -> None:
        """Closed leads are read-only until reactivated (§1)."""
        if not self.is_open:
            raise InvalidState("This lead is closed and read-only; reactivate it to edit it.", code="lead_closed")

    def ensure_can_qualify(self) -> None:
        """Only an open lead can be qualified (§2.5)."""
        if not self.is_open:
            raise InvalidState(LEAD_IS_CLOSED, code="lead_closed")

    def qualified_values(self, *, opportunity_id: uuid.UUID | None) -> dict[str, object]:
        """The column values that close this lead as Qualified, refused unless it is open (§2.5).

        Returned rather than set so that a bulk writer can store many leads in one statement.
        """
        self.ensure_can_qualify()
        return {
            "state": LeadState.QUALIFIED,
            "status_reason": LeadStatusReason.QUALIFIED,
            "qualifying_opportunity_id": opportunity_id,
            "closed_at": utcnow(),
        }

    def qualify(self, *, opportunity_id: uuid.UUID | None) -> None:
        """Close the lead as Qualified, remembering the opportunity it produced."""
        for name, value in self.qualified_values(opportunity_id=opportunity_id).items():
            setattr(self, name, value)

    def disqualify(self, reason: LeadStatusReason, *, has_opportunity: bool) -> None:
        """Close the lead as Disqualified (§3); refused while an opportunity is associated."""
        if not self.is_open:
            raise InvalidState(LEAD_IS_CLOSED, code="lead_closed")
        if reason not in DISQUALIFY_REASONS:
            raise ValidationFailed(
                "Choose a disqualification reason: " + ", ".join(r.value for r in DISQUALIFY_REASONS) + ".",
                code="invalid_status_reason",
            )
        if has_opportunity:
            raise InvalidState(LEAD_HAS_OPPORTUNITY, code="lead_has_opportunity")
        self.state = LeadState.DISQUALIFIED
        self.status_reason = reason
        self.closed_at = utcnow()

    def reactivate(self) -> None:
        """Reopen a closed lead as New, keeping every field, note and attachment (§4)."""
        if self.is_open:
            raise InvalidState(
                "This lead is already open; only qualified or disqualified leads can be reactivated.",
                code="lead_already_open",
            )
        self.state = LeadState.OPEN
        self.status_reason = LeadStatusReason.NEW
        # The qualifying opportunity link stays: records made by the earlier qualification
        # still point back to this lead, and disqualifying stays refused while one exists (§3).
        self.closed_at = None

    def ensure_mergeable(self, who: str) -> None:
        """Only open leads merge: closed leads are read-only (§1, §9); ``who`` names the lead."""
        if not self.is_open:
            raise InvalidState(
                f"{who} is {self.state.value}: closed leads are read-only; reactivate it first, then merge it.",
                code="merge_inactive_record",
                details={"id": str(self.id), "state": self.state.value},
            )

    def close_as_merged(self) -> None:
        """Close the subordinate lead of a merge: disqualified as Canceled, marked merged."""
        self.state = LeadState.DISQUALIFIED
        self.status_reason = LeadStatusReason.CANCELED
        self.merged = True
        self.closed_at = utcnow()


# --- sorting the lead list (§10) -------------------------------------------------------------
# The lead list sorts by these expressions, and each one has an index on the very same
# expression with the id behind it (the keyset), so that any page of any sort reads only its own
# rows. Constants are written into the SQL (literal_column), never bound: a database uses an index
# on an expression only for that same expression, and a bound parameter is not the same text.


def _text_sort(column: Any) -> ColumnElement[Any]:
    """Text sorts without regard to letter case, blanks first (coalesce keeps keyset paging total)."""
    return func.lower(func.coalesce(column, literal_column("''", String)))


def _meaning_sort(column: Any, order: list[str]) -> ColumnElement[int]:
    """Pick-list values sort by what they mean (hot before warm), not alphabetically."""
    return case(
        {literal_column(f"'{value}'"): literal_column(str(rank), Integer) for rank, value in enumerate(order, start=1)},
        value=column,
        else_=literal_column("0", Integer),
    )


NO_BUDGET = Decimal(-1)  # where leads without a budget sort: before any real amount
NO_SCORE = -1  # where leads without a score sort: below a score of 0

# Sortable keys and the SQL expression each sorts by.
LEAD_SORTS: dict[str, ColumnElement[Any]] = {
    "created_at": Lead.__table__.c.created_at,
    "modified_at": Lead.__table__.c.modified_at,
    "topic": _text_sort(Lead.__table__.c.topic),
    "full_name": _text_sort(Lead.__table__.c.full_name),
    "last_name": _text_sort(Lead.__table__.c.last_name),
    "company_name": _text_sort(Lead.__table__.c.company_name),
    "email": _text_sort(Lead.__table__.c.email),
    "status_reason": _meaning_sort(Lead.__table__.c.status_reason, [reason.value for reason in LeadStatusReason]),
    "rating": _meaning_sort(Lead.__table__.c.rating, [Rating.HOT.value, Rating.WARM.value, Rating.COLD.value]),
    "score": func.coalesce(Lead.__table__.c.score, literal_column(str(NO_SCORE), Integer)),
    "budget_amount": func.coalesce(
        Lead.__table__.c.budget_amount, literal_column(str(int(NO_BUDGET.scaleb(MONEY_SCALE))), Money())
    ),
}

# created_at has its indexes already (ix_leads_created and the ones behind state and owner);
# every other sort gets one, which also carries state and owner so that a view's filter is
# tested on the index entry while walking it in order, before any row is read.
for _key, _expression in LEAD_SORTS.items():
    if _key != "created_at":
        _table = Lead.__table__
        Index(f"ix_leads_sort_{_key}", _expression, _table.c.id, _table.c.state, _table.c.owner_user_id)
