"""Scoring models, their trained versions and the score of each lead.

A model says which leads it covers and which of their fields it may learn from; each training makes
a version, which holds the learned weights (plain numbers, as JSON: no pickled objects are ever
loaded from the database) and the report of its quality. One version of a model is published at a
time; the others are kept, and an earlier one can be published again. A lead's score and grade sit
on the lead itself (``leads.score``, ``leads.score_grade``: the list sorts and filters by them
through an index); how it came to them sits in ``lead_scores``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.core.db import Base, RecordMixin, UTCDateTime, enum_column
from leadflow.core.errors import ValidationFailed
from leadflow.leads.models import LeadSource

ScopeKind = enum.StrEnum("ScopeKind", "ALL BUSINESS_UNIT LEAD_SOURCE")
# training: its job runs; trained: ready to publish; published: scores leads; retired: published
# before (can be published again); failed: the training did not finish (the error says why).
VersionState = enum.StrEnum("VersionState", "TRAINING TRAINED PUBLISHED RETIRED FAILED")
# Dynamics' score trend: improving, steady, declining, or not enough information.
Trend = enum.StrEnum("Trend", "IMPROVING STEADY DECLINING NOT_ENOUGH_INFORMATION")
GRADES = ("A", "B", "C", "D")
DEFAULT_THRESHOLDS = {"A": 75, "B": 50, "C": 25}
MINIMUM_PER_OUTCOME = 40  # qualified and disqualified leads a training needs, as Dynamics requires


def grade_of(score: int, thresholds: dict[str, int]) -> str:
    """The grade of a score: A at or above A's threshold, then B, then C; D below."""
    for grade in GRADES[:-1]:
        if score >= thresholds[grade]:
            return grade
    return GRADES[-1]


def check_thresholds(thresholds: dict[str, Any]) -> dict[str, int]:
    """Grade thresholds as whole scores, A above B above C, each between 1 and 100; refused otherwise."""
    try:
        values = {grade: int(thresholds[grade]) for grade in GRADES[:-1]}
    except (KeyError, TypeError, ValueError):
        raise ValidationFailed(
            "Give the lowest score of grades A, B and C as whole numbers.", code="invalid_thresholds"
        ) from None
    if not 100 >= values["A"] > values["B"] > values["C"] >= 1:
        raise ValidationFailed(
            "Grade thresholds must fall from A to C, between 100 and 1 (for example A 75, B 50, C 25).",
            code="invalid_thresholds",
        )
    return values


class ScoringModel(RecordMixin, Base):
    """What a scoring model covers and learns from, and which of its versions scores leads."""

    __tablename__ = "scoring_models"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    scope_kind: Mapped[ScopeKind] = mapped_column(enum_column(ScopeKind), default=ScopeKind.ALL)
    scope_business_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("business_units.id", ondelete="SET NULL")
    )
    scope_lead_source: Mapped[LeadSource | None] = mapped_column(enum_column(LeadSource))
    # Closed leads of the last ``history_months`` months are the training history.
    history_months: Mapped[int] = mapped_column(Integer, default=12)
    # The keys of the fields it may use (leadflow.scoring.features.FIELDS).
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The lowest score of grades A, B and C.
    thresholds: Mapped[dict[str, int]] = mapped_column(JSON, default=lambda: dict(DEFAULT_THRESHOLDS))
    # Retrain every so many days (0: only by hand); publish a scheduled training's version at once
    # only when asked to, otherwise it waits for an administrator to read its report.
    retrain_days: Mapped[int] = mapped_column(Integer, default=30)
    auto_publish: Mapped[bool] = mapped_column(default=False)
    published_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("scoring_versions.id", use_alter=True, ondelete="SET NULL")
    )
    last_trained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ScoringVersion(RecordMixin, Base):
    """One training of a model: its state, its learned weights and its quality report."""

    __tablename__ = "scoring_versions"
    __table_args__ = (Index("ix_scoring_versions_model", "model_id", "number", unique=True),)

    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scoring_models.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[VersionState] = mapped_column(enum_column(VersionState), default=VersionState.TRAINING)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    # What the learner produced (leadflow.scoring.scorer.Scorer reads it) and what the held-out test said.
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    trained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class LeadScore(Base):
    """How a lead came to its score: the version that scored it, the reasons, the score before."""

    __tablename__ = "lead_scores"
    __table_args__ = (Index("ix_lead_scores_version", "version_id"),)

    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scoring_models.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scoring_versions.id", ondelete="CASCADE"))
    # Empty when the lead could not be scored (``message`` says why: a value the model never saw...).
    score: Mapped[int | None] = mapped_column(SmallInteger)
    probability: Mapped[float | None] = mapped_column(Float)
    # The fields that moved the score most: [[field, value, effect in points], ...], largest first.
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(String(300))
    # The score before the last change of score under the same version, for the trend.
    previous_score: Mapped[int | None] = mapped_column(SmallInteger)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)
