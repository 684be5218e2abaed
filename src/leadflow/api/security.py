"""Sign-in, users, roles, tokens, assignment, sharing and the audit log (§8)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import regarding_model
from leadflow.api.deps import CurrentActor, DatabaseDep, ReadUowDep, UowDep
from leadflow.security.audit import AuditQuery, list_entries
from leadflow.core.records import get_record, record_label
from leadflow.security import directory, service
from leadflow.security.models import TokenKind, User
from leadflow.security.privileges import Depth, Privilege
from leadflow.core.schemas import InputModel
from leadflow.security.schemas import UserIn

router = APIRouter(tags=["security"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


@router.post("/auth/token")
def sign_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], database: DatabaseDep) -> TokenOut:
    """OAuth2 password flow: `username` (the email) and `password` give a bearer token valid 8 hours."""
    issued = service.sign_in(form.username, form.password, kind=TokenKind.SIGN_IN, database=database)
    return TokenOut(access_token=issued.secret, expires_at=issued.token.expires_at)


class MeOut(BaseModel):
    user_id: uuid.UUID
    email: str
    business_unit_id: uuid.UUID
    roles: list[str]
    privileges: dict[str, dict[str, str]]


@router.get("/me")
def me(actor: CurrentActor) -> MeOut:
    """Who the token belongs to, with their roles and cumulative privileges."""
    privileges: dict[str, dict[str, str]] = {}
    for (table, privilege), depth in sorted(actor.depths.items()):
        privileges.setdefault(table, {})[privilege.value] = depth.label
    return MeOut(user_id=actor.user_id, email=actor.email, business_unit_id=actor.business_unit_id,
                 roles=list(actor.role_names), privileges=privileges)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    language: str | None
    business_unit_id: uuid.UUID
    is_active: bool


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(data: UserIn, uow: UowDep, actor: CurrentActor) -> UserOut:
    """Create a user with roles (administrators)."""
    user = service.create_user(
        email=data.email, full_name=data.full_name, role_names=data.roles, business_unit_name=data.business_unit,
        password=data.password, language=data.language, uow=uow, actor=actor,
    )
    uow.commit()
    return UserOut.model_validate(user)


@router.get("/users")
def list_users(uow: ReadUowDep, actor: CurrentActor) -> list[UserOut]:
    """Every user (needs Read on users)."""
    entries = directory.list_users(uow=uow, actor=actor)
    return [UserOut.model_validate(entry.user) for entry in sorted(entries, key=lambda entry: entry.user.email)]


class PasswordIn(InputModel):
    password: str


@router.put("/users/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def set_password(user_id: uuid.UUID, data: PasswordIn, uow: UowDep, actor: CurrentActor) -> None:
    """Set a user's password and lift a lock-out (administrators)."""
    user = get_record(uow.session, User, user_id, label="user")
    service.set_password(user.email, data.password, uow=uow, actor=actor)
    uow.commit()


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
    privileges: dict[str, dict[Privilege, str]]


@router.get("/roles")
def list_roles(uow: ReadUowDep, actor: CurrentActor) -> list[RoleOut]:
    """Every role with its privilege matrix (needs Read on roles)."""
    return [_role_out(uow, entry.role) for entry in directory.list_roles(uow=uow, actor=actor)]


@router.get("/roles/{name}")
def get_role(name: str, uow: ReadUowDep, actor: CurrentActor) -> RoleOut:
    """One role, by name, with its privilege matrix (needs Read on roles)."""
    role, matrix = directory.get_role(name, uow=uow, actor=actor)
    return _role_out(uow, role, matrix)


def _role_out(uow: Any, role: Any, matrix: dict[str, dict[Privilege, Depth]] | None = None) -> RoleOut:
    matrix = matrix if matrix is not None else service.role_matrix(uow.session, role)
    return RoleOut(name=role.name, is_builtin=role.is_builtin,
                   privileges={t: {p: d.label for p, d in row.items()} for t, row in matrix.items()})


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
    return _role_out(uow, role)


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
    issued = service.create_personal_token(data.email, name=data.name, days=data.days, uow=uow, actor=actor)
    uow.commit()
    return PersonalTokenOut(id=issued.token.id, token=issued.secret, expires_at=issued.token.expires_at)


class TokenInfoOut(BaseModel):
    id: uuid.UUID
    email: str
    kind: TokenKind
    name: str | None
    expires_at: datetime
    revoked_at: datetime | None


@router.get("/tokens")
def list_tokens(
    uow: ReadUowDep, actor: CurrentActor, user: Annotated[str | None, Query(description="Only this user's (email).")] = None
) -> list[TokenInfoOut]:
    """Access tokens, never their secrets: your own, or anyone's for those who manage users."""
    return [
        TokenInfoOut(id=token.id, email=email, kind=token.kind, name=token.name, expires_at=token.expires_at,
                     revoked_at=token.revoked_at)
        for token, email in directory.list_tokens(user_email=user, uow=uow, actor=actor)
    ]


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> None:
    """Revoke a token at once (your own, or anyone's for administrators)."""
    service.revoke_token(token_id, uow=uow, actor=actor)
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
def assign(table: RegardingTable, record_id: uuid.UUID, data: AssignIn, uow: UowDep, actor: CurrentActor) -> dict[str, Any]:
    """Give a record to another owner (needs Assign on it)."""
    record = get_record(uow.session, regarding_model(table), record_id, label=record_label(table.value), for_update=True)
    service.assign_record(table.value, record, data.owner_user_id, uow=uow, actor=actor)
    uow.commit()
    return {"id": record.id, "owner_user_id": record.owner_user_id, "row_version": record.row_version}


class ShareIn(InputModel):
    user_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    rights: list[str] = Field(default_factory=lambda: ["read"])


@router.post("/{table}/{record_id}/share")
def share(table: RegardingTable, record_id: uuid.UUID, data: ShareIn, uow: UowDep, actor: CurrentActor) -> dict[str, Any]:
    """Grant a user or team rights on one record (needs Share on it); an empty list removes the share."""
    record = get_record(uow.session, regarding_model(table), record_id, label=record_label(table.value))
    service.share_record(table.value, record, user_id=data.user_id, team_id=data.team_id, rights=set(data.rights),
                         uow=uow, actor=actor)
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
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: uuid.UUID | None = None,
) -> list[AuditEntryOut]:
    """The audit log, newest first (roles with Read on audit); page with `before` = the last id seen."""
    query = AuditQuery(user_id=user_id, action=action, table=table, record_id=record_id, since=since, until=until,
                       limit=limit, before=before)
    return [AuditEntryOut.model_validate(e) for e in list_entries(query, uow=uow, actor=actor)]
