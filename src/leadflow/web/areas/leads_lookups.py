"""What the lead pages' selects and lists show besides the lead: currencies, campaigns, users, the
user's readable accounts and contacts, owners' and created records' names; and the search the
page's script runs in the account and contact lookups. Reads only."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from leadflow.core.paging import contains
from leadflow.customers.models import Account, Contact, CustomerState
from leadflow.opportunities.models import Opportunity, OpportunityState
from leadflow.organisation.models import Campaign, CampaignState, Currency
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.models import Team, User
from leadflow.security.privileges import Privilege
from leadflow.web.pages import WebSessionDep, database_of

router = APIRouter(include_in_schema=False)

# Lookups offer at most this many records, by name; the record's current value is always offered,
# and the page's script searches for the others.
LOOKUP_LIMIT = 200


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def currency_options(session: Session) -> list[Option]:
    rows = session.execute(select(Currency.iso_code, Currency.name).order_by(Currency.iso_code))
    return [Option(code, f"{code} · {name}") for code, name in rows]


def currency_code(session: Session, currency_id: uuid.UUID | None) -> str | None:
    if currency_id is None:
        return None
    return session.scalar(select(Currency.iso_code).where(Currency.id == currency_id))


def campaign_options(session: Session, current: uuid.UUID | None) -> list[Option]:
    condition = Campaign.state == CampaignState.ACTIVE
    if current is not None:
        condition = or_(condition, Campaign.id == current)
    rows = session.execute(select(Campaign.id, Campaign.name).where(condition).order_by(func.lower(Campaign.name)))
    return [Option(str(campaign_id), name) for campaign_id, name in rows]


def owner_options(session: Session, current: uuid.UUID | None) -> list[Option]:
    condition: ColumnElement[bool] = User.is_active.is_(True)
    if current is not None:
        condition = or_(condition, User.id == current)
    rows = session.execute(
        select(User.id, User.full_name, User.email).where(condition).order_by(func.lower(User.full_name)).limit(500)
    )
    return [Option(str(user_id), f"{name} ({email})") for user_id, name, email in rows]


def _customer_label(name: str, city: str | None, email: str | None) -> str:
    extra = " · ".join(part for part in (city, email) if part)
    return f"{name} ({extra})" if extra else name


def _customer_options(
    session: Session,
    actor: Actor,
    model: type[Any],
    *,
    search: tuple[Any, ...],
    q: str | None,
    current: uuid.UUID | None,
    limit: int,
) -> list[Option]:
    """Active accounts or contacts the user may read, by name, optionally searched; the current one first."""
    name = model.full_name if model is Contact else model.name
    statement = (
        select(model.id, name, model.address_city, model.email)
        .where(access_condition(actor, Privilege.READ, model.__tablename__, model), model.state == CustomerState.ACTIVE)
        .order_by(func.lower(name), model.id)
        .limit(limit)
    )
    if q and q.strip():
        statement = statement.where(contains(search, q.strip()))
    options = [Option(str(row[0]), _customer_label(*row[1:])) for row in session.execute(statement)]
    if current is None or any(option.value == str(current) for option in options):
        return options
    row = session.execute(select(name, model.address_city, model.email).where(model.id == current)).first()
    return [Option(str(current), _customer_label(*row)), *options] if row else options


def account_options(
    session: Session, actor: Actor, *, q: str | None = None, current: uuid.UUID | None = None, limit: int = LOOKUP_LIMIT
) -> list[Option]:
    """Active accounts the user may read, by name, optionally searched; the current one first."""
    return _customer_options(session, actor, Account, search=(Account.name,), q=q, current=current, limit=limit)


def contact_options(
    session: Session, actor: Actor, *, q: str | None = None, current: uuid.UUID | None = None, limit: int = LOOKUP_LIMIT
) -> list[Option]:
    """Active contacts the user may read, by name or email, optionally searched; the current one first."""
    return _customer_options(
        session, actor, Contact, search=(Contact.full_name, Contact.email), q=q, current=current, limit=limit
    )


def opportunity_options(
    session: Session, actor: Actor, *, q: str | None = None, current: uuid.UUID | None = None, limit: int = LOOKUP_LIMIT
) -> list[Option]:
    """Open opportunities the user may read, by name with their customer's, optionally searched; the
    current one first (what a lead can be qualified into)."""
    readable = (
        select(Opportunity.id, Opportunity.name, func.coalesce(Account.name, Contact.full_name))
        .outerjoin(Account, Account.id == Opportunity.customer_id)
        .outerjoin(Contact, Contact.id == Opportunity.customer_id)
        .where(access_condition(actor, Privilege.READ, "opportunities", Opportunity))
    )
    statement = (
        readable.where(Opportunity.state == OpportunityState.OPEN)
        .order_by(func.lower(Opportunity.name), Opportunity.id)
        .limit(limit)
    )
    if q and q.strip():
        statement = statement.where(contains((Opportunity.name, Account.name, Contact.full_name), q.strip()))
    rows = list(session.execute(statement))
    if current is not None and all(row[0] != current for row in rows):
        # The current choice is shown even once closed, beside the refusal that says so.
        rows[:0] = session.execute(readable.where(Opportunity.id == current)).all()
    return [Option(str(row[0]), f"{row[1]} ({row[2]})" if row[2] else row[1]) for row in rows]


def owner_names(
    session: Session, *, user_ids: Iterable[uuid.UUID | None], team_ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    """Display names of the users and teams that own some records, in one query each."""
    names: dict[uuid.UUID, str] = {}
    users = {i for i in user_ids if i is not None}
    teams = {i for i in team_ids if i is not None}
    if users:
        names.update(session.execute(select(User.id, User.full_name).where(User.id.in_(users))).all())
    if teams:
        names.update(session.execute(select(Team.id, Team.name).where(Team.id.in_(teams))).all())
    return names


def record_names(
    session: Session,
    *,
    accounts: Iterable[uuid.UUID],
    contacts: Iterable[uuid.UUID],
    opportunities: Iterable[uuid.UUID],
) -> dict[uuid.UUID, str]:
    """Names of records qualifying created, to show them in the results."""
    names: dict[uuid.UUID, str] = {}
    sources: tuple[tuple[type[Any], Any, set[uuid.UUID]], ...] = (
        (Account, Account.name, set(accounts)),
        (Contact, Contact.full_name, set(contacts)),
        (Opportunity, Opportunity.name, set(opportunities)),
    )
    for model, column, ids in sources:
        if ids:
            names.update(session.execute(select(model.id, column).where(model.id.in_(ids))).all())
    return names


@router.get("/leads/lookup/{kind}")
def lookup(request: Request, session: WebSessionDep, kind: str, q: str = "") -> Response:
    """The user's readable active accounts or contacts, or open opportunities, whose name contains ``q``
    (the lookups' search)."""
    finders = {"accounts": account_options, "contacts": contact_options, "opportunities": opportunity_options}
    finder = finders.get(kind)
    if finder is None:
        return JSONResponse({"error": {"code": "not_found", "message": "No such lookup."}}, status_code=404)
    with database_of(request).unit_of_work(read_only=True) as uow:
        options = finder(uow.session, session.actor, q=q[:100])
    response = JSONResponse([{"value": option.value, "label": option.label} for option in options])
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
