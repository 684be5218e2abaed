"""Teams (§8): made in a business unit, they own records and receive shares; their members act for
them, and hold every role given to the team beside their own. Taking a member or a role away never
leaves the organisation without an administrator."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from leadflow.core.errors import InvalidState, NotFound
from leadflow.core.records import get_record, get_reference
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.business_units import business_unit_by_name
from leadflow.security.common import LAST_ADMINISTRATOR_ROLE, _keep_an_administrator, _unique_name, _within_reach
from leadflow.security.credentials import email_key
from leadflow.security.models import Team, TeamMember, TeamRole, User
from leadflow.security.privileges import Privilege
from leadflow.security.roles import role_by_name, role_matrix


def create_team(name: str, *, business_unit_name: str | None, uow: UnitOfWork, actor: Actor) -> Team:
    """A team that can own records and receive shares; its members act for it."""
    require_admin(actor, "users", Privilege.CREATE)
    name = _unique_name(uow.session, Team, name)
    unit = business_unit_by_name(uow.session, business_unit_name)
    team = Team(id=uuid.uuid4(), name=name, business_unit_id=unit.id)
    uow.session.add(team)
    uow.flush()
    record_action(uow.session, actor, "create", table="teams", record_id=team.id, summary=team.name)
    return team


def add_team_member(team_name: str, email: str, *, uow: UnitOfWork, actor: Actor) -> None:
    """Put a user in a team."""
    require_admin(actor, "users", Privilege.WRITE)
    session = uow.session
    team = session.scalars(select(Team).where(Team.name == team_name)).first()
    if team is None:
        raise NotFound(f"No team is called {team_name!r}.", code="team_not_found")
    user = session.scalars(select(User).where(User.email == email_key(email))).first()
    if user is None:
        raise NotFound(f"No user has the email {email}.", code="user_not_found")
    add_to_team(team.id, user.id, uow=uow, actor=actor)


def add_to_team(team_id: uuid.UUID, user_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Team:
    """Put an active user in a team: from then on they act for it and hold its roles."""
    require_admin(actor, "users", Privilege.WRITE)
    session = uow.session
    team = get_record(session, Team, team_id, label="team")
    user = get_reference(session, User, user_id, field="user_id", label="user")
    if not user.is_active:
        raise InvalidState(f"{user.email} is deactivated; choose an active user.", code="user_inactive")
    if session.get(TeamMember, (team.id, user.id)) is None:
        session.add(TeamMember(team_id=team.id, user_id=user.id))
        uow.flush()
        record_action(session, actor, "team_add_member", table="teams", record_id=team.id, summary=user.email)
    return team


def remove_from_team(team_id: uuid.UUID, user_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Team:
    """Take a user out of a team: they no longer act for it nor hold its roles."""
    require_admin(actor, "users", Privilege.WRITE)
    session = uow.session
    team = get_record(session, Team, team_id, label="team")
    membership = session.get(TeamMember, (team.id, user_id))
    if membership is None:
        raise InvalidState("This user is not a member of the team.", code="not_a_member")
    session.delete(membership)
    uow.flush()
    _keep_an_administrator(session, LAST_ADMINISTRATOR_ROLE)
    email = session.scalar(select(User.email).where(User.id == user_id))
    record_action(session, actor, "team_remove_member", table="teams", record_id=team.id, summary=email)
    return team


def grant_team_role(team_id: uuid.UUID, role_name: str, *, uow: UnitOfWork, actor: Actor) -> Team:
    """Give a team a role: every member holds it beside their own roles (roles are cumulative)."""
    require_admin(actor, "roles", Privilege.ASSIGN)
    session = uow.session
    role = role_by_name(session, role_name)
    team = get_record(session, Team, team_id, label="team")
    if session.get(TeamRole, (team.id, role.id)) is None:
        _within_reach(actor, role_matrix(session, role))
        session.add(TeamRole(team_id=team.id, role_id=role.id))
        uow.flush()
        record_action(session, actor, "team_role_grant", table="teams", record_id=team.id, summary=role.name)
    return team


def revoke_team_role(team_id: uuid.UUID, role_name: str, *, uow: UnitOfWork, actor: Actor) -> Team:
    """Take a role back from a team; its members keep their own roles."""
    require_admin(actor, "roles", Privilege.ASSIGN)
    session = uow.session
    role = role_by_name(session, role_name)
    team = get_record(session, Team, team_id, label="team")
    link = session.get(TeamRole, (team.id, role.id))
    if link is None:
        raise InvalidState(f"The team does not hold the role {role.name!r}.", code="team_role_not_held")
    session.delete(link)
    uow.flush()
    _keep_an_administrator(session, LAST_ADMINISTRATOR_ROLE)
    record_action(session, actor, "team_role_revoke", table="teams", record_id=team.id, summary=role.name)
    return team
