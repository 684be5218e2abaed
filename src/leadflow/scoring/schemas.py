"""Shapes of the scoring models' input, for every entry point."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from leadflow.core.errors import ValidationFailed
from leadflow.core.schemas import InputModel, partial_model
from leadflow.leads.models import LeadSource
from leadflow.scoring.features import BY_KEY, DEFAULT_FIELDS
from leadflow.scoring.models import DEFAULT_THRESHOLDS, ScopeKind, check_thresholds


class ScoringModelIn(InputModel):
    """A scoring model: which leads it covers, the history it learns from, the fields it may use."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    scope_kind: ScopeKind = ScopeKind.ALL
    scope_business_unit_id: uuid.UUID | None = None
    scope_lead_source: LeadSource | None = None
    history_months: int = Field(default=12, ge=1, le=60)
    fields: list[str] = Field(default_factory=lambda: list(DEFAULT_FIELDS), min_length=1, max_length=len(BY_KEY))
    thresholds: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    retrain_days: int = Field(default=30, ge=0, le=366)
    auto_publish: bool = False

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: list[str]) -> list[str]:
        unknown = [key for key in value if key not in BY_KEY]
        if unknown:
            raise PydanticCustomError(
                "invalid_value",
                "unknown field {field}; a model may use {known}",
                {"field": unknown[0], "known": ", ".join(BY_KEY)},
            )
        return list(dict.fromkeys(value))

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, int]) -> dict[str, int]:
        try:
            return check_thresholds(value)
        except ValidationFailed as refused:
            raise PydanticCustomError("invalid_value", refused.message.rstrip(".")) from None


if TYPE_CHECKING:
    ScoringModelChange = ScoringModelIn
else:
    ScoringModelChange = partial_model(
        ScoringModelIn, "ScoringModelChange", "A change of some of a scoring model's settings: the fields sent change."
    )
