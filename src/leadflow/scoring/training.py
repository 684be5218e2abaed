"""Training a scoring model: the history it learns from (its scope's leads qualified or disqualified
in its last months), whether that is enough, a new version in training, and the run (in a job) that
fits, tests and stores it, or marks it failed and leaves the published version in place."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from leadflow.core.db import utcnow
from leadflow.core.errors import InvalidState, ValidationFailed
from leadflow.core.records import get_record
from leadflow.core.uow import Database, UnitOfWork
from leadflow.leads.models import Lead, LeadState
from leadflow.scoring.common import ADMIN_TABLE, _settle
from leadflow.scoring.features import lead_rows_statement, unknown_fields, values_of
from leadflow.scoring.learner import Sample, fit
from leadflow.scoring.models import MINIMUM_PER_OUTCOME, ScopeKind, ScoringModel, ScoringVersion, VersionState
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege


def _scope_condition(model: ScoringModel) -> Any:
    if model.scope_kind is ScopeKind.BUSINESS_UNIT:
        return Lead.owning_business_unit_id == model.scope_business_unit_id
    if model.scope_kind is ScopeKind.LEAD_SOURCE:
        return Lead.lead_source == model.scope_lead_source
    return and_(True)


def _history_condition(model: ScoringModel, now: datetime) -> Any:
    return and_(
        Lead.state.in_((LeadState.QUALIFIED, LeadState.DISQUALIFIED)),
        Lead.merged.is_(False),
        Lead.closed_at >= now - timedelta(days=round(model.history_months * 30.44)),
        _scope_condition(model),
    )


@dataclass(frozen=True)
class Readiness:
    """How many qualified and disqualified leads the model's history holds, and how many it lacks."""

    qualified: int
    disqualified: int

    @property
    def missing_qualified(self) -> int:
        return max(MINIMUM_PER_OUTCOME - self.qualified, 0)

    @property
    def missing_disqualified(self) -> int:
        return max(MINIMUM_PER_OUTCOME - self.disqualified, 0)

    @property
    def ready(self) -> bool:
        return not (self.missing_qualified or self.missing_disqualified)


def readiness(model: ScoringModel, *, session: Session) -> Readiness:
    """What the model's history holds today."""
    rows = session.execute(
        select(Lead.state, func.count()).where(_history_condition(model, utcnow())).group_by(Lead.state)
    )
    counts = {state: count for state, count in rows}
    return Readiness(counts.get(LeadState.QUALIFIED, 0), counts.get(LeadState.DISQUALIFIED, 0))


def _check_fields(model: ScoringModel) -> None:
    unknown = unknown_fields(model.fields)
    if unknown:
        raise ValidationFailed(
            f"The model uses a field that no longer exists: {', '.join(unknown)}. Remove it from the model's "
            "fields, then train it again.",
            code="scoring_unknown_field",
            details={"fields": unknown},
        )


def begin_training(model_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> ScoringVersion:
    """A new version in training, refused at once when the history is too small (settings Write)."""
    require_admin(actor, ADMIN_TABLE, Privilege.WRITE)
    model = get_record(uow.session, ScoringModel, model_id, label="scoring_model", for_update=True)
    _check_fields(model)
    ready = readiness(model, session=uow.session)
    if not ready.ready:
        raise InvalidState(
            f"Training needs at least {MINIMUM_PER_OUTCOME} qualified and {MINIMUM_PER_OUTCOME} disqualified "
            f"leads closed in the last {model.history_months} months; it has {ready.qualified} and "
            f"{ready.disqualified}: {ready.missing_qualified} qualified and {ready.missing_disqualified} "
            "disqualified are missing.",
            code="scoring_too_few_leads",
            details={
                "qualified": ready.qualified,
                "disqualified": ready.disqualified,
                "missing_qualified": ready.missing_qualified,
                "missing_disqualified": ready.missing_disqualified,
            },
        )
    training = list(
        uow.session.scalars(
            select(ScoringVersion)
            .where(ScoringVersion.model_id == model.id, ScoringVersion.state == VersionState.TRAINING)
            .with_for_update()
        )
    )
    for version in training:
        _settle(uow.session, version, keep=True)
    if any(version.state is VersionState.TRAINING for version in training):
        raise InvalidState("This model is already being trained; wait for that training to end.", code="scoring_busy")
    number = (
        uow.session.scalar(select(func.max(ScoringVersion.number)).where(ScoringVersion.model_id == model.id)) or 0
    ) + 1
    version = ScoringVersion(
        id=uuid.uuid4(), model_id=model.id, number=number, state=VersionState.TRAINING, started_by_id=actor.user_id
    )
    uow.session.add(version)
    uow.flush()
    record_action(
        uow.session, actor, "train", table="scoring_models", record_id=model.id, summary=f"{model.name} v{number}"
    )
    return version


def history(model: ScoringModel, *, session: Session, now: datetime | None = None) -> list[Sample]:
    """The closed leads a model learns from, as samples."""
    now = now or utcnow()
    statement = lead_rows_statement().where(_history_condition(model, now))
    return [
        Sample(
            values=values_of(row._mapping, model.fields, now=now),
            qualified=row.state is LeadState.QUALIFIED,
            closed_at=row.closed_at,
        )
        for row in session.execute(statement)
    ]


def run_training(version_id: uuid.UUID, *, database: Database, step: Callable[[str], None]) -> ScoringVersion:
    """Train a version: read the history, fit, test, store. A failure marks the version failed and
    leaves the published one in place."""
    try:
        with database.unit_of_work(read_only=True) as uow:
            version = uow.session.get_one(ScoringVersion, version_id)
            model = uow.session.get_one(ScoringModel, version.model_id)
            _check_fields(model)
            step("reading")
            samples = history(model, session=uow.session)
            fields = list(model.fields)
        parameters, report = fit(samples, fields, step=step)
    except Exception as failure:
        with database.unit_of_work() as uow:
            version = uow.session.get_one(ScoringVersion, version_id, with_for_update=True)
            version.state = VersionState.FAILED
            version.error = (getattr(failure, "message", None) or str(failure) or type(failure).__name__)[:2000]
            uow.commit()
        raise
    with database.unit_of_work() as uow:
        version = uow.session.get_one(ScoringVersion, version_id, with_for_update=True)
        model = uow.session.get_one(ScoringModel, version.model_id, with_for_update=True)
        version.parameters = parameters
        version.report = report
        version.state = VersionState.TRAINED
        version.trained_at = model.last_trained_at = utcnow()
        uow.commit()
    return version


def fail_training(version_id: uuid.UUID, *, database: Database, error: str) -> None:
    """Mark a version whose training ended without a result (its job was canceled or died) as failed."""
    with database.unit_of_work() as uow:
        version = uow.session.get(ScoringVersion, version_id, with_for_update=True)
        if version is not None and version.state in (VersionState.TRAINING, VersionState.FAILED):
            version.state = VersionState.FAILED
            version.error = error[:2000]
            uow.commit()
