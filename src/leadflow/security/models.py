"""Who may do what: business units (a tree), users, teams, roles, shares, access tokens, and what
signing in keeps (recovery codes, recent failures) (§8)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.core.db import Base, RecordMixin, UTCDateTime, enum_column, utcnow
from leadflow.core.errors import InvalidState
from leadflow.security.privileges import SYSTEM_ADMINISTRATOR, Depth, Privilege


class BusinessUnit(RecordMixin, Base):
    """A node of the organisation tree; the root has no parent."""

    __tablename__ = "business_units"

    name: Mapped[str] = mapped_column(String(160))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("business_units.id"), index=True)


class User(RecordMixin, Base):
    """A person who signs in and owns records."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(160))
    # The pages' language; None follows the browser (Accept-Language).
    language: Mapped[str | None] = mapped_column(String(8))
    # The IANA time zone the user reads times in; None follows the organisation's default.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    business_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("business_units.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # argon2id hash; None until a password is set (such a user can only use API tokens).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-factor sign-in (RFC 6238 TOTP): the shared secret, set when enrolment starts; the moment
    # the user confirmed it (from then on sign-in asks for a code); the last time step a code was
    # accepted for, so that a code works once.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class Team(RecordMixin, Base):
    """A group of users that can own records together."""

    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(160))
    business_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("business_units.id"), index=True)


class OwnedMixin:
    """Ownership by a user or a team, with the owner's business unit kept for access filtering."""

    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    owner_team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id"))
    owning_business_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("business_units.id"))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    modified_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class TeamMember(Base):
    """A user's membership of a team."""

    __tablename__ = "team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class Role(RecordMixin, Base):
    """A named set of privileges; built-in roles are created with every organisation."""

    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_builtin: Mapped[bool] = mapped_column(default=False)
    # Whoever holds the role must sign in with a second factor (and enrol at their next sign-in).
    requires_two_factor: Mapped[bool] = mapped_column(default=False, server_default=false())

    @property
    def privileges_fixed(self) -> bool:
        """The System Administrator role always holds every privilege: its matrix cannot be changed,
        so that the organisation can never lock itself out."""
        return self.name == SYSTEM_ADMINISTRATOR

    def ensure_editable(self) -> None:
        if self.privileges_fixed:
            raise InvalidState(
                "The privileges of the System Administrator role cannot be changed; copy it to make a role of your own.",
                code="role_not_editable",
            )


class RolePrivilege(Base):
    """One cell of a role's matrix: on a table, a privilege at an access level."""

    __tablename__ = "role_privileges"

    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    privilege: Mapped[Privilege] = mapped_column(enum_column(Privilege), primary_key=True)
    depth: Mapped[int] = mapped_column(default=int(Depth.NONE))


class UserRole(Base):
    """A role held by a user; roles are cumulative."""

    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)


class TeamRole(Base):
    """A role held by a team: every member holds it too, beside their own roles (cumulative)."""

    __tablename__ = "team_roles"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)


class SecurityGeneration(Base):
    """One row counting changes to who holds which privileges (roles, their matrices, memberships,
    business units, a user's unit, e-mail or language). Every process caches actors by user and
    generation, so that a request reads one row instead of computing the actor again; a change
    anywhere moves the generation on, and every process sees it on its next request."""

    __tablename__ = "security_generation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


class RecordShare(RecordMixin, Base):
    """Rights on one record granted to a user or a team beyond what their roles' depth reaches."""

    __tablename__ = "record_shares"
    __table_args__ = (
        Index("ix_record_shares_record", "table_name", "record_id"),
        UniqueConstraint("table_name", "record_id", "user_id", "team_id", name="uq_record_shares_grantee"),
    )

    table_name: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID] = mapped_column()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    can_read: Mapped[bool] = mapped_column(default=True)
    can_write: Mapped[bool] = mapped_column(default=False)
    can_delete: Mapped[bool] = mapped_column(default=False)
    can_append: Mapped[bool] = mapped_column(default=False)
    can_assign: Mapped[bool] = mapped_column(default=False)
    can_share: Mapped[bool] = mapped_column(default=False)


# PASSWORD_RESET: a one-time link an administrator hands out; TWO_FACTOR: the few minutes between
# the password and the code of a two-factor sign-in.
TokenKind = enum.StrEnum("TokenKind", "SIGN_IN PERSONAL WEB_SESSION PASSWORD_RESET TWO_FACTOR")


class AccessToken(RecordMixin, Base):
    """A bearer secret, stored only as its SHA-256 digest; revocable, with an expiry."""

    __tablename__ = "access_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TokenKind] = mapped_column(enum_column(TokenKind))
    name: Mapped[str | None] = mapped_column(String(100))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    # Per-session secret for the CSRF tokens of web forms.
    csrf_secret: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(Base):
    """A one-time code that stands in for the second factor when the device is lost; stored hashed."""

    __tablename__ = "recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInFailure(Base):
    """A refused sign-in attempt, kept ten minutes for throttling: by the email typed (known or not)
    and the address it came from."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_email_address", "email_key", "address", "occurred_at"),
        Index("ix_sign_in_failures_address", "address", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email_key: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))
