"""Predictive lead scoring: models, their training and publishing (administrators), and a lead's score."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict

from leadflow.api.deps import CurrentActor, DatabaseDep, ExpectedVersion, QueueDep, ReadUowDep, UowDep
from leadflow.api.errors import answer_language
from leadflow.api.jobs import JobOut, accepted
from leadflow.core.records import not_found
from leadflow.core.schemas import InputModel
from leadflow.http.scores import message_text, reason_text, trend_label
from leadflow.leads.models import LeadSource
from leadflow.scoring import service
from leadflow.scoring.learner import grade_shares
from leadflow.scoring.models import ScopeKind, ScoringModel, ScoringVersion, Trend, VersionState
from leadflow.scoring.schemas import ScoringModelChange, ScoringModelIn
from leadflow.tasks import scoring as scoring_tasks
from leadflow.tasks import submit

router = APIRouter(prefix="/scoring-models", tags=["scoring"])
leads_router = APIRouter(tags=["scoring"])


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: int
    state: VersionState
    job_id: uuid.UUID | None
    report: dict[str, Any] | None
    grades: dict[str, dict[str, Any]] | None = None
    error: str | None
    trained_at: datetime | None
    published_at: datetime | None
    created_at: datetime


class ReadinessOut(BaseModel):
    qualified: int
    disqualified: int
    missing_qualified: int
    missing_disqualified: int
    ready: bool


class ScoringModelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    scope_kind: ScopeKind
    scope_business_unit_id: uuid.UUID | None
    scope_lead_source: LeadSource | None
    history_months: int
    fields: list[str]
    thresholds: dict[str, int]
    retrain_days: int
    auto_publish: bool
    published_version_id: uuid.UUID | None
    last_trained_at: datetime | None
    row_version: int
    created_at: datetime
    modified_at: datetime
    readiness: ReadinessOut | None = None
    versions: list[VersionOut] = []


class PublishIn(InputModel):
    """The version to publish: a trained one, or an earlier one to restore; the newest trained when left out."""

    version_id: uuid.UUID | None = None


class ReasonOut(BaseModel):
    field: str
    value: str
    effect: float
    label: str


class LeadScoreOut(BaseModel):
    lead_id: uuid.UUID
    score: int | None
    grade: str | None
    trend: Trend
    trend_label: str
    reasons: list[ReasonOut]
    model_id: uuid.UUID | None
    model_name: str | None
    model_version: int | None
    scored_at: datetime | None
    message: str | None


class GradeSummaryOut(BaseModel):
    grades: dict[str, int]
    unscored: int
    untouched_a: int
    untouched_days: int


def _version_out(version: ScoringVersion, model: ScoringModel) -> VersionOut:
    out = VersionOut.model_validate(version)
    if version.report:
        out.grades = grade_shares(version.report, model.thresholds)
    return out


def _model_out(model: ScoringModel, uow: Any, actor: Any, response: Response | None = None) -> ScoringModelOut:
    out = ScoringModelOut.model_validate(model)
    ready = service.readiness(model, session=uow.session)
    out.readiness = ReadinessOut(
        qualified=ready.qualified,
        disqualified=ready.disqualified,
        missing_qualified=ready.missing_qualified,
        missing_disqualified=ready.missing_disqualified,
        ready=ready.ready,
    )
    out.versions = [_version_out(version, model) for version in service.versions(model.id, uow=uow, actor=actor)]
    if response is not None:
        response.headers["ETag"] = model.etag
    return out


@router.get("")
def list_scoring_models(uow: ReadUowDep, actor: CurrentActor) -> list[ScoringModelOut]:
    """Every scoring model, with how ready its history is and its versions."""
    return [_model_out(model, uow, actor) for model in service.list_models(uow=uow, actor=actor)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_scoring_model(data: ScoringModelIn, uow: UowDep, actor: CurrentActor, response: Response) -> ScoringModelOut:
    """Create a scoring model (administrators); train it next."""
    model = service.create_model(data, uow=uow, actor=actor)
    out = _model_out(model, uow, actor, response)
    uow.commit()
    response.headers["Location"] = f"/api/v1/scoring-models/{model.id}"
    return out


@router.get("/{model_id}")
def read_scoring_model(
    model_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response
) -> ScoringModelOut:
    """One scoring model with its versions and their reports (AUC, calibration, grades)."""
    return _model_out(service.get_model(model_id, uow=uow, actor=actor), uow, actor, response)


@router.patch("/{model_id}")
def change_scoring_model(
    model_id: uuid.UUID,
    data: ScoringModelChange,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> ScoringModelOut:
    """Change a model's settings (administrators); new grade thresholds regrade its leads at once."""
    model = service.update_model(model_id, data, uow=uow, actor=actor, expected_version=version)
    out = _model_out(model, uow, actor, response)
    uow.commit()
    return out


@router.post("/{model_id}/train", status_code=status.HTTP_202_ACCEPTED)
def train_scoring_model(
    model_id: uuid.UUID, database: DatabaseDep, queue: QueueDep, actor: CurrentActor, response: Response
) -> JobOut:
    """Start training a new version (administrators): a job; refused at once with fewer than 40
    qualified and 40 disqualified leads in the model's history (the refusal says how many are missing)."""
    _version, job = scoring_tasks.start_training(model_id, database=database, actor=actor)
    return accepted(submit(job.id, queue=queue, database=database), response)


@router.post("/{model_id}/publish", status_code=status.HTTP_202_ACCEPTED)
def publish_scoring_model(
    model_id: uuid.UUID,
    database: DatabaseDep,
    queue: QueueDep,
    actor: CurrentActor,
    response: Response,
    data: PublishIn | None = None,
) -> JobOut:
    """Publish a trained version (the newest when none is named), or restore an earlier one; the
    previous one is kept. A job scores every open lead with it."""
    with database.unit_of_work(read_only=True) as uow:
        version_id = service.version_to_publish(
            model_id, data.version_id if data is not None else None, uow=uow, actor=actor
        ).id
    _model, job = scoring_tasks.publish_version(version_id, database=database, actor=actor)
    return accepted(submit(job.id, queue=queue, database=database), response)


@router.post("/{model_id}/unpublish", status_code=status.HTTP_202_ACCEPTED)
def unpublish_scoring_model(
    model_id: uuid.UUID, database: DatabaseDep, queue: QueueDep, actor: CurrentActor, response: Response
) -> JobOut:
    """Stop a model scoring leads (its version is kept); a job clears or reassigns its leads' scores."""
    _model, job = scoring_tasks.unpublish_model(model_id, database=database, actor=actor)
    return accepted(submit(job.id, queue=queue, database=database), response)


@router.get("/{model_id}/versions/{version_id}")
def read_scoring_version(
    model_id: uuid.UUID, version_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor
) -> VersionOut:
    """One version of a model with its report."""
    model = service.get_model(model_id, uow=uow, actor=actor)
    version = service.get_version(version_id, uow=uow, actor=actor)
    if version.model_id != model.id:
        raise not_found(label="scoring_version", record_id=version_id)
    return _version_out(version, model)


def score_out(view: service.LeadScoreView, language: str) -> LeadScoreOut:
    """A lead's score as the API returns it, its labels in ``language``."""
    return LeadScoreOut(
        lead_id=view.lead_id,
        score=view.score,
        grade=view.grade,
        trend=view.trend,
        trend_label=trend_label(language, view.trend),
        reasons=[
            ReasonOut(field=field, value=value, effect=effect, label=reason_text(language, field, value, effect))
            for field, value, effect in view.reasons
        ],
        model_id=view.model_id,
        model_name=view.model_name,
        model_version=view.model_version,
        scored_at=view.scored_at,
        message=message_text(language, view.message),
    )


@leads_router.get("/leads/{lead_id}/score")
def read_lead_score(lead_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, http: Request) -> LeadScoreOut:
    """A lead's score (0-100), grade (A-D), trend and the reasons that raised and lowered it most,
    in the request's language; without a score, ``message`` says why."""
    return score_out(service.lead_score(lead_id, uow=uow, actor=actor), answer_language(http))


@leads_router.get("/scoring/grades")
def read_grade_summary(uow: ReadUowDep, actor: CurrentActor, mine: bool = False) -> GradeSummaryOut:
    """The open leads you may read (``mine``: that you own) by grade, and the grade A leads nobody
    touched (no change, note or activity) for more than a week."""
    summary = service.grade_summary(uow=uow, actor=actor, mine=mine)
    return GradeSummaryOut(
        grades=summary.grades,
        unscored=summary.unscored,
        untouched_a=summary.untouched_a,
        untouched_days=service.UNTOUCHED_DAYS,
    )
