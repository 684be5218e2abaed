"""The sales dashboard's figures: leads by status and by source, the weekly qualification rate, the pipeline.

Plain selects; every figure counts only the records the actor may read (§8), so two users looking at
the dashboard each see the totals of their own reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, select

from leadflow.core.db import utcnow
from leadflow.core.uow import UnitOfWork
from leadflow.leads.models import Lead, LeadSource, LeadState, LeadStatusReason
from leadflow.leads.views import start_of_week
from leadflow.opportunities.models import Opportunity, OpportunityState
from leadflow.organisation.models import Currency
from leadflow.organisation.service import get_settings
from leadflow.process.flow import STAGE_NAMES
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege

WEEKS = 12
# An opportunity is never at Qualify: that stage lives on the lead (§7).
OPPORTUNITY_STAGES = STAGE_NAMES[1:]


@dataclass(frozen=True)
class Count:
    """How many records carry one value (``key`` None: the value is not set)."""

    key: str | None
    count: int


@dataclass(frozen=True)
class WeekRate:
    """The leads created in one week (Monday 00:00 UTC onwards) and how many of them are qualified now."""

    week_start: date
    created: int
    qualified: int

    @property
    def rate(self) -> float | None:
        """Qualified / created; None for a week without new leads."""
        return self.qualified / self.created if self.created else None


@dataclass(frozen=True)
class StageFigure:
    """The open opportunities at one stage and their estimated revenue in the base currency."""

    stage: str
    count: int
    estimated_revenue: Decimal


@dataclass(frozen=True)
class DashboardFigures:
    leads_by_status: list[Count]
    leads_by_source: list[Count]
    qualification_by_week: list[WeekRate]
    opportunities_by_stage: list[StageFigure]
    base_currency: str

    @property
    def total_leads(self) -> int:
        return sum(item.count for item in self.leads_by_status)

    @property
    def open_opportunities(self) -> int:
        return sum(item.count for item in self.opportunities_by_stage)

    @property
    def pipeline_revenue(self) -> Decimal:
        return sum((item.estimated_revenue for item in self.opportunities_by_stage), Decimal(0))


def leads_by_status(*, uow: UnitOfWork, actor: Actor) -> list[Count]:
    """Readable leads per status reason, every reason listed (in the order of §1) even when none has it."""
    readable = access_condition(actor, Privilege.READ, "leads", Lead)
    rows = dict(
        uow.session.execute(select(Lead.status_reason, func.count()).where(readable).group_by(Lead.status_reason)).all()
    )
    return [Count(reason.value, rows.get(reason, 0)) for reason in LeadStatusReason]


def leads_by_source(*, uow: UnitOfWork, actor: Actor) -> list[Count]:
    """Readable leads per lead source, every source listed, then the leads without one."""
    readable = access_condition(actor, Privilege.READ, "leads", Lead)
    rows = dict(
        uow.session.execute(select(Lead.lead_source, func.count()).where(readable).group_by(Lead.lead_source)).all()
    )
    return [Count(source.value, rows.get(source, 0)) for source in LeadSource] + [Count(None, rows.get(None, 0))]


def qualification_by_week(
    *, uow: UnitOfWork, actor: Actor, now: datetime | None = None, weeks: int = WEEKS
) -> list[WeekRate]:
    """For each of the last ``weeks`` weeks (the current one last): leads created and how many are now qualified.

    The rate is a cohort's: of the leads created that week, the share qualified today, so it is never
    above 100 % and a late qualification still counts for the week the lead came in.
    """
    current = start_of_week(now or utcnow())
    starts = [current - timedelta(weeks=weeks - 1 - index) for index in range(weeks)]
    ends = [*starts[1:], current + timedelta(weeks=1)]
    qualified = Lead.state == LeadState.QUALIFIED
    columns = []
    for start, end in zip(starts, ends, strict=True):
        in_week = and_(Lead.created_at >= start, Lead.created_at < end)
        columns.append(func.coalesce(func.sum(case((in_week, 1), else_=0)), 0))
        columns.append(func.coalesce(func.sum(case((and_(in_week, qualified), 1), else_=0)), 0))
    statement = select(*columns).where(
        access_condition(actor, Privilege.READ, "leads", Lead), Lead.created_at >= starts[0], Lead.created_at < ends[-1]
    )
    values = [int(value or 0) for value in uow.session.execute(statement).one()]
    return [
        WeekRate(start.date(), created=values[2 * index], qualified=values[2 * index + 1])
        for index, start in enumerate(starts)
    ]


def opportunities_by_stage(*, uow: UnitOfWork, actor: Actor) -> list[StageFigure]:
    """Readable open opportunities per process stage, with their estimated revenue in the base currency.

    Each opportunity counts with the base amount it captured when its revenue or currency was last
    saved (as the board and the forecast count it); one without revenue counts for nothing.
    """
    statement = (
        select(Opportunity.process_stage, func.count(), func.sum(Opportunity.estimated_revenue_base))
        .where(
            access_condition(actor, Privilege.READ, "opportunities", Opportunity),
            Opportunity.state == OpportunityState.OPEN,
        )
        .group_by(Opportunity.process_stage)
    )
    counts = dict.fromkeys(OPPORTUNITY_STAGES, 0)
    revenue = dict.fromkeys(OPPORTUNITY_STAGES, Decimal(0))
    for stage, count, amount in uow.session.execute(statement):
        counts[stage] = count
        revenue[stage] = Decimal(amount or 0)
    return [StageFigure(stage, counts[stage], revenue[stage].quantize(Decimal("0.01"))) for stage in counts]


def dashboard_figures(*, uow: UnitOfWork, actor: Actor, now: datetime | None = None) -> DashboardFigures:
    """Every figure of the dashboard, as the actor may see them."""
    settings = get_settings(uow.session)
    base = uow.session.get(Currency, settings.base_currency_id) if settings.base_currency_id else None
    return DashboardFigures(
        leads_by_status=leads_by_status(uow=uow, actor=actor),
        leads_by_source=leads_by_source(uow=uow, actor=actor),
        qualification_by_week=qualification_by_week(uow=uow, actor=actor, now=now),
        opportunities_by_stage=opportunities_by_stage(uow=uow, actor=actor),
        base_currency=base.iso_code if base is not None else "EUR",
    )
