"""Security roles (§8): the list, a role's privileges (table × privilege, each at an access level, as
Dynamics 365 shows them), and the grid that edits them all at once; a new role, a copy of a role, and
the rule that a role's holders sign in with a second factor.

The reads go through ``leadflow.security.directory`` and the changes through
``leadflow.security.service``, which check the privileges (nobody grants a privilege wider than their
own) and the role's row version (a grid saved over a newer one is refused).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from leadflow.core.errors import Forbidden, LeadflowError, ValidationFailed
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.security import directory
from leadflow.security import service as security_service
from leadflow.security.privileges import ACTIVITY_TABLES, ADMIN_TABLES, RECORD_TABLES, TABLES, Depth, Privilege
from leadflow.web.areas.admin import admin_area
from leadflow.web.areas.admin_labels import ROLE_LABELS
from leadflow.web.areas.admin_security import security_tabs, stale
from leadflow.web.forms import FormDep, Refusal, parse_version, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import DEPTH_LABELS, PRIVILEGE_LABELS, TABLE_LABELS, label
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter()

ROLES = "/admin/roles"

# The grid's rows, in two groups as Dynamics 365 shows them.
GROUPS = (
    (N_("Sales records"), tuple(table for table in RECORD_TABLES if table not in ACTIVITY_TABLES)),
    (N_("Activities"), ACTIVITY_TABLES),
    (N_("Administration"), ADMIN_TABLES),
)

_ROLE_NOTICES = {
    "required": N_(
        "Holders of this role must now sign in with a second factor; whoever has none yet is asked to set it up at once."
    ),
    "optional": N_("Two-factor sign-in is now optional for holders of this role."),
    "created": N_("The role was created."),
    "copied": N_("The role was copied: change its privileges below."),
    "saved": N_("The role's privileges were saved."),
}

_NAME_FIELDS = {"role_exists": "name"}


# ---------------------------------------------------------------------------------------------- the grid


def cell_name(table: str, privilege: Privilege) -> str:
    """The form field of one cell of the grid."""
    return f"level-{table}-{privilege.value}"


def posted_matrix(form: FormData, *, every_cell: bool) -> dict[str, dict[Privilege, Depth]]:
    """The grid as the form sends it: {table: {privilege: level}}. A cell the form leaves out is left
    out (the role keeps its level), or is None for a new role (``every_cell``)."""
    matrix: dict[str, dict[Privilege, Depth]] = {}
    problems = []
    for table in TABLES:
        for privilege in Privilege:
            raw = form.get(cell_name(table, privilege))
            if raw is None:
                if every_cell:
                    matrix.setdefault(table, {})[privilege] = Depth.NONE
                continue
            try:
                matrix.setdefault(table, {})[privilege] = Depth(int(str(raw)))
            except ValueError:
                problems.append({"field": cell_name(table, privilege), "code": "invalid_option"})
    if problems:
        raise ValidationFailed(
            "Choose an access level from the list in every cell.", code="invalid_option", details={"fields": problems}
        )
    return matrix


def _grid(language: str, levels: dict[str, dict[Privilege, int]], errors: dict[str, str]) -> list[dict[str, Any]]:
    """The grid's groups of rows, each cell with its field, its level and its label."""
    groups = []
    for title, tables in GROUPS:
        rows = []
        for table in tables:
            table_label = label(language, TABLE_LABELS, table)
            rows.append(
                {
                    "table": table_label,
                    "cells": [
                        {
                            "name": cell_name(table, privilege),
                            "level": levels.get(table, {}).get(privilege, int(Depth.NONE)),
                            "label": f"{table_label}: {label(language, PRIVILEGE_LABELS, privilege)}",
                            "invalid": cell_name(table, privilege) in errors,
                        }
                        for privilege in Privilege
                    ],
                }
            )
        groups.append({"title": gettext(language, title), "rows": rows})
    return groups


def _levels_of(matrix: dict[str, dict[Privilege, Depth]]) -> dict[str, dict[Privilege, int]]:
    return {table: {privilege: int(depth) for privilege, depth in row.items()} for table, row in matrix.items()}


def _posted_levels(form: FormData) -> dict[str, dict[Privilege, int]]:
    """The levels the form sent, as far as they can be read, to show a refused grid again as it was sent."""
    levels: dict[str, dict[Privilege, int]] = {}
    for table in TABLES:
        for privilege in Privilege:
            raw = str(form.get(cell_name(table, privilege), ""))
            if raw.isdigit() and int(raw) in DEPTH_LABELS:
                levels.setdefault(table, {})[privilege] = int(raw)
    return levels


def _edit_page(
    request: Request,
    session: WebSession,
    *,
    role: dict[str, Any] | None,
    levels: dict[str, dict[Privilege, int]],
    values: dict[str, Any],
    failure: Refusal | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> Response:
    language = session.language
    errors = failure.fields if failure else {}
    return render(
        request,
        session,
        "admin/role_edit.html",
        status_code=status_code,
        tabs=security_tabs(session),
        role=role,
        groups=_grid(language, levels, errors),
        values=values,
        privileges=[label(language, PRIVILEGE_LABELS, privilege) for privilege in Privilege],
        levels=[(level, label(language, DEPTH_LABELS, level)) for level in sorted(DEPTH_LABELS)],
        error=failure.message if failure else None,
        errors=errors,
        stale=stale(failure),
        notice=notice,
    )


# ---------------------------------------------------------------------------------------------- the list and a new role


@router.get(ROLES)
@admin_area("roles", Privilege.READ)
def roles_page(request: Request, session: WebSessionDep) -> Response:
    """Every role, built-in or custom, with how many users hold it; a new role (Create on roles)."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        entries = directory.list_roles(uow=uow, actor=session.actor).items
    rows = [
        {
            "id": entry.role.id,
            "name": label(language, ROLE_LABELS, entry.role.name),
            "is_builtin": entry.role.is_builtin,
            "users": entry.holders,
        }
        for entry in entries
    ]
    return render(
        request,
        session,
        "admin/roles.html",
        roles=rows,
        tabs=security_tabs(session),
        can_create=session.can_admin("roles", Privilege.CREATE),
    )


@router.get(ROLES + "/new")
@admin_area("roles", Privilege.CREATE)
def new_role_page(request: Request, session: WebSessionDep) -> Response:
    """A new role: its name and its grid of privileges, every cell at None to begin with."""
    return _edit_page(request, session, role=None, levels={}, values={"name": ""})


@router.post(ROLES)
@admin_area("roles", Privilege.READ)
def create_role(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Create a role from its name and grid; a refusal shows the grid again as it was sent."""
    name = str(form.get("name", ""))[:1000]
    try:
        matrix = posted_matrix(form, every_cell=True)
        role = committed(request, lambda uow: security_service.create_role(name, matrix, uow=uow, actor=session.actor))
    except LeadflowError as error:
        if isinstance(error, Forbidden) and error.code != "privilege_beyond_own":
            raise
        return _edit_page(
            request,
            session,
            role=None,
            levels=_posted_levels(form),
            values={"name": name},
            failure=refusal(session.language, error, _NAME_FIELDS),
            status_code=status_for(error),
        )
    return redirect(f"{ROLES}/{role.id}?created=true")


# ---------------------------------------------------------------------------------------------- one role


def _role_page(
    request: Request,
    session: WebSession,
    role_id: uuid.UUID,
    *,
    notice: str | None = None,
    copy_failure: Refusal | None = None,
    copy_name: str = "",
    status_code: int = 200,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        role, matrix = directory.get_role(role_id, uow=uow, actor=session.actor)
    tables = [table for table in TABLES if table in matrix] + sorted(set(matrix) - set(TABLES))
    rows = [
        {
            "table": label(language, TABLE_LABELS, table),
            "cells": [
                {
                    "level": int(matrix[table][privilege]),
                    "text": label(language, DEPTH_LABELS, int(matrix[table][privilege])),
                }
                for privilege in Privilege
            ],
        }
        for table in tables
    ]
    return render(
        request,
        session,
        "admin/role.html",
        status_code=status_code,
        tabs=security_tabs(session),
        role={
            "id": role.id,
            "name": label(language, ROLE_LABELS, role.name),
            "is_builtin": role.is_builtin,
            "requires_two_factor": role.requires_two_factor,
        },
        privileges=[label(language, PRIVILEGE_LABELS, privilege) for privilege in Privilege],
        rows=rows,
        levels=[label(language, DEPTH_LABELS, level) for level in sorted(DEPTH_LABELS)],
        can_change=session.can_admin("roles", Privilege.WRITE),
        notice=notice,
        can_edit=session.can_admin("roles", Privilege.WRITE) and not role.privileges_fixed,
        can_copy=session.can_admin("roles", Privilege.CREATE),
        copy_error=copy_failure.message if copy_failure else None,
        copy_errors=copy_failure.fields if copy_failure else {},
        copy_name=copy_name or gettext(language, "Copy of %(role)s", role=label(language, ROLE_LABELS, role.name)),
    )


@router.get(ROLES + "/{role_id}")
@admin_area("roles", Privilege.READ)
def role_page(request: Request, session: WebSessionDep, role_id: uuid.UUID) -> Response:
    """A role's privileges: for each table, the access level of Create, Read, Write, Delete, Append,
    Append To, Assign and Share; and whether its holders must sign in with a second factor."""
    notice = next(
        (gettext(session.language, text) for key, text in _ROLE_NOTICES.items() if request.query_params.get(key)), None
    )
    return _role_page(request, session, role_id, notice=notice)


@router.post(ROLES + "/{role_id}/two-factor")
@admin_area("roles", Privilege.READ)
def require_two_factor(request: Request, session: WebSessionDep, role_id: uuid.UUID, form: FormDep) -> Response:
    """Make holders of the role sign in with a second factor, or not (Write on roles)."""
    required = form.get("required") == "true"

    def change(uow: UnitOfWork) -> None:
        role, _matrix = directory.get_role(role_id, uow=uow, actor=session.actor)
        security_service.require_two_factor_for(role.name, required, uow=uow, actor=session.actor)

    committed(request, change)
    return redirect(f"{ROLES}/{role_id}?{'required' if required else 'optional'}=true")


@router.post(ROLES + "/{role_id}/copy")
@admin_area("roles", Privilege.READ)
def copy_role(request: Request, session: WebSessionDep, role_id: uuid.UUID, form: FormDep) -> Response:
    """A new role with this role's privileges and two-factor rule, under the name given (Create on roles)."""
    name = str(form.get("name", ""))[:1000]
    try:
        role = committed(request, lambda uow: security_service.copy_role(role_id, name, uow=uow, actor=session.actor))
    except LeadflowError as error:
        if (isinstance(error, Forbidden) and error.code != "privilege_beyond_own") or error.code == "role_not_found":
            raise
        return _role_page(
            request,
            session,
            role_id,
            copy_failure=refusal(session.language, error, _NAME_FIELDS),
            copy_name=name,
            status_code=status_for(error),
        )
    if session.can_admin("roles", Privilege.WRITE):
        return redirect(f"{ROLES}/{role.id}/edit?copied=true")
    return redirect(f"{ROLES}/{role.id}?created=true")


@router.get(ROLES + "/{role_id}/edit")
@admin_area("roles", Privilege.WRITE)
def edit_role_page(request: Request, session: WebSessionDep, role_id: uuid.UUID) -> Response:
    """The role's privileges as a grid to change: a level to choose in every cell, saved all at once."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        role, matrix = directory.get_role(role_id, uow=uow, actor=session.actor)
    role.ensure_editable()
    notice = next(
        (gettext(session.language, text) for key, text in _ROLE_NOTICES.items() if request.query_params.get(key)), None
    )
    return _edit_page(
        request,
        session,
        role={"id": role.id, "name": label(session.language, ROLE_LABELS, role.name)},
        levels=_levels_of(matrix),
        values={"row_version": role.row_version},
        notice=notice,
    )


@router.post(ROLES + "/{role_id}/privileges")
@admin_area("roles", Privilege.READ)
def save_privileges(request: Request, session: WebSessionDep, role_id: uuid.UUID, form: FormDep) -> Response:
    """Save the whole grid at once; a grid loaded before someone else saved the role is refused, and shown
    again as it was sent, so that nothing typed is lost."""
    version = str(form.get("row_version", ""))[:20]
    try:
        matrix = posted_matrix(form, every_cell=False)
        committed(
            request,
            lambda uow: security_service.update_role_privileges(
                role_id, matrix, expected_version=parse_version(version), uow=uow, actor=session.actor
            ),
        )
    except LeadflowError as error:
        if (isinstance(error, Forbidden) and error.code != "privilege_beyond_own") or error.code == "role_not_found":
            raise
        with database_of(request).unit_of_work(read_only=True) as uow:
            role, _matrix = directory.get_role(role_id, uow=uow, actor=session.actor)
        return _edit_page(
            request,
            session,
            role={"id": role.id, "name": label(session.language, ROLE_LABELS, role.name)},
            levels=_posted_levels(form),
            values={"row_version": version},
            failure=refusal(session.language, error),
            status_code=status_for(error),
        )
    return redirect(f"{ROLES}/{role_id}?saved=true")
