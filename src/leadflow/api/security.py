"""Sign-in, users, roles, tokens, assignment, sharing and the audit log (§8)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import regarding_model
from leadflow.api.deps import CurrentActor, DatabaseDep, ReadUowDep, SettingsDep, UowDep
from leadflow.api.paging import Cursor, Limit, Moment, PageOut, page_out
from leadflow.core.mail import deliver
from leadflow.core.records import get_record, record_label
from leadflow.core.schemas import InputModel
from leadflow.core.uow import UnitOfWork
from leadflow.http.clients import client_address
from leadflow.organisation.service import time_zone_of
from leadflow.security import authentication, directory, service
from leadflow.security.actor import Actor
from leadflow.security.audit import AuditQuery, list_entries
from leadflow.security.models import TokenKind, User
from leadflow.security.privileges import Depth, Privilege
from leadflow.security.schemas import OwnSettingsChange, UserIn

router = APIRouter(tags=["security"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


@router.post("/auth/token")
def sign_in(
    request: Request,
    database: DatabaseDep,
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    otp: Annotated[
        str | None, Form(max_length=32, description="The second factor's code, when the account has one.")
    ] = None,
) -> TokenOut:
    """OAuth2 password flow: `username` (the email) and `password` (and `otp` when the account signs
    in with a second factor) give a bearer token valid 8 hours. Repeated failures are throttled (429)."""
    outcome = authentication.sign_in(
        username,
        password,
        kind=TokenKind.SIGN_IN,
        address=client_address(request),
        database=database,
        one_time_code=otp,
    )
    assert outcome.issued is not None  # a second step exists only for web sessions
    return TokenOut(access_token=outcome.issued.secret, expires_at=outcome.issued.token.expires_at)


class PasswordResetIn(InputModel):
    token: str = Field(max_length=200)
    password: str = Field(max_length=1024)


@router.post("/auth/password-reset", status_code=status.HTTP_204_NO_CONTENT)
def reset_password(data: PasswordResetIn, uow: UowDep) -> None:
    """Set a new password with the secret of a reset link; every session and token of the user ends."""
    authentication.reset_password(data.token, data.password, uow=uow)
    uow.commit()


class PasswordChangeIn(InputModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


@router.put("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(data: PasswordChangeIn, uow: UowDep, actor: CurrentActor) -> None:
    """Change your own password (the current one is required); your other sessions and tokens end."""
    authentication.change_password(data.current_password, data.new_password, uow=uow, actor=actor, keep_token=None)
    uow.commit()


class EnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str


@router.post("/me/two-factor", status_code=status.HTTP_201_CREATED)
def start_two_factor(uow: UowDep, actor: CurrentActor) -> EnrolmentOut:
    """Start two-factor sign-in: add the secret (or the URI, as a QR code) to an authenticator app."""
    enrolment = authentication.start_two_factor(uow=uow, actor=actor)
    uow.commit()
    return EnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.uri)


class CodeIn(InputModel):
    code: str = Field(max_length=32)


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str]


@router.post("/me/two-factor/confirm")
def confirm_two_factor(data: CodeIn, uow: UowDep, actor: CurrentActor) -> RecoveryCodesOut:
    """Turn two-factor sign-in on with a first code; the recovery codes are shown only now."""
    codes = authentication.confirm_two_factor(data.code, uow=uow, actor=actor)
    uow.commit()
    return RecoveryCodesOut(recovery_codes=codes)


@router.delete("/users/{user_id}/two-factor", status_code=status.HTTP_204_NO_CONTENT)
def turn_off_two_factor(user_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> None:
    """Turn two-factor sign-in off: your own, or anyone's for those who manage users (a lost phone)."""
    authentication.turn_off_two_factor(user_id, uow=uow, actor=actor)
    uow.commit()


class MeOut(BaseModel):
    user_id: uuid.UUID
    email: str
    business_unit_id: uuid.UUID
    roles: list[str]
    privileges: dict[str, dict[str, str]]
    time_zone: str | None = Field(description="Your own IANA time zone; null follows the organisation's default.")
    effective_time_zone: str = Field(
        description="The time zone the web app and the command line show you times in: yours, else the "
        "organisation's default. The API's own times are always UTC."
    )


def _me_out(uow: UnitOfWork, actor: Actor) -> MeOut:
    privileges: dict[str, dict[str, str]] = {}
    for (table, privilege), depth in sorted(actor.depths.items()):
        privileges.setdefault(table, {})[privilege.value] = depth.label
    user = uow.session.get(User, actor.user_id)
    return MeOut(
        user_id=actor.user_id,
        email=actor.email,
        business_unit_id=actor.business_unit_id,
        roles=list(actor.role_names),
        privileges=privileges,
        time_zone=user.time_zone if user else None,
        effective_time_zone=time_zone_of(actor, session=uow.session).key,
    )


@router.get("/me")
def me(uow: ReadUowDep, actor: CurrentActor) -> MeOut:
    """Who the token belongs to, with their roles, cumulative privileges and time zone."""
    return _me_out(uow, actor)


@router.patch("/me")
def change_me(data: OwnSettingsChange, uow: UowDep, actor: CurrentActor) -> MeOut:
    """Change your own settings sent: `time_zone`, an IANA name such as Europe/Madrid, or null to follow
    the organisation's default. An unknown time zone is refused (422)."""
    if "time_zone" in data.model_fields_set:
        service.set_time_zone(actor.user_id, data.time_zone, uow=uow, actor=actor)
    changed = _me_out(uow, actor)
    uow.commit()
    return changed


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    language: str | None
    time_zone: str | None
    business_unit_id: uuid.UUID
    is_active: bool


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(data: UserIn, uow: UowDep, actor: CurrentActor) -> UserOut:
    """Create a user with roles (administrators)."""
    user = service.create_user(
        email=data.email,
        full_name=data.full_name,
        role_names=data.roles,
        business_unit_name=data.business_unit,
        password=data.password,
        language=data.language,
        time_zone=data.time_zone,
        uow=uow,
        actor=actor,
    )
    uow.commit()
    return UserOut.model_validate(user)


@router.get("/users")
def list_users(uow: ReadUowDep, actor: CurrentActor, limit: Limit = 50, cursor: Cursor = None) -> PageOut[UserOut]:
    """The users, by email (needs Read on users)."""
    page = directory.list_users(uow=uow, actor=actor, limit=limit, cursor=cursor)
    return PageOut[UserOut].model_validate(page_out(page, lambda entry: UserOut.model_validate(entry.user)))


class PasswordIn(InputModel):
    password: str = Field(max_length=1024)


@router.put("/users/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def set_password(user_id: uuid.UUID, data: PasswordIn, uow: UowDep, actor: CurrentActor) -> None:
    """Set a user's password (administrators); every session and token the user had ends."""
    user = get_record(uow.session, User, user_id, label="user")
    service.set_password(user.email, data.password, uow=uow, actor=actor)
    uow.commit()


class ResetLinkOut(BaseModel):
    reset_url: str
    expires_at: datetime
    emailed: bool = Field(description="Whether the link was sent to the user's e-mail (SMTP configured and working).")
    mail_problem: str | None = Field(None, description="Why the configured mail server did not take it, if it did not.")


@router.post("/users/{user_id}/password-reset", status_code=status.HTTP_201_CREATED)
def password_reset_link(
    user_id: uuid.UUID, request: Request, uow: UowDep, actor: CurrentActor, settings: SettingsDep
) -> ResetLinkOut:
    """A one-time link, valid 24 hours, with which the user sets a new password (administrators);
    e-mailed to the user when a mail server is configured, and returned in any case."""
    link = authentication.make_reset_link(user_id, base_url=str(request.base_url), uow=uow, actor=actor)
    uow.commit()
    delivery = deliver(settings, authentication.reset_link_mail(link))
    return ResetLinkOut(
        reset_url=link.url, expires_at=link.expires_at, emailed=delivery.sent, mail_problem=delivery.problem
    )


@router.post("/users/{user_id}/deactivate")
def deactivate_user(user_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> UserOut:
    """Deactivate a user: no more sign-in, every token stops; their records keep them as owner."""
    user = service.deactivate_user(user_id, uow=uow, actor=actor)
    uow.commit()
    return UserOut.model_validate(user)


@router.post("/users/{user_id}/reactivate")
def reactivate_user(user_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> UserOut:
    """Let a deactivated user sign in again."""
    user = service.reactivate_user(user_id, uow=uow, actor=actor)
    uow.commit()
    return UserOut.model_validate(user)


class ReassignIn(InputModel):
    to_user_id: uuid.UUID


@router.post("/users/{user_id}/reassign-records")
def reassign_records(user_id: uuid.UUID, data: ReassignIn, uow: UowDep, actor: CurrentActor) -> dict[str, int]:
    """Give every lead, account, contact and opportunity a user owns to another user; the count per table."""
    moved = service.reassign_records(user_id, data.to_user_id, uow=uow, actor=actor)
    uow.commit()
    return moved


class RoleGrant(InputModel):
    role: str


@router.post("/users/{user_id}/roles", status_code=status.HTTP_204_NO_CONTENT)
def grant_role(user_id: uuid.UUID, data: RoleGrant, uow: UowDep, actor: CurrentActor) -> None:
    """Give a user one more role."""
    service.grant_role(user_id, data.role, uow=uow, actor=actor)
    uow.commit()


class RoleOut(BaseModel):
    name: str
    is_builtin: bool
    requires_two_factor: bool
    privileges: dict[str, dict[Privilege, str]]


class TwoFactorRuleIn(InputModel):
    required: bool


@router.put("/roles/{name}/two-factor")
def require_two_factor(name: str, data: TwoFactorRuleIn, uow: UowDep, actor: CurrentActor) -> RoleOut:
    """Make holders of the role sign in with a second factor (they set it up at their next sign-in), or not."""
    role = service.require_two_factor_for(name, data.required, uow=uow, actor=actor)
    uow.commit()
    return role_out(uow, role)


@router.get("/roles")
def list_roles(uow: ReadUowDep, actor: CurrentActor, limit: Limit = 50, cursor: Cursor = None) -> PageOut[RoleOut]:
    """The roles, by name, each with its privilege matrix (needs Read on roles)."""
    page = directory.list_roles(uow=uow, actor=actor, limit=limit, cursor=cursor)
    return PageOut[RoleOut].model_validate(page_out(page, lambda entry: role_out(uow, entry.role)))


@router.get("/roles/{name}")
def get_role(name: str, uow: ReadUowDep, actor: CurrentActor) -> RoleOut:
    """One role, by name, with its privilege matrix (needs Read on roles)."""
    role, matrix = directory.get_role(name, uow=uow, actor=actor)
    return role_out(uow, role, matrix)


def role_out(uow: Any, role: Any, matrix: dict[str, dict[Privilege, Depth]] | None = None) -> RoleOut:
    """A role as the API (and ``leadflow roles ... --json``) shows it, with its privilege matrix."""
    matrix = matrix if matrix is not None else service.role_matrix(uow.session, role)
    return RoleOut(
        name=role.name,
        is_builtin=role.is_builtin,
        requires_two_factor=role.requires_two_factor,
        privileges={t: {p: d.label for p, d in row.items()} for t, row in matrix.items()},
    )


class RoleIn(InputModel):
    name: str = Field(min_length=1, max_length=100)
    privileges: dict[str, dict[Privilege, Depth]] = Field(
        description="{table: {privilege: level}} with levels 0 None, 1 User, 2 Business Unit, "
        "3 Parent: Child Business Units, 4 Organization"
    )


@router.post("/roles", status_code=status.HTTP_201_CREATED)
def create_role(data: RoleIn, uow: UowDep, actor: CurrentActor) -> RoleOut:
    """Create a custom role."""
    role = service.create_role(data.name, data.privileges, uow=uow, actor=actor)
    uow.commit()
    return role_out(uow, role)


class PersonalTokenIn(InputModel):
    email: str
    name: str | None = None
    days: int = 90


class PersonalTokenOut(BaseModel):
    id: uuid.UUID
    token: str
    expires_at: datetime


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
def create_token(data: PersonalTokenIn, uow: UowDep, actor: CurrentActor) -> PersonalTokenOut:
    """Create a personal API token for a user (administrators); the secret is shown only now."""
    issued = authentication.create_personal_token(data.email, name=data.name, days=data.days, uow=uow, actor=actor)
    uow.commit()
    return PersonalTokenOut(id=issued.token.id, token=issued.secret, expires_at=issued.token.expires_at)


class TokenInfoOut(BaseModel):
    id: uuid.UUID
    email: str
    kind: TokenKind
    name: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@router.get("/tokens")
def list_tokens(
    uow: ReadUowDep,
    actor: CurrentActor,
    user: Annotated[str | None, Query(max_length=320, description="Only this user's (email).")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[TokenInfoOut]:
    """Access tokens, newest first, never their secrets: your own, or anyone's for those who manage users."""
    page = directory.list_tokens(user_email=user, uow=uow, actor=actor, limit=limit, cursor=cursor)
    return PageOut[TokenInfoOut].model_validate(page_out(page, token_info_out))


def token_info_out(entry: directory.TokenEntry) -> TokenInfoOut:
    """A token as the API (and ``leadflow tokens list --json``) shows it: never its secret."""
    token = entry.token
    return TokenInfoOut(
        id=token.id,
        email=entry.email,
        kind=token.kind,
        name=token.name,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> None:
    """Revoke a token at once (your own, or anyone's for administrators)."""
    authentication.revoke_token(token_id, uow=uow, actor=actor)
    uow.commit()


class BusinessUnitIn(InputModel):
    name: str = Field(min_length=1, max_length=160)
    parent: str | None = None


@router.post("/business-units", status_code=status.HTTP_201_CREATED)
def create_business_unit(data: BusinessUnitIn, uow: UowDep, actor: CurrentActor) -> dict[str, Any]:
    """Add a business unit under another (the root by default)."""
    unit = service.create_business_unit(data.name, parent_name=data.parent, uow=uow, actor=actor)
    uow.commit()
    return {"id": unit.id, "name": unit.name, "parent_id": unit.parent_id}


class TeamIn(InputModel):
    name: str = Field(min_length=1, max_length=160)
    business_unit: str | None = None


@router.post("/teams", status_code=status.HTTP_201_CREATED)
def create_team(data: TeamIn, uow: UowDep, actor: CurrentActor) -> dict[str, Any]:
    """Create a team: it owns records and receives shares together."""
    team = service.create_team(data.name, business_unit_name=data.business_unit, uow=uow, actor=actor)
    uow.commit()
    return {"id": team.id, "name": team.name, "business_unit_id": team.business_unit_id}


class MemberIn(InputModel):
    email: str


@router.post("/teams/{name}/members", status_code=status.HTTP_204_NO_CONTENT)
def add_team_member(name: str, data: MemberIn, uow: UowDep, actor: CurrentActor) -> None:
    """Put a user in a team."""
    service.add_team_member(name, data.email, uow=uow, actor=actor)
    uow.commit()


class AssignIn(InputModel):
    owner_user_id: uuid.UUID


@router.post("/{table}/{record_id}/assign")
def assign(
    table: RegardingTable, record_id: uuid.UUID, data: AssignIn, uow: UowDep, actor: CurrentActor
) -> dict[str, Any]:
    """Give a record to another owner (needs Assign on it)."""
    record = get_record(
        uow.session, regarding_model(table), record_id, label=record_label(table.value), for_update=True
    )
    service.assign_record(table.value, record, data.owner_user_id, uow=uow, actor=actor)
    uow.commit()
    return {"id": record.id, "owner_user_id": record.owner_user_id, "row_version": record.row_version}


class ShareIn(InputModel):
    user_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    rights: list[str] = Field(default_factory=lambda: ["read"])


@router.post("/{table}/{record_id}/share")
def share(
    table: RegardingTable, record_id: uuid.UUID, data: ShareIn, uow: UowDep, actor: CurrentActor
) -> dict[str, Any]:
    """Grant a user or team rights on one record (needs Share on it); an empty list removes the share."""
    record = get_record(uow.session, regarding_model(table), record_id, label=record_label(table.value))
    service.share_record(
        table.value, record, user_id=data.user_id, team_id=data.team_id, rights=set(data.rights), uow=uow, actor=actor
    )
    uow.commit()
    return {"id": record.id, "rights": sorted(set(data.rights))}


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    occurred_at: datetime
    user_id: uuid.UUID | None
    action: str
    table_name: str | None
    record_id: uuid.UUID | None
    changes: dict[str, Any] | None
    summary: str | None


@router.get("/audit")
def audit(
    uow: ReadUowDep,
    actor: CurrentActor,
    user_id: uuid.UUID | None = None,
    action: str | None = None,
    table: str | None = None,
    record_id: uuid.UUID | None = None,
    since: Moment = None,
    until: Moment = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> PageOut[AuditEntryOut]:
    """The audit log, newest first (roles with Read on audit, as far as their level reaches)."""
    query = AuditQuery(
        user_id=user_id,
        action=action,
        table=table,
        record_id=record_id,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return PageOut[AuditEntryOut].model_validate(
        page_out(list_entries(query, uow=uow, actor=actor), AuditEntryOut.model_validate)
    )
