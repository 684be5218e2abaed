"""A lead's score as the pages show it (the lead page's widget) and the dashboard's grade tile: the
figures of ``leadflow.scoring.service`` with their words in the reader's language
(``leadflow.http.scores``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from leadflow.core.uow import UnitOfWork
from leadflow.http.scores import effect_text, field_label, message_text, trend_label, value_label
from leadflow.scoring import service
from leadflow.scoring.models import GRADES, Trend
from leadflow.security.actor import Actor


@dataclass(frozen=True)
class Reason:
    """One reason of a score: the field and value in words and its effect with its sign."""

    field: str
    value: str
    effect: str
    direction: str  # "up", "down" or "none": the colour of the effect


@dataclass(frozen=True)
class ScoreWidget:
    """The lead page's score: its number, grade, trend and reasons, or why there is none."""

    score: int | None
    grade: str | None
    trend: str
    trend_key: str
    reasons: list[Reason]
    model_name: str | None
    model_version: int | None
    scored_at: datetime | None
    message: str | None


def score_widget(language: str, view: service.LeadScoreView) -> ScoreWidget:
    """A lead's score (``service.lead_score``) as the widget shows it."""
    reasons = [
        Reason(
            field=field_label(language, key),
            value=value_label(language, key, value),
            effect=effect_text(effect),
            direction="up" if round(effect) > 0 else ("down" if round(effect) < 0 else "none"),
        )
        for key, value, effect in view.reasons
    ]
    return ScoreWidget(
        score=view.score,
        grade=view.grade,
        trend=trend_label(language, view.trend),
        trend_key=Trend(view.trend).value,
        reasons=reasons,
        model_name=view.model_name,
        model_version=view.model_version,
        scored_at=view.scored_at,
        message=message_text(language, view.message),
    )


@dataclass(frozen=True)
class GradeTile:
    """The dashboard's tile: the open leads the user may read by grade, and the untouched grade A ones."""

    grades: list[tuple[str, int, str]]  # grade, count, the lead list of that grade
    unscored: int
    untouched_a: int
    untouched_days: int
    total: int

    @property
    def best_url(self) -> str:
        return grade_list_url("A")


def grade_list_url(grade: str) -> str:
    """The lead list of the open leads of a grade, the best scores first."""
    return "/leads?" + urlencode({"view": "open", "grade": grade, "sort": "-score"})


def grade_tile(uow: UnitOfWork, actor: Actor) -> GradeTile | None:
    """The grade tile of a user; None when no open lead they may read has a grade."""
    summary = service.grade_summary(uow=uow, actor=actor)
    graded = sum(summary.grades.values())
    if not graded:
        return None
    return GradeTile(
        grades=[(grade, summary.grades.get(grade, 0), grade_list_url(grade)) for grade in GRADES],
        unscored=summary.unscored,
        untouched_a=summary.untouched_a,
        untouched_days=service.UNTOUCHED_DAYS,
        total=graded + summary.unscored,
    )
