"""Users, roles, sign-in, access tokens, assignment and sharing (§8)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leadflow.security.audit import record_action
from leadflow.core.db import utcnow
from leadflow.core.records import get_record, not_found, record_label
from leadflow.core.errors import InvalidState, LeadflowError, NotFound, ValidationFailed
from leadflow.security.access import can, require, require_admin
from leadflow.security.actor import Actor, first_administrator, load_actor
from leadflow.security.models import (
    AccessToken,
    BusinessUnit,
    RecordShare,
    Role,
    RolePrivilege,
    Team,
    TeamMember,
    TokenKind,
    User,
    UserRole,
)
from leadflow.security.privileges import BUILTIN_ROLES, SYSTEM_ADMINISTRATOR, TABLES, Depth, Privilege
from leadflow.core.uow import UnitOfWork

MAX_FAILED_SIGN_INS = 5  # the 6th wrong password in a row locks the account
LOCK_DURATION = timedelta(minutes=15)
SIGN_IN_TOKEN_LIFETIME = timedelta(hours=8)
WEB_SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of a throwaway password, verified when the email is unknown so that timing tells nothing.

    Made on first use: hashing takes argon2's 64 MiB, which no process should pay at import.
    """
    return _hasher.hash("leadflow-no-such-user")


class AuthenticationFailed(LeadflowError):
    """Wrong credentials, or an unknown, expired or revoked token (HTTP 401)."""

    code = "not_authenticated"


class AccountLocked(LeadflowError):
    """Too many wrong passwords in a row (HTTP 423)."""

    code = "account_locked"


# ---------------------------------------------------------------------------------------------- roles


def ensure_builtin_roles(session: Session) -> None:
    """Create the built-in roles of §8 with their privileges, if missing (idempotent)."""
    existing = set(session.scalars(select(Role.name).where(Role.is_builtin.is_(True))))
    for name, matrix in BUILTIN_ROLES.items():
        if name not in existing:
            _add_role(session, name, matrix, builtin=True)


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
        matrix.setdefault(row.table_name, dict.fromkeys(Privilege, Depth.NONE))[Privilege(row.privilege)] = Depth(row.depth)
    return matrix


def create_role(
    name: str, matrix: dict[str, dict[Privilege, Depth]], *, uow: UnitOfWork, actor: Actor
) -> Role:
    """Create a custom role from a privilege matrix."""
    require_admin(actor, "roles", Privilege.CREATE)
    session = uow.session
    name = name.strip()
    if not name:
        raise ValidationFailed("A role needs a name.", code="required")
    if any(role.lower() == name.lower() for role in session.scalars(select(Role.name))):
        raise ValidationFailed(f"A role called {name!r} already exists.", code="role_exists")
    unknown = set(matrix) - set(TABLES)
    if unknown:
        raise ValidationFailed(
            f"Unknown table(s) {', '.join(sorted(unknown))}; tables are {', '.join(TABLES)}.", code="unknown_table"
        )
    role = _add_role(session, name, matrix, builtin=False)
    record_action(session, actor, "role_create", table="roles", record_id=role.id,
                  changes={table: {p.value: d.label for p, d in row.items()} for table, row in matrix.items()})
    return role


def grant_role(user_id: uuid.UUID, role_name: str, *, uow: UnitOfWork, actor: Actor) -> None:
    """Give a user a role (roles are cumulative)."""
    require_admin(actor, "roles", Privilege.ASSIGN)
    session = uow.session
    role = role_by_name(session, role_name)
    get_record(session, User, user_id, label="user")
    if session.get(UserRole, (user_id, role.id)) is None:
        session.add(UserRole(user_id=user_id, role_id=role.id))
        uow.flush()
        record_action(session, actor, "role_grant", table="users", record_id=user_id, summary=role.name)


# ---------------------------------------------------------------------------------------------- users


def _normalise_email(email: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationFailed(f"{email!r} is not a valid email address: {error}", code="invalid_email") from None


def check_password_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.", code="password_too_short"
        )


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
    unit = BusinessUnit(id=uuid.uuid4(), name=name.strip(), parent_id=parent.id)
    session.add(unit)
    uow.flush()
    record_action(session, actor, "create", table="business_units", record_id=unit.id, summary=unit.name)
    return unit


def create_user(
    *,
    email: str,
    full_name: str,
    role_names: list[str],
    business_unit_name: str | None,
    password: str | None,
    language: str | None = None,
    uow: UnitOfWork,
    actor: Actor | None,
) -> User:
    """Create a user with roles and, optionally, a password. ``actor`` None only for `leadflow init`."""
    if actor is not None:
        require_admin(actor, "users", Privilege.CREATE)
    session = uow.session
    normalised = _normalise_email(email)
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
    user = User(id=uuid.uuid4(), email=normalised, full_name=full_name.strip(), business_unit_id=unit.id, language=language)
    if password is not None:
        check_password_strength(password)
        user.password_hash = _hasher.hash(password)
    session.add(user)
    session.flush()
    session.add_all(UserRole(user_id=user.id, role_id=role.id) for role in roles)
    uow.flush()
    record_action(session, actor, "create", table="users", record_id=user.id,
                  summary=f"{normalised} ({', '.join(r.name for r in roles)})")
    return user


def create_first_administrator(*, email: str, full_name: str, password: str, uow: UnitOfWork) -> User:
    """The first System Administrator of a new organisation; refused once the organisation has one."""
    if first_administrator(uow.session) is not None:
        raise InvalidState(
            "This organisation already has an administrator; use `leadflow users create`.",
            code="administrator_exists",
        )
    return create_user(
        email=email, full_name=full_name, role_names=[SYSTEM_ADMINISTRATOR], business_unit_name=None,
        password=password, uow=uow, actor=None,
    )


def set_password(email: str, password: str, *, uow: UnitOfWork, actor: Actor | None) -> User:
    """Set a user's password and lift any lock-out; administrators only (or the CLI operator)."""
    if actor is not None:
        require_admin(actor, "users", Privilege.WRITE)
    check_password_strength(password)
    session = uow.session
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise NotFound(f"No user has the email {email}.", code="user_not_found")
    user.password_hash = _hasher.hash(password)
    user.failed_sign_ins = 0
    user.locked_until = None
    uow.flush()
    record_action(session, actor, "set_password", table="users", record_id=user.id)
    return user


# ---------------------------------------------------------------------------------------------- sign-in


def _email_key(email: str) -> str:
    """The stored form of a typed email (as ``create_user`` normalises it), or a plain lower-case."""
    try:
        return _normalise_email(email)
    except ValidationFailed:
        return email.strip().lower()


def authenticate(email: str, password: str, *, uow: UnitOfWork) -> User:
    """Check a password, counting failures; the 6th wrong one in a row locks the account a while.

    The user row is locked while the attempt is counted, so simultaneous guesses are counted one
    after the other instead of overwriting each other. Failures are committed even though the
    sign-in is refused: ``sign_in`` commits before raising.
    """
    session = uow.session
    key = _email_key(email)
    user = session.scalars(select(User).where(User.email == key).with_for_update()).first()
    now = utcnow()
    if user is None or not user.is_active or user.password_hash is None:
        _verify(_dummy_hash(), password)
        # Only something shaped like an address is kept: a password typed in the wrong box is not.
        looks_like_email = "@" in key and " " not in key and len(key) <= 200
        record_action(session, None, "sign_in_failed", table="users",
                      summary=f"unknown user {key}" if looks_like_email else "unknown user")
        raise AuthenticationFailed("The email or password is wrong.")
    if user.locked_until is not None:
        if user.locked_until > now:
            record_action(session, None, "sign_in_failed", table="users", record_id=user.id, summary="locked")
            raise AccountLocked(
                "Too many wrong passwords: this account is locked until "
                f"{user.locked_until:%H:%M} UTC. Try again later or ask an administrator to reset the password."
            )
        user.locked_until = None  # the lock has run out: start counting afresh
        user.failed_sign_ins = 0
    if not _verify(user.password_hash, password):
        user.failed_sign_ins += 1
        record_action(session, None, "sign_in_failed", table="users", record_id=user.id,
                      summary=f"wrong password ({user.failed_sign_ins} in a row)")
        if user.failed_sign_ins > MAX_FAILED_SIGN_INS:
            user.locked_until = now + LOCK_DURATION
            raise AccountLocked(
                f"Too many wrong passwords: this account is locked for {LOCK_DURATION.seconds // 60} minutes."
            )
        raise AuthenticationFailed("The email or password is wrong.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_sign_in_at = now
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class IssuedToken:
    """A new token: the secret is shown once and only its digest is stored."""

    token: AccessToken
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    user: User, *, kind: TokenKind, lifetime: timedelta, name: str | None = None, session: Session
) -> IssuedToken:
    """Create a random bearer secret for a user."""
    secret = "lf_" + secrets.token_urlsafe(32)
    token = AccessToken(
        id=uuid.uuid4(),
        user_id=user.id,
        kind=kind,
        name=name,
        token_digest=_digest(secret),
        csrf_secret=secrets.token_hex(32) if kind is TokenKind.WEB_SESSION else None,
        expires_at=utcnow() + lifetime,
    )
    session.add(token)
    session.flush()
    return IssuedToken(token=token, secret=secret)


def sign_in(email: str, password: str, *, kind: TokenKind, database: Any) -> IssuedToken:
    """Password sign-in: a token on success; failures are recorded (and may lock) even when refused."""
    with database.unit_of_work() as uow:
        try:
            user = authenticate(email, password, uow=uow)
        except LeadflowError:
            uow.commit()  # keep the failure count and the audit entry
            raise
        lifetime = SIGN_IN_TOKEN_LIFETIME if kind is TokenKind.SIGN_IN else WEB_SESSION_LIFETIME
        issued = issue_token(user, kind=kind, lifetime=lifetime, session=uow.session)
        record_action(uow.session, None, "sign_in", table="users", record_id=user.id, summary=kind.value)
        uow.commit()
    return issued


def create_personal_token(
    email: str, *, name: str | None, days: int, uow: UnitOfWork, actor: Actor | None
) -> IssuedToken:
    """A personal API token for scripts, valid ``days`` days; administrators only."""
    if actor is not None:
        require_admin(actor, "users", Privilege.WRITE)
    if not 1 <= days <= 3650:
        raise ValidationFailed("A token lasts between 1 and 3650 days.", code="out_of_range")
    session = uow.session
    user = session.scalars(select(User).where(User.email == email.strip().lower(), User.is_active.is_(True))).first()
    if user is None:
        raise NotFound(f"No active user has the email {email}.", code="user_not_found")
    issued = issue_token(user, kind=TokenKind.PERSONAL, lifetime=timedelta(days=days), name=name, session=session)
    record_action(session, actor, "token_create", table="users", record_id=user.id, summary=name)
    return issued


def revoke_token(token_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor | None) -> AccessToken:
    """Revoke a token at once; it stays listed as revoked."""
    session = uow.session
    token = session.get(AccessToken, token_id)
    if token is None:
        raise NotFound(f"No token has the id {token_id}.", code="token_not_found")
    if actor is not None and token.user_id != actor.user_id:
        require_admin(actor, "users", Privilege.WRITE)
    token.revoked_at = token.revoked_at or utcnow()
    uow.flush()
    record_action(session, actor, "token_revoke", table="users", record_id=token.user_id, summary=str(token.id))
    return token


def revoke_secret(secret: str, *, uow: UnitOfWork) -> None:
    """Revoke the token holding this secret (sign-out); unknown secrets are ignored."""
    token = uow.session.scalars(select(AccessToken).where(AccessToken.token_digest == _digest(secret))).first()
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
        uow.flush()


@dataclass(frozen=True)
class Authenticated:
    actor: Actor
    token: AccessToken


def actor_for_secret(secret: str, *, session: Session, kinds: tuple[TokenKind, ...]) -> Authenticated:
    """The actor a bearer secret or session cookie stands for; 401 when unknown, expired or revoked."""
    row = session.execute(
        select(AccessToken, User)
        .join(User, User.id == AccessToken.user_id)
        .where(AccessToken.token_digest == _digest(secret))
    ).first()
    token, user = row if row is not None else (None, None)
    now = utcnow()
    if token is None or token.kind not in kinds:
        raise AuthenticationFailed("The access token is not valid; sign in again.", code="invalid_token")
    if token.revoked_at is not None:
        raise AuthenticationFailed("The access token was revoked; sign in again.", code="token_revoked")
    if token.expires_at <= now:
        raise AuthenticationFailed("The access token has expired; sign in again.", code="token_expired")
    if not user.is_active:
        raise AuthenticationFailed("This user is no longer active.", code="user_inactive")
    return Authenticated(actor=load_actor(session, user), token=token)


# A token's last use is written at most this often: every request would otherwise be a write.
LAST_USE_PRECISION = timedelta(minutes=1)


def note_token_use(authenticated: Authenticated, *, database: Any) -> None:
    """Record when a token was last used (to the minute), in a short transaction of its own."""
    now = utcnow()
    last = authenticated.token.last_used_at
    if last is not None and now - last < LAST_USE_PRECISION:
        return
    with database.unit_of_work() as uow:
        uow.session.execute(
            update(AccessToken).where(AccessToken.id == authenticated.token.id).values(last_used_at=now)
        )
        uow.commit()


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
        raise ValidationFailed(f"owner_user_id names no active user (id {new_owner_id}).", code="owner_user_id_not_found")
    old_owner = record.owner_user_id
    record.owner_user_id = owner.id
    record.owner_team_id = None
    record.owning_business_unit_id = owner.business_unit_id
    record.modified_by_id = actor.user_id
    uow.flush()
    record_action(session, actor, "assign", table=table, record_id=record.id,
                  changes={"owner_user_id": {"old": str(old_owner) if old_owner else None, "new": str(owner.id)}})
    return record


SHARE_RIGHTS = ("read", "write", "delete", "append", "assign", "share")


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
        raise ValidationFailed(f"Unknown rights {sorted(unknown)}; use {', '.join(SHARE_RIGHTS)}.", code="invalid_option")
    if user_id is not None and session.get(User, user_id) is None:
        raise ValidationFailed(f"user_id names no user (id {user_id}).", code="user_id_not_found")
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
    record_action(session, actor, "share", table=table, record_id=record.id,
                  changes={"grantee": str(user_id or team_id), "rights": sorted(rights)})
    if not rights:
        session.delete(share)
        uow.flush()
    return share


def create_team(name: str, *, business_unit_name: str | None, uow: UnitOfWork, actor: Actor) -> Team:
    """A team that can own records and receive shares; its members act for it."""
    require_admin(actor, "users", Privilege.CREATE)
    if not name.strip():
        raise ValidationFailed("A team needs a name.", code="required")
    unit = business_unit_by_name(uow.session, business_unit_name)
    team = Team(id=uuid.uuid4(), name=name.strip(), business_unit_id=unit.id)
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
    user = session.scalars(select(User).where(User.email == _email_key(email))).first()
    if user is None:
        raise NotFound(f"No user has the email {email}.", code="user_not_found")
    if session.get(TeamMember, (team.id, user.id)) is None:
        session.add(TeamMember(team_id=team.id, user_id=user.id))
        uow.flush()
        record_action(session, actor, "team_add_member", table="teams", record_id=team.id, summary=user.email)


def is_administrator(actor: Actor) -> bool:
    return SYSTEM_ADMINISTRATOR in actor.role_names


def set_language(user_id: uuid.UUID, language: str | None, *, uow: UnitOfWork, actor: Actor) -> User:
    """Set the pages' language of a user ('en', 'es', or None to follow the browser): one's own, or anyone's with Write on users."""
    if user_id != actor.user_id:
        require_admin(actor, "users", Privilege.WRITE)
    if language is not None and language not in {"en", "es"}:
        raise ValidationFailed("Language must be 'en', 'es' or empty (the browser's).", code="invalid_option")
    user = get_record(uow.session, User, user_id, label="user")
    old, user.language = user.language, language
    uow.flush()
    record_action(uow.session, actor, "update", table="users", record_id=user.id,
                  changes={"language": {"old": old, "new": language}})
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
        raise InvalidState("A user needs at least one role; grant another one before revoking this one.",
                           code="role_required")
    if role.name == SYSTEM_ADMINISTRATOR and session.scalar(
        select(func.count()).select_from(UserRole).join(User, User.id == UserRole.user_id)
        .where(UserRole.role_id == role.id, User.is_active)
    ) == 1:
        raise InvalidState("The organisation's last System Administrator cannot lose that role.",
                           code="last_administrator")
    session.delete(link)
    uow.flush()
    record_action(session, actor, "role_revoke", table="users", record_id=user_id, summary=role.name)
