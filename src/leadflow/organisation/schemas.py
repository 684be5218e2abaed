"""Shapes of the organisation settings endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import phonenumbers
from pydantic import ConfigDict, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from leadflow.core.schemas import InputModel, partial_model
from leadflow.organisation.models import DuplicateExperience, QualificationExperience, RecordCreation
from leadflow.security.schemas import TimeZoneName


class QualificationSettings(InputModel):
    """The qualification settings of §6: the legacy switch and the per-record experience."""

    qualification_experience: QualificationExperience
    create_records_on_qualify: bool
    account_creation: RecordCreation
    contact_creation: RecordCreation
    opportunity_creation: RecordCreation


if TYPE_CHECKING:  # a partial model is a subclass of its model: the type checker reads it as the model
    QualificationSettingsChange = QualificationSettings
else:
    QualificationSettingsChange = partial_model(
        QualificationSettings,
        "QualificationSettingsChange",
        "A change of some qualification settings (PATCH): the fields sent change, the others stay.",
    )


class QualificationSettingsOut(QualificationSettings):
    """The qualification settings as stored, with the version to send back in If-Match."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")

    row_version: int


class DuplicateDetectionSettings(InputModel):
    """Duplicate detection on/off globally and per table, and the warning the web app shows (§5, §6)."""

    duplicate_experience: DuplicateExperience
    duplicate_detection_enabled: bool
    detect_duplicates_leads: bool
    detect_duplicates_accounts: bool
    detect_duplicates_contacts: bool
    detect_duplicates_opportunities: bool
    default_phone_region: Annotated[str, StringConstraints(min_length=2, max_length=2, to_upper=True)]

    @field_validator("default_phone_region")
    @classmethod
    def known_region(cls, value: str) -> str:
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise PydanticCustomError("unknown_region", "Input should be an ISO 3166 region code such as ES or GB")
        return value


if TYPE_CHECKING:  # a partial model is a subclass of its model: the type checker reads it as the model
    DuplicateDetectionSettingsChange = DuplicateDetectionSettings
else:
    DuplicateDetectionSettingsChange = partial_model(
        DuplicateDetectionSettings,
        "DuplicateDetectionSettingsChange",
        "A change of some duplicate detection settings (PATCH): the fields sent change, the others stay.",
    )


class DuplicateDetectionSettingsOut(DuplicateDetectionSettings):
    """The duplicate detection settings as stored, with the version to send back in If-Match."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")

    row_version: int


class RegionalSettings(InputModel):
    """The organisation's default time zone: times are shown in it to users who chose none of their own."""

    default_time_zone: TimeZoneName


if TYPE_CHECKING:  # a partial model is a subclass of its model: the type checker reads it as the model
    RegionalSettingsChange = RegionalSettings
else:
    RegionalSettingsChange = partial_model(
        RegionalSettings,
        "RegionalSettingsChange",
        "A change of some regional settings (PATCH): the fields sent change, the others stay.",
    )


class RegionalSettingsOut(RegionalSettings):
    """The regional settings as stored, with the version to send back in If-Match."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")

    row_version: int


CompanyName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=160)]
CompanyAddress = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


class SalesSettings(InputModel):
    """Who prints quotes, orders and invoices: the company's name and postal address at the top of
    each (null or blank leaves them out; an unnamed company prints as leadflow)."""

    company_name: CompanyName | None
    company_address: CompanyAddress | None


if TYPE_CHECKING:  # a partial model is a subclass of its model: the type checker reads it as the model
    SalesSettingsChange = SalesSettings
else:
    SalesSettingsChange = partial_model(
        SalesSettings,
        "SalesSettingsChange",
        "A change of some sales settings (PATCH): the fields sent change, the others stay.",
    )


class SalesSettingsOut(SalesSettings):
    """The sales settings as stored, with the version to send back in If-Match."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")

    row_version: int
