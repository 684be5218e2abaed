"""Teams (§8): the list, a new team, and a team's page where members are added or removed and roles
granted or taken back (every member holds the team's roles beside their own).

The reads go through ``leadflow.security.directory`` and the changes through
``leadflow.security.service``, which check the privileges.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from leadflow.core.errors import Forbidden, LeadflowError, ValidationFailed
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.security import directory
from leadflow.security import service as security_service
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin import admin_area
from leadflow.web.areas.admin_labels import ROLE_LABELS
from leadflow.web.areas.admin_security import security_tabs
from leadflow.web.forms import FormDep, Refusal, parse_uuid, refusal, refusal_text
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import label
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter()

TEAMS = "/admin/teams"

_TEAM_FIELDS = {"team_exists": "name", "business_unit_not_found": "business_unit"}

_TEAM_NOTICES = {
    "created": N_("The team was created."),
    "member_added": N_("The user was added to the team."),
    "member_removed": N_("The user was removed from the team."),
    "granted": N_("The role was granted to the team: every member now holds it."),
    "revoked": N_("The role was taken back from the team."),
}


def _teams_page(
    request: Request,
    session: WebSession,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    language = session.language
    can_create = session.can_admin("users", Privilege.CREATE)
    can_read_units = session.can_admin("business_units", Privilege.READ)
    with database_of(request).unit_of_work(read_only=True) as uow:
        teams = directory.list_teams(uow=uow, actor=session.actor)
        # The new team's unit is chosen among the units, which only readers of business units may list.
        units = (
            [entry.unit.name for entry in directory.list_business_units(uow=uow, actor=session.actor)]
            if (can_create and can_read_units)
            else []
        )
    rows = [
        {
            "id": entry.team.id,
            "name": entry.team.name,
            "business_unit": entry.business_unit,
            "members": entry.members,
            "roles": [label(language, ROLE_LABELS, role) for role in entry.roles],
        }
        for entry in teams
    ]
    return render(
        request,
        session,
        "admin/teams.html",
        status_code=status_code,
        tabs=security_tabs(session),
        teams=rows,
        units=[(name, name) for name in units],
        values=values or {"name": "", "business_unit": units[0] if units else ""},
        error=failure.message if failure else None,
        errors=failure.fields if failure else {},
        can_create=can_create and can_read_units,
    )


@router.get(TEAMS)
@admin_area("users", Privilege.READ)
def teams_page(request: Request, session: WebSessionDep) -> Response:
    """Every team with its business unit, members and roles; a new team (Create on users)."""
    return _teams_page(request, session)


@router.post(TEAMS)
@admin_area("users", Privilege.READ)
def create_team(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Create a team in a business unit; a refusal shows the list again with what was typed."""
    values = {"name": str(form.get("name", ""))[:1000], "business_unit": str(form.get("business_unit", ""))[:1000]}
    try:
        team = committed(
            request,
            lambda uow: security_service.create_team(
                values["name"], business_unit_name=values["business_unit"] or None, uow=uow, actor=session.actor
            ),
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _teams_page(
            request,
            session,
            values=values,
            status_code=status_for(error),
            failure=refusal(session.language, error, _TEAM_FIELDS),
        )
    return redirect(f"{TEAMS}/{team.id}?created=true")


def _team_page(
    request: Request,
    session: WebSession,
    team_id: uuid.UUID,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    language = session.language
    can_manage_members = session.can_admin("users", Privilege.WRITE)
    # Granting needs the roles' names, which only readers of roles may list.
    can_assign = session.can_admin("roles", Privilege.ASSIGN) and session.can_admin("roles", Privilege.READ)
    with database_of(request).unit_of_work(read_only=True) as uow:
        detail = directory.get_team(team_id, uow=uow, actor=session.actor)
        users = directory.list_users(uow=uow, actor=session.actor).items if can_manage_members else []
        roles = directory.list_roles(uow=uow, actor=session.actor).items if can_assign else []
    members = {user.id for user in detail.members}
    return render(
        request,
        session,
        "admin/team.html",
        status_code=status_code,
        tabs=security_tabs(session),
        team={
            "id": detail.team.id,
            "name": detail.team.name,
            "business_unit": detail.business_unit,
            "business_unit_id": detail.team.business_unit_id,
        },
        members=[
            {"id": user.id, "full_name": user.full_name, "email": user.email, "is_active": user.is_active}
            for user in detail.members
        ],
        candidates=[
            (str(entry.user.id), f"{entry.user.full_name} ({entry.user.email})")
            for entry in users
            if entry.user.is_active and entry.user.id not in members
        ],
        roles=[(name, label(language, ROLE_LABELS, name)) for name in detail.roles],
        grantable=[
            (entry.role.name, label(language, ROLE_LABELS, entry.role.name))
            for entry in roles
            if entry.role.name not in detail.roles
        ],
        can_manage_members=can_manage_members,
        can_assign=can_assign,
        can_read_roles=session.can_admin("roles", Privilege.READ),
        can_read_units=session.can_admin("business_units", Privilege.READ),
        error=error,
        notice=notice,
    )


@router.get(TEAMS + "/{team_id}")
@admin_area("users", Privilege.READ)
def team_page(request: Request, session: WebSessionDep, team_id: uuid.UUID) -> Response:
    """One team: its business unit, members (added or removed with Write on users) and roles (granted or
    taken back with Assign on roles)."""
    notice = next(
        (gettext(session.language, text) for key, text in _TEAM_NOTICES.items() if request.query_params.get(key)), None
    )
    return _team_page(request, session, team_id, notice=notice)


TeamChange = Callable[[uuid.UUID, FormData, UnitOfWork, Actor], object]


def _chosen_user(form: FormData) -> uuid.UUID:
    user_id = parse_uuid(form.get("user_id"))
    if user_id is None:
        raise ValidationFailed(
            "Choose a user from the list.",
            code="required",
            details={"fields": [{"field": "user_id", "code": "required"}]},
        )
    return user_id


def _team_change(path: str, change: TeamChange, *, done: str, summary: str) -> None:
    """Register the page that posts a change of a team; a refusal shows the team's page with the reason."""

    @router.post(path)
    @admin_area("users", Privilege.READ)
    def change_team(request: Request, session: WebSessionDep, team_id: uuid.UUID, form: FormDep) -> Response:
        try:
            committed(request, lambda uow: change(team_id, form, uow, session.actor))
        except LeadflowError as error:
            if isinstance(error, Forbidden) or error.code == "team_not_found":
                raise
            return _team_page(
                request, session, team_id, status_code=status_for(error), error=refusal_text(session.language, error)
            )
        return redirect(f"{TEAMS}/{team_id}?{done}=true")

    change_team.__doc__ = summary


_team_change(
    TEAMS + "/{team_id}/members",
    lambda team_id, form, uow, actor: security_service.add_to_team(team_id, _chosen_user(form), uow=uow, actor=actor),
    done="member_added",
    summary="Put an active user in the team.",
)
_team_change(
    TEAMS + "/{team_id}/members/remove",
    lambda team_id, form, uow, actor: security_service.remove_from_team(
        team_id, _chosen_user(form), uow=uow, actor=actor
    ),
    done="member_removed",
    summary="Take a user out of the team.",
)
_team_change(
    TEAMS + "/{team_id}/roles",
    lambda team_id, form, uow, actor: security_service.grant_team_role(
        team_id, str(form.get("role", ""))[:100], uow=uow, actor=actor
    ),
    done="granted",
    summary="Give the team a role: every member holds it beside their own.",
)
_team_change(
    TEAMS + "/{team_id}/roles/revoke",
    lambda team_id, form, uow, actor: security_service.revoke_team_role(
        team_id, str(form.get("role", ""))[:100], uow=uow, actor=actor
    ),
    done="revoked",
    summary="Take a role back from the team.",
)
