"""Users (§8): created (the organisation's first administrator among them), given a password, moved to
another business unit with the records they own, deactivated and reactivated, their records handed to
another user when they leave, and their language and time zone set."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from leadflow.core.db import affected_rows, mapped_class, utcnow
from leadflow.core.errors import InvalidState, NotFound, ValidationFailed
from leadflow.core.formatting import known_time_zone
from leadflow.core.records import check_version, get_record, get_reference
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import forbidden, require_admin
from leadflow.security.actor import Actor, first_administrator
from leadflow.security.audit import record_action
from leadflow.security.authentication import revoke_all_tokens
from leadflow.security.business_units import business_unit_by_name
from leadflow.security.common import _keep_an_administrator
from leadflow.security.credentials import check_password_strength, hash_password, normalise_email
from leadflow.security.models import BusinessUnit, User, UserRole
from leadflow.security.privileges import SYSTEM_ADMINISTRATOR, Depth, Privilege
from leadflow.security.roles import role_by_name

# The tables of owned records whose owner reassign_records changes.
OWNED_TABLES = ("leads", "accounts", "contacts", "opportunities")


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
