"""Reading scores: a lead's score, grade, trend and reasons as every entry point shows them (to
whoever may read the lead), and how the actor's open leads spread over the grades, for the dashboard."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from leadflow.activities.models import Activity, Note, RegardingTable
from leadflow.core.db import utcnow
from leadflow.core.uow import UnitOfWork
from leadflow.leads.models import Lead, LeadState
from leadflow.leads.service import get_lead
from leadflow.scoring.models import LeadScore, ScoringModel, ScoringVersion, Trend
from leadflow.scoring.rescoring import live_models
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege

TREND_STEP = 5  # a score that moved by this many points or more is improving or declining


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
