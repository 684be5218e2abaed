"""The actor: who is asking, with everything needed to decide what they may do."""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, cast

from sqlalchemy import CompoundSelect, ScalarSelect, Table, event, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from leadflow.core.errors import NotFound
from leadflow.security.models import (
    BusinessUnit,
    Role,
    RolePrivilege,
    SecurityGeneration,
    Team,
    TeamMember,
    TeamRole,
    User,
    UserRole,
)
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
    language: str | None = "en"  # None: the pages follow the browser (Accept-Language)
    # A role the user holds asks for a second factor at sign-in.
    two_factor_required: bool = False

    def depth(self, table: str, privilege: Privilege) -> Depth:
        """The widest access level any of the actor's roles grants for this table and privilege."""
        return self.depths.get((table, privilege), Depth.NONE)


def held_role_ids(user_id: uuid.UUID) -> CompoundSelect:
    """The ids of the roles a user holds: their own, and those of every team they are a member of."""
    through_teams = (
        select(TeamRole.role_id)
        .join(TeamMember, TeamMember.team_id == TeamRole.team_id)
        .where(TeamMember.user_id == user_id)
    )
    return select(UserRole.role_id).where(UserRole.user_id == user_id).union(through_teams)


def load_actor(session: Session, user: User) -> Actor:
    """Compute a user's actor: cumulative role privileges (their own roles and their teams'), teams
    and business unit subtree."""
    depths: dict[tuple[str, Privilege], Depth] = {}
    held = held_role_ids(user.id)
    rows = session.execute(
        select(RolePrivilege.table_name, RolePrivilege.privilege, RolePrivilege.depth).where(
            RolePrivilege.role_id.in_(held)
        )
    )
    for table, privilege, depth in rows:
        key = (table, Privilege(privilege))
        depths[key] = max(depths.get(key, Depth.NONE), Depth(depth))
    roles = session.execute(
        select(Role.name, Role.requires_two_factor).where(Role.id.in_(held)).order_by(Role.name)
    ).all()
    role_names = tuple(name for name, _ in roles)
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
        two_factor_required=any(required for _, required in roles),
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


# ------------------------------------------------------------------------------- the cache of actors
#
# Computing an actor takes four queries; a request that had to do so every time would spend most of
# its database work on it. Each process keeps the actors it computed, per database and user, with the
# security generation they were computed at; a request reads the generation in the same query as its
# token, and uses the cached actor only while the generation has not moved. The generation moves in
# the same transaction as any change that could change an actor (below), so the change and the end of
# every stale cached actor commit together, for every process.

_MOST_CACHED = 10_000
_ACTORS: weakref.WeakKeyDictionary[Engine, dict[uuid.UUID, tuple[int, Actor]]] = weakref.WeakKeyDictionary()


def security_generation() -> ScalarSelect[int]:
    """The current generation, to select beside the token (NULL on a schema without the row)."""
    return select(SecurityGeneration.generation).where(SecurityGeneration.id == 1).scalar_subquery()


def cached_actor(session: Session, user: User, generation: int | None) -> Actor:
    """The user's actor: from this process's cache when it is of this generation, else computed."""
    engine = session.get_bind()
    engine = engine.engine if isinstance(engine, Connection) else engine
    actors = _ACTORS.setdefault(engine, {})
    cached = actors.get(user.id)
    if generation is not None and cached is not None and cached[0] == generation:
        return cached[1]
    actor = load_actor(session, user)
    if generation is not None:
        if len(actors) >= _MOST_CACHED:
            actors.clear()
        actors[user.id] = (generation, actor)
    return actor


# What an actor is made of: any change to these rows, or to these columns of a user, moves the generation.
_ACTOR_TABLES = frozenset(
    model.__table__ for model in (BusinessUnit, Role, RolePrivilege, Team, TeamMember, TeamRole, UserRole)
)
_ACTOR_USER_COLUMNS = ("business_unit_id", "email", "language")
_ACTOR_CLASSES = (BusinessUnit, Role, RolePrivilege, Team, TeamMember, TeamRole, UserRole, User)


def _changes_an_actor(instance: object, *, new_or_deleted: bool) -> bool:
    if not isinstance(instance, _ACTOR_CLASSES):
        return False
    if new_or_deleted or not isinstance(instance, User):
        return True
    state = inspect(instance)
    return any(state.attrs[column].history.has_changes() for column in _ACTOR_USER_COLUMNS)


def _move_generation_on(connection: Connection) -> None:
    table = cast(Table, SecurityGeneration.__table__)
    connection.execute(table.update().where(table.c.id == 1).values(generation=table.c.generation + 1))


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    changed = any(_changes_an_actor(item, new_or_deleted=True) for item in chain(session.new, session.deleted)) or any(
        _changes_an_actor(item, new_or_deleted=False) for item in session.dirty if session.is_modified(item)
    )
    if changed:
        _move_generation_on(session.connection())


@event.listens_for(Session, "do_orm_execute")
def _on_statement(state: ORMExecuteState) -> None:
    """A statement (not the unit of work) that writes one of those tables, users included."""
    if (state.is_insert or state.is_update or state.is_delete) and (
        getattr(state.statement, "table", None) in _ACTOR_TABLES | {User.__table__}
    ):
        _move_generation_on(state.session.connection())
