"""Competitors: organisation-wide reference data that opportunities compete against and lose to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from leadflow.core.errors import Conflict
from leadflow.core.paging import Page, contains, keyset_page
from leadflow.core.records import check_version, not_found
from leadflow.core.uow import UnitOfWork
from leadflow.opportunities.models import Competitor, Opportunity, OpportunityClose, OpportunityCompetitor
from leadflow.opportunities.schemas import CompetitorCreate, CompetitorUpdate
from leadflow.security.access import get_accessible, has_admin, require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege

TABLE = "competitors"


def readable_competitor(
    session: Session, actor: Actor, competitor_id: uuid.UUID, *, for_update: bool = False
) -> Competitor:
    """A competitor by id; one the actor may not read is not found, as if it did not exist."""
    competitor = (
        session.get(Competitor, competitor_id, with_for_update=for_update)
        if has_admin(actor, TABLE, Privilege.READ)
        else None
    )
    if competitor is None:
        raise not_found(label="competitor", record_id=competitor_id)
    return competitor


def list_competitors(
    *, uow: UnitOfWork, actor: Actor, limit: int, cursor: str | None = None, search: str | None = None
) -> Page[Competitor]:
    """Competitors by name, optionally those whose name contains ``search``."""
    require_admin(actor, TABLE, Privilege.READ)
    statement = select(Competitor)
    if search and search.strip():
        statement = statement.where(contains([Competitor.name], search.strip()))
    return keyset_page(
        uow.session, statement, key=Competitor.name, id_column=Competitor.id, kind="text", limit=limit, cursor=cursor
    )


def create_competitor(data: CompetitorCreate, *, uow: UnitOfWork, actor: Actor) -> Competitor:
    """Add a competitor."""
    require_admin(actor, TABLE, Privilege.CREATE)
    competitor = Competitor(
        id=uuid.uuid4(), created_by_id=actor.user_id, modified_by_id=actor.user_id, **data.model_dump()
    )
    uow.session.add(competitor)
    record_action(uow.session, actor, "create", table=TABLE, record_id=competitor.id, summary=competitor.name)
    uow.flush()
    return competitor


def read_competitor(competitor_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Competitor:
    """One competitor."""
    return readable_competitor(uow.session, actor, competitor_id)


def update_competitor(
    competitor_id: uuid.UUID,
    changes: CompetitorUpdate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> Competitor:
    """Change the given fields of a competitor."""
    competitor = readable_competitor(uow.session, actor, competitor_id, for_update=True)
    require_admin(actor, TABLE, Privilege.WRITE)
    check_version(competitor, expected_version)
    values = changes.model_dump(exclude_unset=True)
    changed = {
        name: {"old": str(getattr(competitor, name)), "new": str(value)}
        for name, value in values.items()
        if getattr(competitor, name) != value
    }
    for name, value in values.items():
        setattr(competitor, name, value)
    competitor.modified_by_id = actor.user_id
    if changed:
        record_action(uow.session, actor, "update", table=TABLE, record_id=competitor.id, changes=changed)
    uow.flush()
    return competitor


def delete_competitor(
    competitor_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete a competitor no opportunity names; one in use is refused."""
    session = uow.session
    competitor = readable_competitor(session, actor, competitor_id, for_update=True)
    require_admin(actor, TABLE, Privilege.DELETE)
    check_version(competitor, expected_version)
    in_use = session.scalar(
        select(
            exists().where(OpportunityCompetitor.competitor_id == competitor.id)
            | exists().where(OpportunityClose.competitor_id == competitor.id)
        )
    )
    if in_use:
        raise Conflict(
            f"The competitor {competitor.name} is named by opportunities; it cannot be deleted while they name it.",
            code="competitor_in_use",
        )
    record_action(session, actor, "delete", table=TABLE, record_id=competitor.id, summary=competitor.name)
    session.delete(competitor)
    uow.flush()


def competitors_of(session: Session, actor: Actor, opportunity: Opportunity) -> Sequence[Competitor]:
    """The competitors an opportunity competes with, by name (none when competitors may not be read)."""
    if not has_admin(actor, TABLE, Privilege.READ):
        return []
    return session.scalars(
        select(Competitor)
        .join(OpportunityCompetitor, OpportunityCompetitor.competitor_id == Competitor.id)
        .where(OpportunityCompetitor.opportunity_id == opportunity.id)
        .order_by(Competitor.name, Competitor.id)
    ).all()


def link_competitor(
    opportunity_id: uuid.UUID, competitor_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, linked: bool = True
) -> None:
    """Name (or stop naming) a competitor in an open opportunity the actor may write."""
    opportunity = get_accessible(
        uow.session,
        Opportunity,
        opportunity_id,
        label="opportunity",
        actor=actor,
        privilege=Privilege.WRITE,
        for_update=True,
    )
    opportunity.ensure_editable()
    readable_competitor(uow.session, actor, competitor_id)
    existing = uow.session.get(OpportunityCompetitor, (opportunity_id, competitor_id))
    if linked and existing is None:
        uow.session.add(OpportunityCompetitor(opportunity_id=opportunity_id, competitor_id=competitor_id))
    elif not linked and existing is not None:
        uow.session.delete(existing)
    uow.flush()
