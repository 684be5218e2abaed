"""Users and roles (§8): the users with their business unit and roles, role grants, new users, and
each role's privilege matrix (table × privilege, at an access level)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.http.errors import status_for
from leadflow.security.schemas import UserIn
from leadflow.core.errors import Forbidden, LeadflowError, NotFound
from leadflow.core.schemas import parse
from leadflow.security import service as security_service
from leadflow.security.models import BusinessUnit, Role, User, UserRole
from leadflow.security.privileges import TABLES, Privilege
from leadflow.web.areas.admin import (
    FormDep,
    admin_area,
    field_errors,
    refusal_text,
)
from leadflow.web.areas.admin_labels import (
    DEPTH_LABELS,
    LANGUAGE_LABELS,
    PRIVILEGE_LABELS,
    ROLE_LABELS,
    TABLE_LABELS,
    label,
)
from leadflow.web.i18n import N_, gettext
from leadflow.web.pages import (
    CsrfField,
    WebSession,
    WebSessionDep,
    database_of,
    redirect,
    render,
    verify_csrf,
)

router = APIRouter()

USERS = "/admin/users"
ROLES = "/admin/roles"


# ---------------------------------------------------------------------------------------------- reads


def _unit_names(session: Session) -> dict[uuid.UUID, str]:
    return dict(session.execute(select(BusinessUnit.id, BusinessUnit.name)).all())


def _roles_by_user(session: Session, user_ids: list[uuid.UUID] | None = None) -> dict[uuid.UUID, list[str]]:
    statement = select(UserRole.user_id, Role.name).join(Role, Role.id == UserRole.role_id).order_by(Role.name)
    if user_ids is not None:
        statement = statement.where(UserRole.user_id.in_(user_ids))
    found: dict[uuid.UUID, list[str]] = {}
    for user_id, name in session.execute(statement):
        found.setdefault(user_id, []).append(name)
    return found


def _user_row(language: str, user: User, units: dict[uuid.UUID, str], roles: list[str]) -> dict[str, Any]:
    return {
        "id": user.id,
        "full_name": user.full_name,
        "email": user.email,
        "business_unit": units.get(user.business_unit_id, ""),
        "roles": [label(language, ROLE_LABELS, role) for role in roles],
        "role_names": roles,
        "is_active": user.is_active,
        "language": LANGUAGE_LABELS.get(user.language or "", gettext(language, "The browser's language")),
        "last_sign_in_at": user.last_sign_in_at,
    }


def _role_choices(language: str, session: Session) -> list[tuple[str, str]]:
    return [(name, label(language, ROLE_LABELS, name)) for name in session.scalars(select(Role.name).order_by(Role.name))]


# ---------------------------------------------------------------------------------------------- users


@router.get(USERS)
@admin_area("users", Privilege.READ)
def users_page(request: Request, session: WebSessionDep, created: bool = False) -> Response:
    """Every user: name, email, business unit, roles, and whether the user is active."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        users = list(uow.session.scalars(select(User).order_by(User.full_name, User.email)))
        units = _unit_names(uow.session)
        roles = _roles_by_user(uow.session)
        rows = [_user_row(language, user, units, roles.get(user.id, [])) for user in users]
    return render(
        request, session, "admin/users.html", users=rows, created=created,
        can_create=session.can_admin("users", Privilege.CREATE), can_read_roles=session.can_admin("roles", Privilege.READ),
    )


def _new_user_page(
    request: Request, session: WebSession, values: dict[str, Any], *, status_code: int = 200,
    error: str | None = None, errors: dict[str, str] | None = None,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        roles = _role_choices(language, uow.session)
        units = sorted(set(_unit_names(uow.session).values()), key=str.casefold)
        root = uow.session.scalar(select(BusinessUnit.name).where(BusinessUnit.parent_id.is_(None)))
    values.setdefault("business_unit", root or "")
    return render(
        request, session, "admin/user_new.html", status_code=status_code, values=values, error=error,
        errors=errors or {}, roles=roles, units=[(name, name) for name in units],
        languages=[("", gettext(language, "The browser's language")), *LANGUAGE_LABELS.items()],
        min_password_length=security_service.MIN_PASSWORD_LENGTH,
    )


@router.get(USERS + "/new")
@admin_area("users", Privilege.CREATE)
def new_user_page(request: Request, session: WebSessionDep) -> Response:
    """The form of a new user: name, email, business unit, roles, language and an optional password."""
    return _new_user_page(request, session, {"email": "", "full_name": "", "roles": [], "language": ""})


@router.post(USERS)
@admin_area("users", Privilege.CREATE)
def create_user(request: Request, session: WebSessionDep, form: FormDep, csrf_token: CsrfField = "") -> Response:
    """Create a user; a refusal shows the form again with what was typed (never the password)."""
    verify_csrf(session, csrf_token)
    values = {
        "email": str(form.get("email", "")).strip(),
        "full_name": str(form.get("full_name", "")),
        "business_unit": str(form.get("business_unit", "")),
        "roles": [str(role) for role in form.getlist("roles")],
        "language": str(form.get("language", "")),
    }
    password = str(form.get("password", ""))
    try:
        data = parse(
            UserIn,
            {**values, "business_unit": values["business_unit"] or None, "language": values["language"] or None,
             "password": password or None},
        )
        with database_of(request).unit_of_work() as uow:
            user = security_service.create_user(
                email=data.email, full_name=data.full_name, role_names=data.roles, business_unit_name=data.business_unit,
                password=data.password, language=data.language, uow=uow, actor=session.actor,
            )
            uow.commit()
            user_id = user.id
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        errors = field_errors(session.language, error)
        if error.code in ("invalid_email", "user_exists"):
            errors.setdefault("email", refusal_text(session.language, error))
        if error.code == "password_too_short":
            errors.setdefault("password", refusal_text(session.language, error))
        if error.code in ("role_required", "role_not_found"):
            errors.setdefault("roles", refusal_text(session.language, error))
        return _new_user_page(
            request, session, values, status_code=status_for(error), error=refusal_text(session.language, error),
            errors=errors,
        )
    return redirect(f"{USERS}/{user_id}?created=true")


def _user_page(
    request: Request, session: WebSession, user_id: uuid.UUID, *, status_code: int = 200,
    error: str | None = None, notice: str | None = None,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        user = uow.session.get(User, user_id)
        if user is None:
            raise NotFound(f"No user has the id {user_id}.", code="user_not_found")
        held = _roles_by_user(uow.session, [user.id]).get(user.id, [])
        row = _user_row(language, user, _unit_names(uow.session), held)
        grantable = [(value, text) for value, text in _role_choices(language, uow.session) if value not in held]
    can_assign = session.can_admin("roles", Privilege.ASSIGN)
    return render(
        request, session, "admin/user.html", status_code=status_code, user=row, error=error, notice=notice,
        held=[(name, label(language, ROLE_LABELS, name)) for name in held], grantable=grantable,
        can_grant=can_assign, can_revoke=can_assign,
        can_read_roles=session.can_admin("roles", Privilege.READ),
    )


_USER_NOTICES = {
    "created": N_("The user was created."),
    "granted": N_("The role was granted."),
    "revoked": N_("The role was revoked."),
}


@router.get(USERS + "/{user_id}")
@admin_area("users", Privilege.READ)
def user_page(request: Request, session: WebSessionDep, user_id: uuid.UUID) -> Response:
    """One user and the user's roles; grant or revoke roles (Assign on roles)."""
    notice = next(
        (gettext(session.language, text) for key, text in _USER_NOTICES.items() if request.query_params.get(key)), None
    )
    return _user_page(request, session, user_id, notice=notice)


@router.post(USERS + "/{user_id}/roles")
@admin_area("users", Privilege.READ)
def grant_role(
    request: Request, session: WebSessionDep, user_id: uuid.UUID, form: FormDep, csrf_token: CsrfField = ""
) -> Response:
    """Give the user one more role (roles are cumulative)."""
    return _change_role(request, session, user_id, form, csrf_token, security_service.grant_role, done="granted")


@router.post(USERS + "/{user_id}/roles/revoke")
@admin_area("users", Privilege.READ)
def revoke_role(
    request: Request, session: WebSessionDep, user_id: uuid.UUID, form: FormDep, csrf_token: CsrfField = ""
) -> Response:
    """Take a role back from the user."""
    return _change_role(request, session, user_id, form, csrf_token, security_service.revoke_role, done="revoked")


def _change_role(
    request: Request, session: WebSession, user_id: uuid.UUID, form: Any, csrf_token: str,
    change: Callable[..., object], *, done: str,
) -> Response:
    """Grant or revoke the posted role; a refusal shows the user's page with the reason."""
    verify_csrf(session, csrf_token)
    try:
        with database_of(request).unit_of_work() as uow:
            change(user_id, str(form.get("role", "")), uow=uow, actor=session.actor)
            uow.commit()
    except LeadflowError as error:
        if isinstance(error, Forbidden) or error.code == "user_not_found":
            raise
        return _user_page(request, session, user_id, status_code=status_for(error), error=refusal_text(session.language, error))
    return redirect(f"{USERS}/{user_id}?{done}=true")


# ---------------------------------------------------------------------------------------------- roles


@router.get(ROLES)
@admin_area("roles", Privilege.READ)
def roles_page(request: Request, session: WebSessionDep) -> Response:
    """Every role, built-in or custom, with how many users hold it."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        roles = list(uow.session.scalars(select(Role).order_by(Role.name)))
        holders: dict[uuid.UUID, int] = {}
        for (role_id,) in uow.session.execute(select(UserRole.role_id)):
            holders[role_id] = holders.get(role_id, 0) + 1
    rows = [
        {"id": role.id, "name": label(language, ROLE_LABELS, role.name), "is_builtin": role.is_builtin,
         "users": holders.get(role.id, 0)}
        for role in roles
    ]
    return render(request, session, "admin/roles.html", roles=rows)


@router.get(ROLES + "/{role_id}")
@admin_area("roles", Privilege.READ)
def role_page(request: Request, session: WebSessionDep, role_id: uuid.UUID) -> Response:
    """A role's privileges: for each table, the access level of Create, Read, Write, Delete, Append,
    Append To, Assign and Share."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        role = uow.session.get(Role, role_id)
        if role is None:
            raise NotFound(f"No role has the id {role_id}.", code="role_not_found")
        matrix = security_service.role_matrix(uow.session, role)
    tables = [table for table in TABLES if table in matrix] + sorted(set(matrix) - set(TABLES))
    rows = [
        {
            "table": label(language, TABLE_LABELS, table),
            "cells": [
                {"level": int(matrix[table][privilege]), "text": label(language, DEPTH_LABELS, int(matrix[table][privilege]))}
                for privilege in Privilege
            ],
        }
        for table in tables
    ]
    return render(
        request, session, "admin/role.html", role={"name": label(language, ROLE_LABELS, role.name), "is_builtin": role.is_builtin},
        privileges=[label(language, PRIVILEGE_LABELS, privilege) for privilege in Privilege], rows=rows,
        levels=[label(language, DEPTH_LABELS, level) for level in sorted(DEPTH_LABELS)],
    )
