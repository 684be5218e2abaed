"""Who is in the organisation: users with their roles and business unit, roles with their
privileges, and access tokens. Each read is checked here, so that the API, the web app and the
command line show the same things to the same person."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from leadflow.core.errors import NotFound
from leadflow.core.paging import MAX_LIMIT, Page, keyset_page
from leadflow.core.records import get_record
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import has_admin, require_admin
from leadflow.security.actor import Actor, unit_subtree
from leadflow.security.credentials import email_key
from leadflow.security.models import AccessToken, BusinessUnit, Role, Team, TeamMember, TeamRole, User, UserRole
from leadflow.security.privileges import Depth, Privilege
from leadflow.security.service import role_by_name, role_matrix


@dataclass(frozen=True)
class UserEntry:
    """A user as the lists show them: with role names and the name of their business unit."""

    user: User
    roles: list[str]
    business_unit: str


def list_users(*, uow: UnitOfWork, actor: Actor, limit: int = MAX_LIMIT, cursor: str | None = None) -> Page[UserEntry]:
    """A page of the users, by email (needs Read on users)."""
    require_admin(actor, "users", Privilege.READ)
    session = uow.session
    page = keyset_page(
        session, select(User), key=User.email, id_column=User.id, kind="text", limit=limit, cursor=cursor
    )
    user_ids = [user.id for user in page.items]
    units = dict(session.execute(select(BusinessUnit.id, BusinessUnit.name)).all())
    roles: dict[uuid.UUID, list[str]] = {}
    statement = (
        select(UserRole.user_id, Role.name)
        .join(Role, Role.id == UserRole.role_id)
        .where(UserRole.user_id.in_(user_ids))
        .order_by(Role.name)
    )
    for user_id, name in session.execute(statement):
        roles.setdefault(user_id, []).append(name)
    entries = [UserEntry(user, roles.get(user.id, []), units.get(user.business_unit_id, "")) for user in page.items]
    return Page(entries, page.next_cursor)


@dataclass(frozen=True)
class RoleEntry:
    """A role with the number of users holding it."""

    role: Role
    holders: int


def list_roles(*, uow: UnitOfWork, actor: Actor, limit: int = MAX_LIMIT, cursor: str | None = None) -> Page[RoleEntry]:
    """A page of the roles, by name, with how many users hold each (needs Read on roles)."""
    require_admin(actor, "roles", Privilege.READ)
    session = uow.session
    page = keyset_page(session, select(Role), key=Role.name, id_column=Role.id, kind="text", limit=limit, cursor=cursor)
    holders = dict(
        session.execute(
            select(UserRole.role_id, func.count())
            .where(UserRole.role_id.in_([role.id for role in page.items]))
            .group_by(UserRole.role_id)
        ).all()
    )
    return Page([RoleEntry(role, holders.get(role.id, 0)) for role in page.items], page.next_cursor)


def get_role(role: uuid.UUID | str, *, uow: UnitOfWork, actor: Actor) -> tuple[Role, dict[str, dict[Privilege, Depth]]]:
    """A role, by id or name, with its privilege matrix (needs Read on roles)."""
    require_admin(actor, "roles", Privilege.READ)
    session = uow.session
    if isinstance(role, uuid.UUID):
        found = session.get(Role, role)
        if found is None:
            raise NotFound(f"No role has the id {role}.", code="role_not_found")
    else:
        found = role_by_name(session, role)
    return found, role_matrix(session, found)


def user_by_email(email: str, *, uow: UnitOfWork, active: bool | None = True) -> User:
    """The user with this email: active ones only by default, any with ``active=None``."""
    statement = select(User).where(User.email == email_key(email))
    if active is not None:
        statement = statement.where(User.is_active.is_(active))
    user = uow.session.scalars(statement).first()
    if user is None:
        raise NotFound(f"No {'active ' if active else ''}user has the email {email}.", code="user_not_found")
    return user


@dataclass(frozen=True)
class TokenEntry:
    """An access token (never its secret) with its user's email."""

    token: AccessToken
    email: str


def list_tokens(
    *,
    user_email: str | None = None,
    uow: UnitOfWork,
    actor: Actor,
    limit: int = MAX_LIMIT,
    cursor: str | None = None,
) -> Page[TokenEntry]:
    """A page of access tokens, newest first; never their secrets.

    Those who manage users (Write on users, as creating and revoking others' tokens needs) see
    everyone's, or one user's; anyone else sees only their own.
    """
    statement = select(AccessToken)
    if not has_admin(actor, "users", Privilege.WRITE):
        if user_email is not None and email_key(user_email) != actor.email:
            require_admin(actor, "users", Privilege.WRITE)
        statement = statement.where(AccessToken.user_id == actor.user_id)
    elif user_email:
        statement = statement.join(User, User.id == AccessToken.user_id).where(User.email == email_key(user_email))
    page = keyset_page(
        uow.session,
        statement,
        key=AccessToken.created_at,
        id_column=AccessToken.id,
        kind="datetime",
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    emails = dict(
        uow.session.execute(select(User.id, User.email).where(User.id.in_({t.user_id for t in page.items}))).all()
    )
    return Page([TokenEntry(token, emails.get(token.user_id, "")) for token in page.items], page.next_cursor)


# ---------------------------------------------------------------------------------------------- business units


@dataclass(frozen=True)
class UnitEntry:
    """A business unit in the tree: its parent's name, how deep it sits, and how many users and teams it has."""

    unit: BusinessUnit
    parent: str | None
    level: int
    users: int
    teams: int


def list_business_units(*, uow: UnitOfWork, actor: Actor) -> list[UnitEntry]:
    """Every business unit as a tree: the root first, each unit followed by the units below it, by name
    (needs Read on business units)."""
    require_admin(actor, "business_units", Privilege.READ)
    session = uow.session
    units = list(session.scalars(select(BusinessUnit)))
    names = {unit.id: unit.name for unit in units}
    children: dict[uuid.UUID | None, list[BusinessUnit]] = {}
    for unit in sorted(units, key=lambda unit: (unit.name.casefold(), unit.id)):
        children.setdefault(unit.parent_id, []).append(unit)
    users = dict(session.execute(select(User.business_unit_id, func.count()).group_by(User.business_unit_id)).all())
    teams = dict(session.execute(select(Team.business_unit_id, func.count()).group_by(Team.business_unit_id)).all())
    ordered: list[UnitEntry] = []
    pending = [(unit, 0) for unit in reversed(children.get(None, []))]
    seen: set[uuid.UUID] = set()
    while pending:
        unit, level = pending.pop()
        if unit.id in seen:
            continue
        seen.add(unit.id)
        ordered.append(
            UnitEntry(
                unit,
                names.get(unit.parent_id) if unit.parent_id else None,
                level,
                users.get(unit.id, 0),
                teams.get(unit.id, 0),
            )
        )
        pending.extend((child, level + 1) for child in reversed(children.get(unit.id, [])))
    return ordered


@dataclass(frozen=True)
class UnitDetail:
    """One business unit with its parent, the units right below it, its users and its teams."""

    unit: BusinessUnit
    parent: BusinessUnit | None
    children: list[BusinessUnit]
    users: list[User]
    teams: list[Team]
    # The units it may be moved under: any but itself and the units below it (none for the root).
    possible_parents: list[BusinessUnit]


def get_business_unit(unit_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> UnitDetail:
    """A business unit with what is in it (needs Read on business units; its users are listed only to
    those who may read users)."""
    require_admin(actor, "business_units", Privilege.READ)
    session = uow.session
    unit = get_record(session, BusinessUnit, unit_id, label="business_unit", noun="business unit")
    parent = session.get(BusinessUnit, unit.parent_id) if unit.parent_id else None
    children = list(
        session.scalars(select(BusinessUnit).where(BusinessUnit.parent_id == unit.id).order_by(BusinessUnit.name))
    )
    users = (
        list(session.scalars(select(User).where(User.business_unit_id == unit.id).order_by(User.full_name, User.id)))
        if has_admin(actor, "users", Privilege.READ)
        else []
    )
    teams = (
        list(session.scalars(select(Team).where(Team.business_unit_id == unit.id).order_by(Team.name, Team.id)))
        if has_admin(actor, "users", Privilege.READ)
        else []
    )
    below = unit_subtree(session, unit.id)
    possible_parents = (
        []
        if unit.parent_id is None
        else [entry.unit for entry in list_business_units(uow=uow, actor=actor) if entry.unit.id not in below]
    )
    return UnitDetail(unit, parent, children, users, teams, possible_parents)


# ---------------------------------------------------------------------------------------------- teams


@dataclass(frozen=True)
class TeamEntry:
    """A team with its business unit's name, its number of members and the names of its roles."""

    team: Team
    business_unit: str
    members: int
    roles: list[str]


def _team_roles(uow: UnitOfWork, team_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    roles: dict[uuid.UUID, list[str]] = {}
    statement = (
        select(TeamRole.team_id, Role.name)
        .join(Role, Role.id == TeamRole.role_id)
        .where(TeamRole.team_id.in_(team_ids))
        .order_by(Role.name)
    )
    for team_id, name in uow.session.execute(statement):
        roles.setdefault(team_id, []).append(name)
    return roles


def _team_entries(uow: UnitOfWork, teams: list[Team]) -> list[TeamEntry]:
    session = uow.session
    team_ids = [team.id for team in teams]
    units = dict(session.execute(select(BusinessUnit.id, BusinessUnit.name)).all())
    members = dict(
        session.execute(
            select(TeamMember.team_id, func.count())
            .where(TeamMember.team_id.in_(team_ids))
            .group_by(TeamMember.team_id)
        ).all()
    )
    roles = _team_roles(uow, team_ids)
    return [
        TeamEntry(team, units.get(team.business_unit_id, ""), members.get(team.id, 0), roles.get(team.id, []))
        for team in teams
    ]


def list_teams(*, uow: UnitOfWork, actor: Actor) -> list[TeamEntry]:
    """Every team, by name (needs Read on users: teams are groups of users)."""
    require_admin(actor, "users", Privilege.READ)
    return _team_entries(uow, list(uow.session.scalars(select(Team).order_by(Team.name, Team.id))))


@dataclass(frozen=True)
class TeamDetail:
    """One team with its business unit's name, its members and the names of its roles."""

    team: Team
    business_unit: str
    members: list[User]
    roles: list[str]


def get_team(team_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> TeamDetail:
    """A team with its members and roles (needs Read on users)."""
    require_admin(actor, "users", Privilege.READ)
    session = uow.session
    team = get_record(session, Team, team_id, label="team")
    unit = session.scalar(select(BusinessUnit.name).where(BusinessUnit.id == team.business_unit_id)) or ""
    members = list(
        session.scalars(
            select(User)
            .join(TeamMember, TeamMember.user_id == User.id)
            .where(TeamMember.team_id == team.id)
            .order_by(User.full_name, User.id)
        )
    )
    return TeamDetail(team, unit, members, _team_roles(uow, [team.id]).get(team.id, []))


def teams_of(user_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> list[TeamEntry]:
    """The teams a user is a member of, with their roles (needs Read on users)."""
    require_admin(actor, "users", Privilege.READ)
    return _team_entries(
        uow,
        list(
            uow.session.scalars(
                select(Team)
                .join(TeamMember, TeamMember.team_id == Team.id)
                .where(TeamMember.user_id == user_id)
                .order_by(Team.name, Team.id)
            )
        ),
    )
