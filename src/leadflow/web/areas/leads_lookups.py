"""What the lead pages' selects and lists show besides the lead: currencies, campaigns, users, the
user's readable accounts and contacts, owners' and created records' names. Reads only."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from leadflow.customers.models import Account, Contact, CustomerState
from leadflow.opportunities.models import Opportunity
from leadflow.organisation.models import Campaign, CampaignState, Currency
from leadflow.core.paging import contains
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.models import Team, User
from leadflow.security.privileges import Privilege

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
    condition = User.is_active.is_(True)
    if current is not None:
        condition = or_(condition, User.id == current)
    rows = session.execute(
        select(User.id, User.full_name, User.email).where(condition).order_by(func.lower(User.full_name)).limit(500)
    )
    return [Option(str(user_id), f"{name} ({email})") for user_id, name, email in rows]


def _account_label(name: str, city: str | None, email: str | None) -> str:
    extra = " · ".join(part for part in (city, email) if part)
    return f"{name} ({extra})" if extra else name


def account_options(
    session: Session, actor: Actor, *, q: str | None = None, current: uuid.UUID | None = None, limit: int = LOOKUP_LIMIT
) -> list[Option]:
    """Active accounts the user may read, by name, optionally searched; the current one first."""
    statement = (
        select(Account.id, Account.name, Account.address_city, Account.email)
        .where(access_condition(actor, Privilege.READ, "accounts", Account), Account.state == CustomerState.ACTIVE)
        .order_by(func.lower(Account.name), Account.id)
        .limit(limit)
    )
    if q and q.strip():
        statement = statement.where(contains((Account.name,), q.strip()))
    options = [Option(str(row.id), _account_label(row.name, row.address_city, row.email)) for row in session.execute(statement)]
    return _with_current(options, current, lambda: _current_account(session, current))


def contact_options(
    session: Session, actor: Actor, *, q: str | None = None, current: uuid.UUID | None = None, limit: int = LOOKUP_LIMIT
) -> list[Option]:
    """Active contacts the user may read, by name, optionally searched; the current one first."""
    statement = (
        select(Contact.id, Contact.full_name, Contact.address_city, Contact.email)
        .where(access_condition(actor, Privilege.READ, "contacts", Contact), Contact.state == CustomerState.ACTIVE)
        .order_by(func.lower(Contact.full_name), Contact.id)
        .limit(limit)
    )
    if q and q.strip():
        statement = statement.where(contains((Contact.full_name, Contact.email), q.strip()))
    options = [
        Option(str(row.id), _account_label(row.full_name, row.address_city, row.email)) for row in session.execute(statement)
    ]
    return _with_current(options, current, lambda: _current_contact(session, current))


def _current_account(session: Session, record_id: uuid.UUID | None) -> Option | None:
    row = session.execute(select(Account.name, Account.address_city, Account.email).where(Account.id == record_id)).first()
    return Option(str(record_id), _account_label(row.name, row.address_city, row.email)) if row else None


def _current_contact(session: Session, record_id: uuid.UUID | None) -> Option | None:
    row = session.execute(select(Contact.full_name, Contact.address_city, Contact.email).where(Contact.id == record_id)).first()
    return Option(str(record_id), _account_label(row.full_name, row.address_city, row.email)) if row else None


def _with_current(options: list[Option], current: uuid.UUID | None, load: object) -> list[Option]:
    if current is None or any(option.value == str(current) for option in options):
        return options
    found = load()  # type: ignore[operator]
    return [found, *options] if found is not None else options


def owner_names(session: Session, *, user_ids: Iterable[uuid.UUID | None], team_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
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
    session: Session, *, accounts: Iterable[uuid.UUID], contacts: Iterable[uuid.UUID], opportunities: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Names of records qualifying created, to show them in the results."""
    names: dict[uuid.UUID, str] = {}
    for model, column, ids in (
        (Account, Account.name, set(accounts)),
        (Contact, Contact.full_name, set(contacts)),
        (Opportunity, Opportunity.name, set(opportunities)),
    ):
        if ids:
            names.update(session.execute(select(model.id, column).where(model.id.in_(ids))).all())
    return names
