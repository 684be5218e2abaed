"""Organisation-wide records: currencies, campaigns and the qualification settings (§6)."""

from __future__ import annotations

import enum
import uuid
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.core.db import Base, RecordMixin, ScaledDecimal, enum_column
from leadflow.core.formatting import DEFAULT_TIME_ZONE


class Currency(RecordMixin, Base):
    """An ISO 4217 currency; exactly one is the organisation's base currency."""

    __tablename__ = "currencies"

    iso_code: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    symbol: Mapped[str] = mapped_column(String(8))
    # Units of this currency per unit of the base currency.
    exchange_rate: Mapped[Decimal] = mapped_column(ScaledDecimal(10), default=Decimal(1))
    is_base: Mapped[bool] = mapped_column(default=False)
    # Decimal places its amounts are shown with (0 for JPY, 2 for EUR, up to 4).
    precision: Mapped[int] = mapped_column(default=2)


CampaignState = enum.StrEnum("CampaignState", "ACTIVE INACTIVE")


class Campaign(RecordMixin, Base):
    """A marketing campaign that leads and opportunities can come from."""

    __tablename__ = "campaigns"

    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    state: Mapped[CampaignState] = mapped_column(enum_column(CampaignState), default=CampaignState.ACTIVE)


# Which of the two setting styles of §6 is in force.
QualificationExperience = enum.StrEnum("QualificationExperience", "LEGACY PER_RECORD")


# Who decides whether qualify creates a given record (§6, newer experience).
RecordCreation = enum.StrEnum("RecordCreation", "AUTOMATIC SELLER")


DuplicateExperience = enum.StrEnum("DuplicateExperience", "CLASSIC ENHANCED")


class OrganisationSettings(RecordMixin, Base):
    """The single row of organisation-level settings."""

    __tablename__ = "organisation_settings"

    qualification_experience: Mapped[QualificationExperience] = mapped_column(
        enum_column(QualificationExperience), default=QualificationExperience.LEGACY
    )
    # "Create account, contact, and opportunity records by default upon qualifying a lead".
    create_records_on_qualify: Mapped[bool] = mapped_column(default=True)
    account_creation: Mapped[RecordCreation] = mapped_column(
        enum_column(RecordCreation, name="account_creation"), default=RecordCreation.AUTOMATIC
    )
    contact_creation: Mapped[RecordCreation] = mapped_column(
        enum_column(RecordCreation, name="contact_creation"), default=RecordCreation.AUTOMATIC
    )
    opportunity_creation: Mapped[RecordCreation] = mapped_column(
        enum_column(RecordCreation, name="opportunity_creation"), default=RecordCreation.AUTOMATIC
    )
    duplicate_experience: Mapped[DuplicateExperience] = mapped_column(
        enum_column(DuplicateExperience), default=DuplicateExperience.ENHANCED
    )
    duplicate_detection_enabled: Mapped[bool] = mapped_column(default=True)
    # Detection per table (§6), each also subject to the global switch above.
    detect_duplicates_leads: Mapped[bool] = mapped_column(default=True)
    detect_duplicates_accounts: Mapped[bool] = mapped_column(default=True)
    detect_duplicates_contacts: Mapped[bool] = mapped_column(default=True)
    detect_duplicates_opportunities: Mapped[bool] = mapped_column(default=True)
    # Region new duplicate rules read phone numbers in when they carry no country code.
    default_phone_region: Mapped[str] = mapped_column(String(2), default="ES")
    # Set once the out-of-box duplicate detection rules have been created (§9).
    builtin_duplicate_rules_created: Mapped[bool] = mapped_column(default=False)
    base_currency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("currencies.id"))
    # The IANA time zone times are shown in to users who chose none of their own (stored times stay UTC).
    default_time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIME_ZONE)
    # Who prints quotes, orders and invoices: the name and postal address at the top of each.
    company_name: Mapped[str | None] = mapped_column(String(160))
    company_address: Mapped[str | None] = mapped_column(Text)

    def detects_duplicates_in(self, table: str) -> bool:
        """Whether duplicate detection runs for records of this table."""
        return self.duplicate_detection_enabled and bool(getattr(self, f"detect_duplicates_{table}", False))
