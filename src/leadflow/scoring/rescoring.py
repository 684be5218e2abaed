"""Keeping every open lead's score current with the published models: the model that covers a lead
(the most specific scope first) scores it, and its score, grade and reasons are written on the lead and
in ``lead_scores`` where they changed. Every flush that creates or changes a lead, or adds or removes a
note or activity regarding one, scores it again in the same transaction (``_rescore_flushed``);
``rescore_all`` scores every open lead in batches, after a publish."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, delete, event, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

from leadflow.activities.models import Activity, Note, RegardingTable
from leadflow.core.db import utcnow
from leadflow.core.uow import Database
from leadflow.leads.models import Lead, LeadState
from leadflow.scoring.features import lead_rows, lead_rows_statement, values_of
from leadflow.scoring.models import LeadScore, ScopeKind, ScoringModel, ScoringVersion, check_thresholds, grade_of
from leadflow.scoring.scorer import Scored, Scorer

BATCH = 2000  # leads scored per batch (and per transaction) in bulk
Progress = Callable[[int, int], None]


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
