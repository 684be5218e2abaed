"""Scoring's use cases: models (create, change, read), training, publishing and restoring versions,
and keeping every open lead's score current.

Administrators (Write on the settings) make, train and publish models; anyone who reads the settings
reads them; a lead's score is read by whoever may read the lead. Scores follow the leads: every flush
that creates or changes a lead, or adds or removes a note or activity regarding one, scores it again
in the same transaction (``_rescore_flushed``); publishing a version scores every open lead in bulk.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, delete, event, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

from leadflow.activities.models import Activity, Note, RegardingTable
from leadflow.core.db import utcnow
from leadflow.core.errors import Conflict, InvalidState, ValidationFailed, field_refusal
from leadflow.core.records import check_version, get_record, unknown_reference
from leadflow.core.uow import Database, UnitOfWork
from leadflow.jobs.models import FINISHED, Job, JobState
from leadflow.leads.models import Lead, LeadState
from leadflow.leads.service import get_lead
from leadflow.scoring.features import lead_rows, lead_rows_statement, unknown_fields, values_of
from leadflow.scoring.learner import Sample, fit
from leadflow.scoring.models import (
    MINIMUM_PER_OUTCOME,
    LeadScore,
    ScopeKind,
    ScoringModel,
    ScoringVersion,
    Trend,
    VersionState,
    check_thresholds,
    grade_of,
)
from leadflow.scoring.schemas import ScoringModelChange, ScoringModelIn
from leadflow.scoring.scorer import Scored, Scorer
from leadflow.security.access import access_condition, require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.models import BusinessUnit
from leadflow.security.privileges import Privilege

ADMIN_TABLE = "settings"  # models are settings: administrators (Write) make and publish, everyone reads
TREND_STEP = 5  # a score that moved by this many points or more is improving or declining
BATCH = 2000  # leads scored per batch (and per transaction) in bulk
Progress = Callable[[int, int], None]


# ---------------------------------------------------------------------------------------------- models


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


CANCELED_TRAINING = "The training was canceled."


def _settle(session: Session, version: ScoringVersion, *, keep: bool = False) -> None:
    """A version still in training whose job has ended without it (canceled while queued, failed
    before it started, given up after its worker died) is failed, with the job's reason: stored when
    ``keep``, otherwise only as read."""
    if version.state is not VersionState.TRAINING or version.job_id is None:
        return
    job = session.get(Job, version.job_id)
    if job is None or job.state not in FINISHED:
        return
    error = CANCELED_TRAINING if job.state is JobState.CANCELED else (job.error or "The training job failed.")
    if keep:
        version.state, version.error = VersionState.FAILED, error[:2000]
    else:
        set_committed_value(version, "state", VersionState.FAILED)
        set_committed_value(version, "error", error[:2000])


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


# ---------------------------------------------------------------------------------------------- history


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


# ---------------------------------------------------------------------------------------------- publish


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


# ---------------------------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Live:
    """A published model as scoring uses it: what it covers, its thresholds and its scorer."""

    model_id: uuid.UUID
    version_id: uuid.UUID
    scope_kind: ScopeKind
    scope_business_unit_id: uuid.UUID | None
    scope_lead_source: str | None
    thresholds: dict[str, int]
    scorer: Scorer

    def covers(self, row: Mapping[Any, Any]) -> bool:
        if self.scope_kind is ScopeKind.LEAD_SOURCE:
            source = row["lead_source"]
            return source is not None and source.value == self.scope_lead_source
        if self.scope_kind is ScopeKind.BUSINESS_UNIT:
            return row["owning_business_unit_id"] == self.scope_business_unit_id
        return True


_SPECIFIC = {ScopeKind.LEAD_SOURCE: 0, ScopeKind.BUSINESS_UNIT: 1, ScopeKind.ALL: 2}
_LIVE_KEY = "leadflow.scoring.live"


_SCORERS: dict[uuid.UUID, Scorer] = {}


def scorer_of(session: Session, version_id: uuid.UUID) -> Scorer:
    """A version's scorer, read from the database once per process (a version never changes)."""
    found = _SCORERS.get(version_id)
    if found is None:
        parameters = session.scalar(select(ScoringVersion.parameters).where(ScoringVersion.id == version_id))
        found = Scorer(parameters or {"intercept": 0.0, "fields": []})
        if len(_SCORERS) > 64:
            _SCORERS.clear()
        _SCORERS[version_id] = found
    return found


def live_models(session: Session) -> list[Live]:
    """The published models, most specific scope first (a lead source, a business unit, then all
    leads; the oldest first among equals), read once per transaction."""
    cached = session.info.get(_LIVE_KEY)
    if cached is None:
        statement = (
            select(ScoringModel)
            .where(ScoringModel.published_version_id.is_not(None))
            .order_by(ScoringModel.created_at, ScoringModel.id)
        )
        models = sorted(session.scalars(statement), key=lambda model: _SPECIFIC[model.scope_kind])
        cached = session.info[_LIVE_KEY] = [
            Live(
                model_id=model.id,
                version_id=model.published_version_id,  # type: ignore[arg-type]
                scope_kind=model.scope_kind,
                scope_business_unit_id=model.scope_business_unit_id,
                scope_lead_source=model.scope_lead_source.value if model.scope_lead_source else None,
                thresholds=check_thresholds(model.thresholds),
                scorer=scorer_of(session, model.published_version_id),  # type: ignore[arg-type]
            )
            for model in models
        ]
    return cached


def forget_live(session: Session) -> None:
    """Drop the cached published models, after one changed in this session."""
    session.info.pop(_LIVE_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_live_at_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        forget_live(session)


@dataclass
class Outcome:
    """What scoring one lead came to: the model that covers it (if any) and its score."""

    lead_id: uuid.UUID
    live: Live | None
    scored: Scored | None
    grade: str | None


def score_rows(rows: Iterable[Mapping[Any, Any]], live: Sequence[Live], *, now: datetime) -> list[Outcome]:
    """Score lead rows (``features.lead_rows``) with the model that covers each."""
    outcomes = []
    for row in rows:
        chosen = next((model for model in live if model.covers(row)), None)
        if chosen is None:
            outcomes.append(Outcome(row["id"], None, None, None))
            continue
        scorer = chosen.scorer
        scored = (
            Scored(score=None, message=scorer.problem)
            if scorer.problem
            else scorer.score(values_of(row, scorer.keys, now=now))
        )
        grade = None if scored.score is None else grade_of(scored.score, chosen.thresholds)
        outcomes.append(Outcome(row["id"], chosen, scored, grade))
    return outcomes


def _upsert_scores(session: Session, rows: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_LEAD_SCORES)
    excluded = statement.excluded
    table = _LEAD_SCORES.c
    same_version = table.version_id == excluded.version_id
    statement = statement.on_conflict_do_update(
        index_elements=["lead_id"],
        set_={
            "model_id": excluded.model_id,
            "version_id": excluded.version_id,
            "score": excluded.score,
            "probability": excluded.probability,
            "reasons": excluded.reasons,
            "message": excluded.message,
            "scored_at": excluded.scored_at,
            "previous_score": case(
                (and_(same_version, table.score.is_distinct_from(excluded.score)), table.score),
                (same_version, table.previous_score),
                else_=None,
            ),
        },
    )
    session.execute(statement, rows)


_LEADS = cast(Table, Lead.__table__)
_CHANGED = or_(
    _LEADS.c.score.is_distinct_from(bindparam("new_score")),
    _LEADS.c.score_grade.is_distinct_from(bindparam("new_grade")),
)
# SQLite: one UPDATE run for each lead (a cheap call to an embedded database).
_SET_ONE = (
    update(_LEADS)
    .where(_LEADS.c.id == bindparam("lead_id"), _CHANGED)
    .values(score=bindparam("new_score"), score_grade=bindparam("new_grade"), modified_at=_LEADS.c.modified_at)
)
# PostgreSQL: one statement for a slice of a batch, its three columns given as arrays.
_SLICE = 1000
_SET_MANY = text(
    "UPDATE leads SET score = given.new_score, score_grade = given.new_grade "
    "FROM unnest(CAST(:ids AS uuid[]), CAST(:scores AS smallint[]), CAST(:grades AS varchar[])) "
    "AS given (lead_id, new_score, new_grade) "
    "WHERE leads.id = given.lead_id "
    "AND (leads.score IS DISTINCT FROM given.new_score OR leads.score_grade IS DISTINCT FROM given.new_grade)"
)


def _set_scores(session: Session, rows: list[tuple[uuid.UUID, int | None, str | None]]) -> None:
    """Write score and grade on the leads where they changed: an unchanged row is not rewritten (on
    PostgreSQL a rewritten row costs an entry in every index of the table). A score is not an edit:
    the row version and modification time stay as they were."""
    if session.get_bind().dialect.name == "postgresql":
        # In slices: with many more ids the planner joins by reading the whole table instead of its key.
        for start in range(0, len(rows), _SLICE):
            part = rows[start : start + _SLICE]
            session.execute(
                _SET_MANY,
                {
                    "ids": [lead_id for lead_id, _, _ in part],
                    "scores": [score for _, score, _ in part],
                    "grades": [grade for _, _, grade in part],
                },
            )
        return
    session.execute(
        _SET_ONE,
        [{"lead_id": lead_id, "new_score": score, "new_grade": grade} for lead_id, score, grade in rows],
        execution_options={"synchronize_session": False},
    )


_LEAD_SCORES = cast(Table, LeadScore.__table__)
Fingerprint = tuple[Any, ...]


def _fingerprint(outcome: Outcome) -> Fingerprint:
    """What a stored score says, to compare with a new one: version, score, message, reasons."""
    assert outcome.live is not None and outcome.scored is not None
    scored = outcome.scored
    reasons = tuple((str(field), str(value), float(effect)) for field, value, effect in scored.reasons)
    return (outcome.live.version_id, scored.score, scored.message, reasons)


def _stored(session: Session, lead_ids: list[uuid.UUID]) -> dict[uuid.UUID, Fingerprint]:
    """The fingerprints of these leads' stored scores: a score that would not change is not written again
    (its scored-at stays the moment it last changed)."""
    found: dict[uuid.UUID, Fingerprint] = {}
    columns = _LEAD_SCORES.c
    for start in range(0, len(lead_ids), 500):
        rows = session.execute(
            select(columns.lead_id, columns.version_id, columns.score, columns.message, columns.reasons).where(
                columns.lead_id.in_(lead_ids[start : start + 500])
            )
        )
        for lead_id, version_id, score, message, reasons in rows:
            found[lead_id] = (
                version_id,
                score,
                message,
                tuple((str(field), str(value), float(effect)) for field, value, effect in reasons or ()),
            )
    return found


def _score_row(outcome: Outcome, now: datetime) -> dict[str, Any]:
    assert outcome.live is not None and outcome.scored is not None
    return {
        "lead_id": outcome.lead_id,
        "model_id": outcome.live.model_id,
        "version_id": outcome.live.version_id,
        "score": outcome.scored.score,
        "probability": outcome.scored.probability,
        "reasons": [list(reason) for reason in outcome.scored.reasons],
        "message": outcome.scored.message,
        "scored_at": now,
        "previous_score": None,
    }


def store(session: Session, outcomes: Sequence[Outcome], *, now: datetime) -> None:
    """Write scores: on the leads (score, grade) and in ``lead_scores`` (how they came to them)."""
    if not outcomes:
        return
    _set_scores(
        session,
        [
            (outcome.lead_id, None if outcome.scored is None else outcome.scored.score, outcome.grade)
            for outcome in outcomes
        ],
    )
    scored = [outcome for outcome in outcomes if outcome.live is not None and outcome.scored is not None]
    stored = _stored(session, [outcome.lead_id for outcome in scored])
    kept = [_score_row(outcome, now) for outcome in scored if stored.get(outcome.lead_id) != _fingerprint(outcome)]
    if kept:
        _upsert_scores(session, kept)
    uncovered = [outcome.lead_id for outcome in outcomes if outcome.live is None]
    for start in range(0, len(uncovered), 500):
        session.execute(delete(LeadScore).where(LeadScore.lead_id.in_(uncovered[start : start + 500])))


def rescore(session: Session, lead_ids: Iterable[uuid.UUID], *, leads: Mapping[uuid.UUID, Lead] | None = None) -> None:
    """Score these leads again with the published models (open ones only; closed leads keep their
    last score), in the caller's transaction; loaded ``leads`` show their new score at once."""
    live = live_models(session)
    ids = list(dict.fromkeys(lead_ids))
    if not ids:
        return
    now = utcnow()
    rows = [row for row in lead_rows(session, ids) if row["state"] is LeadState.OPEN]
    outcomes = score_rows(rows, live, now=now)
    store(session, outcomes, now=now)
    for outcome in outcomes:
        lead = (leads or {}).get(outcome.lead_id)
        if lead is not None:
            set_committed_value(lead, "score", None if outcome.scored is None else outcome.scored.score)
            set_committed_value(lead, "score_grade", outcome.grade)


@event.listens_for(Session, "after_flush")
def _rescore_flushed(session: Session, _context: Any) -> None:
    """Score again, in the same transaction, the leads a flush created or changed, and those whose
    notes or activities it added or removed."""
    leads: dict[uuid.UUID, Lead] = {}
    others: set[uuid.UUID] = set()
    for record in (*session.new, *session.dirty):
        if isinstance(record, Lead):
            # Closed leads keep their last score: only open ones are scored.
            if record not in session.deleted and record.id is not None and record.state is LeadState.OPEN:
                leads[record.id] = record
        elif isinstance(record, Note | Activity) and record.regarding_table == RegardingTable.LEADS:
            if record.regarding_id is not None:
                others.add(record.regarding_id)
    for record in session.deleted:
        if isinstance(record, Note | Activity) and record.regarding_table == RegardingTable.LEADS:
            if record.regarding_id is not None:
                others.add(record.regarding_id)
    if not (leads or others):
        return
    if not live_models(session) and not any(lead.score is not None for lead in leads.values()):
        return
    rescore(session, [*leads, *others], leads=leads)


def rescore_all(*, database: Database, progress: Progress | None = None, model_id: uuid.UUID | None = None) -> int:
    """Score every open lead again with the published models, in batches of their own transactions;
    how many leads were scored. ``model_id`` limits it to the leads that model covers or scored."""
    with database.unit_of_work(read_only=True) as uow:
        condition = Lead.state == LeadState.OPEN
        total = uow.session.scalar(select(func.count()).select_from(Lead).where(condition)) or 0
    done, after = 0, None
    while True:
        with database.unit_of_work() as uow:
            statement = lead_rows_statement().where(Lead.state == LeadState.OPEN)
            if after is not None:
                statement = statement.where(Lead.id > after)
            rows = [row._mapping for row in uow.session.execute(statement.order_by(Lead.id).limit(BATCH))]
            if not rows:
                break
            live = live_models(uow.session)
            now = utcnow()
            outcomes = score_rows(rows, live, now=now)
            if model_id is not None:
                outcomes = [
                    outcome
                    for outcome in outcomes
                    if (outcome.live is not None and outcome.live.model_id == model_id) or outcome.live is None
                ]
            store(uow.session, outcomes, now=now)
            uow.commit()
        done += len(rows)
        after = rows[-1]["id"]
        if progress is not None:
            progress(done, total)
    return done


# ---------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class LeadScoreView:
    """A lead's score as every entry point shows it."""

    lead_id: uuid.UUID
    score: int | None
    grade: str | None
    trend: Trend
    reasons: list[tuple[str, str, float]]
    model_id: uuid.UUID | None
    model_name: str | None
    model_version: int | None
    scored_at: datetime | None
    message: str | None


def trend_of(score: int | None, previous: int | None) -> Trend:
    """Improving or declining when the score moved by ``TREND_STEP`` points or more since its last
    change under the same version; steady when less; not enough information without an earlier score."""
    if score is None or previous is None:
        return Trend.NOT_ENOUGH_INFORMATION
    if score - previous >= TREND_STEP:
        return Trend.IMPROVING
    if previous - score >= TREND_STEP:
        return Trend.DECLINING
    return Trend.STEADY


def lead_score(lead_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> LeadScoreView:
    """A lead's score, grade, trend and reasons (whoever may read the lead)."""
    lead = get_lead(lead_id, uow=uow, actor=actor)
    row = uow.session.execute(
        select(LeadScore, ScoringModel.name, ScoringVersion.number)
        .join(ScoringModel, ScoringModel.id == LeadScore.model_id)
        .join(ScoringVersion, ScoringVersion.id == LeadScore.version_id)
        .where(LeadScore.lead_id == lead.id)
    ).first()
    if row is None:
        facts = {"lead_source": lead.lead_source, "owning_business_unit_id": lead.owning_business_unit_id}
        covered = any(model.covers(facts) for model in live_models(uow.session))
        message = "not_scored" if covered else "out_of_scope"
        return LeadScoreView(lead.id, None, None, Trend.NOT_ENOUGH_INFORMATION, [], None, None, None, None, message)
    scored, name, number = row
    return LeadScoreView(
        lead_id=lead.id,
        score=scored.score,
        grade=lead.score_grade,
        trend=trend_of(scored.score, scored.previous_score),
        reasons=[(str(field), str(value), float(effect)) for field, value, effect in scored.reasons or []],
        model_id=scored.model_id,
        model_name=name,
        model_version=number,
        scored_at=scored.scored_at,
        message=scored.message,
    )


# ---------------------------------------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class GradeSummary:
    """The actor's open leads by grade, and the grade A leads nobody touched for a week."""

    grades: dict[str, int]
    unscored: int
    untouched_a: int


UNTOUCHED_DAYS = 7


def grade_summary(*, uow: UnitOfWork, actor: Actor, mine: bool = False) -> GradeSummary:
    """How the open leads the actor may read (or owns) spread over the grades; how many grade A
    leads have had no change, note or activity for more than a week."""
    visible = and_(Lead.state == LeadState.OPEN, access_condition(actor, Privilege.READ, "leads", Lead))
    if mine:
        visible = and_(visible, Lead.owner_user_id == actor.user_id)
    counts = {
        grade: count
        for grade, count in uow.session.execute(
            select(Lead.score_grade, func.count()).where(visible).group_by(Lead.score_grade)
        )
    }
    since = utcnow() - timedelta(days=UNTOUCHED_DAYS)
    touched = or_(
        select(Note.id)
        .where(Note.regarding_table == RegardingTable.LEADS, Note.regarding_id == Lead.id, Note.created_at >= since)
        .exists(),
        select(Activity.id)
        .where(
            Activity.regarding_table == RegardingTable.LEADS,
            Activity.regarding_id == Lead.id,
            Activity.modified_at >= since,
        )
        .exists(),
    )
    untouched = (
        uow.session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(visible, Lead.score_grade == "A", Lead.modified_at < since, ~touched)
        )
        or 0
    )
    return GradeSummary(
        grades={grade: counts.get(grade, 0) for grade in ("A", "B", "C", "D")},
        unscored=counts.get(None, 0),
        untouched_a=untouched,
    )
