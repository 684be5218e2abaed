"""Users and roles (§8): the users with their business unit and roles, role grants, new users, and
each role's privilege matrix (table × privilege, at an access level).

The users and roles are read through ``leadflow.security.directory``, which checks the reader's
privileges, so that these pages show what the API and the command line show.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from leadflow.core.errors import Forbidden, LeadflowError, NotFound
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.security import directory
from leadflow.security import service as security_service
from leadflow.security.models import BusinessUnit
from leadflow.security.privileges import TABLES, Privilege
from leadflow.security.schemas import UserIn
from leadflow.web.areas.admin import admin_area
from leadflow.web.areas.admin_labels import LANGUAGE_LABELS, ROLE_LABELS
from leadflow.web.forms import FormDep, field_errors, refusal_text
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import DEPTH_LABELS, PRIVILEGE_LABELS, TABLE_LABELS, label
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter()

USERS = "/admin/users"
ROLES = "/admin/roles"


# ---------------------------------------------------------------------------------------------- reads


def _user_row(language: str, entry: directory.UserEntry) -> dict[str, Any]:
    user = entry.user
    return {
        "id": user.id,
        "full_name": user.full_name,
        "email": user.email,
        "business_unit": entry.business_unit,
        "roles": [label(language, ROLE_LABELS, role) for role in entry.roles],
        "role_names": entry.roles,
        "is_active": user.is_active,
        "language": LANGUAGE_LABELS.get(user.language or "", gettext(language, "The browser's language")),
        "last_sign_in_at": user.last_sign_in_at,
    }


def _role_choices(language: str, uow: UnitOfWork, session: WebSession) -> list[tuple[str, str]]:
    entries = directory.list_roles(uow=uow, actor=session.actor)
    return [(entry.role.name, label(language, ROLE_LABELS, entry.role.name)) for entry in entries]


# ---------------------------------------------------------------------------------------------- users


@router.get(USERS)
@admin_area("users", Privilege.READ)
def users_page(request: Request, session: WebSessionDep, created: bool = False) -> Response:
    """Every user: name, email, business unit, roles, and whether the user is active."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        rows = [_user_row(language, entry) for entry in directory.list_users(uow=uow, actor=session.actor)]
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
        roles = _role_choices(language, uow, session)
        # The security directory lists no business units; the form offers them all, the root unit chosen.
        units = sorted(set(uow.session.scalars(select(BusinessUnit.name))), key=str.casefold)
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
def create_user(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Create a user; a refusal shows the form again with what was typed (never the password)."""
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
    can_assign = session.can_admin("roles", Privilege.ASSIGN)
    can_read_roles = session.can_admin("roles", Privilege.READ)
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        entry = next((e for e in directory.list_users(uow=uow, actor=session.actor) if e.user.id == user_id), None)
        if entry is None:
            raise NotFound(f"No user has the id {user_id}.", code="user_not_found")
        # Granting needs the roles' names, which only readers of roles may list.
        choices = _role_choices(language, uow, session) if can_assign and can_read_roles else []
    row = _user_row(language, entry)
    grantable = [(value, text) for value, text in choices if value not in entry.roles]
    return render(
        request, session, "admin/user.html", status_code=status_code, user=row, error=error, notice=notice,
        held=[(name, label(language, ROLE_LABELS, name)) for name in entry.roles], grantable=grantable,
        can_grant=can_assign, can_revoke=can_assign, can_read_roles=can_read_roles,
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


def _role_change(path: str, change: Callable[..., object], *, done: str, summary: str) -> None:
    """Register the page that grants or revokes the posted role; a refusal shows the user's page with the reason."""

    @router.post(path)
    @admin_area("users", Privilege.READ)
    def change_role(
        request: Request, session: WebSessionDep, user_id: uuid.UUID, form: FormDep
    ) -> Response:
        role = str(form.get("role", ""))
        try:
            committed(request, lambda uow: change(user_id, role, uow=uow, actor=session.actor))
        except LeadflowError as error:
            if isinstance(error, Forbidden) or error.code == "user_not_found":
                raise
            return _user_page(
                request, session, user_id, status_code=status_for(error), error=refusal_text(session.language, error)
            )
        return redirect(f"{USERS}/{user_id}?{done}=true")

    change_role.__doc__ = summary


_role_change(USERS + "/{user_id}/roles", security_service.grant_role, done="granted",
             summary="Give the user one more role (roles are cumulative).")
_role_change(USERS + "/{user_id}/roles/revoke", security_service.revoke_role, done="revoked",
             summary="Take a role back from the user.")


# ---------------------------------------------------------------------------------------------- roles


@router.get(ROLES)
@admin_area("roles", Privilege.READ)
def roles_page(request: Request, session: WebSessionDep) -> Response:
    """Every role, built-in or custom, with how many users hold it."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        entries = directory.list_roles(uow=uow, actor=session.actor)
    rows = [
        {"id": entry.role.id, "name": label(language, ROLE_LABELS, entry.role.name), "is_builtin": entry.role.is_builtin,
         "users": entry.holders}
        for entry in entries
    ]
    return render(request, session, "admin/roles.html", roles=rows)


@router.get(ROLES + "/{role_id}")
@admin_area("roles", Privilege.READ)
def role_page(request: Request, session: WebSessionDep, role_id: uuid.UUID) -> Response:
    """A role's privileges: for each table, the access level of Create, Read, Write, Delete, Append,
    Append To, Assign and Share."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        role, matrix = directory.get_role(role_id, uow=uow, actor=session.actor)
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
