"""Scoring models and their versions as administrators manage them: a model made, changed (new
thresholds regrade its leads at once, a new scope or new fields apply from its next training) and
read; its versions listed; a trained version published, or an earlier one restored, and a model
unpublished (its version retired and kept). Scoring the leads again after a publish is the caller's."""

from __future__ import annotations

import uuid

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from leadflow.core.db import utcnow
from leadflow.core.errors import Conflict, InvalidState, field_refusal
from leadflow.core.records import check_version, get_record, unknown_reference
from leadflow.core.uow import UnitOfWork
from leadflow.leads.models import Lead
from leadflow.scoring.common import ADMIN_TABLE, _settle
from leadflow.scoring.models import LeadScore, ScopeKind, ScoringModel, ScoringVersion, VersionState, check_thresholds
from leadflow.scoring.rescoring import forget_live
from leadflow.scoring.schemas import ScoringModelChange, ScoringModelIn
from leadflow.scoring.scorer import Scorer
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.models import BusinessUnit
from leadflow.security.privileges import Privilege


def _check_scope(session: Session, model: ScoringModel) -> None:
    if model.scope_kind is ScopeKind.BUSINESS_UNIT:
        if model.scope_business_unit_id is None:
            raise field_refusal(
                "scope_business_unit_id",
                "scope_business_unit_required",
                "Choose the business unit whose leads the model covers.",
            )
        if session.get(BusinessUnit, model.scope_business_unit_id) is None:
            raise unknown_reference(
                field="scope_business_unit_id", label="business_unit", record_id=model.scope_business_unit_id
            )
        model.scope_lead_source = None
    elif model.scope_kind is ScopeKind.LEAD_SOURCE:
        if model.scope_lead_source is None:
            raise field_refusal(
                "scope_lead_source",
                "scope_lead_source_required",
                "Choose the lead source whose leads the model covers.",
            )
        model.scope_business_unit_id = None
    else:
        model.scope_business_unit_id = model.scope_lead_source = None


def _name_taken(session: Session, name: str, model_id: uuid.UUID | None) -> None:
    clash = session.scalar(
        select(ScoringModel.id).where(func.lower(ScoringModel.name) == name.lower(), ScoringModel.id != model_id)
    )
    if clash is not None:
        raise Conflict(f"A scoring model is already named {name!r}; choose another name.", code="name_taken")


def create_model(data: ScoringModelIn, *, uow: UnitOfWork, actor: Actor) -> ScoringModel:
    """A new scoring model, untrained (settings Write)."""
    require_admin(actor, ADMIN_TABLE, Privilege.WRITE)
    _name_taken(uow.session, data.name, None)
    model = ScoringModel(id=uuid.uuid4(), created_by_id=actor.user_id, **data.model_dump())
    _check_scope(uow.session, model)
    uow.session.add(model)
    uow.flush()
    record_action(uow.session, actor, "create", table="scoring_models", record_id=model.id, summary=model.name)
    return model


def get_model(model_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, for_update: bool = False) -> ScoringModel:
    """One scoring model (settings Read)."""
    require_admin(actor, ADMIN_TABLE, Privilege.READ)
    return get_record(uow.session, ScoringModel, model_id, label="scoring_model", for_update=for_update)


def list_models(*, uow: UnitOfWork, actor: Actor) -> list[ScoringModel]:
    """Every scoring model by name (settings Read)."""
    require_admin(actor, ADMIN_TABLE, Privilege.READ)
    return list(uow.session.scalars(select(ScoringModel).order_by(func.lower(ScoringModel.name))))


def update_model(
    model_id: uuid.UUID,
    change: ScoringModelChange,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> ScoringModel:
    """Change a model's settings (settings Write); new thresholds regrade its leads at once, new
    scope or fields apply from its next training."""
    require_admin(actor, ADMIN_TABLE, Privilege.WRITE)
    model = get_record(uow.session, ScoringModel, model_id, label="scoring_model", for_update=True)
    check_version(model, expected_version)
    values = change.model_dump(exclude_unset=True)
    if "name" in values:
        _name_taken(uow.session, values["name"], model.id)
    for name, value in values.items():
        setattr(model, name, value)
    _check_scope(uow.session, model)
    uow.flush()
    if "thresholds" in values:
        regrade(uow.session, model)
    record_action(uow.session, actor, "update", table="scoring_models", record_id=model.id, summary=model.name)
    return model


def regrade(session: Session, model: ScoringModel) -> None:
    """Grade the leads a model scored again, under its thresholds (one statement)."""
    thresholds = check_thresholds(model.thresholds)
    scored = select(LeadScore.lead_id).where(LeadScore.model_id == model.id)
    grade = case(
        (Lead.score >= thresholds["A"], "A"),
        (Lead.score >= thresholds["B"], "B"),
        (Lead.score >= thresholds["C"], "C"),
        else_="D",
    )
    session.execute(
        update(Lead)
        .where(Lead.id.in_(scored), Lead.score.is_not(None))
        .values(score_grade=grade, modified_at=Lead.modified_at)
        .execution_options(synchronize_session=False)
    )
    forget_live(session)


def versions(model_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> list[ScoringVersion]:
    """A model's versions, newest first (settings Read)."""
    get_model(model_id, uow=uow, actor=actor)
    found = list(
        uow.session.scalars(
            select(ScoringVersion).where(ScoringVersion.model_id == model_id).order_by(ScoringVersion.number.desc())
        )
    )
    for version in found:
        _settle(uow.session, version)
    return found


def get_version(version_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> ScoringVersion:
    """One version of a model (settings Read)."""
    require_admin(actor, ADMIN_TABLE, Privilege.READ)
    version = get_record(uow.session, ScoringVersion, version_id, label="scoring_version")
    _settle(uow.session, version)
    return version


def version_to_publish(
    model_id: uuid.UUID, version_id: uuid.UUID | None, *, uow: UnitOfWork, actor: Actor
) -> ScoringVersion:
    """The version a publish names, which must be this model's, or else the model's newest trained one
    (settings Write, checked first)."""
    require_admin(actor, ADMIN_TABLE, Privilege.WRITE)
    model = get_record(uow.session, ScoringModel, model_id, label="scoring_model")
    if version_id is not None:
        version = get_record(uow.session, ScoringVersion, version_id, label="scoring_version")
        if version.model_id != model.id:
            raise InvalidState("That version belongs to another scoring model.", code="scoring_other_model")
        return version
    newest = uow.session.scalar(
        select(ScoringVersion)
        .where(ScoringVersion.model_id == model.id, ScoringVersion.state == VersionState.TRAINED)
        .order_by(ScoringVersion.number.desc())
        .limit(1)
    )
    if newest is None:
        raise InvalidState("This model has no trained version to publish; train it first.", code="scoring_not_trained")
    return newest


def publish(version_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> ScoringModel:
    """Publish a trained version, or an earlier one again (restore); the one published before is retired
    and kept. The caller scores the model's leads again (a job)."""
    require_admin(actor, ADMIN_TABLE, Privilege.WRITE)
    version = get_record(uow.session, ScoringVersion, version_id, label="scoring_version", for_update=True)
    model = uow.session.get_one(ScoringModel, version.model_id, with_for_update=True)
    if version.state not in (VersionState.TRAINED, VersionState.RETIRED, VersionState.PUBLISHED):
        raise InvalidState(
            f"Version {version.number} is {version.state.value}; only a trained version can be published.",
            code="scoring_not_trained",
        )
    if version.parameters and Scorer(version.parameters).problem:
        raise InvalidState(
            f"Version {version.number} was trained on fields that have changed since; train the model again.",
            code="scoring_stale_version",
        )
    if model.published_version_id not in (None, version.id):
        earlier = uow.session.get_one(ScoringVersion, model.published_version_id, with_for_update=True)
        earlier.state = VersionState.RETIRED
    version.state = VersionState.PUBLISHED
    version.published_at = utcnow()
    model.published_version_id = version.id
    uow.flush()
    forget_live(uow.session)
    record_action(
        uow.session,
        actor,
        "publish",
        table="scoring_models",
        record_id=model.id,
        summary=f"{model.name} v{version.number}",
    )
    return model


def unpublish(model_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> ScoringModel:
    """Stop a model scoring leads: its version is retired (kept), its leads lose their scores."""
    require_admin(actor, ADMIN_TABLE, Privilege.WRITE)
    model = get_record(uow.session, ScoringModel, model_id, label="scoring_model", for_update=True)
    if model.published_version_id is None:
        raise InvalidState("This model is not published.", code="scoring_not_published")
    version = uow.session.get_one(ScoringVersion, model.published_version_id, with_for_update=True)
    version.state = VersionState.RETIRED
    model.published_version_id = None
    uow.flush()
    forget_live(uow.session)
    record_action(uow.session, actor, "unpublish", table="scoring_models", record_id=model.id, summary=model.name)
    return model
