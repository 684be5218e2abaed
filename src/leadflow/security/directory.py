"""Who is in the organisation: users with their roles and business unit, roles with their
privileges, and access tokens. Each read is checked here, so that the API, the web app and the
command line show the same things to the same person."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from leadflow.core.errors import NotFound
from leadflow.core.paging import MAX_LIMIT, Page, keyset_page
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import has_admin, require_admin
from leadflow.security.credentials import email_key
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


def list_users(
    *, uow: UnitOfWork, actor: Actor, limit: int = MAX_LIMIT, cursor: str | None = None
) -> Page[UserEntry]:
    """A page of the users, by email (needs Read on users)."""
    require_admin(actor, "users", Privilege.READ)
    session = uow.session
    page = keyset_page(session, select(User), key=User.email, id_column=User.id, kind="text", limit=limit, cursor=cursor)
    user_ids = [user.id for user in page.items]
    units = dict(session.execute(select(BusinessUnit.id, BusinessUnit.name)).all())
    roles: dict[uuid.UUID, list[str]] = {}
    statement = (
        select(UserRole.user_id, Role.name).join(Role, Role.id == UserRole.role_id)
        .where(UserRole.user_id.in_(user_ids)).order_by(Role.name)
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


def list_roles(
    *, uow: UnitOfWork, actor: Actor, limit: int = MAX_LIMIT, cursor: str | None = None
) -> Page[RoleEntry]:
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
        uow.session, statement, key=AccessToken.created_at, id_column=AccessToken.id, kind="datetime",
        limit=limit, cursor=cursor, descending=True,
    )
    emails = dict(uow.session.execute(select(User.id, User.email).where(User.id.in_({t.user_id for t in page.items}))).all())
    return Page([TokenEntry(token, emails.get(token.user_id, "")) for token in page.items], page.next_cursor)
