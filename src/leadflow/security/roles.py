"""Roles (§8): the built-in ones, and custom ones made from a privilege matrix, copied, edited cell by
cell and made to require a second factor; granting a role to a user and taking it back. Nobody hands
out a privilege wider than their own roles grant them, and the organisation keeps an administrator."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.core.db import utcnow
from leadflow.core.errors import InvalidState, NotFound, ValidationFailed
from leadflow.core.records import check_version, get_record
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.common import LAST_ADMINISTRATOR_ROLE, _field, _keep_an_administrator, _within_reach
from leadflow.security.models import Role, RolePrivilege, User, UserRole
from leadflow.security.privileges import BUILTIN_ROLES, TABLES, Depth, Privilege


def ensure_builtin_roles(session: Session) -> None:
    """Create the built-in roles of §8 with their privileges, if missing (idempotent); a built-in role
    made before a table existed gets that table's privileges, and what an administrator set stays."""
    existing = {role.name: role for role in session.scalars(select(Role).where(Role.is_builtin.is_(True)))}
    for name, matrix in BUILTIN_ROLES.items():
        role = existing.get(name)
        if role is None:
            _add_role(session, name, matrix, builtin=True)
            continue
        present = set(session.scalars(select(RolePrivilege.table_name).where(RolePrivilege.role_id == role.id)))
        missing = [table for table in matrix if table not in present]
        session.add_all(
            RolePrivilege(role_id=role.id, table_name=table, privilege=privilege, depth=int(depth))
            for table in missing
            for privilege, depth in matrix[table].items()
        )
        if missing:
            session.flush()


def _add_role(session: Session, name: str, matrix: dict[str, dict[Privilege, Depth]], *, builtin: bool) -> Role:
    role = Role(id=uuid.uuid4(), name=name, is_builtin=builtin)
    session.add(role)
    session.flush()
    session.add_all(
        RolePrivilege(role_id=role.id, table_name=table, privilege=privilege, depth=int(depth))
        for table, row in matrix.items()
        for privilege, depth in row.items()
    )
    session.flush()
    return role


def role_by_name(session: Session, name: str) -> Role:
    """A role by its name (case-insensitive)."""
    for role in session.scalars(select(Role)):
        if role.name.lower() == name.strip().lower():
            return role
    names = ", ".join(session.scalars(select(Role.name).order_by(Role.name)))
    raise NotFound(f"No role is called {name!r}; the roles are: {names}.", code="role_not_found")


def role_matrix(session: Session, role: Role) -> dict[str, dict[Privilege, Depth]]:
    """A role's privileges as {table: {privilege: depth}}, every cell present."""
    matrix = {table: dict.fromkeys(Privilege, Depth.NONE) for table in TABLES}
    for row in session.scalars(select(RolePrivilege).where(RolePrivilege.role_id == role.id)):
        matrix.setdefault(row.table_name, dict.fromkeys(Privilege, Depth.NONE))[Privilege(row.privilege)] = Depth(
            row.depth
        )
    return matrix


ROLE_NAME_LENGTH = 100


def _check_matrix(actor: Actor, matrix: dict[str, dict[Privilege, Depth]]) -> None:
    unknown = set(matrix) - set(TABLES)
    if unknown:
        raise ValidationFailed(
            f"Unknown table(s) {', '.join(sorted(unknown))}; tables are {', '.join(TABLES)}.", code="unknown_table"
        )
    _within_reach(actor, matrix)


def create_role(name: str, matrix: dict[str, dict[Privilege, Depth]], *, uow: UnitOfWork, actor: Actor) -> Role:
    """Create a custom role from a privilege matrix."""
    require_admin(actor, "roles", Privilege.CREATE)
    session = uow.session
    name = name.strip()
    if not name:
        raise ValidationFailed("A role needs a name.", code="required", details=_field("name", "required"))
    if len(name) > ROLE_NAME_LENGTH:
        raise ValidationFailed(
            "A role's name is at most 100 characters.", code="too_long", details=_field("name", "too_long")
        )
    if any(role.lower() == name.lower() for role in session.scalars(select(Role.name))):
        raise ValidationFailed(f"A role called {name!r} already exists.", code="role_exists")
    _check_matrix(actor, matrix)
    role = _add_role(session, name, matrix, builtin=False)
    record_action(
        session,
        actor,
        "role_create",
        table="roles",
        record_id=role.id,
        changes={table: {p.value: d.label for p, d in row.items()} for table, row in matrix.items()},
    )
    return role


def require_two_factor_for(role_name: str, required: bool, *, uow: UnitOfWork, actor: Actor) -> Role:
    """Make holders of a role sign in with a second factor (they set it up at their next sign-in), or not."""
    require_admin(actor, "roles", Privilege.WRITE)
    role = role_by_name(uow.session, role_name)
    if role.requires_two_factor != required:
        role.requires_two_factor = required
        uow.flush()
        record_action(
            uow.session,
            actor,
            "role_two_factor",
            table="roles",
            record_id=role.id,
            summary=f"{role.name}: {'required' if required else 'optional'}",
        )
    return role


def grant_role(user_id: uuid.UUID, role_name: str, *, uow: UnitOfWork, actor: Actor) -> None:
    """Give a user a role (roles are cumulative)."""
    require_admin(actor, "roles", Privilege.ASSIGN)
    session = uow.session
    role = role_by_name(session, role_name)
    get_record(session, User, user_id, label="user")
    if session.get(UserRole, (user_id, role.id)) is None:
        _within_reach(actor, role_matrix(session, role))
        session.add(UserRole(user_id=user_id, role_id=role.id))
        uow.flush()
        record_action(session, actor, "role_grant", table="users", record_id=user_id, summary=role.name)


def copy_role(role_id: uuid.UUID, name: str, *, uow: UnitOfWork, actor: Actor) -> Role:
    """A new custom role with the privileges (and the two-factor rule) of an existing one."""
    source = get_record(uow.session, Role, role_id, label="role")
    role = create_role(name, role_matrix(uow.session, source), uow=uow, actor=actor)
    if source.requires_two_factor:
        role.requires_two_factor = True
        uow.flush()
    return role


def update_role_privileges(
    role_id: uuid.UUID,
    matrix: dict[str, dict[Privilege, Depth]],
    *,
    expected_version: int | None,
    uow: UnitOfWork,
    actor: Actor,
) -> Role:
    """Set a role's privileges, every cell given at once (cells not given keep their level).

    Refused when the role changed since the caller read it (``expected_version``): two administrators
    editing the same role never merge their grids unknowingly.
    """
    require_admin(actor, "roles", Privilege.WRITE)
    session = uow.session
    role = get_record(session, Role, role_id, label="role", for_update=True)
    check_version(role, expected_version)
    role.ensure_editable()
    _check_matrix(actor, matrix)
    before = role_matrix(session, role)
    stored = {
        (cell.table_name, Privilege(cell.privilege)): cell
        for cell in session.scalars(select(RolePrivilege).where(RolePrivilege.role_id == role.id))
    }
    changes: dict[str, dict[str, dict[str, str]]] = {}
    for table, row in matrix.items():
        for privilege, depth in row.items():
            old, new = before[table][privilege], Depth(depth)
            if old == new:
                continue
            changes.setdefault(table, {})[privilege.value] = {"old": old.label, "new": new.label}
            cell = stored.get((table, privilege))
            if cell is None:
                session.add(RolePrivilege(role_id=role.id, table_name=table, privilege=privilege, depth=int(new)))
            else:
                cell.depth = int(new)
    if changes:
        # The role's own row moves on too: its version is what a concurrent editor's form carries.
        role.modified_at = utcnow()
        uow.flush()
        record_action(
            session, actor, "role_update", table="roles", record_id=role.id, summary=role.name, changes=changes
        )
    return role


def revoke_role(user_id: uuid.UUID, role_name: str, *, uow: UnitOfWork, actor: Actor) -> None:
    """Take a role back from a user; a user keeps at least one role, and the organisation one administrator."""
    require_admin(actor, "roles", Privilege.ASSIGN)
    session = uow.session
    role = role_by_name(session, role_name)
    get_record(session, User, user_id, label="user")
    link = session.get(UserRole, (user_id, role.id))
    if link is None:
        raise InvalidState(f"The user does not hold the role {role.name!r}.", code="role_not_held")
    if session.scalar(select(func.count()).select_from(UserRole).where(UserRole.user_id == user_id)) == 1:
        raise InvalidState(
            "A user needs at least one role; grant another one before revoking this one.", code="role_required"
        )
    session.delete(link)
    uow.flush()
    _keep_an_administrator(session, LAST_ADMINISTRATOR_ROLE)
    record_action(session, actor, "role_revoke", table="users", record_id=user_id, summary=role.name)
