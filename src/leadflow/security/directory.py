"""Who is in the organisation: users with their roles and business unit, roles with their
privileges, and access tokens. Each read is checked here, so that the API, the web app and the
command line show the same things to the same person."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from leadflow.core.errors import NotFound
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import has_admin, require_admin
from leadflow.security.actor import Actor
from leadflow.security.models import AccessToken, BusinessUnit, Role, User, UserRole
from leadflow.security.privileges import Depth, Privilege
from leadflow.security.service import role_by_name, role_matrix


@dataclass(frozen=True)
class UserEntry:
    """A user as the lists show them: with role names and the name of their business unit."""

    user: User
    roles: list[str]
    business_unit: str


def list_users(*, uow: UnitOfWork, actor: Actor) -> list[UserEntry]:
    """Every user, by name (needs Read on users)."""
    require_admin(actor, "users", Privilege.READ)
    session = uow.session
    units = dict(session.execute(select(BusinessUnit.id, BusinessUnit.name)).all())
    roles: dict[uuid.UUID, list[str]] = {}
    statement = select(UserRole.user_id, Role.name).join(Role, Role.id == UserRole.role_id).order_by(Role.name)
    for user_id, name in session.execute(statement):
        roles.setdefault(user_id, []).append(name)
    users = session.scalars(select(User).order_by(User.full_name, User.email))
    return [UserEntry(user, roles.get(user.id, []), units.get(user.business_unit_id, "")) for user in users]


@dataclass(frozen=True)
class RoleEntry:
    """A role with the number of users holding it."""

    role: Role
    holders: int


def list_roles(*, uow: UnitOfWork, actor: Actor) -> list[RoleEntry]:
    """Every role, by name, with how many users hold it (needs Read on roles)."""
    require_admin(actor, "roles", Privilege.READ)
    session = uow.session
    holders = dict(session.execute(select(UserRole.role_id, func.count()).group_by(UserRole.role_id)).all())
    return [RoleEntry(role, holders.get(role.id, 0)) for role in session.scalars(select(Role).order_by(Role.name))]


def get_role(
    role: uuid.UUID | str, *, uow: UnitOfWork, actor: Actor
) -> tuple[Role, dict[str, dict[Privilege, Depth]]]:
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


def list_tokens(
    *, user_email: str | None = None, uow: UnitOfWork, actor: Actor
) -> list[tuple[AccessToken, str]]:
    """Access tokens with their user's email, newest first; never their secrets.

    Those who manage users (Write on users, as creating and revoking others' tokens needs) see
    everyone's, or one user's; anyone else sees only their own.
    """
    statement = select(AccessToken, User.email).join(User, User.id == AccessToken.user_id)
    if not has_admin(actor, "users", Privilege.WRITE):
        if user_email is not None and user_email.strip().lower() != actor.email:
            require_admin(actor, "users", Privilege.WRITE)
        statement = statement.where(AccessToken.user_id == actor.user_id)
    elif user_email:
        statement = statement.where(User.email == user_email.strip().lower())
    return [(token, email) for token, email in uow.session.execute(statement.order_by(AccessToken.created_at.desc()))]
