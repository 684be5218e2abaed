"""Users, roles, business units, teams, assignment and sharing (§8); signing in is ``authentication``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leadflow.core.db import affected_rows, mapped_class, utcnow
from leadflow.core.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from leadflow.core.formatting import known_time_zone
from leadflow.core.records import check_version, get_record, get_reference, not_found, record_label
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import can, forbidden, require, require_admin
from leadflow.security.actor import Actor, first_administrator, unit_subtree
from leadflow.security.audit import record_action
from leadflow.security.authentication import revoke_all_tokens
from leadflow.security.credentials import check_password_strength, email_key, hash_password, normalise_email
from leadflow.security.models import (
    BusinessUnit,
    RecordShare,
    Role,
    RolePrivilege,
    Team,
    TeamMember,
    TeamRole,
    User,
    UserRole,
)
from leadflow.security.privileges import BUILTIN_ROLES, SYSTEM_ADMINISTRATOR, TABLES, Depth, Privilege

# ---------------------------------------------------------------------------------------------- roles


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
NAME_LENGTH = 160  # of a business unit or a team


def _field(name: str, code: str) -> dict[str, Any]:
    """The details of a refusal that belongs to one field of a form."""
    return {"fields": [{"field": name, "code": code}]}


def _within_reach(actor: Actor, matrix: dict[str, dict[Privilege, Depth]]) -> None:
    """Nobody hands out a privilege wider than their own roles grant them, by writing a role or by
    granting one: whoever could would give themselves any privilege."""
    for table, row in matrix.items():
        for privilege, depth in row.items():
            held = actor.depth(table, privilege)
            if Depth(depth) > held:
                raise Forbidden(
                    f"You cannot grant the {privilege.value.replace('_', ' ').title()} privilege on {table} at level "
                    f"{Depth(depth).label}: your own roles grant it only at level {held.label}.",
                    code="privilege_beyond_own",
                    details={"privilege": privilege.value, "table": table, "level": Depth(depth).label},
                )


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


# ---------------------------------------------------------------------------------------------- users


def business_unit_by_name(session: Session, name: str | None) -> BusinessUnit:
    """A business unit by name; the root unit when no name is given."""
    if name is None:
        unit = session.scalars(select(BusinessUnit).where(BusinessUnit.parent_id.is_(None))).first()
    else:
        unit = session.scalars(select(BusinessUnit).where(BusinessUnit.name == name)).first()
    if unit is None:
        raise NotFound(f"No business unit is called {name!r}.", code="business_unit_not_found")
    return unit


def create_business_unit(name: str, *, parent_name: str | None, uow: UnitOfWork, actor: Actor | None) -> BusinessUnit:
    """Add a business unit under another (the root by default)."""
    if actor is not None:
        require_admin(actor, "business_units", Privilege.CREATE)
    session = uow.session
    parent = business_unit_by_name(session, parent_name)
    unit = BusinessUnit(id=uuid.uuid4(), name=_unique_name(session, BusinessUnit, name), parent_id=parent.id)
    session.add(unit)
    uow.flush()
    record_action(session, actor, "create", table="business_units", record_id=unit.id, summary=unit.name)
    return unit


def _unique_name(
    session: Session, model: type[BusinessUnit | Team], name: str, *, other_than: uuid.UUID | None = None
) -> str:
    """The name of a new or renamed business unit or team, checked: forms and commands name them, so no
    two of a kind share one (whatever the case)."""
    kind = "business unit" if model is BusinessUnit else "team"
    name = name.strip()
    if not name:
        raise ValidationFailed(f"A {kind} needs a name.", code="required", details=_field("name", "required"))
    if len(name) > NAME_LENGTH:
        raise ValidationFailed(
            f"The name of a {kind} is at most {NAME_LENGTH} characters.",
            code="too_long",
            details=_field("name", "too_long"),
        )
    others = select(model.name) if other_than is None else select(model.name).where(model.id != other_than)
    if any(existing.casefold() == name.casefold() for existing in session.scalars(others)):
        code = "business_unit_exists" if model is BusinessUnit else "team_exists"
        raise ValidationFailed(f"A {kind} with this name already exists.", code=code)
    return name


def update_business_unit(
    unit_id: uuid.UUID,
    *,
    name: str,
    parent_id: uuid.UUID | None,
    expected_version: int | None,
    uow: UnitOfWork,
    actor: Actor,
) -> BusinessUnit:
    """Rename a business unit, or move it (with the units below it) under another unit.

    The root unit is the organisation and stays the root; no unit goes under itself or under a unit
    below it. Moving a unit changes what Parent: Child Business Units reaches, from the next request on.
    """
    require_admin(actor, "business_units", Privilege.WRITE)
    session = uow.session
    unit = get_record(session, BusinessUnit, unit_id, label="business_unit", noun="business unit", for_update=True)
    check_version(unit, expected_version)
    new_name = _unique_name(session, BusinessUnit, name, other_than=unit.id)
    if unit.parent_id is None and parent_id is not None:
        raise InvalidState(
            "The root business unit is the organisation itself; it cannot go under another unit.",
            code="root_business_unit",
        )
    if unit.parent_id is not None:
        if parent_id is None:
            raise ValidationFailed(
                "Choose the business unit this one belongs to.",
                code="required",
                details=_field("parent_id", "required"),
            )
        get_reference(session, BusinessUnit, parent_id, field="parent_id", label="business_unit")
        if parent_id in unit_subtree(session, unit.id):
            raise InvalidState(
                "A business unit cannot go under itself or under a unit below it.", code="business_unit_loop"
            )
    changes: dict[str, dict[str, str | None]] = {}
    if new_name != unit.name:
        changes["name"] = {"old": unit.name, "new": new_name}
        unit.name = new_name
    if parent_id != unit.parent_id:
        changes["parent_id"] = {"old": str(unit.parent_id), "new": str(parent_id)}
        unit.parent_id = parent_id
    if changes:
        uow.flush()
        record_action(
            session, actor, "update", table="business_units", record_id=unit.id, summary=unit.name, changes=changes
        )
    return unit


def move_user_to_business_unit(
    user_id: uuid.UUID, business_unit_id: uuid.UUID, *, expected_version: int | None, uow: UnitOfWork, actor: Actor
) -> User:
    """Put a user in another business unit. The records they own go with them (a record's owning
    business unit is always its owner's), so that their colleagues' reach follows."""
    require_admin(actor, "users", Privilege.WRITE)
    session = uow.session
    user = get_record(session, User, user_id, label="user", for_update=True)
    check_version(user, expected_version)
    unit = get_reference(session, BusinessUnit, business_unit_id, field="business_unit_id", label="business_unit")
    if unit.id == user.business_unit_id:
        return user
    old_unit, user.business_unit_id = user.business_unit_id, unit.id
    uow.flush()
    moved = {}
    for table in OWNED_TABLES:
        model = mapped_class(table)
        result = session.execute(
            update(model)
            .where(model.owner_user_id == user.id)
            .values(owning_business_unit_id=unit.id, row_version=model.row_version + 1, modified_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
        moved[table] = affected_rows(result)
    record_action(
        session,
        actor,
        "update",
        table="users",
        record_id=user.id,
        summary=unit.name,
        changes={"business_unit_id": {"old": str(old_unit), "new": str(unit.id)}, "records_moved": moved},
    )
    return user


def create_user(
    *,
    email: str,
    full_name: str,
    role_names: list[str],
    business_unit_name: str | None,
    password: str | None,
    language: str | None = None,
    time_zone: str | None = None,
    uow: UnitOfWork,
    actor: Actor | None,
) -> User:
    """Create a user with roles and, optionally, a password. ``actor`` None only for `leadflow init`."""
    if actor is not None:
        require_admin(actor, "users", Privilege.CREATE)
    session = uow.session
    normalised = normalise_email(email)
    if session.scalars(select(User.id).where(User.email == normalised)).first() is not None:
        raise ValidationFailed(f"A user with the email {normalised} already exists.", code="user_exists")
    if not full_name.strip():
        raise ValidationFailed("A user needs a name.", code="required")
    roles = [role_by_name(session, name) for name in role_names]
    if not roles:
        raise ValidationFailed("A user needs at least one role.", code="role_required")
    if language is not None and language not in {"en", "es"}:
        raise ValidationFailed("Language must be 'en' or 'es'.", code="invalid_option")
    unit = business_unit_by_name(session, business_unit_name)
    user = User(
        id=uuid.uuid4(),
        email=normalised,
        full_name=full_name.strip(),
        business_unit_id=unit.id,
        language=language,
        time_zone=checked_time_zone(time_zone),
    )
    if password is not None:
        check_password_strength(password)
        user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    session.add_all(UserRole(user_id=user.id, role_id=role.id) for role in roles)
    uow.flush()
    record_action(
        session,
        actor,
        "create",
        table="users",
        record_id=user.id,
        summary=f"{normalised} ({', '.join(r.name for r in roles)})",
    )
    return user


def create_first_administrator(*, email: str, full_name: str, password: str, uow: UnitOfWork) -> User:
    """The first System Administrator of a new organisation; refused once the organisation has one."""
    if first_administrator(uow.session) is not None:
        raise InvalidState(
            "This organisation already has an administrator; use `leadflow users create`.",
            code="administrator_exists",
        )
    return create_user(
        email=email,
        full_name=full_name,
        role_names=[SYSTEM_ADMINISTRATOR],
        business_unit_name=None,
        password=password,
        uow=uow,
        actor=None,
    )


def set_password(email: str, password: str, *, uow: UnitOfWork, actor: Actor | None) -> User:
    """Set a user's password; administrators only (or the CLI operator). Every session and token
    the user had ends."""
    if actor is not None:
        require_admin(actor, "users", Privilege.WRITE)
    check_password_strength(password)
    session = uow.session
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise NotFound(f"No user has the email {email}.", code="user_not_found")
    user.password_hash = hash_password(password)
    revoke_all_tokens(session, user.id)
    uow.flush()
    record_action(session, actor, "set_password", table="users", record_id=user.id)
    return user


# ---------------------------------------------------------------------------------------------- records


def _reachable(session: Session, actor: Actor, table: str, record: Any) -> None:
    """A record the actor may not read is, to them, one that does not exist."""
    if not can(session, actor, Privilege.READ, table, record):
        raise not_found(label=record_label(table), record_id=record.id)


def assign_record(table: str, record: Any, new_owner_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Any:
    """Change a record's owner; needs Assign on the record (one the actor may not read is not found)."""
    session = uow.session
    _reachable(session, actor, table, record)
    require(session, actor, Privilege.ASSIGN, table, record)
    owner = session.get(User, new_owner_id)
    if owner is None or not owner.is_active:
        raise ValidationFailed(
            f"owner_user_id names no active user (id {new_owner_id}).", code="owner_user_id_not_found"
        )
    old_owner = record.owner_user_id
    record.owner_user_id = owner.id
    record.owner_team_id = None
    record.owning_business_unit_id = owner.business_unit_id
    record.modified_by_id = actor.user_id
    uow.flush()
    record_action(
        session,
        actor,
        "assign",
        table=table,
        record_id=record.id,
        changes={"owner_user_id": {"old": str(old_owner) if old_owner else None, "new": str(owner.id)}},
    )
    return record


SHARE_RIGHTS = ("read", "write", "delete", "append", "assign", "share")
# The privilege each right of a share stands for: nobody shares a right they do not hold on the record.
SHARE_PRIVILEGES = {
    "read": Privilege.READ,
    "write": Privilege.WRITE,
    "delete": Privilege.DELETE,
    "append": Privilege.APPEND,
    "assign": Privilege.ASSIGN,
    "share": Privilege.SHARE,
}


def grantable_rights(session: Session, actor: Actor, table: str, record: Any) -> tuple[str, ...]:
    """The rights the actor may share on this record: those they hold on it themselves."""
    return tuple(right for right in SHARE_RIGHTS if can(session, actor, SHARE_PRIVILEGES[right], table, record))


def share_record(
    table: str,
    record: Any,
    *,
    user_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
    rights: set[str],
    uow: UnitOfWork,
    actor: Actor,
) -> RecordShare:
    """Grant a user or team rights on one record; needs Share on it. Empty rights remove the share."""
    session = uow.session
    _reachable(session, actor, table, record)
    require(session, actor, Privilege.SHARE, table, record)
    if (user_id is None) == (team_id is None):
        raise ValidationFailed("Share with exactly one user or one team.", code="invalid_grantee")
    unknown = rights - set(SHARE_RIGHTS)
    if unknown:
        raise ValidationFailed(
            f"Unknown rights {sorted(unknown)}; use {', '.join(SHARE_RIGHTS)}.", code="invalid_option"
        )
    if user_id is not None and session.get(User, user_id) is None:
        raise ValidationFailed(f"user_id names no user (id {user_id}).", code="user_id_not_found")
    if team_id is not None and session.get(Team, team_id) is None:
        raise ValidationFailed(f"team_id names no team (id {team_id}).", code="team_id_not_found")
    beyond = sorted(right for right in rights if right not in grantable_rights(session, actor, table, record))
    if beyond:
        raise Forbidden(
            f"You can share only the rights you hold on this record yourself; you do not hold {', '.join(beyond)}.",
            code="share_beyond_own",
            details={"rights": beyond},
        )
    share = session.scalars(
        select(RecordShare).where(
            RecordShare.table_name == table,
            RecordShare.record_id == record.id,
            RecordShare.user_id == user_id if user_id else RecordShare.team_id == team_id,
        )
    ).first()
    if share is None:
        share = RecordShare(id=uuid.uuid4(), table_name=table, record_id=record.id, user_id=user_id, team_id=team_id)
        session.add(share)
    for right in SHARE_RIGHTS:
        setattr(share, f"can_{right}", right in rights or (right == "read" and bool(rights)))
    uow.flush()
    record_action(
        session,
        actor,
        "share",
        table=table,
        record_id=record.id,
        changes={"grantee": str(user_id or team_id), "rights": sorted(rights)},
    )
    if not rights:
        session.delete(share)
        uow.flush()
    return share


def unshare_record(table: str, record: Any, share_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> None:
    """Take back everything one share gave on a record; needs Share on it."""
    session = uow.session
    _reachable(session, actor, table, record)
    require(session, actor, Privilege.SHARE, table, record)
    share = session.get(RecordShare, share_id)
    if share is None or share.table_name != table or share.record_id != record.id:
        raise NotFound("This record is not shared with them any more.", code="share_not_found")
    grantee = share.user_id or share.team_id
    session.delete(share)
    uow.flush()
    record_action(session, actor, "unshare", table=table, record_id=record.id, changes={"grantee": str(grantee)})


@dataclass(frozen=True)
class ShareEntry:
    """One share of a record: to whom (a user's name and email, or a team's name) and which rights."""

    share: RecordShare
    grantee: str
    is_team: bool
    rights: tuple[str, ...]


@dataclass(frozen=True)
class Sharing:
    """A record's shares, whom else it can be shared with, and the rights the actor may share."""

    shares: list[ShareEntry]
    users: list[User]
    teams: list[Team]
    grantable: tuple[str, ...]


def sharing_of(table: str, record: Any, *, uow: UnitOfWork, actor: Actor) -> Sharing:
    """Who a record is shared with and whom it can be shared with (needs Share on it): the active users
    but the actor, and the teams."""
    session = uow.session
    _reachable(session, actor, table, record)
    require(session, actor, Privilege.SHARE, table, record)
    shares = list(
        session.scalars(
            select(RecordShare)
            .where(RecordShare.table_name == table, RecordShare.record_id == record.id)
            .order_by(RecordShare.created_at, RecordShare.id)
        )
    )
    people = {
        user.id: user
        for user in session.scalars(
            select(User).where(User.id.in_({share.user_id for share in shares if share.user_id}))
        )
    }
    teams = list(session.scalars(select(Team).order_by(Team.name, Team.id)))
    team_names = {team.id: team.name for team in teams}
    entries = []
    for share in shares:
        person = people.get(share.user_id) if share.user_id else None
        team_name = team_names.get(share.team_id, "") if share.team_id else ""
        grantee = f"{person.full_name} ({person.email})" if person else team_name
        rights = tuple(right for right in SHARE_RIGHTS if getattr(share, f"can_{right}"))
        entries.append(ShareEntry(share, grantee, share.team_id is not None, rights))
    users = list(
        session.scalars(
            select(User).where(User.is_active.is_(True), User.id != actor.user_id).order_by(User.full_name, User.id)
        )
    )
    return Sharing(entries, users, teams, grantable_rights(session, actor, table, record))


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


def is_administrator(actor: Actor) -> bool:
    return SYSTEM_ADMINISTRATOR in actor.role_names


def _administrators(session: Session) -> set[uuid.UUID]:
    """The active users who hold the System Administrator role, their own or through a team."""
    administrator = select(Role.id).where(Role.name == SYSTEM_ADMINISTRATOR).scalar_subquery()
    own = select(UserRole.user_id).where(UserRole.role_id == administrator)
    through_team = (
        select(TeamMember.user_id)
        .join(TeamRole, TeamRole.team_id == TeamMember.team_id)
        .where(TeamRole.role_id == administrator)
    )
    return set(session.scalars(select(User.id).where(User.is_active.is_(True), User.id.in_(own.union(through_team)))))


def _keep_an_administrator(session: Session, message: str) -> None:
    """Refuse a change (made and flushed in this unit of work, which then rolls back) that leaves the
    organisation without an active System Administrator, whichever way they held the role.

    The System Administrator role's row is locked first, so that two such changes made at once take
    turns: the second one counts after the first has committed (PostgreSQL reads committed rows anew
    at each statement; SQLite lets one writer in at a time)."""
    session.execute(select(Role.id).where(Role.name == SYSTEM_ADMINISTRATOR).with_for_update())
    if not _administrators(session):
        raise InvalidState(message, code="last_administrator")


LAST_ADMINISTRATOR_ROLE = "The organisation's last System Administrator cannot lose that role."


def deactivate_user(user_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> User:
    """A deactivated user cannot sign in and every token of theirs stops; their records keep them as
    owner until reassigned. Nobody deactivates themselves, nor the organisation's last administrator."""
    require_admin(actor, "users", Privilege.WRITE)
    session = uow.session
    user = get_record(session, User, user_id, label="user", for_update=True)
    if user.id == actor.user_id:
        raise InvalidState("You cannot deactivate yourself; ask another administrator.", code="cannot_deactivate_self")
    if user.is_active:
        user.is_active = False
        uow.flush()
        _keep_an_administrator(session, "The organisation's last active System Administrator cannot be deactivated.")
        ended = revoke_all_tokens(session, user.id)
        uow.flush()
        record_action(session, actor, "deactivate", table="users", record_id=user.id, summary=f"{ended} sessions ended")
    return user


def reactivate_user(user_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> User:
    """Let a deactivated user sign in again (with new sessions: the old ones stay ended)."""
    require_admin(actor, "users", Privilege.WRITE)
    user = get_record(uow.session, User, user_id, label="user", for_update=True)
    if not user.is_active:
        user.is_active = True
        uow.flush()
        record_action(uow.session, actor, "reactivate", table="users", record_id=user.id)
    return user


# The tables of owned records whose owner reassign_records changes.
OWNED_TABLES = ("leads", "accounts", "contacts", "opportunities")


def reassign_records(
    from_user_id: uuid.UUID, to_user_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor
) -> dict[str, int]:
    """Give every record a user owns to another, active user, in one step: for a person who leaves.

    Needs Write on users and the Assign privilege at the Organization level on every owned table (the
    records may be anywhere); the owning business unit follows the new owner. Returns the count per table.
    """
    require_admin(actor, "users", Privilege.WRITE)
    for table in OWNED_TABLES:
        if actor.depth(table, Privilege.ASSIGN) is not Depth.ORGANIZATION:
            raise forbidden(actor, Privilege.ASSIGN, table, what="every record of a user")
    session = uow.session
    get_record(session, User, from_user_id, label="user")
    target = get_record(session, User, to_user_id, label="user")
    if not target.is_active:
        raise InvalidState(f"{target.email} is deactivated; give the records to an active user.", code="user_inactive")
    moved = {}
    for table in OWNED_TABLES:
        model = mapped_class(table)
        result = session.execute(
            update(model)
            .where(model.owner_user_id == from_user_id)
            .values(
                owner_user_id=target.id,
                owning_business_unit_id=target.business_unit_id,
                row_version=model.row_version + 1,
                modified_at=utcnow(),
                modified_by_id=actor.user_id,
            )
            .execution_options(synchronize_session="fetch")
        )
        moved[table] = affected_rows(result)
    record_action(
        session,
        actor,
        "reassign",
        table="users",
        record_id=from_user_id,
        changes={"to_user_id": str(target.id), **moved},
    )
    return moved


def set_language(user_id: uuid.UUID, language: str | None, *, uow: UnitOfWork, actor: Actor) -> User:
    """Set the pages' language of a user ('en', 'es', or None to follow the browser): one's own, or anyone's with Write on users."""
    if user_id != actor.user_id:
        require_admin(actor, "users", Privilege.WRITE)
    if language is not None and language not in {"en", "es"}:
        raise ValidationFailed("Language must be 'en', 'es' or empty (the browser's).", code="invalid_option")
    user = get_record(uow.session, User, user_id, label="user")
    old, user.language = user.language, language
    uow.flush()
    record_action(
        uow.session,
        actor,
        "update",
        table="users",
        record_id=user.id,
        changes={"language": {"old": old, "new": language}},
    )
    return user


def checked_time_zone(name: object, *, field: str = "time_zone", optional: bool = True) -> str | None:
    """An IANA time zone name as the time zone database spells it (None for none, when ``optional``);
    refused, naming ``field``, when it names no time zone."""
    if name is None and optional:
        return None
    known = known_time_zone(name) if isinstance(name, str) else None
    if known is None:
        message = "Choose a time zone from the list, such as Europe/Madrid or America/New_York."
        raise ValidationFailed(
            message,
            code="unknown_time_zone",
            details={"fields": [{"field": field, "code": "invalid_value", "message": message}]},
        )
    return known


def set_time_zone(user_id: uuid.UUID, time_zone: str | None, *, uow: UnitOfWork, actor: Actor) -> User:
    """Set the time zone a user reads times in (an IANA name, or None for the organisation's default):
    one's own, or anyone's with Write on users."""
    if user_id != actor.user_id:
        require_admin(actor, "users", Privilege.WRITE)
    chosen = checked_time_zone(time_zone)
    user = get_record(uow.session, User, user_id, label="user")
    old, user.time_zone = user.time_zone, chosen
    uow.flush()
    if old != chosen:
        record_action(
            uow.session,
            actor,
            "update",
            table="users",
            record_id=user.id,
            changes={"time_zone": {"old": old, "new": chosen}},
        )
    return user


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
