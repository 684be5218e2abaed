"""The actor: who is asking, with everything needed to decide what they may do."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import NotFound
from leadflow.security.models import BusinessUnit, Role, RolePrivilege, TeamMember, User, UserRole
from leadflow.security.privileges import SYSTEM_ADMINISTRATOR, Depth, Privilege


@dataclass(frozen=True, slots=True)
class Actor:
    """The user on whose behalf an operation runs, with the privileges of all their roles."""

    user_id: uuid.UUID
    business_unit_id: uuid.UUID
    team_ids: frozenset[uuid.UUID] = frozenset()
    # The user's business unit and every unit below it (for Parent: Child Business Units).
    unit_subtree: frozenset[uuid.UUID] = frozenset()
    depths: Mapping[tuple[str, Privilege], Depth] = field(default_factory=dict)
    role_names: tuple[str, ...] = ()
    email: str = ""
    language: str = "en"

    def depth(self, table: str, privilege: Privilege) -> Depth:
        """The widest access level any of the actor's roles grants for this table and privilege."""
        return self.depths.get((table, privilege), Depth.NONE)


def load_actor(session: Session, user: User) -> Actor:
    """Compute a user's actor: cumulative role privileges, teams and business unit subtree."""
    depths: dict[tuple[str, Privilege], Depth] = {}
    rows = session.execute(
        select(RolePrivilege.table_name, RolePrivilege.privilege, RolePrivilege.depth)
        .join(UserRole, UserRole.role_id == RolePrivilege.role_id)
        .where(UserRole.user_id == user.id)
    )
    for table, privilege, depth in rows:
        key = (table, Privilege(privilege))
        depths[key] = max(depths.get(key, Depth.NONE), Depth(depth))
    role_names = tuple(
        session.scalars(
            select(Role.name).join(UserRole, UserRole.role_id == Role.id).where(UserRole.user_id == user.id).order_by(Role.name)
        )
    )
    team_ids = frozenset(session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user.id)))
    return Actor(
        user_id=user.id,
        business_unit_id=user.business_unit_id,
        team_ids=team_ids,
        unit_subtree=frozenset(unit_subtree(session, user.business_unit_id)),
        depths=depths,
        role_names=role_names,
        email=user.email,
        language=user.language,
    )


def unit_subtree(session: Session, root_id: uuid.UUID) -> set[uuid.UUID]:
    """A business unit and all units below it."""
    children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for unit_id, parent_id in session.execute(select(BusinessUnit.id, BusinessUnit.parent_id)):
        children.setdefault(parent_id, []).append(unit_id)
    found, pending = set(), [root_id]
    while pending:
        unit = pending.pop()
        if unit not in found:
            found.add(unit)
            pending.extend(children.get(unit, ()))
    return found


def actor_for_email(session: Session, email: str) -> Actor:
    """The actor of the active user with this email."""
    user = session.scalars(select(User).where(User.email == email.strip().lower(), User.is_active.is_(True))).first()
    if user is None:
        raise NotFound(f"No active user has the email {email}.", code="user_not_found")
    return load_actor(session, user)


def first_administrator(session: Session) -> User | None:
    """The organisation's first active System Administrator, if it has one yet."""
    return session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .join(Role, Role.id == UserRole.role_id)
        .where(User.is_active.is_(True), Role.name == SYSTEM_ADMINISTRATOR)
        .order_by(User.created_at, User.id)
        .limit(1)
    ).first()


def default_actor(session: Session) -> Actor:
    """The organisation's first active System Administrator: who the command line acts as by default."""
    user = first_administrator(session)
    if user is None:
        raise NotFound(
            "This organisation has no administrator yet; run `leadflow init` to create one "
            "(or `leadflow demo` for demo users).",
            code="no_administrator",
        )
    return load_actor(session, user)
