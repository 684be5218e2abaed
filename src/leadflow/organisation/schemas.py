"""Shapes of the organisation settings endpoints."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from leadflow.organisation.models import QualificationExperience, RecordCreation
from leadflow.schemas import InputModel


class QualificationSettings(InputModel):
    """The qualification settings of §6: the legacy switch and the per-record experience."""

    qualification_experience: QualificationExperience
    create_records_on_qualify: bool
    account_creation: RecordCreation
    contact_creation: RecordCreation
    opportunity_creation: RecordCreation


class QualificationSettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    qualification_experience: QualificationExperience
    create_records_on_qualify: bool
    account_creation: RecordCreation
    contact_creation: RecordCreation
    opportunity_creation: RecordCreation
    row_version: int
