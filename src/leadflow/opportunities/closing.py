"""Closing opportunities: win, lose, reopen, and the close records each close leaves.

Closing is one transaction: the opportunity takes its closed state, status reason, actual revenue and
close date, its process flow is finished, and an opportunity close record keeps what was said. Reopening
puts it back to Open / In Progress, clears the actual revenue and close date, and marks the earlier close
records canceled; they stay in the history.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadflow.core.db import utcnow
from leadflow.core.errors import ValidationFailed
from leadflow.core.records import check_version
from leadflow.core.uow import UnitOfWork
from leadflow.opportunities.competitors import readable_competitor
from leadflow.opportunities.models import (
    CloseState,
    Opportunity,
    OpportunityClose,
    OpportunityCompetitor,
    OpportunityState,
    OpportunityStatusReason,
)
from leadflow.opportunities.schemas import LoseOpportunity, WinOpportunity
from leadflow.organisation.currencies import capture_rate
from leadflow.organisation.service import time_zone_of
from leadflow.security.access import get_accessible
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege


def _for_close(uow: UnitOfWork, actor: Actor, opportunity_id: uuid.UUID, expected_version: int | None) -> Opportunity:
    """The opportunity, locked for the change, when the actor may write it and holds its current version."""
    opportunity = get_accessible(
        uow.session,
        Opportunity,
        opportunity_id,
        label="opportunity",
        actor=actor,
        privilege=Privilege.WRITE,
        for_update=True,
    )
    check_version(opportunity, expected_version)
    return opportunity


def _today(session: Session, actor: Actor) -> date:
    """Today where the user is: the default close date."""
    return datetime.now(time_zone_of(actor, session=session)).date()


def _close(
    uow: UnitOfWork,
    actor: Actor,
    opportunity: Opportunity,
    state: OpportunityState,
    reason: OpportunityStatusReason,
    *,
    actual_revenue: Decimal | None,
    close_date: date | None,
    competitor_id: uuid.UUID | None,
    description: str | None,
) -> Opportunity:
    session = uow.session
    day = close_date or _today(session, actor)
    before = {"state": opportunity.state.value, "status_reason": opportunity.status_reason.value}
    opportunity.close(state, reason, actual_revenue=actual_revenue, close_date=day, closed_at=utcnow())
    capture_rate(session, opportunity)
    opportunity.modified_by_id = actor.user_id
    session.add(
        OpportunityClose(
            id=uuid.uuid4(),
            opportunity_id=opportunity.id,
            state=CloseState.COMPLETED,
            opportunity_state=state,
            status_reason=reason,
            actual_revenue=opportunity.actual_revenue,  # to the currency's precision, as the opportunity holds it
            currency_id=opportunity.currency_id,
            close_date=day,
            competitor_id=competitor_id,
            description=description,
            closed_by_id=actor.user_id,
        )
    )
    if competitor_id is not None:
        _link_competitor(session, opportunity.id, competitor_id)
    record_action(
        session,
        actor,
        "close",
        table="opportunities",
        record_id=opportunity.id,
        changes={name: {"old": old, "new": getattr(opportunity, name).value} for name, old in before.items()},
    )
    uow.flush()
    return opportunity


def _link_competitor(session: Session, opportunity_id: uuid.UUID, competitor_id: uuid.UUID) -> None:
    """The competitor that won the deal is one the opportunity competed with."""
    linked = session.get(OpportunityCompetitor, (opportunity_id, competitor_id))
    if linked is None:
        session.add(OpportunityCompetitor(opportunity_id=opportunity_id, competitor_id=competitor_id))


def win_opportunity(
    opportunity_id: uuid.UUID,
    data: WinOpportunity,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> Opportunity:
    """Close an open opportunity as won; the actual revenue defaults to the estimated revenue."""
    opportunity = _for_close(uow, actor, opportunity_id, expected_version)
    revenue = data.actual_revenue if "actual_revenue" in data.model_fields_set else opportunity.estimated_revenue
    return _close(
        uow,
        actor,
        opportunity,
        OpportunityState.WON,
        data.status_reason,
        actual_revenue=revenue,
        close_date=data.close_date,
        competitor_id=None,
        description=data.description,
    )


def lose_opportunity(
    opportunity_id: uuid.UUID,
    data: LoseOpportunity,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> Opportunity:
    """Close an open opportunity as lost (canceled, or out-sold by a competitor the user may read)."""
    opportunity = _for_close(uow, actor, opportunity_id, expected_version)
    if data.status_reason is OpportunityStatusReason.OUT_SOLD and data.competitor_id is None:
        raise ValidationFailed(
            "Name the competitor who won the deal: an out-sold opportunity needs one.",
            code="competitor_required",
            details={
                "fields": [
                    {
                        "field": "competitor_id",
                        "code": "competitor_required",
                        "message": "competitor_id: name the competitor who won the deal.",
                    }
                ]
            },
        )
    if data.competitor_id is not None:
        readable_competitor(uow.session, actor, data.competitor_id)
    return _close(
        uow,
        actor,
        opportunity,
        OpportunityState.LOST,
        data.status_reason,
        actual_revenue=data.actual_revenue,
        close_date=data.close_date,
        competitor_id=data.competitor_id,
        description=data.description,
    )


def reopen_opportunity(
    opportunity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Opportunity:
    """Reopen a won or lost opportunity: Open / In Progress again, its close records canceled."""
    opportunity = _for_close(uow, actor, opportunity_id, expected_version)
    before = {"state": opportunity.state.value, "status_reason": opportunity.status_reason.value}
    opportunity.reopen()
    capture_rate(uow.session, opportunity)
    opportunity.modified_by_id = actor.user_id
    uow.session.execute(
        update(OpportunityClose)
        .where(OpportunityClose.opportunity_id == opportunity.id, OpportunityClose.state == CloseState.COMPLETED)
        .values(state=CloseState.CANCELED, canceled_at=utcnow(), row_version=OpportunityClose.row_version + 1)
        .execution_options(synchronize_session="fetch")
    )
    record_action(
        uow.session,
        actor,
        "reopen",
        table="opportunities",
        record_id=opportunity.id,
        changes={name: {"old": old, "new": getattr(opportunity, name).value} for name, old in before.items()},
    )
    uow.flush()
    return opportunity


def readable_opportunity(opportunity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Opportunity:
    """An opportunity the actor may read."""
    return get_accessible(
        uow.session, Opportunity, opportunity_id, label="opportunity", actor=actor, privilege=Privilege.READ
    )


def opportunity_closes(opportunity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Sequence[OpportunityClose]:
    """The close records of an opportunity the actor may read, newest first."""
    readable_opportunity(opportunity_id, uow=uow, actor=actor)
    return uow.session.scalars(
        select(OpportunityClose)
        .where(OpportunityClose.opportunity_id == opportunity_id)
        .order_by(OpportunityClose.created_at.desc(), OpportunityClose.id.desc())
    ).all()
